"""Event ids and paging tokens.

- An event's id is 56 digits, as AWS's are: its timestamp and store position, so it is
  stable across calls (`aws logs tail --follow` de-duplicates by it) and sorts in time.
- GetLogEvents' tokens are AWS-shaped, `f/<56 digits>/s` and `b/<56 digits>/s`: read
  forward after, or backward before, the event with that id.
- The other operations' `nextToken`s are opaque: URL-safe base64 of a small JSON object.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from dataclasses import dataclass
from typing import Any

from portico.store import LogCursor

_TIMESTAMP_DIGITS = 20
_POSITION_DIGITS = 36
_STREAM_TOKEN = re.compile(r"^([fb])/(\d{56})/s$")
ORIGIN = LogCursor(0, 0)  # before every event: positions start at 1, timestamps at 0


def event_id(cursor: LogCursor) -> str:
    return f"{cursor.timestamp:0{_TIMESTAMP_DIGITS}d}{cursor.position:0{_POSITION_DIGITS}d}"


def cursor_of_event_id(text: str) -> LogCursor:
    return LogCursor(int(text[:_TIMESTAMP_DIGITS]), int(text[_TIMESTAMP_DIGITS:]))


@dataclass(frozen=True, slots=True)
class StreamToken:
    """A GetLogEvents token: read `forward` past `cursor`, or backward before it."""

    forward: bool
    cursor: LogCursor

    def encode(self) -> str:
        return f"{'f' if self.forward else 'b'}/{event_id(self.cursor)}/s"

    @classmethod
    def decode(cls, text: str) -> StreamToken | None:
        found = _STREAM_TOKEN.match(text)
        if found is None:
            return None
        return cls(found.group(1) == "f", cursor_of_event_id(found.group(2)))


def encode_page_token(document: dict[str, Any]) -> str:
    raw = json.dumps(document, separators=(",", ":"), ensure_ascii=False).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_page_token(text: str) -> dict[str, Any] | None:
    """The token's document, or None when it is not one of ours."""
    try:
        raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
        document = json.loads(raw)
    except (binascii.Error, ValueError):
        return None
    return document if isinstance(document, dict) else None


def encode_cursor_token(cursor: LogCursor) -> str:
    return encode_page_token({"t": cursor.timestamp, "p": cursor.position})


def decode_cursor_token(text: str) -> LogCursor | None:
    document = decode_page_token(text)
    if document is None:
        return None
    timestamp, position = document.get("t"), document.get("p")
    if type(timestamp) is not int or type(position) is not int:
        return None
    return LogCursor(timestamp, position)
