"""Marker pagination for the List* operations: the marker names the last item handed out."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable, Sequence
from typing import TypeVar

from portico.services.lambda_.errors import InvalidParameterValueException

T = TypeVar("T")


def page(
    items: Sequence[T], key: Callable[[T], str], marker: str | None, limit: int
) -> tuple[list[T], str | None]:
    """One page of `items` (already sorted by `key`) after `marker`, and the next marker."""
    after = _decode_marker(marker)
    remaining = [item for item in items if after is None or key(item) > after]
    chosen = remaining[:limit]
    more = len(remaining) > limit
    return chosen, (_encode_marker(key(chosen[-1])) if more and chosen else None)


def _encode_marker(value: str) -> str:
    return base64.urlsafe_b64encode(value.encode()).decode()


def _decode_marker(marker: str | None) -> str | None:
    if not marker:
        return None
    try:
        return base64.b64decode(marker.encode(), altchars=b"-_", validate=True).decode()
    except (ValueError, binascii.Error):
        raise InvalidParameterValueException(f"Invalid marker: {marker}") from None
