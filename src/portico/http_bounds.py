"""Requests, bounded: what a client can make the server hold, and for how long.

uvicorn's httptools protocol keeps a request's head (request line and headers) until it is
whole, however long it grows or however slowly it comes, waits for a body for ever, and holds
a response for a client that does not read it for ever. `BoundedHttpProtocol` refuses a head
over MAX_HEAD_BYTES with 431, and notes when each head began and when a body last moved, so
that the server closes, with 408, a connection whose head is overdue or whose body has
stalled; and the server drops a connection whose response has not moved for as long
(`_Server.time_out_requests` in `server.py`).
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import socket
import struct
import termios

from uvicorn.protocols.http.httptools_impl import STATUS_LINE, HttpToolsProtocol

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
        if self._refused:
            return
        self._received = len(data)
        super().data_received(data)
        if self._in_head and not self._refused:
            self._head_bytes += len(data)
            if self._head_bytes > MAX_HEAD_BYTES:
                self._refuse_head()

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._in_head = True
        self._head_bytes = 0
        self.head_started = self.loop.time()

    def on_headers_complete(self) -> None:
        self._in_head = False
        self.head_started = None
        if self._refused:
            return
        # What was read since the head began bounds its size: measured only when it may be over.
        may_be_over = self._head_bytes + self._received > MAX_HEAD_BYTES
        if may_be_over and self._head_size() > MAX_HEAD_BYTES:
            self._refuse_head()
            return
        super().on_headers_complete()
        if not self.parser.should_upgrade():
            self.body_moved = self.loop.time()  # until the message is complete

    def on_body(self, body: bytes) -> None:
        if not self._refused:
            self.body_moved = self.loop.time()
            super().on_body(body)

    def on_message_complete(self) -> None:
        self.body_moved = None
        if not self._refused:
            super().on_message_complete()

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
