"""JSON to and from functions on the data plane, where every request pays for it twice.

Events are encoded with orjson (about a tenth of the standard library's time); what orjson
refuses (integers past 64 bits, lone surrogates, keys that are not strings) goes through the
standard library, so every event that encoded before still does. Answers are decoded by
orjson too, but for what it reads otherwise than the standard library or not at all: an
integer past 64 bits it would read as a float, so an answer with a run of 19 digits or more
(where such an integer could be) goes the standard library's way, as does one orjson refuses
(NaN, a byte-order mark, UTF-16, a lone surrogate). There the standard library decodes from
text, which skips its encoding detection, and only an answer that fails that way is decoded
again from bytes: what is accepted, and how, is the standard library's.
"""

from __future__ import annotations

import json
import re
from typing import Any

import orjson

_compact = json.JSONEncoder(separators=(",", ":")).encode
_decode_text = json.JSONDecoder().decode
# Integers of up to 18 digits fit in 64 bits, whatever their sign.
_LONG_DIGITS = re.compile(rb"[0-9]{19}").search


def encode(document: Any) -> bytes:
    """`document` as compact JSON in UTF-8."""
    try:
        return orjson.dumps(document)
    except TypeError:  # orjson.JSONEncodeError: what only the standard library encodes
        return _compact(document).encode()


def decode(payload: bytes) -> Any:
    """The JSON value in `payload`; ValueError if there is none, as `json.loads` raises."""
    if _LONG_DIGITS(payload) is None:
        try:
            return orjson.loads(payload)
        except orjson.JSONDecodeError:
            pass
    try:
        return _decode_text(payload.decode())
    except ValueError:  # UnicodeDecodeError included
        return json.loads(payload)
