"""Requests, bounded: what a client can make the server hold, and for how long.

uvicorn's httptools protocol keeps a request's head (request line and headers) until it is
whole, however long it grows or however slowly it comes, waits for a body for ever, and holds
a response for a client that does not read it for ever. `BoundedHttpProtocol` refuses a head
over MAX_HEAD_BYTES with 431, and notes when each head began and when a body last moved, so
that the server closes, with 408, a connection whose head is overdue or whose body has
stalled; and the server drops a connection whose response has not moved for as long
(`_Server.time_out_requests` in `server.py`).

It also lets the application answer a request without the ASGI cycle (`DirectApp`): no task,
no messages, the answer written from whichever callback has it. The HTTP APIs' requests to
functions go that way, the hottest path of the server; uvicorn keeps the connection all the
same (keep-alive, pipelining, shutdown).

On that path every call counts: the protocol reads a request's head in its own callbacks,
which do what uvicorn's do (the same scope, the same cycle) and its bounds' work in one call
each, and a cycle gets the event an ASGI task waits on only when it has an ASGI task.
uvicorn's version is pinned for that (`pyproject.toml`); `tests/unit/test_direct_answers.py`
compares the scopes of both protocols.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import socket
import struct
import termios
import urllib.parse
from collections.abc import Callable
from functools import partial
from typing import Any, Protocol

import httptools
from uvicorn.protocols.http.flow_control import service_unavailable
from uvicorn.protocols.http.httptools_impl import (
    STATUS_LINE,
    HttpToolsProtocol,
    RequestResponseCycle,
)

# The most a request line and headers may take together; past it, 431 and the connection
# closed. HTTP APIs' own quota (10,240 bytes) is lower; this bounds what any client can make
# the server hold (the HTTP parser keeps a header whole until its end).
MAX_HEAD_BYTES = 64 * 1024
# How long a connection may take to send a request's head, from its first byte (or from the
# connection's start), and how long a request's body may send nothing while the server reads;
# past either, 408 and the connection closed. A response the client takes none of for as long
# is dropped with its connection. Between requests, uvicorn's keep-alive timeout applies.
REQUEST_TIMEOUT_SECONDS = 30.0
_RESET_ON_CLOSE = struct.pack("ii", 1, 0)  # SO_LINGER on, for no time: close() resets
_INT_FORMAT = struct.Struct("i")
_INT = bytes(_INT_FORMAT.size)
_SERVER_ERROR_HEADERS = [
    (b"content-type", b"text/plain; charset=utf-8"),
    (b"content-length", b"21"),
]
# The most body a direct answer sends in one write with its head (a copy): a write is a
# system call, and on a connection without delay each one its own segment for the client.
JOINED_BODY_BYTES = 16 * 1024
# The most body a request answered directly (`DirectApp`) may have: past it, the request goes
# the ASGI way, which reads a body as the application asks for it.
DIRECT_BODY_BYTES = 64 * 1024

Respond = Callable[[int, list[tuple[bytes, bytes]], bytes], None]
"""(status, headers, body): the whole answer, sent at once. Header names are lower case and
names and values valid (no CR, LF or other control character); Content-Length is among them
unless the status is 204 or 304. To a HEAD request, the body is not sent."""


class _NoEvent:
    """A cycle's message event while no ASGI task can wait on it: uvicorn sets it as a body
    comes and as the request ends, which concerns nobody until a task reads the body
    (`_start_asgi_cycle` gives the cycle a real event then). One `asyncio.Event` fewer a
    request answered directly, and its two `set()` calls cost nothing."""

    def set(self) -> None:
        pass


_NO_EVENT: Any = _NoEvent()


class _Cycle(RequestResponseCycle):
    """uvicorn's cycle, made in fewer steps (one is made for every request): its arguments
    by position, the state every cycle starts in from the class, and `_NO_EVENT` for an
    event."""

    disconnected = False
    more_body = True
    response_started = False
    response_complete = False
    chunked_encoding: bool | None = None
    expected_content_length = 0

    def __init__(
        self,
        scope: Any,
        transport: asyncio.Transport,
        flow: Any,
        logger: Any,
        access_logger: Any,
        access_log: bool,
        default_headers: list[tuple[bytes, bytes]],
        expect_100_continue: bool,
        keep_alive: bool,
        on_response: Callable[..., None],
    ) -> None:
        self.scope = scope
        self.transport = transport
        self.flow = flow
        self.logger = logger
        self.access_logger = access_logger
        self.access_log = access_log
        self.default_headers = default_headers
        self.message_event = _NO_EVENT
        self.on_response = on_response
        self.keep_alive = keep_alive
        self.waiting_for_100_continue = expect_100_continue
        self.body = bytearray()


class DirectAnswer(Protocol):
    def __call__(self, scope: dict[str, Any], body: bytes, respond: Respond) -> None:
        """Answer the request (`scope`, an ASGI http scope, and its whole `body`) through
        `respond`, once, now or from a later callback of the event loop; never raise."""


class DirectApp(Protocol):
    def direct(self, scope: dict[str, Any]) -> DirectAnswer | None:
        """How to answer the request `scope` without the ASGI cycle (no task, no messages);
        None: the ASGI way."""


class BoundedHttpProtocol(HttpToolsProtocol):
    """uvicorn's HTTP/1.1 protocol (httptools), with bounds on requests and answers.

    Without a bound on heads, a client that sends a header without end makes the parser hold
    all of it: one connection grew the server by 85 MB with a 50 MB header. Here a head whose
    request line and headers take more than MAX_HEAD_BYTES gets `431 Request Header Fields
    Too Large`, and the connection is closed. The bytes read while a head is incomplete are
    counted as they come, so an endless one is cut off after MAX_HEAD_BYTES and one read
    more; a head that arrives whole is measured once it is parsed.

    It also notes when each head began, for the server to close connections whose head is
    overdue (`time_out_head`): without that, a client that connects and sends nothing, or
    sends a head a byte at a time, keeps its connection for ever. And it notes when a body
    last brought bytes, for the server to close connections whose body has stalled
    (`time_out_body`): a client that announced a body and stopped sending it kept its
    connection, and the request waiting on it, for ever. Last, it tells since when the
    response it is sending has not moved (`unsent_since`): 40 clients that asked for a 5 MB
    answer and read none of it held 480 MB of the server for as long as they liked."""

    head_started: float | None = None  # loop time; None when no head is on its way
    idle_since: float | None = None  # loop time; None unless kept alive between requests
    body_moved: float | None = None  # loop time; None when no body is on its way
    _head_bytes = 0  # read so far while the current head is incomplete
    _received = 0  # the size of the read being parsed
    _in_head = True  # a connection starts with a request's head to come
    _refused = False
    _unsent = 0  # bytes waiting to be sent, at the last look
    _unsent_since = 0.0  # loop time since when that many have waited

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self.head_started = self.loop.time()

    def data_received(self, data: bytes) -> None:
        """uvicorn's, with the head's bytes counted. uvicorn's keep-alive timer is never armed
        here (the server's sweep times idle connections out), so there is none to cancel."""
        self.idle_since = None
        if self._refused:
            return
        self._received = len(data)
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserError:
            msg = "Invalid HTTP request received."
            self.logger.warning(msg)
            self.send_400_response(msg)
            return
        except httptools.HttpParserUpgrade:
            if self._should_upgrade():
                self.handle_websocket_upgrade()
            else:
                self._unsupported_upgrade_warning()
        if self._in_head and not self._refused:
            self._head_bytes += len(data)
            if self._head_bytes > MAX_HEAD_BYTES:
                self._refuse_head()

    def on_message_begin(self) -> None:
        """uvicorn's (a new scope), and the head's start noted."""
        self.url = b""
        self.expect_100_continue = False
        self.headers = []
        self.scope = {  # type: ignore[typeddict-item]
            "type": "http",
            "asgi": {"version": self.asgi_version, "spec_version": "2.3"},
            "http_version": "1.1",
            "server": self.server,
            "client": self.client,
            "scheme": self.scheme,  # type: ignore[typeddict-item]
            "root_path": self.root_path,
            "headers": self.headers,
            "state": self.app_state.copy(),
        }
        self._in_head = True
        self._head_bytes = 0
        self.head_started = self.loop.time()

    def on_headers_complete(self) -> None:
        """The head measured, then uvicorn's: the scope completed and a cycle made, whose
        message event is `_NO_EVENT` until it has an ASGI task."""
        self._in_head = False
        self.head_started = None
        if self._refused:
            return
        # What was read since the head began bounds its size: measured only when it may be over.
        may_be_over = self._head_bytes + self._received > MAX_HEAD_BYTES
        if may_be_over and self._head_size() > MAX_HEAD_BYTES:
            self._refuse_head()
            return
        parser = self.parser
        http_version = parser.get_http_version()
        scope = self.scope
        scope["method"] = parser.get_method().decode("ascii")
        if http_version != "1.1":
            scope["http_version"] = http_version
        upgrade = parser.should_upgrade()
        if upgrade and self._should_upgrade():
            return
        parsed_url = httptools.parse_url(self.url)
        raw_path = parsed_url.path
        path = raw_path.decode("ascii")
        if "%" in path:
            path = urllib.parse.unquote(path)
        root_path = self.root_path
        scope["path"] = root_path + path
        scope["raw_path"] = root_path.encode("ascii") + raw_path if root_path else raw_path
        scope["query_string"] = parsed_url.query or b""
        existing_cycle = self.cycle
        self.cycle = cycle = _Cycle(
            scope,
            self.transport,
            self.flow,
            self.logger,
            self.access_logger,
            self.access_log,
            self.server_state.default_headers,
            self.expect_100_continue,
            http_version != "1.0" and parser.should_keep_alive(),
            self.on_response_complete,
        )
        app = self.app
        if self.limit_concurrency is not None and (
            len(self.connections) >= self.limit_concurrency
            or len(self.tasks) >= self.limit_concurrency
        ):
            app = service_unavailable
            self.logger.warning("Exceeded concurrency limit.")
        if existing_cycle is None or existing_cycle.response_complete:
            self._start_asgi_task(cycle, app)
        else:
            self.flow.pause_reading()
            self.pipeline.appendleft((cycle, app))
        if not upgrade:
            self.body_moved = self.loop.time()  # until the message is complete

    def on_body(self, body: bytes) -> None:
        if not self._refused:
            self.body_moved = self.loop.time()
            super().on_body(body)
            direct = self._direct
            if direct is not None and len(direct[0].body) > DIRECT_BODY_BYTES:
                self._direct = None
                self._start_asgi_cycle(direct[0], direct[1])

    def on_message_complete(self) -> None:
        """uvicorn's; then a request to answer directly is answered, its body whole."""
        self.body_moved = None
        if self._refused:
            return
        cycle = self.cycle
        if cycle.response_complete or (self.parser.should_upgrade() and self._should_upgrade()):
            return
        cycle.more_body = False
        cycle.message_event.set()
        direct = self._direct
        if direct is not None and direct[0] is cycle:
            self._answer_directly()

    # -- answers without the ASGI cycle ---------------------------------------------------

    _direct: tuple[RequestResponseCycle, Any, DirectAnswer] | None = None  # awaiting its body

    def _start_asgi_task(self, cycle: RequestResponseCycle, app: Any) -> None:
        """The application may answer a request directly (`DirectApp`): then, once its body
        is whole, from callbacks, without a task or ASGI messages. A request whose client
        expects 100-continue, or whose body grows past DIRECT_BODY_BYTES, goes the ASGI way.
        Everything else about the connection is uvicorn's: keep-alive, pipelining (a queued
        request starts here when the one before is answered), shutdown."""
        direct = getattr(app, "direct", None)
        answer = None
        if direct is not None and not cycle.waiting_for_100_continue:
            answer = direct(cycle.scope)
        if answer is None:
            self._start_asgi_cycle(cycle, app)
            return
        self._direct = (cycle, app, answer)
        if not cycle.more_body:  # queued behind another, it came whole
            self._answer_directly()

    def _start_asgi_cycle(self, cycle: RequestResponseCycle, app: Any) -> None:
        """uvicorn's ASGI task for `cycle`, with the event it waits on: set if uvicorn would
        have set it by now (some body came, the request ended, the client left)."""
        event = cycle.message_event = asyncio.Event()
        if cycle.body or not cycle.more_body or cycle.disconnected:
            event.set()
        super()._start_asgi_task(cycle, app)

    def _answer_directly(self) -> None:
        direct, self._direct = self._direct, None
        if direct is None:
            return
        cycle, _app, answer = direct
        try:
            scope: dict[str, Any] = cycle.scope  # type: ignore[assignment]
            answer(scope, bytes(cycle.body), partial(self._respond, cycle))
        except Exception as exc:  # uvicorn's answer to an application's fault
            self.logger.error("Exception in ASGI application\n", exc_info=exc)
            if not cycle.response_started:
                self._respond(cycle, 500, _SERVER_ERROR_HEADERS, b"Internal Server Error")
            else:
                self.transport.close()

    def _respond(
        self,
        cycle: RequestResponseCycle,
        status: int,
        headers: list[tuple[bytes, bytes]],
        body: bytes,
    ) -> None:
        """A direct answer, sent as uvicorn sends an ASGI one (its default headers first;
        `connection: close` when the connection ends with it), in one write when its body is
        small."""
        if cycle.response_started or cycle.disconnected:
            return
        cycle.response_started = True
        content = [STATUS_LINE[status]]
        for name, value in cycle.default_headers:
            content += (name, b": ", value, b"\r\n")
        for name, value in headers:
            content += (name, b": ", value, b"\r\n")
        if not cycle.keep_alive:
            content.append(b"connection: close\r\n")
        content.append(b"\r\n")
        transport = self.transport
        if not body or cycle.scope["method"] == "HEAD":
            transport.write(b"".join(content))
        elif len(body) <= JOINED_BODY_BYTES:
            content.append(body)
            transport.write(b"".join(content))
        else:
            transport.write(b"".join(content))
            transport.write(body)
        cycle.response_complete = True
        if not cycle.keep_alive:
            transport.close()
        cycle.on_response()

    def on_response_complete(self) -> None:
        """uvicorn's, but for the keep-alive timeout: the connection notes since when it has
        been idle, and the server's sweep closes it once that is longer than the timeout
        (`time_out_idle`). A timer armed after every answer and cancelled by the next
        request cost about 2 µs a request (10% of the server's own work answering at once)."""
        self.server_state.total_requests += 1
        if self.transport.is_closing():
            return
        self.flow.resume_reading()
        if self.pipeline:
            cycle, app = self.pipeline.pop()
            self._start_asgi_task(cycle, app)
        else:
            self.idle_since = self.loop.time()

    def time_out_idle(self) -> None:
        """Kept alive with no request for longer than the keep-alive timeout: closed."""
        self.idle_since = None
        if not self.transport.is_closing():
            self.transport.close()

    def _head_size(self) -> int:
        return len(self.url) + sum(len(name) + len(value) for name, value in self.headers)

    def _refuse_head(self) -> None:
        self.logger.warning("A request head longer than %d bytes was refused.", MAX_HEAD_BYTES)
        self._refuse(431)

    def time_out_head(self) -> None:
        """The head is overdue: 408, and the connection closed."""
        if not self._refused:
            self._refuse(408)

    def time_out_body(self) -> None:
        """The body has sent nothing for too long: 408, and the connection closed. Not when
        the server is the one not reading (the application has not asked for more, or has
        not yet let a client that expects 100-continue send), nor once the application has
        begun to answer; a body still coming after the whole answer just ends the
        connection."""
        cycle = self.cycle
        if self._refused or cycle is None:
            return
        if self.flow.read_paused or cycle.waiting_for_100_continue:
            self.body_moved = self.loop.time()
        elif cycle.response_complete:
            self.body_moved = None
            self.transport.close()
        elif not cycle.response_started:
            self._refuse(408)

    def unsent_since(self, now: float) -> float | None:
        """Since when (loop time) the response on its way has not moved, looking now; None
        when nothing waits to be sent. What waits here is counted with what waits in the
        kernel's queue: a slow reader drains that one first, and the kernel takes more from
        here only once much of it is free."""
        unsent = self.transport.get_write_buffer_size()
        if not unsent:
            self._unsent = 0
            return None
        sock = self.transport.get_extra_info("socket")
        if sock is not None:
            with contextlib.suppress(OSError):
                queued = fcntl.ioctl(sock.fileno(), termios.TIOCOUTQ, _INT)
                unsent += _INT_FORMAT.unpack(queued)[0]
        if unsent != self._unsent:
            self._unsent = unsent
            self._unsent_since = now
        return self._unsent_since

    def drop(self) -> None:
        """The client takes none of its response: the connection goes, reset, and what waited
        to be sent with it (closed the usual way, the kernel would go on offering it)."""
        sock = self.transport.get_extra_info("socket")
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, _RESET_ON_CLOSE)
        self.transport.abort()

    def _refuse(self, status: int) -> None:
        self._refused = True
        self.head_started = self.body_moved = None
        message = STATUS_LINE[status][len(b"HTTP/1.1 000 ") : -2]
        self.transport.write(
            b"".join(
                (
                    STATUS_LINE[status],
                    b"content-type: text/plain; charset=utf-8\r\n",
                    b"content-length: %d\r\n" % len(message),
                    b"connection: close\r\n\r\n",
                    message,
                )
            )
        )
        self.transport.close()
