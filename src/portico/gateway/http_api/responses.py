"""The answers an HTTP API gives on its own (not the integration's): AWS's exact bodies."""

from __future__ import annotations

from portico.gateway.http_events import HttpResult

_JSON = "application/json"


def _message(status: int, message: str) -> HttpResult:
    body = b'{"message":"' + message.encode() + b'"}'
    return HttpResult(status, {"content-type": _JSON}, (), body)


BAD_REQUEST = _message(400, "Bad Request")
NOT_FOUND = _message(404, "Not Found")
UNAUTHORIZED = _message(401, "Unauthorized")
FORBIDDEN = _message(403, "Forbidden")
TOO_LARGE = _message(413, "Request Entity Too Large")
TOO_MANY_REQUESTS = _message(429, "Too Many Requests")
INTERNAL_SERVER_ERROR = _message(500, "Internal Server Error")
BAD_GATEWAY = _message(502, "Bad Gateway")
SERVICE_UNAVAILABLE = _message(503, "Service Unavailable")
GATEWAY_TIMEOUT = _message(504, "Gateway Timeout")
