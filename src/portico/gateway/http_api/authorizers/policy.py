"""The IAM policy a Lambda authorizer returns, evaluated for one route ARN.

    {"Version": "2012-10-17",
     "Statement": [{"Effect": "Allow" | "Deny",
                    "Action": "execute-api:Invoke",          (or NotAction; string or list)
                    "Resource": "arn:aws:execute-api:eu-west-1:000000000000:a1b2c3d4e5/*/GET/*"}]}

IAM's rules: a matching Deny wins, else a matching Allow allows, else the request is denied.
`*` matches any run of characters (`/` and `:` included), `?` any one; actions compare
without regard to case, resources with it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Literal

INVOKE_ACTION = "execute-api:Invoke"

Effect = Literal["Allow", "Deny"]


def wildcard(pattern: str, *, ignore_case: bool = False) -> re.Pattern[str]:
    """`pattern` with IAM's `*` and `?` as a regular expression (to `fullmatch`)."""
    parts = (".*" if char == "*" else "." if char == "?" else re.escape(char) for char in pattern)
    flags = re.DOTALL | (re.IGNORECASE if ignore_case else 0)
    return re.compile("".join(parts), flags)


@dataclass(frozen=True, slots=True)
class _Matcher:
    patterns: tuple[re.Pattern[str], ...]
    negated: bool  # NotAction / NotResource

    def matches(self, value: str) -> bool:
        found = any(pattern.fullmatch(value) for pattern in self.patterns)
        return found != self.negated


@dataclass(frozen=True, slots=True)
class Statement:
    effect: Effect
    actions: _Matcher
    resources: _Matcher

    def applies_to(self, resource: str) -> bool:
        return self.actions.matches(INVOKE_ACTION) and self.resources.matches(resource)


@dataclass(frozen=True, slots=True)
class Policy:
    statements: tuple[Statement, ...]

    def allows(self, resource: str) -> bool:
        effects = {s.effect for s in self.statements if s.applies_to(resource)}
        return "Allow" in effects and "Deny" not in effects


def parse_policy(document: Any) -> Policy | None:
    """The policy `document` states; None when it is not a well-formed policy."""
    if not isinstance(document, dict):
        return None
    raw = document.get("Statement")
    items = [raw] if isinstance(raw, dict) else raw
    if not isinstance(items, list):
        return None
    statements = [_statement(item) for item in items]
    if any(statement is None for statement in statements):
        return None
    return Policy(tuple(s for s in statements if s is not None))


def _statement(item: Any) -> Statement | None:
    if not isinstance(item, dict):
        return None
    effect = item.get("Effect")
    if effect not in ("Allow", "Deny"):
        return None
    actions = _matcher(item, "Action", ignore_case=True)
    resources = _matcher(item, "Resource", ignore_case=False)
    if actions is None or resources is None:
        return None
    return Statement(effect, actions, resources)


def _matcher(item: dict[str, Any], name: str, *, ignore_case: bool) -> _Matcher | None:
    """From `name` or `Not<name>` (exactly one of them), a string or a list of strings."""
    negated = f"Not{name}" in item
    if negated == (name in item):
        return None
    value = item[f"Not{name}" if negated else name]
    patterns = [value] if isinstance(value, str) else value
    if not isinstance(patterns, list) or not all(isinstance(p, str) for p in patterns):
        return None
    compiled = tuple(wildcard(pattern, ignore_case=ignore_case) for pattern in patterns)
    return _Matcher(compiled, negated)
