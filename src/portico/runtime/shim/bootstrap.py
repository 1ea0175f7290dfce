"""Portico's built-in Python bootstrap: INIT once, then answer invocations forever.

It speaks the Lambda Runtime API's messages over one of two channels: frames on two pipes
(environments forked from the zygote) or HTTP to `AWS_LAMBDA_RUNTIME_API` (a fresh interpreter,
`python -m <shim>.bootstrap`). Behaviour and error shapes follow AWS's Python runtimes.
"""

from __future__ import annotations

import contextlib
import ctypes
import decimal
import http.client
import importlib
import io
import json
import json.encoder
import logging
import math
import os
import resource
import sys
import time
import traceback
from collections.abc import Callable
from typing import Any, NamedTuple, Protocol, cast

from . import frames
from .context import LambdaContext, environment_snapshot

Handler = Callable[[Any, LambdaContext], Any]
ERROR_LOG_INDENT = "\u00a0"
_JSON_LOG_TIME_FORMAT = "%Y-%m-%dT%H:%M:%SZ"
_json_decoder = json.JSONDecoder()
_decode_json = _json_decoder.decode
# The C scanner `decode` calls, for `_decode_event`.
_scan_json: Callable[[str, int], tuple[Any, int]] = cast(Any, _json_decoder).scan_once
TRACE_VARIABLE = "_X_AMZN_TRACE_ID"


class Invocation(NamedTuple):
    request_id: str
    deadline_ms: int
    function_arn: str
    trace_id: str | None
    client_context: str | None
    cognito_identity: str | None
    body: bytes


class Channel(Protocol):
    def ready(self) -> None: ...
    def next(self) -> Invocation: ...
    def respond(self, request_id: str, body: bytes) -> None: ...
    def fail(self, request_id: str, error_type: str, body: bytes) -> None: ...
    def init_failed(self, error_type: str, body: bytes) -> None: ...
    def out_of_memory(self) -> None: ...


def _invocation(headers: Any, body: bytes) -> Invocation:
    get = headers.get
    return Invocation(
        get(frames.REQUEST_ID) or "",
        int(get(frames.DEADLINE_MS) or 0),
        get(frames.FUNCTION_ARN) or "",
        get(frames.TRACE_ID),
        get(frames.CLIENT_CONTEXT),
        get(frames.COGNITO_IDENTITY),
        body,
    )


# The meta of an invocation without client context or identity, as the host orders it
# (`InvocationRequest.frame`).
_USUAL_META = [frames.REQUEST_ID, frames.DEADLINE_MS, frames.FUNCTION_ARN, frames.TRACE_ID]
_RESPONSE_META = f"{frames.REQUEST_ID}\0"
_pack_header = frames.HEADER.pack


class FramedChannel:
    """Frames over two pipes shared with the host, one each way: one system call each way
    per invocation."""

    def __init__(self, read_fd: int, write_fd: int) -> None:
        self._reader = frames.FrameReader(read_fd)
        self._write_fd = write_fd

    def _send(self, data: bytes) -> None:
        written = os.write(self._write_fd, data)
        if written < len(data):  # a large answer, past what the pipe holds at once
            view = memoryview(data)
            while written < len(data):
                written += os.write(self._write_fd, view[written:])

    def ready(self) -> None:
        self._send(frames.encode(frames.READY, None))

    def next(self) -> Invocation:
        kind, meta, body = self._reader.read()
        if kind != frames.INVOKE:
            raise EOFError(f"unexpected frame kind {kind}")
        parts = meta.split("\0")
        if len(parts) == 8 and parts[::2] == _USUAL_META:  # no dict for the usual order
            return Invocation(parts[1], int(parts[3]), parts[5], parts[7], None, None, body)
        return _invocation(frames.decode_meta_text(meta), body)

    def respond(self, request_id: str, body: bytes) -> None:
        # The host reads these two in this order without building a dict (see launch.py).
        meta = f"{_RESPONSE_META}{request_id}\0{frames.MAX_RSS_KB}\0{_max_rss_kb()}".encode()
        self._send(_pack_header(frames.RESPONSE, len(meta), len(body)) + meta + body)

    def fail(self, request_id: str, error_type: str, body: bytes) -> None:
        meta = {
            frames.REQUEST_ID: request_id,
            frames.ERROR_TYPE: error_type,
            frames.MAX_RSS_KB: _max_rss_kb(),
        }
        self._send(frames.encode(frames.ERROR, meta, body))

    def init_failed(self, error_type: str, body: bytes) -> None:
        self._send(frames.encode(frames.INIT_ERROR, {frames.ERROR_TYPE: error_type}, body))

    def out_of_memory(self) -> None:
        self._send(frames.encode(frames.OUT_OF_MEMORY, None))


class HttpChannel:
    """The Runtime API over HTTP, as any other runtime client speaks it."""

    PREFIX = "/2018-06-01/runtime"

    def __init__(self, address: str) -> None:
        host, _, port = address.rpartition(":")
        self._connection = http.client.HTTPConnection(host, int(port))
        self._pending: Invocation | None = None

    def _post(self, path: str, body: bytes, headers: dict[str, str] | None = None) -> None:
        self._connection.request("POST", self.PREFIX + path, body, headers or {})
        self._connection.getresponse().read()

    def ready(self) -> None:
        """The first GET /next marks the end of INIT."""
        self._pending = self._get_next()

    def _get_next(self) -> Invocation:
        self._connection.request("GET", self.PREFIX + "/invocation/next")
        response = self._connection.getresponse()
        body = response.read()
        return _invocation(response.headers, body)

    def next(self) -> Invocation:
        pending, self._pending = self._pending, None
        return pending if pending is not None else self._get_next()

    def respond(self, request_id: str, body: bytes) -> None:
        self._post(f"/invocation/{request_id}/response", body)

    def fail(self, request_id: str, error_type: str, body: bytes) -> None:
        headers = {frames.ERROR_TYPE: error_type, "Content-Type": "application/json"}
        self._post(f"/invocation/{request_id}/error", body, headers)

    def init_failed(self, error_type: str, body: bytes) -> None:
        headers = {frames.ERROR_TYPE: error_type, "Content-Type": "application/json"}
        self._post("/init/error", body, headers)

    def out_of_memory(self) -> None:
        """Over HTTP the host learns of it from the exit: nothing to send."""


class TraceVariable:
    """`_X_AMZN_TRACE_ID`, set for each invocation without leaking memory.

    `os.environ[name] = value` calls setenv(), and glibc keeps a copy of every value setenv()
    was ever given, since it cannot tell whether anyone still points at one. Every invocation
    has its own trace id, so an environment grew by about 140 bytes per invocation and was
    eventually killed at its memory size. Here the variable lives in one buffer of the
    runtime's own, handed to putenv(), which keeps the pointer and copies nothing; os.environ's
    mapping is kept in step, so Python code, C code and subprocesses all see the same value.
    """

    def __init__(self, name: str = TRACE_VARIABLE) -> None:
        self.name = name
        self._key = os.fsencode(name)  # how os.environ encodes its keys on POSIX
        self._entry_prefix = self._key + b"="
        self._buffer = ctypes.create_string_buffer(256)
        self._putenv = ctypes.CDLL(None).putenv
        self._environ = os.environ
        # The mapping behind os.environ: putenv() has already changed the real environment.
        self._mapping: dict[bytes, bytes] | None = getattr(os.environ, "_data", None)

    def set(self, value: str | None) -> None:
        if not value:
            self._environ.pop(self.name, None)
            return
        encoded = os.fsencode(value)
        if self._mapping is None or b"\0" in encoded:
            self._environ[self.name] = value  # the standard way, its leak and errors included
            return
        entry = self._entry_prefix + encoded
        buffer = self._buffer
        if len(entry) >= len(buffer):
            buffer = ctypes.create_string_buffer(len(entry) * 2)
        buffer.value = entry
        # Each time: the function may have set or removed the variable itself meanwhile.
        self._putenv(buffer)
        self._buffer = buffer  # a buffer replaced is freed only once nothing points at it
        self._mapping[self._key] = encoded


def _max_rss_kb() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


class Fault(Exception):
    """An error of the runtime itself (not the handler's), with AWS's `Runtime.*` type."""

    def __init__(self, error_type: str, message: str, trace: list[str] | None = None) -> None:
        super().__init__(message)
        self.error_type = error_type
        self.message = message
        self.trace = trace or []


def error_document(
    message: str, error_type: str, trace: list[str], request_id: str = ""
) -> dict[str, Any]:
    return {
        "errorMessage": message,
        "errorType": error_type,
        "requestId": request_id,
        "stackTrace": trace,
    }


def load_handler(spec: str) -> Handler:
    try:
        module_name, function_name = spec.rsplit(".", 1)
    except ValueError as exc:
        raise Fault("Runtime.MalformedHandlerName", f"Bad handler '{spec}': {exc}") from None
    if module_name.split(".")[0] in sys.builtin_module_names:
        raise Fault(
            "Runtime.BuiltInModuleConflict",
            f"Cannot use built-in module {module_name} as a handler module",
        )
    try:
        module = importlib.import_module(module_name.replace("/", "."))
    except ImportError as exc:
        raise Fault(
            "Runtime.ImportModuleError", f"Unable to import module '{module_name}': {exc}"
        ) from None
    except SyntaxError as exc:
        trace = [f'  File "{exc.filename}" Line {exc.lineno}\n    {exc.text}']
        raise Fault(
            "Runtime.UserCodeSyntaxError",
            f"Syntax error in module '{module_name}': {exc}",
            trace,
        ) from None
    try:
        handler: Handler = getattr(module, function_name)
    except AttributeError:
        raise Fault(
            "Runtime.HandlerNotFound",
            f"Handler '{function_name}' missing on module '{module_name}'",
        ) from None
    return handler


class _Encoder(json.JSONEncoder):
    def default(self, o: Any) -> Any:
        if isinstance(o, decimal.Decimal):
            return math.nan if o.is_nan() else float(o)
        return super().default(o)


def _response_encoder() -> Callable[[Any], str]:
    # Python 3.12+ runtimes emit UTF-8; older ones escape non-ASCII characters.
    modern = os.environ.get("AWS_EXECUTION_ENV", "") >= "AWS_Lambda_python3.12"
    encoder = _Encoder(ensure_ascii=not modern, allow_nan=True)
    make = getattr(json.encoder, "c_make_encoder", None)
    if make is None:
        return encoder.encode
    # What `encoder.encode` makes on every call, made once: the C encoder, its markers (of
    # the containers being encoded, against circular references) emptied after each failure.
    markers: dict[int, Any] = {}
    strings = json.encoder.encode_basestring if modern else json.encoder.encode_basestring_ascii
    try:
        encode_once = make(markers, encoder.default, strings, None, ": ", ", ", False, False, True)
    except TypeError:  # another Python's signature
        return encoder.encode

    def encode(value: Any) -> str:
        try:
            return "".join(encode_once(value, 0))
        except BaseException:
            markers.clear()
            raise

    return encode


def _decode_event(body: bytes) -> Any:
    """`json.loads` of the event: the C scanner at once, the decoder's own way (whitespace
    around the value, its errors) when the scanner does not end at the end."""
    text = body.decode()
    try:
        value, end = _scan_json(text, 0)
    except StopIteration:
        end = -1
    return value if end == len(text) else _decode_json(text)


class RequestIdFilter(logging.Filter):
    """Stamps each record with the current request id, as AWS's runtime does."""

    request_id = ""

    def filter(self, record: logging.LogRecord) -> bool:
        record.aws_request_id = self.request_id
        return True


_RESERVED_RECORD_FIELDS = frozenset(logging.LogRecord("", 0, "", 0, "", None, None).__dict__) | {
    "aws_request_id",
    "message",
    "asctime",
}


class JsonFormatter(logging.Formatter):
    """`LoggingConfig.LogFormat = JSON`: one JSON object per record."""

    def __init__(self) -> None:
        super().__init__(datefmt=_JSON_LOG_TIME_FORMAT)

    def format(self, record: logging.LogRecord) -> str:
        levelno = min(50, max(0, record.levelno)) // 10 * 10
        exc = record.exc_info
        message = (
            record.msg if isinstance(record.msg, dict) and not record.args else record.getMessage()
        )
        document: dict[str, Any] = {
            "timestamp": self.formatTime(record, self.datefmt),
            "level": logging.getLevelName(levelno),
            "message": message,
            "logger": record.name,
            "requestId": getattr(record, "aws_request_id", None) or None,
        }
        if exc and exc[0] is not None:
            document["stackTrace"] = traceback.format_tb(exc[2])
            document["errorType"] = exc[0].__name__
            document["errorMessage"] = str(exc[1])
            document["location"] = f"{record.pathname}:{record.funcName}:{record.lineno}"
        for key, value in record.__dict__.items():
            if key not in _RESERVED_RECORD_FIELDS and key not in document:
                document[key] = value
        clean = {key: value for key, value in document.items() if value is not None}
        return json.dumps(clean, ensure_ascii=False, default=str)


class _StdoutHandler(logging.Handler):
    def emit(self, record: logging.LogRecord) -> None:
        try:
            text = self.format(record)
            sys.stdout.write(text if text.endswith("\n") else text + "\n")
        except Exception:
            self.handleError(record)


def setup_logging(request_ids: RequestIdFilter) -> bool:
    """Install the runtime's root handler; returns True when logs are JSON."""
    logging.Formatter.converter = time.gmtime
    json_logs = os.environ.get("AWS_LAMBDA_LOG_FORMAT", "").upper() == "JSON"
    handler = _StdoutHandler()
    if json_logs:
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(
            logging.Formatter(
                "[%(levelname)s]\t%(asctime)s.%(msecs)03dZ\t%(aws_request_id)s\t%(message)s\n",
                "%Y-%m-%dT%H:%M:%S",
            )
        )
    handler.addFilter(request_ids)
    root = logging.getLogger()
    root.addHandler(handler)
    level = os.environ.get("AWS_LAMBDA_LOG_LEVEL", "").upper()
    level = {"TRACE": "DEBUG"}.get(level, level)
    if level in logging.getLevelNamesMapping():
        root.setLevel(level)
    return json_logs


def log_error(document: dict[str, Any], json_logs: bool) -> None:
    if json_logs:
        stamp = time.strftime(_JSON_LOG_TIME_FORMAT, time.gmtime())
        record = {"timestamp": stamp, "log_level": "ERROR", **document}
        sys.stdout.write(json.dumps(record, ensure_ascii=False) + "\n")
        return
    lines = [f"[ERROR] {document['errorType']}: {document['errorMessage']}"]
    lines.append("Traceback (most recent call last):")
    for element in document["stackTrace"]:
        for line in element.splitlines():
            stripped = line.lstrip(" ")
            lines.append(ERROR_LOG_INDENT * (len(line) - len(stripped)) + stripped)
    # Carriage returns keep the report one log event, as AWS's runtime does on stdout.
    sys.stdout.write("\r".join(lines) + "\n")


def _user_frames(tb: Any) -> list[str]:
    entries = traceback.extract_tb(tb)
    shim_dir = os.path.dirname(__file__)
    while entries and os.path.dirname(entries[0].filename) == shim_dir:
        entries = traceback.StackSummary.from_list(entries[1:])
    return entries.format()


class Bootstrap:
    """INIT, then the invoke loop. One instance per execution environment."""

    def __init__(self, channel: Channel, handler_spec: str) -> None:
        self.channel = channel
        self.handler_spec = handler_spec
        self.request_ids = RequestIdFilter()
        self.trace = TraceVariable()
        self.json_logs = setup_logging(self.request_ids)
        self.encode = _response_encoder()
        self.environment = environment_snapshot()
        self.stdout, self.stderr = sys.stdout, sys.stderr

    def init(self) -> Handler | None:
        try:
            return load_handler(self.handler_spec)
        except Fault as fault:
            document = error_document(fault.message, fault.error_type, fault.trace)
        except Exception as exc:
            trace = _user_frames(exc.__traceback__)
            document = error_document(str(exc), type(exc).__name__, trace)
        log_error(document, self.json_logs)
        _flush()
        self.channel.init_failed(document["errorType"], json.dumps(document).encode())
        return None

    def run(self) -> None:
        handler = self.init()
        if handler is None:
            return
        self.channel.ready()
        while True:
            try:
                invocation = self.channel.next()
            except (EOFError, OSError):
                return
            self.invoke(handler, invocation)

    def invoke(self, handler: Handler, invocation: Invocation) -> None:
        request_id = invocation.request_id
        self.request_ids.request_id = request_id
        self.trace.set(invocation.trace_id)
        try:
            body = self._handle(handler, invocation)
        except MemoryError:
            _flush()
            self.channel.out_of_memory()
            os._exit(137)
        except Fault as fault:
            self._fail(error_document(fault.message, fault.error_type, fault.trace, request_id))
        except Exception as exc:
            trace = _user_frames(exc.__traceback__)
            self._fail(error_document(str(exc), type(exc).__name__, trace, request_id))
        else:
            # The streams write straight through (see make_streams_unbuffered): nothing to
            # flush unless the function put buffered streams of its own in their place.
            if sys.stdout is not self.stdout or sys.stderr is not self.stderr:
                _flush()
            self.channel.respond(request_id, body)

    def _handle(self, handler: Handler, invocation: Invocation) -> bytes:
        context = LambdaContext(
            invocation.request_id,
            invocation.deadline_ms,
            invocation.function_arn,
            invocation.client_context,
            invocation.cognito_identity,
            self.environment,
        )
        try:
            event = _decode_event(invocation.body) if invocation.body else None
        except ValueError as exc:
            raise Fault("Runtime.UnmarshalError", f"Unable to unmarshal input: {exc}") from None
        result = handler(event, context)
        if isinstance(result, bytes):
            return result
        try:
            return self.encode(result).encode()
        except (TypeError, ValueError) as exc:
            raise Fault("Runtime.MarshalError", f"Unable to marshal response: {exc}") from None

    def _fail(self, document: dict[str, Any]) -> None:
        log_error(document, self.json_logs)
        _flush()
        self.channel.fail(
            document["requestId"], document["errorType"], json.dumps(document).encode()
        )


def _flush() -> None:
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError, ValueError):
            stream.flush()


def make_streams_unbuffered() -> None:
    """Every print reaches the log at once, so output survives a timeout or a crash: text
    streams straight onto the file descriptors, with no buffer in between."""
    sys.stdout = _unbuffered(1)
    sys.stderr = _unbuffered(2)


def _unbuffered(fd: int) -> io.TextIOWrapper:
    raw = io.FileIO(fd, "w", closefd=False)
    return io.TextIOWrapper(
        raw,
        encoding="utf-8",
        errors="backslashreplace",
        write_through=True,
    )


def main() -> None:
    """Entry point of a fresh interpreter: the Runtime API over HTTP."""
    make_streams_unbuffered()
    channel = HttpChannel(os.environ["AWS_LAMBDA_RUNTIME_API"])
    Bootstrap(channel, os.environ["_HANDLER"]).run()


if __name__ == "__main__":
    main()
