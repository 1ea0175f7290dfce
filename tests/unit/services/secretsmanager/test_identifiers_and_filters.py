from __future__ import annotations

import pytest

from portico.services.secretsmanager.errors import ValidationException
from portico.services.secretsmanager.filters import matches, words
from portico.services.secretsmanager.identifiers import (
    SecretRef,
    parse_secret_id,
    random_suffix,
    secret_arn,
)
from portico.services.secretsmanager.models import Secret

REGION, ACCOUNT = "eu-west-1", "123456789012"
PREFIX = f"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:"


def test_arns_have_a_six_character_suffix() -> None:
    suffix = random_suffix()
    assert len(suffix) == 6 and suffix.isalnum()
    assert secret_arn(REGION, ACCOUNT, "db/pw", "Ab12Cd") == f"{PREFIX}db/pw-Ab12Cd"
    assert secret_arn("cn-north-1", ACCOUNT, "x", "abcdef").startswith("arn:aws-cn:")


@pytest.mark.parametrize(
    ("secret_id", "ref"),
    [
        ("db/pw", SecretRef("db/pw")),
        (f"{PREFIX}db/pw-Ab12Cd", SecretRef("db/pw", f"{PREFIX}db/pw-Ab12Cd")),
        (f"{PREFIX}db/pw", SecretRef("db/pw")),
        (f"{PREFIX}name-a1b2", SecretRef("name-a1b2")),
        # a partial ARN ending like a suffix is read as a full ARN, as AWS reads it
        (f"{PREFIX}name-a1b2c3", SecretRef("name", f"{PREFIX}name-a1b2c3")),
        (f"arn:aws:secretsmanager:us-east-1:{ACCOUNT}:secret:db/pw", None),
        (f"arn:aws:secretsmanager:{REGION}:999999999999:secret:db/pw", None),
        (f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:db", None),
        ("arn:nonsense", None),
    ],
)
def test_secret_ids(secret_id: str, ref: SecretRef | None) -> None:
    assert parse_secret_id(secret_id, REGION, ACCOUNT) == ref


@pytest.mark.parametrize("name", ["Inv Name", " x", "a*b", "a?b", "ümlaut"])
def test_invalid_names(name: str) -> None:
    with pytest.raises(ValidationException, match="Invalid name"):
        parse_secret_id(name, REGION, ACCOUNT)


def _secret(name: str, description: str | None = None, **tags: str) -> Secret:
    return Secret(
        name=name,
        arn=f"{PREFIX}{name}-abcdef",
        created=0.0,
        last_changed=0.0,
        description=description,
        tags=tuple(tags.items()) if tags else None,
    )


def test_words_split_where_case_or_kind_changes() -> None:
    assert words("credsDatabase#892") == ["creds", "database", "892"]
    assert words("My_Secret") == ["my", "secret"]
    assert words("ABCService") == ["abc", "service"]


def test_filters() -> None:
    secret = _secret("prod/Payments-db", "Primary DB password", team="Payments", env="prod")
    assert matches(secret, [])
    assert matches(secret, [("name", ["prod/"])])
    assert not matches(secret, [("name", ["Prod/"])])  # case-sensitive
    assert matches(secret, [("name", ["!dev/"])])
    assert not matches(secret, [("name", ["!prod"])])
    assert matches(secret, [("name", ["dev", "prod"])])  # values: OR
    assert not matches(secret, [("name", ["prod"]), ("tag-key", ["owner"])])  # filters: AND
    assert matches(secret, [("description", ["primary pass"])])
    assert not matches(secret, [("description", ["primary secret"])])
    assert matches(secret, [("tag-key", ["te"])]) and not matches(secret, [("tag-key", ["Te"])])
    assert matches(secret, [("tag-value", ["Pay"])])
    assert matches(secret, [("all", ["payments"])])
    assert matches(secret, [("all", ["nothing password"])])  # all: any word
    assert not matches(secret, [("all", ["nothing"])])
    assert not matches(secret, [("primary-region", ["eu"])])
    assert matches(_secret("untagged"), [("tag-key", ["!team"])])
