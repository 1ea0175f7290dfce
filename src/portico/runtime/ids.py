"""Request and trace ids, from a generator the runtime owns (and tests may replace)."""

from __future__ import annotations

import base64
import os
import random
import time

_UUID4_CLEAR = ~((0xF000 << 64) | (0xC000 << 48))
_UUID4_SET = (0x4000 << 64) | (0x8000 << 48)  # version 4, RFC 4122 variant
_PARENT_MASK = 2**64 - 1


class IdGenerator:
    """Random ids without a system call each: a private generator seeded from the OS."""

    def __init__(self, seed: bytes | None = None) -> None:
        # Ids need to be unique, not secret: no credential or token is derived from them.
        self._random = random.Random(seed if seed is not None else os.urandom(32))  # noqa: S311
        self._getrandbits = self._random.getrandbits
        # The trace id's epoch part changes once a second: its text is kept until then.
        self._second = -1
        self._root_prefix = ""

    def request_id(self) -> str:
        """A version 4 UUID, formatted without building a `uuid.UUID`."""
        bits = self._getrandbits(128) & _UUID4_CLEAR | _UUID4_SET
        text = f"{bits:032x}"
        return f"{text[:8]}-{text[8:12]}-{text[12:16]}-{text[16:20]}-{text[20:]}"

    def gateway_request_id(self) -> str:
        """An id shaped like API Gateway's: 88 random bits in base64 (`JTHoQgr2PHcEJnA=`)."""
        return base64.b64encode(self._getrandbits(88).to_bytes(11, "big")).decode()

    def trace_root(self) -> str:
        """The root part of an X-Ray trace header: `Root=1-<epoch hex>-<96 random bits>`."""
        return f"{self._prefix()}{self._getrandbits(96):024x}"

    def _prefix(self) -> str:
        second = int(time.time())
        if second != self._second:
            self._second = second
            self._root_prefix = f"Root=1-{second:08x}-"
        return self._root_prefix

    def trace_id(self) -> str:
        """An X-Ray trace header: `Root=1-<epoch hex>-<96 random bits>;Parent=...;Sampled=0`."""
        prefix = self._prefix()
        bits = self._getrandbits(160)
        return f"{prefix}{bits >> 64:024x};Parent={bits & _PARENT_MASK:016x};Sampled=0"
