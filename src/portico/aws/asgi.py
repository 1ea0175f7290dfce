"""The AWS-wire endpoint as a plain ASGI callable: bytes in, AwsHandler, bytes out."""

from __future__ import annotations

from typing import Any

from portico.aws.errors import SerializationException
from portico.aws.handler import AwsHandler
from portico.aws.messages import AwsRequest, AwsResponse, Headers
from portico.aws.serializer import BODILESS_STATUSES, serialize_error
from portico.bodies import Disconnected, read_body
from portico.errors import AwsError

Scope = dict[str, Any]
Receive = Any
Send = Any


class RequestEntityTooLargeException(AwsError):
    code = "RequestEntityTooLargeException"
    status_code = 413
    sender_fault = True


class AwsEndpoint:
    """Reads the whole request (up to `max_body` bytes), answers with the handler's response."""

    def __init__(self, handler: AwsHandler, max_body: int) -> None:
        self._handler = handler
        self._max_body = max_body

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            body = await read_body(receive, self._max_body)
        except Disconnected:  # a request cut short is not handled: part of one is not one
            return
        if body is None:
            error = RequestEntityTooLargeException(
                f"Request must be smaller than {self._max_body} bytes."
            )
            await _send(send, serialize_error(None, error, "-"))
            return
        raw_path = scope.get("raw_path") or scope["path"].encode()
        try:
            request = AwsRequest(
                method=scope["method"],
                path=raw_path.decode("latin-1").partition("?")[0],
                query=scope.get("query_string", b"").decode("latin-1"),
                headers=Headers(
                    (name.decode("latin-1"), value.decode("latin-1"))
                    for name, value in scope["headers"]
                ),
                body=body,
            )
        except UnicodeDecodeError:
            unreadable = SerializationException("The request could not be read.")
            await _send(send, serialize_error(None, unreadable, "-"))
            return
        await _send(send, await self._handler.handle(request))


async def _send(send: Send, response: AwsResponse) -> None:
    headers = [
        (name.encode("latin-1"), value.encode("latin-1"))
        for name, value in response.headers.items()
    ]
    if response.status not in BODILESS_STATUSES:
        headers.append((b"content-length", str(len(response.body)).encode()))
    await send({"type": "http.response.start", "status": response.status, "headers": headers})
    await send({"type": "http.response.body", "body": response.body})
