"""An HTTP API's routes, compiled into a table that picks a request's route as AWS does.

    GET /pets/dog/1        literal segments beat path variables, segment by segment
    GET /pets/dog/{id}     a route without a greedy variable beats every greedy one
    GET /pets/{proxy+}     a greedy variable takes the rest (one segment at least)
    ANY /{proxy+}          a named method beats ANY for the same path
    $default               whatever matched nothing else

Routes with only literal segments sit in a dict keyed by (method, path); the others are tried
in specificity order, bucketed by segment count so that a request looks at few of them.
Paths are matched decoded, segment by segment; path parameters carry decoded values.

A request's path reaches routing and the function as HTTP APIs deliver it (`delivered_path`):
    sent        /a%20b   /a%2Fb   /a%252Fb        /a%3Fb   /a%25b
    routed on   /a b     /a/b     /a%2Fb (one     /a       400: "%b" is no escape
                                  segment)
    rawPath     /a b     /a/b     /a/b            /a
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Generic, TypeVar
from urllib.parse import unquote

T = TypeVar("T")

DEFAULT_ROUTE = "$default"
ANY = "ANY"

_NOT_AN_ESCAPE = re.compile(r"%(?![0-9A-Fa-f]{2})")
_LITERAL = 0
_VARIABLE = 1
_GREEDY = 2


@dataclass(frozen=True, slots=True)
class Segment:
    kind: int  # _LITERAL, _VARIABLE or _GREEDY
    text: str  # the literal text, or the variable's name


@dataclass(frozen=True, slots=True)
class Match(Generic[T]):
    route_key: str
    target: T
    path_parameters: dict[str, str]
    resource_path: str  # the route's path ("/pets/{id}"), or "$default"


@dataclass(frozen=True, slots=True)
class _Pattern(Generic[T]):
    route_key: str
    method: str
    path: str
    segments: tuple[Segment, ...]
    target: T

    @property
    def greedy(self) -> bool:
        return bool(self.segments) and self.segments[-1].kind == _GREEDY

    def rank(self) -> tuple[int, tuple[int, ...], int]:
        """Lower sorts first: non-greedy, then literal-first segment by segment, then a
        named method before ANY."""
        return (
            1 if self.greedy else 0,
            tuple(segment.kind for segment in self.segments),
            1 if self.method == ANY else 0,
        )

    def parameters(self, parts: list[str]) -> dict[str, str] | None:
        """The path parameters if `parts` (decoded segments) match, else None."""
        found: dict[str, str] = {}
        for index, segment in enumerate(self.segments):
            if segment.kind == _GREEDY:
                rest = parts[index:]
                if not rest or (len(rest) == 1 and not rest[0]):
                    return None
                found[segment.text] = "/".join(rest)
                return found
            if index >= len(parts):
                return None
            part = parts[index]
            if segment.kind == _LITERAL:
                if part != segment.text:
                    return None
            elif not part:
                return None
            else:
                found[segment.text] = part
        return found if len(parts) == len(self.segments) else None


def parse_route_key(route_key: str) -> tuple[str, str, tuple[Segment, ...]] | None:
    """(METHOD, path, segments) of `METHOD /path`, or None for `$default`."""
    if route_key == DEFAULT_ROUTE:
        return None
    method, _, path = route_key.partition(" ")
    return method.upper(), path, _segments(path)


def _segments(path: str) -> tuple[Segment, ...]:
    segments: list[Segment] = []
    for part in path.strip("/").split("/") if path.strip("/") else ():
        if part.startswith("{") and part.endswith("+}"):
            segments.append(Segment(_GREEDY, part[1:-2]))
        elif part.startswith("{") and part.endswith("}"):
            segments.append(Segment(_VARIABLE, part[1:-1]))
        else:
            segments.append(Segment(_LITERAL, part))
    return tuple(segments)


def delivered_path(sent: str) -> tuple[str, str] | None:
    """(the path routes match, the path the function is given) for the path a client sent;
    None when it is no valid path (AWS answers 400).

    As AWS: the path is decoded, a '?' it decoded to ends it, and routing splits what is left
    into segments; the function's path (`rawPath`, 1.0's `path`) is decoded once more."""
    routed = _decoded(sent)
    if routed is None:
        return None
    routed = routed.partition("?")[0]
    given = _decoded(routed)
    return None if given is None else (routed, given)


def _decoded(path: str) -> str | None:
    """`path` percent-decoded (UTF-8), or None when a '%' starts no escape."""
    if "%" not in path:
        return path
    if _NOT_AN_ESCAPE.search(path):
        return None
    return unquote(path)


def split_path(path: str) -> list[str]:
    """A request path's decoded segments: "/a/b%20c" -> ["a", "b c"], "/" -> []."""
    trimmed = path[1:] if path.startswith("/") else path
    if not trimmed:
        return []
    parts = trimmed.split("/")
    return [unquote(part) for part in parts] if "%" in trimmed else parts


class RouteTable(Generic[T]):
    """Routes by key -> a compiled table; `match(method, path)` finds a request's route."""

    def __init__(self, routes: Iterable[tuple[str, T]]) -> None:
        self._exact: dict[tuple[str, str], Match[T]] = {}
        patterns: list[_Pattern[T]] = []
        self._default: Match[T] | None = None
        for route_key, target in routes:
            parsed = parse_route_key(route_key)
            if parsed is None:
                self._default = Match(route_key, target, {}, DEFAULT_ROUTE)
                continue
            method, path, segments = parsed
            if all(segment.kind == _LITERAL for segment in segments):
                joined = "/" + "/".join(segment.text for segment in segments)
                self._exact[(method, joined)] = Match(route_key, target, {}, path)
            else:
                patterns.append(_Pattern(route_key, method, path, segments, target))
        patterns.sort(key=_Pattern.rank)
        # A pattern of n segments can match n-segment paths; a greedy one any longer path.
        self._by_length: dict[int, list[_Pattern[T]]] = {}
        self._greedy: list[_Pattern[T]] = [p for p in patterns if p.greedy]
        for pattern in patterns:
            if not pattern.greedy:
                self._by_length.setdefault(len(pattern.segments), []).append(pattern)

    def match(self, method: str, path: str) -> Match[T] | None:
        """The best route for `method` and `path` (the routed path, stage removed: see
        `delivered_path`)."""
        parts = split_path(path)
        literal = path
        if "%" in path:
            literal = "/" + "/".join(parts)
            if literal.count("/") != path.count("/"):  # a segment holds a '/': no literal route
                literal = ""
        found = self._exact.get((method, literal)) or self._exact.get((ANY, literal))
        if found is not None:
            return found
        for candidates in (self._by_length.get(len(parts), ()), self._greedy):
            for pattern in candidates:
                if pattern.method != method and pattern.method != ANY:
                    continue
                parameters = pattern.parameters(parts)
                if parameters is not None:
                    return Match(pattern.route_key, pattern.target, parameters, pattern.path)
        return self._default
