"""Space-delimited filter patterns: `[ip, user, ..., status = 4* || status = 5*, bytes > 0]`.

A message splits on whitespace into fields; text in "double quotes" or [brackets] is one
field. Pattern fields match positionally: a bare name matches any field, a condition
(`=`, `!=`, `<`, `<=`, `>`, `>=`, joined by `&&` / `||`) tests it, and `...` matches any
number of fields. Without `...`, the field counts must agree.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from portico.services.logs.pattern_values import (
    OPERATORS,
    Comparison,
    Literal,
    Token,
    invalid,
    number_of_text,
    tokenize,
)

_MESSAGE_FIELD = re.compile(r'"([^"]*)"|\[([^\]]*)\]|(\S+)')
_ELLIPSIS = "..."

FieldTest = Callable[[str], bool]


def compile_delimited_pattern(text: str) -> Callable[[str], bool]:
    """`text` is the whole pattern, brackets included."""
    if not text.endswith("]"):
        raise invalid("If a filter pattern starts with '[' it must end with ']'")
    specs = _split_fields(text[1:-1])
    if not specs or any(spec == "" for spec in specs):
        raise invalid("Empty field in pattern")
    fields: list[FieldTest | None] = [
        None if spec == _ELLIPSIS else _compile_field(spec) for spec in specs
    ]

    def matches(message: str) -> bool:
        return _match(fields, _message_fields(message))

    return matches


def _split_fields(body: str) -> list[str]:
    fields: list[str] = []
    current: list[str] = []
    quoted = False
    for char in body:
        if char == '"':
            quoted = not quoted
        if char == "," and not quoted:
            fields.append("".join(current).strip())
            current = []
        else:
            current.append(char)
    if quoted:
        raise invalid("Unterminated quote")
    fields.append("".join(current).strip())
    return fields


def _message_fields(message: str) -> list[str]:
    fields = []
    for found in _MESSAGE_FIELD.finditer(message):
        quoted, bracketed, bare = found.groups()
        fields.append(
            quoted if quoted is not None else bracketed if bracketed is not None else bare
        )
    return fields


def _match(fields: Sequence[FieldTest | None], values: Sequence[str]) -> bool:
    if not fields:
        return not values
    head, rest = fields[0], fields[1:]
    if head is None:
        return any(_match(rest, values[skip:]) for skip in range(len(values) + 1))
    return bool(values) and head(values[0]) and _match(rest, values[1:])


def _compile_field(spec: str) -> FieldTest:
    tokens = tokenize(spec)
    if len(tokens) == 1 and tokens[0].kind == "word":
        return lambda _value: True
    return _FieldParser(tokens).parse()


@dataclass
class _FieldParser:
    tokens: list[Token]
    index: int = 0

    def parse(self) -> FieldTest:
        alternatives = [self._conjunction()]
        while self._accept("||"):
            alternatives.append(self._conjunction())
        if self.index != len(self.tokens):
            raise invalid(f"Unexpected '{self.tokens[self.index].text}'")
        return lambda value: any(test(value) for test in alternatives)

    def _conjunction(self) -> FieldTest:
        tests = [self._condition()]
        while self._accept("&&"):
            tests.append(self._condition())
        return lambda value: all(test(value) for test in tests)

    def _condition(self) -> FieldTest:
        # `name = value`, or `= value` after `&&` / `||` within the same field
        if self._peek_kind() == "word":
            self.index += 1
        op = self._take()
        if op.kind != "op" or op.text not in OPERATORS:
            raise invalid(f"Expected a comparison operator, got '{op.text}'")
        comparison = Comparison(op.text, Literal.of(self._take()))
        numeric = comparison.expected.number is not None

        def test(value: str) -> bool:
            return comparison.test(number_of_text(value) if numeric else value)

        return test

    def _peek_kind(self) -> str | None:
        return self.tokens[self.index].kind if self.index < len(self.tokens) else None

    def _take(self) -> Token:
        if self.index >= len(self.tokens):
            raise invalid("Unexpected end of pattern")
        token = self.tokens[self.index]
        self.index += 1
        return token

    def _accept(self, text: str) -> bool:
        if self.index < len(self.tokens) and self.tokens[self.index].text == text:
            self.index += 1
            return True
        return False
