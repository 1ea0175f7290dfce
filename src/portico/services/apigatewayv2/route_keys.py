"""Route keys of HTTP APIs: `$default`, or an HTTP method and a resource path.

    GET /pets/{petId}        a path variable matches one segment
    ANY /files/{proxy+}      a greedy variable matches the rest (last segment only)
    $default                 what no other route matches

Path parts follow the pattern AWS checks them against. Two routes may not give the same
hierarchical level variables of different names (`/pets/{id}` and `/pets/{petId}/toys`): the
second is a ConflictException, as AWS answers it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from portico.services.apigatewayv2.errors import BadRequestException, ConflictException

DEFAULT_ROUTE = "$default"
METHODS = ("ANY", "DELETE", "GET", "HEAD", "OPTIONS", "PATCH", "POST", "PUT")
WEBSOCKET_ROUTES = ("$connect", "$disconnect", "$default")
PATH_PART = r"^(\{[\w.:-]+\+?\}|[a-zA-Z0-9.:_-]+)$"
_PATH_PART = re.compile(PATH_PART)
MAX_ROUTE_KEY = 1024

NOT_FORMATTED = "The provided route key is not formatted properly"
BAD_PATH_PART = (
    "One or more path parts appear to be invalid. Parts are validated against this regular "
    f"expression: {PATH_PART}"
)
GREEDY_NOT_LAST = "The greedy path variable must be at the end of the resource path"


@dataclass(frozen=True, slots=True)
class RouteKey:
    method: str  # "" for $default
    parts: tuple[str, ...]  # path segments; () for "/" and for $default

    @property
    def is_default(self) -> bool:
        return not self.method


def parse_route_key(key: str) -> RouteKey:
    """The route key of an HTTP API, checked as AWS checks it."""
    if key == DEFAULT_ROUTE:
        return RouteKey("", ())
    if not key or len(key) > MAX_ROUTE_KEY:
        raise BadRequestException(NOT_FORMATTED)
    method, space, path = key.partition(" ")
    if not space or method not in METHODS or not path.startswith("/"):
        raise BadRequestException(NOT_FORMATTED)
    if path == "/":
        return RouteKey(method, ())
    parts = tuple(path[1:].split("/"))
    if not all(_PATH_PART.match(part) for part in parts):
        raise BadRequestException(BAD_PATH_PART)
    if any(part.endswith("+}") for part in parts[:-1]):
        raise BadRequestException(GREEDY_NOT_LAST)
    names = [part[1:-1].rstrip("+") for part in parts if part.startswith("{")]
    if len(names) != len(set(names)):
        raise BadRequestException(f"The provided route key {key} has duplicate path variable names")
    return RouteKey(method, parts)


def check_websocket_route_key(key: str) -> None:
    if not key or len(key) > MAX_ROUTE_KEY:
        raise BadRequestException(NOT_FORMATTED)
    if key.startswith("$") and key not in WEBSOCKET_ROUTES:
        raise BadRequestException(NOT_FORMATTED)


def check_conflicts(key: str, others: Iterable[str]) -> None:
    """ConflictException when `key` names a path variable differently from another route at
    the same hierarchical level."""
    parsed = parse_route_key(key)
    for other in others:
        if other in (DEFAULT_ROUTE, key):
            continue
        if _conflicting(parsed.parts, parse_route_key(other).parts):
            raise ConflictException(
                f'The provided route key "{key}" has a conflicting variable on the same '
                f'hierarchical level as "{other}"'
            )


def _conflicting(ours: tuple[str, ...], theirs: tuple[str, ...]) -> bool:
    for mine, other in zip(ours, theirs, strict=False):
        if mine == other:
            continue
        both_variables = mine.startswith("{") and other.startswith("{")
        same_kind = mine.endswith("+}") == other.endswith("+}")
        return both_variables and same_kind
    return False
