"""ListSecrets filters, matched as AWS documents and does.

- Filters combine with AND; the values of one filter with OR.
- A value starting with `!` matches the secrets the rest of it does not match.
- name, tag-key, tag-value, primary-region, owning-service: case-sensitive prefix of the
  attribute. description: each word of the value is a case-insensitive prefix of a word of the
  description. all: any word of the value is a case-insensitive prefix of a word of the name,
  description, a tag key or a tag value (searching `My_Secret` finds `my` or `secret`).

Words are split as Secrets Manager's search splits them: at anything not a letter or digit,
and where lower case turns to upper case or letters turn to digits (`credsDatabase#892` is
`creds`, `Database`, `892`).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence

from portico.services.secretsmanager.models import Secret

FILTER_KEYS = (
    "description",
    "name",
    "tag-key",
    "tag-value",
    "primary-region",
    "owning-service",
    "all",
)
_WORD = re.compile(r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+|[0-9]+")

Filter = tuple[str, Sequence[str]]


def matches(secret: Secret, filters: Sequence[Filter]) -> bool:
    return all(any(_matches(secret, key, value) for value in values) for key, values in filters)


def _matches(secret: Secret, key: str, value: str) -> bool:
    if value.startswith("!"):
        return not _found(secret, key, value[1:])
    return _found(secret, key, value)


def _found(secret: Secret, key: str, term: str) -> bool:
    tags = secret.tags or ()
    match key:
        case "name":
            return secret.name.startswith(term)
        case "tag-key":
            return any(tag_key.startswith(term) for tag_key, _ in tags)
        case "tag-value":
            return any(tag_value.startswith(term) for _, tag_value in tags)
        case "description":
            return _words_match(term, [secret.description or ""], all)
        case "all":
            texts = [secret.name, secret.description or ""]
            texts += [text for tag in tags for text in tag]
            return _words_match(term, texts, any)
        case _:  # primary-region, owning-service: no secret here is replicated or managed
            return False


def _words_match(
    term: str, texts: Sequence[str], combine: Callable[[Iterable[bool]], bool]
) -> bool:
    wanted = words(term)
    present = [word for text in texts for word in words(text)]
    return bool(wanted) and combine(any(word.startswith(w) for word in present) for w in wanted)


def words(text: str) -> list[str]:
    return [word.lower() for word in _WORD.findall(text)]
