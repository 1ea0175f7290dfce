"""The built-in bootstrap's transport: the Runtime API's messages as length-prefixed frames.

The HTTP Runtime API serves every other runtime client; Python environments forked by Portico
speak the same messages, with the same `Lambda-Runtime-*` header names, over two pipes (one
each way):

    +------+-----------+-----------+-------------------------+-----------+
    | kind | meta len  | body len  | meta: k NUL v NUL k ... | body      |
    | u8   | u32 (BE)  | u32 (BE)  | (UTF-8, header values)  | raw bytes |
    +------+-----------+-----------+-------------------------+-----------+

Meta holds header names and values, which never contain NUL; it costs a join and a split,
a fraction of JSON's price on this path.

host -> environment: INVOKE (meta: the /next response headers, body: the event)
environment -> host: READY (init done: the first /next), RESPONSE, ERROR, INIT_ERROR,
                     OUT_OF_MEMORY (sent just before the environment exits)
"""

from __future__ import annotations

import os
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

Frame = tuple[int, dict[str, str], bytes]


def encode_meta(meta: dict[str, Any]) -> bytes:
    parts: list[str] = []
    for key, value in meta.items():
        parts.append(key)
        parts.append(str(value))
    return "\0".join(parts).encode()


def decode_meta_text(text: str) -> dict[str, str]:
    if not text:
        return {}
    parts = text.split("\0")
    return dict(zip(parts[::2], parts[1::2], strict=True))


def encode(kind: int, meta: dict[str, Any] | None, body: bytes = b"") -> bytes:
    raw_meta = encode_meta(meta) if meta else b""
    return HEADER.pack(kind, len(raw_meta), len(body)) + raw_meta + body


RawFrame = tuple[int, str, bytes]  # meta still as text


class FrameDecoder:
    """Incremental decoder: feed bytes as they arrive, get whole frames back."""

    def __init__(self) -> None:
        self._pending = b""

    @property
    def pending(self) -> bool:
        """Part of a frame is waiting for the rest."""
        return bool(self._pending)

    def feed(self, data: bytes) -> list[Frame]:
        return [(kind, decode_meta_text(meta), body) for kind, meta, body in self.feed_raw(data)]

    def feed_raw(self, data: bytes) -> list[RawFrame]:
        """Whole frames, their meta left undecoded (the caller may not need all of it)."""
        # Usually `data` is exactly one whole frame: parse it in place, without copies.
        buffer = self._pending + data if self._pending else data
        frames: list[RawFrame] = []
        start = 0
        size = len(buffer)
        while size - start >= HEADER.size:
            kind, meta_len, body_len = HEADER.unpack_from(buffer, start)
            meta_start = start + HEADER.size
            meta_end = meta_start + meta_len
            end = meta_end + body_len
            if size < end:
                break
            frames.append((kind, buffer[meta_start:meta_end].decode(), buffer[meta_end:end]))
            start = end
        self._pending = buffer[start:]
        return frames


class FrameReader:
    """Blocking reads of whole frames from a pipe (inside an environment): one read() per
    small frame.

    Pipes rather than a socketpair: a pipe's write and read cost the kernel less than a
    stream socket's send and recv (no socket buffer to allocate and account), on both sides
    of every invocation. And each direction has its own pipe: the host's read of an answer
    wakes no one, where on a socketpair it woke the environment asleep in recv() on the
    same socket for nothing, a trip through the scheduler on every invocation."""

    def __init__(self, fd: int) -> None:
        self._fd = fd
        self._pending = b""

    def read(self) -> RawFrame:
        """A whole frame, its meta left as text (the caller may not need all of it)."""
        data = self._pending
        while len(data) < HEADER.size:
            data += self._read(65536)
        kind, meta_len, body_len = HEADER.unpack_from(data)
        end = HEADER.size + meta_len + body_len
        if len(data) < end:
            data = self._read_rest(data, end)
        self._pending = data[end:]
        meta_end = HEADER.size + meta_len
        return kind, data[HEADER.size : meta_end].decode(), data[meta_end:end]

    def _read(self, size: int) -> bytes:
        chunk = os.read(self._fd, size)
        if not chunk:
            raise EOFError("the host closed the channel")
        return chunk

    def _read_rest(self, start: bytes, end: int) -> bytes:
        """The frame's first `end` bytes, `start` and what follows, read in place."""
        buffer = bytearray(end)
        buffer[: len(start)] = start
        view = memoryview(buffer)
        received = len(start)
        while received < end:
            count = os.readv(self._fd, [view[received:]])
            if count == 0:
                raise EOFError("the host closed the channel")
            received += count
        return bytes(buffer)
