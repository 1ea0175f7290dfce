"""MaxResults and NextToken of the Get* listings (both strings on the wire).

A token is the key of the last item handed out, base64-encoded: opaque to callers, and stable
when items are added or removed between pages. Without MaxResults a listing answers whole.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable, Mapping, Sequence
from typing import Any, TypeVar

from portico.services.apigatewayv2.errors import BadRequestException

T = TypeVar("T")
MAX_PAGE = 500


def page(
    items: Sequence[T], key: Callable[[T], str], params: Mapping[str, Any]
) -> tuple[list[T], str | None]:
    """`items`, sorted by `key`, after NextToken's, at most MaxResults of them; and the token
    for the rest, if any remain."""
    limit = max_results(params.get("MaxResults"))
    after = _decode(params.get("NextToken"))
    ordered = sorted(items, key=key)
    remaining = [item for item in ordered if after is None or key(item) > after]
    if limit is None or len(remaining) <= limit:
        return remaining, None
    chosen = remaining[:limit]
    return chosen, _encode(key(chosen[-1]))


def max_results(value: object) -> int | None:
    if value is None or value == "":
        return None
    try:
        limit = int(str(value))
    except ValueError:
        limit = 0
    if not 1 <= limit <= MAX_PAGE:
        raise BadRequestException(
            f"Invalid MaxResults: {value}. It must be an integer between 1 and {MAX_PAGE}."
        )
    return limit


def _encode(key: str) -> str:
    return base64.urlsafe_b64encode(key.encode()).decode("ascii")


def _decode(token: object) -> str | None:
    if token is None or token == "":
        return None
    try:
        return base64.b64decode(str(token).encode("ascii"), altchars=b"-_", validate=True).decode()
    except (ValueError, binascii.Error):
        raise BadRequestException("Invalid NextToken specified.") from None
