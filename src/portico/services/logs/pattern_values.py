"""What JSON and space-delimited filter patterns share: tokens, literals and comparisons.

{ $.level = "ERR*" && $.latency > 100 }        [ip, user, ..., status = 5*, bytes > 0]
          ^^^^^^^^       ^^^^^^^^^^^^^                           ^^^^^^^^^^^^^^^^^^^^^^^^
          a string (with * wildcards)  a number: =, !=, <, <=, >, >=
"""

from __future__ import annotations

import json
import operator
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from portico.services.logs.errors import InvalidParameterException

INVALID = "Invalid filter pattern"
_TOKEN = re.compile(
    r"""\s*(?:
        (?P<string>"(?:[^"\\]|\\.)*")
      | (?P<op>&&|\|\||!=|>=|<=|=|>|<|\(|\))
      | (?P<word>[^\s"&|!=<>()]+)
    )""",
    re.VERBOSE,
)
_NUMBER = re.compile(r"-?\d+(\.\d+)?([eE][-+]?\d+)?")
_NUMERIC: dict[str, Callable[[float, float], bool]] = {
    "=": operator.eq,
    "!=": operator.ne,
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
}
OPERATORS = frozenset(_NUMERIC)


def invalid(detail: str | None = None) -> InvalidParameterException:
    return InvalidParameterException(f"{INVALID}: {detail}" if detail else INVALID)


@dataclass(frozen=True, slots=True)
class Token:
    kind: str  # string | op | word
    text: str


def tokenize(text: str) -> list[Token]:
    tokens = []
    position = 0
    while position < len(text):
        if text[position:].strip() == "":
            break
        found = _TOKEN.match(text, position)
        if found is None or found.end() == position:
            raise invalid(f"Invalid character(s) in term '{text[position:].strip()}'")
        kind = found.lastgroup or "word"
        tokens.append(Token(kind, found.group(kind)))
        position = found.end()
    return tokens


@dataclass(frozen=True, slots=True)
class Literal:
    """The right-hand side of a comparison: a number, or a string with `*` wildcards."""

    number: float | None
    text: str

    @classmethod
    def of(cls, token: Token) -> Literal:
        if token.kind == "string":
            return cls(None, unquote(token.text))
        if token.kind != "word":
            raise invalid(f"Unexpected '{token.text}'")
        if _NUMBER.fullmatch(token.text):
            return cls(float(token.text), token.text)
        return cls(None, token.text)

    def matches_text(self, value: str) -> bool:
        pattern = ".*".join(re.escape(part) for part in self.text.split("*"))
        return re.fullmatch(pattern, value, re.DOTALL) is not None


@dataclass(frozen=True, slots=True)
class Comparison:
    op: str
    expected: Literal

    def __post_init__(self) -> None:
        if self.expected.number is None and self.op not in ("=", "!="):
            raise invalid(f"'{self.op}' compares numbers, not '{self.expected.text}'")

    def test(self, actual: Any) -> bool:
        """Does a present value satisfy the comparison?"""
        if self.expected.number is not None and _is_number(actual):
            return _NUMERIC[self.op](float(actual), self.expected.number)
        if self.expected.number is not None and self.op not in ("=", "!="):
            return False
        equal = isinstance(actual, str) and self.expected.matches_text(actual)
        return equal if self.op == "=" else not equal


def unquote(text: str) -> str:
    try:
        value = json.loads(text)
    except ValueError:
        return text[1:-1]
    return value if isinstance(value, str) else text[1:-1]


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def number_of_text(text: str) -> float | None:
    return float(text) if _NUMBER.fullmatch(text) else None
