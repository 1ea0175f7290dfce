"""NextToken: where the previous page ended, as the position of its last item.

A token is opaque to callers (base64 of a small JSON array) and names what it was issued for,
so one from another listing or sort order is refused instead of misread.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from portico.services.secretsmanager.errors import InvalidNextTokenException

T = TypeVar("T")
Position = list[Any]


def encode(listing: str, position: Position) -> str:
    document = json.dumps([listing, *position], separators=(",", ":"))
    return base64.urlsafe_b64encode(document.encode()).decode("ascii")


def decode(listing: str, token: str) -> Position:
    try:
        document = json.loads(base64.urlsafe_b64decode(token.encode("ascii")))
    except (binascii.Error, UnicodeError, ValueError):
        document = None
    if not isinstance(document, list) or not document or document[0] != listing:
        raise InvalidNextTokenException("The NextToken value is invalid.")
    return document[1:]


def page(
    items: Sequence[T],
    listing: str,
    position_of: Callable[[T], Position],
    token: str | None,
    limit: int,
    *,
    descending: bool = False,
) -> tuple[list[T], str | None]:
    """The items (sorted by `position_of`, descending if so) after `token`'s position, at most
    `limit`; and the token for the rest, if any."""
    start = 0
    if token is not None:
        after = decode(listing, token)
        beyond = (_beyond(position_of(item), after, descending) for item in items)
        try:
            start = next((i for i, past in enumerate(beyond) if past), len(items))
        except TypeError:
            raise InvalidNextTokenException("The NextToken value is invalid.") from None
    chosen = list(items[start : start + limit])
    more = start + limit < len(items)
    return chosen, encode(listing, position_of(chosen[-1])) if more and chosen else None


def _beyond(position: Position, after: Position, descending: bool) -> bool:
    return position < after if descending else position > after
