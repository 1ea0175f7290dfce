"""Request and trace ids, from a generator the runtime owns (and tests may replace)."""

from __future__ import annotations

import binascii
import os
import random
import time

# A version 4 UUID's variant digit (RFC 4122: 10xx) for each random hex digit.
_VARIANT = {digit: "89ab"[int(digit, 16) & 3] for digit in "0123456789abcdef"}


class IdGenerator:
    """Random ids without a system call each: a private generator seeded from the OS."""

    def __init__(self, seed: bytes | None = None) -> None:
        # Ids need to be unique, not secret: no credential or token is derived from them.
        self._random = random.Random(seed if seed is not None else os.urandom(32))  # noqa: S311
        # Random bits as bytes, in hex: cheaper to format than the integer; and without
        # `randbytes`, which is these two calls in a Python function.
        self._bits = self._random.getrandbits
        # The trace id's epoch part changes once a second: its text is kept until then.
        self._second = -1
        self._root_prefix = ""

    def request_id(self) -> str:
        """A version 4 UUID, formatted without building a `uuid.UUID`: 122 random bits, the
        version digit 4 and the variant digit one of 8, 9, a, b."""
        text = self._bits(128).to_bytes(16, "little").hex()
        variant = _VARIANT[text[16]]
        return f"{text[:8]}-{text[8:12]}-4{text[13:16]}-{variant}{text[17:20]}-{text[20:]}"

    def gateway_request_id(self) -> str:
        """An id shaped like API Gateway's: 88 random bits in base64 (`JTHoQgr2PHcEJnA=`)."""
        return binascii.b2a_base64(self._bits(88).to_bytes(11, "little"), newline=False).decode()

    def trace_root(self) -> str:
        """The root part of an X-Ray trace header: `Root=1-<epoch hex>-<96 random bits>`."""
        return self._prefix() + self._bits(96).to_bytes(12, "little").hex()

    def _prefix(self) -> str:
        second = int(time.time())
        if second != self._second:
            self._second = second
            self._root_prefix = f"Root=1-{second:08x}-"
        return self._root_prefix

    def trace_id(self) -> str:
        """An X-Ray trace header: `Root=1-<epoch hex>-<96 random bits>;Parent=...;Sampled=0`."""
        text = self._bits(160).to_bytes(20, "little").hex()
        return f"{self._prefix()}{text[:24]};Parent={text[24:]};Sampled=0"
