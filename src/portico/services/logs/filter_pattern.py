"""CloudWatch Logs filter patterns, compiled once into a `message -> bool` matcher.

    ""                       every event
    ERROR Exception          both terms appear (case-sensitive substrings)
    "Internal Server Error"  the exact phrase
    ?ERROR ?WARN             either term
    ERROR -healthcheck       ERROR, and not healthcheck
    %[45]\\d\\d%              a regular expression (also usable as one term)
    { $.level = "ERROR" }    JSON events (see `json_pattern`)
    [ip, ..., status = 5*]   space-delimited events (see `delimited_pattern`)

A term pattern matches when every plain term appears, no `-` term does, and, when there
are `?` terms, at least one of them does.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from portico.services.logs.delimited_pattern import compile_delimited_pattern
from portico.services.logs.json_pattern import compile_json_pattern
from portico.services.logs.pattern_values import invalid, unquote

Matcher = Callable[[str], bool]
_TERM = re.compile(r'\s*([?-]?)("(?:[^"\\]|\\.)*"|[^\s"]+)')


def compile_filter_pattern(pattern: str | None) -> Matcher:
    text = (pattern or "").strip()
    if not text:
        return _everything
    if text.startswith("{"):
        return compile_json_pattern(text)
    if text.startswith("["):
        return compile_delimited_pattern(text)
    return _compile_terms(text)


def _everything(_message: str) -> bool:
    return True


@dataclass(frozen=True, slots=True)
class _Terms:
    required: tuple[Matcher, ...]
    optional: tuple[Matcher, ...]
    excluded: tuple[Matcher, ...]

    def __call__(self, message: str) -> bool:
        return (
            all(term(message) for term in self.required)
            and not any(term(message) for term in self.excluded)
            and (not self.optional or any(term(message) for term in self.optional))
        )


def _compile_terms(text: str) -> Matcher:
    required: list[Matcher] = []
    optional: list[Matcher] = []
    excluded: list[Matcher] = []
    kinds = {"": required, "?": optional, "-": excluded}
    position = 0
    while position < len(text):
        if not text[position:].strip():
            break
        found = _TERM.match(text, position)
        if found is None:
            raise invalid(f"Invalid character(s) in term '{text[position:].strip()}'")
        prefix, term = found.groups()
        kinds[prefix].append(_compile_term(term))
        position = found.end()
    return _Terms(tuple(required), tuple(optional), tuple(excluded))


def _compile_term(term: str) -> Matcher:
    if term.startswith('"'):
        phrase = unquote(term)
        return lambda message: phrase in message
    if len(term) > 2 and term.startswith("%") and term.endswith("%"):
        try:
            expression = re.compile(term[1:-1])
        except re.error as exc:
            raise invalid(f"Invalid regular expression '{term}': {exc}") from exc
        return lambda message: expression.search(message) is not None
    if term in ("?", "-") or '"' in term:
        raise invalid(f"Invalid character(s) in term '{term}'")
    return lambda message: term in message
