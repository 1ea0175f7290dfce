"""HTTP requests as Lambda events (payload format version 2.0) and function results as HTTP
responses, the way Lambda function URLs and API Gateway HTTP APIs do both.

    HttpRequest + EventContext --build_event--> {"version": "2.0", "rawPath": ..., ...}
    function result (bytes) ----map_result---> HttpResult(status, headers, cookies, body)

Pure: no I/O, no clock, no ids of its own; the caller passes the request id and the time.
"""

from __future__ import annotations

import base64
import binascii
import functools
import json
import re
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, unquote

from portico.gateway import payloads

Event = dict[str, Any]

_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_TEXT_SUBTYPES = ("json", "xml", "javascript", "x-www-form-urlencoded", "yaml", "csv")
INTERNAL_SERVER_ERROR = b'{"Message":"Internal Server Error"}'
# A function's status code must be a final one: a 1xx would leave the client waiting for
# the response it announces (or switching protocols).
FIRST_FINAL_STATUS = 200
# Headers a function's answer does not set: the gateway frames the response (Content-Length,
# Transfer-Encoding), owns the client's connection (Connection, Keep-Alive) and dates it.
GATEWAY_HEADERS = frozenset(
    {"content-length", "transfer-encoding", "connection", "keep-alive", "date"}
)
_TOKEN = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")  # RFC 9110: a header name, say
_CONTROL = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")  # in a header value: CR, LF, NUL...


# HttpRequest, EventContext and HttpResult are built on every request: plain dataclasses,
# three times cheaper to build than frozen ones (object.__setattr__ per field). Treat them
# as values all the same.
@dataclass(slots=True)
class HttpRequest:
    """A request as read off the wire. `raw_query` as sent (percent-encoded, no '?');
    `raw_path` as the event's `rawPath` gives it: as sent, or decoded when `path_decoded` (an
    HTTP API decodes the path itself); `headers` in arrival order, names in any case, repeats
    kept."""

    method: str
    raw_path: str
    raw_query: str
    headers: Sequence[tuple[str, str]]
    body: bytes = b""
    source_ip: str = ""
    protocol: str = "HTTP/1.1"
    path_decoded: bool = False  # `raw_path` is decoded already

    @property
    def decoded_path(self) -> str:
        """The path decoded: `requestContext.http.path`, 1.0's `path`."""
        return self.raw_path if self.path_decoded else unquote(self.raw_path)


@dataclass(frozen=True)
class IamCaller:
    """Who signed a request to an AWS_IAM endpoint (`requestContext.authorizer.iam`)."""

    access_key: str
    account_id: str
    caller_id: str
    user_arn: str
    user_id: str

    def document(self) -> dict[str, Any]:
        return {
            "accessKey": self.access_key,
            "accountId": self.account_id,
            "callerId": self.caller_id,
            "cognitoIdentity": None,
            "principalOrgId": None,
            "userArn": self.user_arn,
            "userId": self.user_id,
        }


@dataclass(slots=True)
class EventContext:
    """What the endpoint knows beyond the request: which API, which request, when."""

    api_id: str
    domain_name: str
    request_id: str
    time_epoch_ms: int
    account_id: str = "anonymous"
    caller: IamCaller | None = None
    route_key: str = "$default"
    stage: str = "$default"
    authorizer: dict[str, Any] | None = None  # requestContext.authorizer, when not `caller`'s
    path_parameters: Mapping[str, str] | None = None
    stage_variables: Mapping[str, str] | None = None


def build_event(request: HttpRequest, context: EventContext) -> Event:
    """The payload-format-2.0 event: empty members (cookies, query, body) are left out."""
    headers, cookies = headers_and_cookies(request.headers)
    event: Event = {
        "version": "2.0",
        "routeKey": context.route_key,
        "rawPath": request.raw_path,
        "rawQueryString": request.raw_query,
    }
    if cookies:
        event["cookies"] = cookies
    event["headers"] = headers
    query = query_parameters(request.raw_query) if request.raw_query else None
    if query:
        event["queryStringParameters"] = query
    event["requestContext"] = _request_context(request, context, headers)
    body, encoded = encode_body(request.body, headers.get("content-type"))
    if body is not None:
        event["body"] = body
    if context.path_parameters:
        event["pathParameters"] = dict(context.path_parameters)
    event["isBase64Encoded"] = encoded
    if context.stage_variables:
        event["stageVariables"] = dict(context.stage_variables)
    return event


def _request_context(request: HttpRequest, context: EventContext, headers: dict[str, str]) -> Event:
    document: Event = {
        "accountId": context.account_id,
        "apiId": context.api_id,
    }
    if context.authorizer is not None:
        document["authorizer"] = context.authorizer
    elif context.caller is not None:
        document["authorizer"] = {"iam": context.caller.document()}
    document.update(
        {
            "domainName": context.domain_name,
            "domainPrefix": context.domain_name.split(".", 1)[0],
            "http": {
                "method": request.method.upper(),
                "path": request.decoded_path,
                "protocol": request.protocol,
                "sourceIp": request.source_ip,
                "userAgent": headers.get("user-agent", ""),
            },
            "requestId": context.request_id,
            "routeKey": context.route_key,
            "stage": context.stage,
            "time": clf_time(context.time_epoch_ms),
            "timeEpoch": context.time_epoch_ms,
        }
    )
    return document


def headers_and_cookies(items: Iterable[tuple[str, str]]) -> tuple[dict[str, str], list[str]]:
    """Headers by lower-cased name, repeats joined with ','; the Cookie header goes to
    `cookies`, split on '; ', and not into `headers`."""
    headers: dict[str, str] = {}
    cookies: list[str] = []
    for name, value in items:
        key = name.lower()
        if key == "cookie":
            cookies.extend(part for part in value.split("; ") if part)
        elif key in headers:
            headers[key] = f"{headers[key]},{value}"
        else:
            headers[key] = value
    return headers, cookies


def query_parameters(raw_query: str) -> dict[str, str]:
    """Decoded query parameters, repeated keys' values joined with ','."""
    parameters: dict[str, str] = {}
    for key, value in parse_qsl(raw_query, keep_blank_values=True):
        parameters[key] = f"{parameters[key]},{value}" if key in parameters else value
    return parameters


def is_text(content_type: str | None) -> bool:
    if not content_type:
        return False
    media = content_type.split(";", 1)[0].strip().lower()
    kind, _, subtype = media.partition("/")
    return kind == "text" or any(marker in subtype for marker in _TEXT_SUBTYPES)


def encode_body(body: bytes, content_type: str | None) -> tuple[str | None, bool]:
    """The event's `body` and `isBase64Encoded`: text content types as text (if the bytes are
    UTF-8), everything else base64."""
    if not body:
        return None, False
    if is_text(content_type):
        try:
            return body.decode("utf-8"), False
        except UnicodeDecodeError:
            pass
    return base64.b64encode(body).decode("ascii"), True


def clf_time(epoch_ms: int) -> str:
    """`12/Mar/2020:19:03:58 +0000` (Common Log Format, UTC, month names not localised)."""
    return clf_second(epoch_ms // 1000)


@functools.lru_cache(maxsize=8)  # every request of the same second shares the text
def clf_second(epoch_seconds: int) -> str:
    """`clf_time` of a second since the epoch."""
    moment = time.gmtime(epoch_seconds)
    return (
        f"{moment.tm_mday:02d}/{_MONTHS[moment.tm_mon - 1]}/{moment.tm_year}:"
        f"{moment.tm_hour:02d}:{moment.tm_min:02d}:{moment.tm_sec:02d} +0000"
    )


# -- responses ------------------------------------------------------------------------------


@dataclass(slots=True)
class HttpResult:
    status: int
    headers: dict[str, str] = field(default_factory=dict)
    cookies: tuple[str, ...] = ()
    body: bytes = b""

    def wire_headers(self, *extra: tuple[str, str]) -> tuple[list[tuple[bytes, bytes]], bytes]:
        """ASGI headers and the body to send: a 204 or 304 goes with neither body nor length,
        whatever the function answered (a stray byte would start the next response). A value
        with characters beyond Latin-1 goes as UTF-8."""
        try:
            headers = [
                (name.encode("latin-1"), value.encode("latin-1"))
                for name, value in self.headers.items()
            ]
            for cookie in self.cookies:
                headers.append((b"set-cookie", cookie.encode("latin-1")))
            for name, value in extra:
                headers.append((name.encode("latin-1"), value.encode("latin-1")))
        except UnicodeEncodeError:
            items = [*self.header_list(), *extra]
            headers = [(name.encode("latin-1"), _wire_value(value)) for name, value in items]
        if self.status in (204, 304):
            return headers, b""
        if "content-length" not in self.headers:  # only an HTTP backend's answer to HEAD sets it
            headers.append((b"content-length", b"%d" % len(self.body)))
        return headers, self.body

    def header_list(self) -> list[tuple[str, str]]:
        """Every header to send, Set-Cookie once per cookie; Content-Length is the sender's."""
        items = [(name, value) for name, value in self.headers.items()]
        items.extend(("set-cookie", cookie) for cookie in self.cookies)
        return items


def _wire_value(value: str) -> bytes:
    try:
        return value.encode("latin-1")
    except UnicodeEncodeError:
        return value.encode("utf-8")


def is_token(text: str) -> bool:
    return _TOKEN.fullmatch(text) is not None


def response_headers(headers: dict[str, str], cookies: Sequence[str]) -> dict[str, str] | None:
    """A function's response headers (names lower-cased) as they can be sent: without those
    the gateway sets itself (GATEWAY_HEADERS); None when a name is not an HTTP token or a
    value (a cookie's included) holds a control character such as CR or LF, which no
    response can carry: the answer is then malformed."""
    names = "".join(headers)  # tokens joined make a token
    if "" in headers or (names and not is_token(names)):
        return None
    if _CONTROL.search("".join(headers.values())) or _CONTROL.search("".join(cookies)):
        return None
    if GATEWAY_HEADERS.isdisjoint(headers):
        return headers
    return {name: value for name, value in headers.items() if name not in GATEWAY_HEADERS}


def function_error() -> HttpResult:
    """What the caller gets when the function failed (or answered something unusable)."""
    return HttpResult(502, {"content-type": "application/json"}, (), INTERNAL_SERVER_ERROR)


def map_result(payload: bytes, failed: bool = False) -> HttpResult:
    """The HTTP response for a function's result.

    A JSON object with `statusCode` says how to answer (statusCode, headers, cookies, body,
    isBase64Encoded); any other JSON value is the body of a 200 `application/json` response.
    """
    if failed:
        return function_error()
    try:
        value = payloads.decode(payload) if payload.strip() else None
    except ValueError:
        return HttpResult(200, {"content-type": "application/json"}, (), payload)
    if isinstance(value, dict) and "statusCode" in value:
        return _structured(value) or function_error()
    # A string is the body itself (unquoted); any other JSON value, its JSON text.
    body = value.encode() if isinstance(value, str) else payload
    return HttpResult(200, {"content-type": "application/json"}, (), body)


def _structured(value: dict[str, Any]) -> HttpResult | None:
    code = status_code(value["statusCode"])
    given = _headers_and_cookies_of(value)
    if code is None or given is None:
        return None
    headers, cookies = given
    # Only JSON true says the body is base64, as 1.0 reads it (the string "false" is truthy).
    body = _body(value.get("body"), value.get("isBase64Encoded") is True)
    if body is None:
        return None
    return HttpResult(code, headers, cookies, body)


def status_code(status: Any) -> int | None:
    """A function's `statusCode` (a number or its text) as a final status; None if it is none."""
    if type(status) is int and FIRST_FINAL_STATUS <= status <= 599:  # the usual answer
        return status
    if isinstance(status, bool) or not isinstance(status, int | str):
        return None
    try:
        code = int(status)
    except ValueError:
        return None
    if not FIRST_FINAL_STATUS <= code <= 599:  # a 1xx cannot end an exchange
        return None
    return code


def _headers_and_cookies_of(value: dict[str, Any]) -> tuple[dict[str, str], tuple[str, ...]] | None:
    """The answer's `headers` (an object of scalars) and `cookies` (a list of them), as they
    can be sent; None when they are malformed."""
    headers = {"content-type": "application/json"}
    given = value.get("headers")
    listed = value.get("cookies")
    if not given and not listed:
        return headers, ()
    if (given and not isinstance(given, dict)) or (listed and not isinstance(listed, list)):
        return None
    try:
        if given:
            for name, header in given.items():
                text = header if type(header) is str else scalar_text(header)
                if text is not None:  # a null value sets no header
                    headers[str(name).lower()] = text
        cookies = tuple(_texts(listed)) if listed else ()
    except ValueError:
        return None
    checked = response_headers(headers, cookies)
    return None if checked is None else (checked, cookies)


def _texts(values: list[Any]) -> Iterator[str]:
    for value in values:
        text = value if type(value) is str else scalar_text(value)
        if text is not None:
            yield text


def scalar_text(value: Any) -> str | None:
    """A header value or cookie as a function may give it: text, a number or a boolean
    (`true`/`false`); None for null. ValueError for an object or a list."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str | int | float):
        return str(value)
    raise ValueError(f"not a scalar: {type(value).__name__}")


def _body(body: Any, encoded: bool) -> bytes | None:
    if body is None:
        return b""
    if isinstance(body, str):
        if not encoded:
            return body.encode()
        try:
            return base64.b64decode(body, validate=True)
        except (ValueError, binascii.Error):
            return None
    return json.dumps(body).encode()
