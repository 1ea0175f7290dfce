"""The built-in bootstrap's transport: the Runtime API's messages as length-prefixed frames.

The HTTP Runtime API serves every other runtime client; Python environments forked by Portico
speak the same messages, with the same `Lambda-Runtime-*` header names, over a socketpair:

    +------+-----------+-----------+------------------+-----------+
    | kind | meta len  | body len  | meta (JSON dict) | body      |
    | u8   | u32 (BE)  | u32 (BE)  |                  | raw bytes |
    +------+-----------+-----------+------------------+-----------+

host -> environment: INVOKE (meta: the /next response headers, body: the event)
environment -> host: READY (init done: the first /next), RESPONSE, ERROR, INIT_ERROR,
                     OUT_OF_MEMORY (sent just before the environment exits)
"""

from __future__ import annotations

import json
import socket
import struct
from typing import Any

HEADER = struct.Struct("!BII")

INVOKE = 1
READY = 2
RESPONSE = 3
ERROR = 4
INIT_ERROR = 5
OUT_OF_MEMORY = 6

REQUEST_ID = "Lambda-Runtime-Aws-Request-Id"
DEADLINE_MS = "Lambda-Runtime-Deadline-Ms"
FUNCTION_ARN = "Lambda-Runtime-Invoked-Function-Arn"
TRACE_ID = "Lambda-Runtime-Trace-Id"
CLIENT_CONTEXT = "Lambda-Runtime-Client-Context"
COGNITO_IDENTITY = "Lambda-Runtime-Cognito-Identity"
ERROR_TYPE = "Lambda-Runtime-Function-Error-Type"
MAX_RSS_KB = "Max-Rss-Kb"

Frame = tuple[int, dict[str, Any], bytes]


def encode(kind: int, meta: dict[str, Any] | None, body: bytes = b"") -> bytes:
    raw_meta = json.dumps(meta, separators=(",", ":")).encode() if meta else b""
    return HEADER.pack(kind, len(raw_meta), len(body)) + raw_meta + body


class FrameDecoder:
    """Incremental decoder: feed bytes as they arrive, get whole frames back."""

    def __init__(self) -> None:
        self._buffer = bytearray()

    def feed(self, data: bytes) -> list[Frame]:
        self._buffer += data
        frames: list[Frame] = []
        while len(self._buffer) >= HEADER.size:
            kind, meta_len, body_len = HEADER.unpack_from(self._buffer)
            end = HEADER.size + meta_len + body_len
            if len(self._buffer) < end:
                break
            meta_end = HEADER.size + meta_len
            meta = json.loads(self._buffer[HEADER.size : meta_end]) if meta_len else {}
            frames.append((kind, meta, bytes(self._buffer[meta_end:end])))
            del self._buffer[:end]
        return frames


def _recv_exactly(sock: socket.socket, size: int) -> bytes:
    buffer = bytearray(size)
    view = memoryview(buffer)
    received = 0
    while received < size:
        count = sock.recv_into(view[received:])
        if count == 0:
            raise EOFError("the host closed the channel")
        received += count
    return bytes(buffer)


def read_frame(sock: socket.socket) -> Frame:
    """Blocking read of one frame (inside an environment)."""
    kind, meta_len, body_len = HEADER.unpack(_recv_exactly(sock, HEADER.size))
    meta = json.loads(_recv_exactly(sock, meta_len)) if meta_len else {}
    body = _recv_exactly(sock, body_len) if body_len else b""
    return kind, meta, body
