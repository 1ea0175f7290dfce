"""Secrets Manager's domain: secrets, their versions and sealed values, kept in the store.

Synchronous, like the store: the provider calls it through `asyncio.to_thread`. Every write is
one transaction, so concurrent writers of one secret queue up rather than lose updates. Values
are sealed before they are stored and opened only to answer GetSecretValue or to tell an
idempotent retry (same ClientRequestToken, same value) from a conflicting one.

A secret scheduled for deletion is purged lazily: once its deletion date has passed, it reads
as absent, and the next write that meets it deletes it for good.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

from portico.services.secretsmanager.crypto import SealedValueError, SecretCipher
from portico.services.secretsmanager.errors import (
    ALREADY_MARKED_DELETED,
    SCHEDULED_FOR_DELETION,
    DecryptionFailure,
    InvalidRequestException,
    ResourceExistsException,
    ResourceNotFoundException,
    marked_for_deletion,
    secret_not_found,
)
from portico.services.secretsmanager.filters import Filter, matches
from portico.services.secretsmanager.identifiers import parse_secret_id, random_suffix, secret_arn
from portico.services.secretsmanager.models import (
    AWSCURRENT,
    DAY,
    SECRETS,
    VALUES,
    SealedValue,
    Secret,
    SecretValue,
    Tag,
    Version,
    scope_of,
)
from portico.services.secretsmanager.stages import add_version
from portico.store import Clock, Database, RecordStore


@dataclass(frozen=True, slots=True)
class Scope:
    account_id: str
    region: str

    @property
    def key(self) -> str:
        return scope_of(self.account_id, self.region)


@dataclass(frozen=True, slots=True)
class Written:
    secret: Secret
    version: Version | None  # the version written, or found again by an idempotent retry


@dataclass(frozen=True, slots=True)
class Revealed:
    secret: Secret
    version: Version
    value: SecretValue


@dataclass(frozen=True, slots=True)
class Deleted:
    arn: str
    name: str
    deletion_date: float


def _new_version_id() -> str:
    return str(uuid.uuid4())


def _seal_context(arn: str, version_id: str, value_type: str) -> bytes:
    return f"{arn}\n{version_id}\n{value_type}".encode()


class SecretsService:
    def __init__(
        self,
        database: Database,
        cipher: SecretCipher,
        clock: Clock,
        *,
        new_suffix: Callable[[], str] = random_suffix,
        new_version_id: Callable[[], str] = _new_version_id,
    ) -> None:
        self._database = database
        self._cipher = cipher
        self._clock = clock
        self._new_suffix = new_suffix
        self._new_version_id = new_version_id

    # -- reads -------------------------------------------------------------------------------

    def describe(self, scope: Scope, secret_id: str) -> Secret:
        with self._database.snapshot() as tx:
            return self._existing(tx.records, scope, secret_id)

    def list_versions(self, scope: Scope, secret_id: str) -> Secret:
        with self._database.snapshot() as tx:
            return self._live(tx.records, scope, secret_id)

    def list_secrets(
        self, scope: Scope, filters: Sequence[Filter], *, include_deleted: bool
    ) -> list[Secret]:
        now = self._clock.now()
        with self._database.snapshot() as tx:
            found = SECRETS.list(tx.records, scope.key)
        return [
            secret
            for secret in (record.value for record in found)
            if not secret.purge_due(now)
            and (include_deleted or not secret.deleted)
            and matches(secret, filters)
        ]

    def reveal(
        self, scope: Scope, secret_id: str, version_id: str | None, stage: str | None
    ) -> Revealed:
        with self._database.snapshot() as tx:
            secret = self._live(tx.records, scope, secret_id)
            version = _select(secret, version_id, stage)
            value = self._open(tx.records, secret, version)
        now = self._clock.now()
        if _day(secret.last_accessed) != _day(now) or _day(version.last_accessed) != _day(now):
            self._mark_accessed(scope, secret, version.id, now)
        return Revealed(secret, version, value)

    def _mark_accessed(self, scope: Scope, read: Secret, version_id: str, now: float) -> None:
        with self._database.transaction() as tx:
            found = SECRETS.get(tx.records, scope.key, read.name)
            if found is not None and found.value.arn == read.arn:
                SECRETS.put(tx.records, scope.key, read.name, found.value.accessed(version_id, now))

    # -- writes ------------------------------------------------------------------------------

    def create(
        self,
        scope: Scope,
        name: str,
        *,
        value: SecretValue | None = None,
        token: str | None = None,
        description: str | None = None,
        kms_key_id: str | None = None,
        tags: Sequence[Tag] | None = None,
    ) -> Written:
        self._cipher.prepare()
        now = self._clock.now()
        with self._database.transaction() as tx:
            records = tx.records
            found = SECRETS.get(records, scope.key, name)
            if found is not None and found.value.purge_due(now):
                self._purge(records, scope, found.value)
            elif found is not None and found.value.deleted:
                raise InvalidRequestException(SCHEDULED_FOR_DELETION)
            elif found is not None:
                return self._create_again(records, found.value, value, token)
            secret = Secret(
                name=name,
                arn=secret_arn(scope.region, scope.account_id, name, self._new_suffix()),
                created=now,
                last_changed=now,
                description=description or None,
                kms_key_id=kms_key_id or None,
                tags=None if tags is None else tuple(tags),
            )
            version = None
            if value is not None:
                secret, version = self._add_value(records, secret, value, token, [AWSCURRENT], now)
            SECRETS.create(records, scope.key, name, secret)
            return Written(secret, version)

    def _create_again(
        self, records: RecordStore, secret: Secret, value: SecretValue | None, token: str | None
    ) -> Written:
        """A retried CreateSecret (same token, same value) succeeds; anything else exists."""
        if value is not None and token is not None:
            same = self._same_version(records, secret, token, value)
            if same is not None:
                return Written(secret, same)
        raise ResourceExistsException(
            f"The operation failed because the secret {secret.name} already exists."
        )

    def put_value(
        self,
        scope: Scope,
        secret_id: str,
        value: SecretValue,
        token: str | None,
        stages: Sequence[str] | None = None,
    ) -> Written:
        self._cipher.prepare()
        now = self._clock.now()
        with self._database.transaction() as tx:
            records = tx.records
            secret = self._live(records, scope, secret_id, purge=True)
            same = None if token is None else self._same_version(records, secret, token, value)
            if same is not None:
                return Written(secret, same)
            secret, version = self._add_value(
                records, secret, value, token, stages or [AWSCURRENT], now
            )
            SECRETS.put(records, scope.key, secret.name, secret)
            return Written(secret, version)

    def update(
        self,
        scope: Scope,
        secret_id: str,
        *,
        value: SecretValue | None = None,
        token: str | None = None,
        description: str | None = None,
        kms_key_id: str | None = None,
    ) -> Written:
        self._cipher.prepare()
        now = self._clock.now()
        with self._database.transaction() as tx:
            records = tx.records
            secret = self._live(records, scope, secret_id, purge=True)
            if value is not None and token is not None:
                same = self._same_version(records, secret, token, value)
                if same is not None:
                    return Written(secret, same)
            if description is not None:
                secret = replace(secret, description=description or None)
            if kms_key_id is not None:
                secret = replace(secret, kms_key_id=kms_key_id or None)
            version = None
            if value is not None:
                secret, version = self._add_value(records, secret, value, token, [AWSCURRENT], now)
            secret = replace(secret, last_changed=now)
            SECRETS.put(records, scope.key, secret.name, secret)
            return Written(secret, version)

    def delete(self, scope: Scope, secret_id: str, recovery_days: float | None) -> Deleted:
        """Schedule deletion in `recovery_days`, or delete now when it is None."""
        now = self._clock.now()
        with self._database.transaction() as tx:
            records = tx.records
            secret = self._find(records, scope, secret_id, purge=True)
            if secret is None and recovery_days is None:
                return self._deleted_unknown(scope, secret_id, now)
            if secret is None:
                raise secret_not_found()
            if recovery_days is None:
                self._purge(records, scope, secret)
                return Deleted(secret.arn, secret.name, now)
            if secret.deleted:
                raise InvalidRequestException(ALREADY_MARKED_DELETED)
            scheduled = replace(secret, deletion_date=now + recovery_days * DAY)
            SECRETS.put(records, scope.key, secret.name, scheduled)
            return Deleted(secret.arn, secret.name, now + recovery_days * DAY)

    def _deleted_unknown(self, scope: Scope, secret_id: str, now: float) -> Deleted:
        """AWS answers a forced deletion of a secret it does not have as if it had one."""
        ref = parse_secret_id(secret_id, scope.region, scope.account_id)
        if ref is None:
            raise secret_not_found()
        arn = ref.arn or secret_arn(scope.region, scope.account_id, ref.name, self._new_suffix())
        return Deleted(arn, ref.name, now)

    def restore(self, scope: Scope, secret_id: str) -> Secret:
        with self._database.transaction() as tx:
            secret = self._existing(tx.records, scope, secret_id, purge=True)
            if secret.deleted:
                secret = replace(secret, deletion_date=None)
                SECRETS.put(tx.records, scope.key, secret.name, secret)
            return secret

    def tag(self, scope: Scope, secret_id: str, tags: Sequence[Tag]) -> None:
        now = self._clock.now()
        with self._database.transaction() as tx:
            secret = self._live(tx.records, scope, secret_id, purge=True)
            merged = dict(secret.tags or ())
            merged.update(tags)
            tagged = replace(secret, tags=tuple(merged.items()), last_changed=now)
            SECRETS.put(tx.records, scope.key, secret.name, tagged)

    def untag(self, scope: Scope, secret_id: str, keys: Sequence[str]) -> None:
        now = self._clock.now()
        with self._database.transaction() as tx:
            secret = self._live(tx.records, scope, secret_id, purge=True)
            kept = tuple(tag for tag in secret.tags or () if tag[0] not in set(keys))
            untagged = replace(secret, tags=kept, last_changed=now)
            SECRETS.put(tx.records, scope.key, secret.name, untagged)

    # -- helpers -----------------------------------------------------------------------------

    def _find(
        self, records: RecordStore, scope: Scope, secret_id: str, *, purge: bool = False
    ) -> Secret | None:
        ref = parse_secret_id(secret_id, scope.region, scope.account_id)
        found = None if ref is None else SECRETS.get(records, scope.key, ref.name)
        if ref is None or found is None:
            return None
        secret = found.value
        if ref.arn is not None and ref.arn != secret.arn:
            return None
        if secret.purge_due(self._clock.now()):
            if purge:
                self._purge(records, scope, secret)
            return None
        return secret

    def _existing(
        self, records: RecordStore, scope: Scope, secret_id: str, *, purge: bool = False
    ) -> Secret:
        secret = self._find(records, scope, secret_id, purge=purge)
        if secret is None:
            raise secret_not_found()
        return secret

    def _live(
        self, records: RecordStore, scope: Scope, secret_id: str, *, purge: bool = False
    ) -> Secret:
        secret = self._existing(records, scope, secret_id, purge=purge)
        if secret.deleted:
            raise marked_for_deletion()
        return secret

    def _purge(self, records: RecordStore, scope: Scope, secret: Secret) -> None:
        records.delete_scope(secret.arn, kinds=[VALUES.kind])
        SECRETS.delete(records, scope.key, secret.name)

    def _add_value(
        self,
        records: RecordStore,
        secret: Secret,
        value: SecretValue,
        token: str | None,
        stages: Sequence[str],
        now: float,
    ) -> tuple[Secret, Version]:
        version_id = token or self._new_version_id()
        sealed = self._cipher.seal(value.data, _seal_context(secret.arn, version_id, value.type))
        VALUES.put(records, secret.arn, version_id, SealedValue(value.type, sealed))
        versions, dropped = add_version(secret.versions, Version(version_id, tuple(stages), now))
        for old in dropped:
            VALUES.delete(records, secret.arn, old)
        secret = replace(secret, versions=versions, last_changed=now)
        version = secret.version(version_id)
        assert version is not None  # just added
        return secret, version

    def _same_version(
        self, records: RecordStore, secret: Secret, token: str, value: SecretValue
    ) -> Version | None:
        """The version `token` names, if it holds `value`; None if there is no such version."""
        version = secret.version(token)
        if version is None:
            return None
        if self._open(records, secret, version).same_as(value):
            return version
        raise ResourceExistsException(
            f"You can't use ClientRequestToken {token} because that value is already in use "
            f"for a version of secret {secret.arn}"
        )

    def _open(self, records: RecordStore, secret: Secret, version: Version) -> SecretValue:
        found = VALUES.get(records, secret.arn, version.id)
        if found is None:
            raise ResourceNotFoundException(
                f"Secrets Manager can't find the specified secret value for VersionId: {version.id}"
            )
        sealed = found.value
        try:
            data = self._cipher.open(
                sealed.sealed, _seal_context(secret.arn, version.id, sealed.type)
            )
        except SealedValueError:
            raise DecryptionFailure(
                "Secrets Manager can't decrypt the protected secret text using the provided "
                "KMS key."
            ) from None
        return SecretValue(sealed.type, data)


def _select(secret: Secret, version_id: str | None, stage: str | None) -> Version:
    if version_id is not None:
        version = secret.version(version_id)
        if version is None:
            raise ResourceNotFoundException(
                f"Secrets Manager can't find the specified secret value for VersionId: {version_id}"
            )
        if stage is not None and stage not in version.stages:
            raise InvalidRequestException(
                "You provided a VersionStage that is not associated to the provided VersionId."
            )
        return version
    label = stage or AWSCURRENT
    staged = secret.staged(label)
    if staged is None:
        raise ResourceNotFoundException(
            f"Secrets Manager can't find the specified secret value for staging label: {label}"
        )
    return staged


def _day(moment: float | None) -> float | None:
    return None if moment is None else moment - moment % DAY
