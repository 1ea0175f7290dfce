"""The domain against a real SQLite file in tmp_path, with a clock that moves when told."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from pathlib import Path

import pytest

from portico.services.secretsmanager.crypto import SecretCipher
from portico.services.secretsmanager.errors import (
    DecryptionFailure,
    InvalidRequestException,
    ResourceExistsException,
    ResourceNotFoundException,
)
from portico.services.secretsmanager.models import (
    AWSCURRENT,
    AWSPREVIOUS,
    DAY,
    SECRETS,
    VALUES,
    SecretValue,
)
from portico.services.secretsmanager.service import Scope, SecretsService
from portico.store import ManualClock
from portico.store.sqlite.database import SqliteDatabase, open_database

SCOPE = Scope("000000000000", "eu-west-1")
TOKEN_A = "a" * 32
TOKEN_B = "b" * 32


def text(value: str) -> SecretValue:
    return SecretValue("string", value.encode())


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(1_700_000_000.0)


@pytest.fixture
def database(tmp_path: Path, clock: ManualClock) -> Iterator[SqliteDatabase]:
    db = open_database(tmp_path, clock=clock)
    try:
        yield db
    finally:
        db.close()


@pytest.fixture
def service(tmp_path: Path, database: SqliteDatabase, clock: ManualClock) -> SecretsService:
    ids = (f"{n:032d}" for n in itertools.count(1))
    return SecretsService(
        database,
        SecretCipher(tmp_path / "secrets.key"),
        clock,
        new_suffix=lambda: "AbC123",
        new_version_id=lambda: next(ids),
    )


def test_only_sealed_values_reach_the_database(
    tmp_path: Path, service: SecretsService, database: SqliteDatabase
) -> None:
    plaintext = "correct horse battery staple"
    service.create(SCOPE, "db", value=text(plaintext), token=TOKEN_A)
    service.put_value(SCOPE, "db", SecretValue("binary", b"\x00binary-plaintext\xff"), TOKEN_B)
    database.close()
    stored = b"".join(path.read_bytes() for path in tmp_path.glob("portico.db*"))
    assert b"db" in stored  # the secret is there...
    assert plaintext.encode() not in stored  # ...its values are not
    assert b"binary-plaintext" not in stored


def test_values_read_back_by_stage_and_by_version(service: SecretsService) -> None:
    service.create(SCOPE, "db", value=text("one"), token=TOKEN_A)
    service.put_value(SCOPE, "db", text("two"), TOKEN_B)
    current = service.reveal(SCOPE, "db", None, None)
    assert (current.value.text, current.version.id) == ("two", TOKEN_B)
    previous = service.reveal(SCOPE, "db", None, AWSPREVIOUS)
    assert (previous.value.text, previous.version.stages) == ("one", (AWSPREVIOUS,))
    assert service.reveal(SCOPE, "db", TOKEN_A, None).value.text == "one"
    arn = current.secret.arn
    assert arn == "arn:aws:secretsmanager:eu-west-1:000000000000:secret:db-AbC123"
    assert service.reveal(SCOPE, arn, None, AWSCURRENT).value.text == "two"


def test_a_value_moved_to_another_version_does_not_open(
    service: SecretsService, database: SqliteDatabase
) -> None:
    created = service.create(SCOPE, "db", value=text("one"), token=TOKEN_A)
    service.put_value(SCOPE, "db", text("two"), TOKEN_B)
    arn = created.secret.arn
    with database.transaction() as tx:
        sealed = VALUES.get(tx.records, arn, TOKEN_A)
        assert sealed is not None
        VALUES.put(tx.records, arn, TOKEN_B, sealed.value)
    with pytest.raises(DecryptionFailure):
        service.reveal(SCOPE, "db", None, None)


def test_idempotent_retries_and_conflicting_tokens(service: SecretsService) -> None:
    first = service.create(SCOPE, "db", value=text("one"), token=TOKEN_A)
    again = service.create(SCOPE, "db", value=text("one"), token=TOKEN_A)
    assert again.version == first.version
    with pytest.raises(ResourceExistsException, match="already exists"):
        service.create(SCOPE, "db", value=text("one"), token=TOKEN_B)

    put = service.put_value(SCOPE, "db", text("two"), TOKEN_B)
    repeat = service.put_value(SCOPE, "db", text("two"), TOKEN_B)
    assert repeat.version == put.version
    assert len(repeat.secret.versions) == 2
    with pytest.raises(ResourceExistsException) as raised:
        service.put_value(SCOPE, "db", text("three-secret-value"), TOKEN_B)
    assert "three-secret-value" not in raised.value.message
    with pytest.raises(ResourceExistsException):  # same bytes, other type: not the same value
        service.put_value(SCOPE, "db", SecretValue("binary", b"two"), TOKEN_B)


def test_last_accessed_is_kept_by_the_day(service: SecretsService, clock: ManualClock) -> None:
    service.create(SCOPE, "db", value=text("one"), token=TOKEN_A)
    assert service.describe(SCOPE, "db").last_accessed is None
    service.reveal(SCOPE, "db", None, None)
    today = clock.now() - clock.now() % DAY
    described = service.describe(SCOPE, "db")
    assert described.last_accessed == today
    assert described.versions[0].last_accessed == today
    clock.advance(DAY)
    service.reveal(SCOPE, "db", None, None)
    assert service.describe(SCOPE, "db").last_accessed == today + DAY


def test_scheduled_deletion_then_purge_when_the_window_ends(
    service: SecretsService, database: SqliteDatabase, clock: ManualClock
) -> None:
    created = service.create(SCOPE, "db", value=text("one"), token=TOKEN_A)
    deleted = service.delete(SCOPE, "db", 7)
    assert deleted.deletion_date == clock.now() + 7 * DAY
    with pytest.raises(InvalidRequestException, match="marked for deletion"):
        service.reveal(SCOPE, "db", None, None)
    with pytest.raises(InvalidRequestException, match="scheduled for deletion"):
        service.create(SCOPE, "db", value=text("two"), token=TOKEN_B)
    assert service.list_secrets(SCOPE, [], include_deleted=True) != []

    clock.advance(7 * DAY)
    assert service.list_secrets(SCOPE, [], include_deleted=True) == []
    with pytest.raises(ResourceNotFoundException):
        service.describe(SCOPE, "db")
    recreated = service.create(SCOPE, "db", value=text("two"), token=TOKEN_B)
    assert recreated.secret.arn == created.secret.arn  # the injected suffix never changes
    with database.snapshot() as tx:
        assert [v.name for v in VALUES.list(tx.records, created.secret.arn)] == [TOKEN_B]


def test_forced_deletion_removes_every_record(
    service: SecretsService, database: SqliteDatabase
) -> None:
    created = service.create(SCOPE, "db", value=text("one"), token=TOKEN_A)
    service.put_value(SCOPE, "db", text("two"), TOKEN_B)
    service.delete(SCOPE, "db", None)
    with database.snapshot() as tx:
        assert SECRETS.get(tx.records, SCOPE.key, "db") is None
        assert VALUES.list(tx.records, created.secret.arn) == []


def test_deprecated_values_are_deleted_with_their_versions(
    service: SecretsService, database: SqliteDatabase
) -> None:
    created = service.create(SCOPE, "db", value=text("v0"), token=TOKEN_A)
    for n in range(1, 104):
        service.put_value(SCOPE, "db", text(f"v{n}"), f"{n:032d}")
    secret = service.describe(SCOPE, "db")
    assert len(secret.versions) == 102
    with database.snapshot() as tx:
        stored = {v.name for v in VALUES.list(tx.records, created.secret.arn)}
    assert stored == {version.id for version in secret.versions}
    assert TOKEN_A not in stored


def test_tags_merge_and_untag_leaves_an_empty_list(service: SecretsService) -> None:
    service.create(SCOPE, "db")
    assert service.describe(SCOPE, "db").tags is None
    service.tag(SCOPE, "db", [("a", "1"), ("b", "2")])
    service.tag(SCOPE, "db", [("a", "3")])
    assert service.describe(SCOPE, "db").tags == (("a", "3"), ("b", "2"))
    service.untag(SCOPE, "db", ["a", "b"])
    assert service.describe(SCOPE, "db").tags == ()
