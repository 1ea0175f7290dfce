"""JSON filter patterns: `{ $.level = "ERROR" && ($.latency > 100 || $.retry IS TRUE) }`.

Selectors are `$` followed by `.name` and `[index]` steps. A comparison against a missing
field is false (`NOT EXISTS` asks for one); events whose message is not JSON never match.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from portico.services.logs.pattern_values import (
    OPERATORS,
    Comparison,
    Literal,
    Token,
    invalid,
    tokenize,
)

_MISSING = object()
_STEP = re.compile(r"\.([^.\[\]]+)|\[(\d+)\]")

Predicate = Callable[[Any], bool]


def compile_json_pattern(text: str) -> Callable[[str], bool]:
    """`text` is the whole pattern, braces included."""
    if not text.endswith("}"):
        raise invalid("If a filter pattern starts with '{' it must end with '}'")
    parser = _Parser(tokenize(text[1:-1]))
    predicate = parser.expression()
    parser.expect_end()

    def matches(message: str) -> bool:
        try:
            document = json.loads(message)
        except ValueError:
            return False
        return predicate(document)

    return matches


def _select(path: tuple[str | int, ...], document: Any) -> Any:
    value = document
    for step in path:
        in_list = isinstance(step, int) and isinstance(value, list) and step < len(value)
        in_object = isinstance(step, str) and isinstance(value, dict) and step in value
        if not (in_list or in_object):
            return _MISSING
        value = value[step]
    return value


def _parse_selector(text: str) -> tuple[str | int, ...]:
    if not text.startswith("$"):
        raise invalid(f"Expected a selector starting with '$', got '{text}'")
    steps: list[str | int] = []
    position = 1
    while position < len(text):
        found = _STEP.match(text, position)
        if found is None:
            raise invalid(f"Invalid selector '{text}'")
        steps.append(found.group(1) if found.group(1) is not None else int(found.group(2)))
        position = found.end()
    return tuple(steps)


@dataclass
class _Parser:
    tokens: list[Token]
    index: int = 0

    def peek(self) -> Token | None:
        return self.tokens[self.index] if self.index < len(self.tokens) else None

    def take(self) -> Token:
        token = self.peek()
        if token is None:
            raise invalid("Unexpected end of pattern")
        self.index += 1
        return token

    def expect_end(self) -> None:
        token = self.peek()
        if token is not None:
            raise invalid(f"Unexpected '{token.text}'")

    def expression(self) -> Predicate:
        terms = [self.conjunction()]
        while self._accept("||"):
            terms.append(self.conjunction())
        return terms[0] if len(terms) == 1 else lambda doc: any(term(doc) for term in terms)

    def conjunction(self) -> Predicate:
        terms = [self.primary()]
        while self._accept("&&"):
            terms.append(self.primary())
        return terms[0] if len(terms) == 1 else lambda doc: all(term(doc) for term in terms)

    def primary(self) -> Predicate:
        if self._accept("("):
            inner = self.expression()
            if not self._accept(")"):
                raise invalid("Missing ')'")
            return inner
        selector = self.take()
        if selector.kind != "word":
            raise invalid(f"Unexpected '{selector.text}'")
        return self.comparison(_parse_selector(selector.text))

    def comparison(self, path: tuple[str | int, ...]) -> Predicate:
        token = self.take()
        keyword = token.text.upper()
        if token.kind == "word" and keyword == "IS":
            return self._is(path, self.take().text.upper())
        if token.kind == "word" and keyword == "NOT":
            if self.take().text.upper() != "EXISTS":
                raise invalid("Expected EXISTS after NOT")
            return lambda doc: _select(path, doc) is _MISSING
        if token.kind != "op" or token.text not in OPERATORS:
            raise invalid(f"Expected a comparison operator, got '{token.text}'")
        test = Comparison(token.text, Literal.of(self.take()))

        def compare(doc: Any) -> bool:
            value = _select(path, doc)
            return value is not _MISSING and test.test(value)

        return compare

    def _is(self, path: tuple[str | int, ...], word: str) -> Predicate:
        expected: dict[str, Callable[[Any], bool]] = {
            "TRUE": lambda value: value is True,
            "FALSE": lambda value: value is False,
            "NULL": lambda value: value is None,
        }
        check = expected.get(word)
        if check is None:
            raise invalid(f"Expected TRUE, FALSE or NULL after IS, got '{word}'")
        return lambda doc: check(_select(path, doc))

    def _accept(self, text: str) -> bool:
        token = self.peek()
        if token is not None and token.kind == "op" and token.text == text:
            self.index += 1
            return True
        return False
