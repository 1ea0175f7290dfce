"""JSON to and from functions on the data plane, where every request pays for it twice.

Events are encoded with orjson (about a tenth of the standard library's time); what orjson
refuses (integers past 64 bits, lone surrogates, keys that are not strings) goes through the
standard library, so every event that encoded before still does. Answers are decoded by the
standard library from text, which skips its encoding detection; only an answer that fails
that way is decoded again from bytes, so what is accepted, and how, is unchanged (a UTF-8
byte-order mark, UTF-16, NaN, integers of any size). orjson is not used there because it
would read a 20-digit integer as a float.
"""

from __future__ import annotations

import json
from typing import Any

import orjson

_compact = json.JSONEncoder(separators=(",", ":")).encode
_decode_text = json.JSONDecoder().decode


def encode(document: Any) -> bytes:
    """`document` as compact JSON in UTF-8."""
    try:
        return orjson.dumps(document)
    except TypeError:  # orjson.JSONEncodeError: what only the standard library encodes
        return _compact(document).encode()


def decode(payload: bytes) -> Any:
    """The JSON value in `payload`; ValueError if there is none, as `json.loads` raises."""
    try:
        return _decode_text(payload.decode())
    except ValueError:  # UnicodeDecodeError included
        return json.loads(payload)
