"""A verified JWT's claims as API Gateway hands them to integrations: every value a string.

"sub": "user-1"                      -> "user-1"
"exp": 1700000000, "admin": true     -> "1700000000", "true"
"cognito:groups": ["admin", "ops"]   -> "[admin ops]"
"address": {"country": "JP"}         -> '{"country":"JP"}'
"nickname": null                     -> left out
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any


def flatten(claims: Mapping[str, Any]) -> dict[str, str]:
    return {name: as_text(value) for name, value in claims.items() if value is not None}


def as_text(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, list):
        return "[" + " ".join(as_text(item) for item in value if item is not None) + "]"
    return json.dumps(value, separators=(",", ":"))


def scopes(claims: Mapping[str, Any]) -> list[str]:
    """The token's scopes: `scope` (space-separated, the OAuth form) and `scp` (a list or a
    space-separated string), in that order, each once."""
    found: list[str] = []
    for name in ("scope", "scp"):
        value = claims.get(name)
        items = value.split() if isinstance(value, str) else value
        if isinstance(items, list):
            found.extend(item for item in items if isinstance(item, str) and item)
    return list(dict.fromkeys(found))
