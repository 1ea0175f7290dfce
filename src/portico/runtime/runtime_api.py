"""The Lambda Runtime API over HTTP, one listener per execution environment.

`AWS_LAMBDA_RUNTIME_API` is `host:port` with a fixed path, so each environment gets its own
loopback listener: whatever asks for `/next` on it is that environment's runtime.

    GET  /2018-06-01/runtime/invocation/next            -> 200, event + Lambda-Runtime-* headers
    POST /2018-06-01/runtime/invocation/{id}/response   -> 202 {"status":"OK"}
    POST /2018-06-01/runtime/invocation/{id}/error      -> 202 {"status":"OK"}
    POST /2018-06-01/runtime/init/error                 -> 202 {"status":"OK"}
"""

from __future__ import annotations

import asyncio
import json
from typing import Any, Protocol

import h11

from portico.runtime import errors_payload
from portico.runtime.invocation import InvocationRequest
from portico.runtime.limits import RESPONSE_LIMIT_BYTES
from portico.runtime.shim import frames

PREFIX = "/2018-06-01/runtime"
NEXT = f"{PREFIX}/invocation/next"
INIT_ERROR = f"{PREFIX}/init/error"
INVOCATION = f"{PREFIX}/invocation/"
UNHANDLED = "Unhandled"
READ_SIZE = 65536
# Room for the request line and headers around the largest allowed response body.
MAX_REQUEST_BYTES = RESPONSE_LIMIT_BYTES + 64 * 1024


class RuntimePeer(Protocol):
    """The environment, told what its runtime said."""

    def on_ready(self) -> None:
        """The runtime asked for work (`/next`); the first time, INIT is over."""

    def on_init_error(self, error_type: str, body: bytes) -> None: ...
    def on_response(self, request_id: str, body: bytes, max_rss_kb: int | None) -> None: ...
    def on_error(
        self, request_id: str, error_type: str, body: bytes, max_rss_kb: int | None
    ) -> None: ...


Reply = tuple[int, dict[str, str], bytes]


def _json_reply(status: int, document: dict[str, Any]) -> Reply:
    return status, {"Content-Type": "application/json"}, json.dumps(document).encode()


ACCEPTED = _json_reply(202, {"status": "OK"})


class RuntimeApiEndpoint:
    """Serves one environment's runtime; `send_invocation` hands the next event to `/next`."""

    # A runtime is ready for more only when it asks: AWS's Node runtime, for one, exits
    # after posting an uncaught exception instead.
    implicit_next = False

    def __init__(self, peer: RuntimePeer) -> None:
        self._peer = peer
        self._server: asyncio.Server | None = None
        self._queued: InvocationRequest | None = None
        self._waiting: asyncio.Future[InvocationRequest] | None = None
        self._current: str | None = None
        self._connections: set[asyncio.StreamWriter] = set()

    async def start(self) -> str:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0, limit=READ_SIZE)
        host, port = self._server.sockets[0].getsockname()[:2]
        return f"{host}:{port}"

    def send_invocation(self, invocation: InvocationRequest) -> None:
        if self._waiting is not None and not self._waiting.done():
            self._waiting.set_result(invocation)
        else:
            self._queued = invocation

    def close(self) -> None:
        if self._waiting is not None and not self._waiting.done():
            self._waiting.cancel()
        for writer in self._connections:
            writer.close()
        if self._server is not None:
            self._server.close()
            self._server = None

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._connections.add(writer)
        connection = h11.Connection(h11.SERVER, max_incomplete_event_size=MAX_REQUEST_BYTES)
        try:
            while await self._serve_one(connection, reader, writer):
                connection.start_next_cycle()
        except (ConnectionError, h11.ProtocolError, asyncio.CancelledError):
            pass
        finally:
            self._connections.discard(writer)
            writer.close()

    async def _serve_one(
        self,
        connection: h11.Connection,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
    ) -> bool:
        request = await self._next_event(connection, reader)
        if not isinstance(request, h11.Request):
            return False
        body = bytearray()
        too_large = False
        while True:
            event = await self._next_event(connection, reader)
            if isinstance(event, h11.Data):
                if len(body) + len(event.data) > RESPONSE_LIMIT_BYTES:
                    too_large = True
                else:
                    body += event.data
            elif isinstance(event, h11.EndOfMessage):
                break
            else:
                return False
        headers = {name.decode().lower(): value.decode() for name, value in request.headers}
        target = request.target.decode()
        if too_large:
            status, reply_headers, reply_body = self._too_large(target)
        else:
            status, reply_headers, reply_body = await self._route(
                request.method.decode(), target, headers, bytes(body)
            )
        reply_headers["Content-Length"] = str(len(reply_body))
        writer.write(
            connection.send(h11.Response(status_code=status, headers=list(reply_headers.items())))
            + connection.send(h11.Data(data=reply_body))
            + connection.send(h11.EndOfMessage())
        )
        await writer.drain()
        return connection.our_state is h11.DONE and connection.their_state is h11.DONE

    async def _next_event(self, connection: h11.Connection, reader: asyncio.StreamReader) -> Any:
        while True:
            event = connection.next_event()
            if event is not h11.NEED_DATA:
                return event
            connection.receive_data(await reader.read(READ_SIZE))

    async def _route(self, method: str, target: str, headers: dict[str, str], body: bytes) -> Reply:
        path = target.split("?", 1)[0]
        if method == "GET" and path == NEXT:
            return await self._next()
        if method == "POST" and path == INIT_ERROR:
            self._peer.on_init_error(headers.get(frames.ERROR_TYPE.lower(), UNHANDLED), body)
            return ACCEPTED
        if method == "POST" and path.startswith(INVOCATION):
            request_id, _, action = path[len(INVOCATION) :].partition("/")
            if action in ("response", "error"):
                return self._complete(request_id, action, headers, body)
        return _json_reply(404, {"errorMessage": "Not Found", "errorType": "NotFound"})

    async def _next(self) -> Reply:
        self._peer.on_ready()
        if self._queued is not None:
            invocation, self._queued = self._queued, None
        else:
            self._waiting = asyncio.get_running_loop().create_future()
            invocation = await self._waiting
            self._waiting = None
        self._current = invocation.request_id
        headers = {"Content-Type": "application/json", **invocation.headers()}
        return 200, headers, invocation.payload

    def _complete(
        self, request_id: str, action: str, headers: dict[str, str], body: bytes
    ) -> Reply:
        if request_id != self._current:
            return _json_reply(
                400, {"errorMessage": "Invalid request ID", "errorType": "InvalidRequestID"}
            )
        self._current = None
        if action == "response":
            self._peer.on_response(request_id, body, None)
        else:
            error_type = headers.get(frames.ERROR_TYPE.lower(), UNHANDLED)
            self._peer.on_error(request_id, error_type, body, None)
        return ACCEPTED

    def _too_large(self, target: str) -> Reply:
        path = target.split("?", 1)[0]
        request_id = (
            path[len(INVOCATION) :].partition("/")[0] if path.startswith(INVOCATION) else ""
        )
        if request_id and request_id == self._current:
            self._current = None
            self._peer.on_error(
                request_id,
                "Function.ResponseSizeTooLarge",
                errors_payload.response_too_large(),
                None,
            )
        return _json_reply(
            413,
            {
                "errorMessage": (
                    f"Exceeded maximum allowed payload size ({RESPONSE_LIMIT_BYTES} bytes)."
                ),
                "errorType": "RequestEntityTooLarge",
            },
        )
