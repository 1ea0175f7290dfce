"""Functions and their versions in the store, each change one transaction.

scope  = "<account>:<region>"
lambda.function / <name>                 -> FunctionRecord ($LATEST, tags, counters)
lambda.version  / <name>:<n, 8 digits>   -> FunctionVersion (published, immutable)
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

from portico.services.lambda_.attachments import (
    delete_attachments,
    delete_version_attachments,
)
from portico.services.lambda_.models import FunctionRecord, FunctionVersion
from portico.store import Database, RecordExists, RecordKind, RecordStore

FUNCTIONS = RecordKind("lambda.function", FunctionRecord.to_json, FunctionRecord.from_json)
VERSIONS = RecordKind("lambda.version", FunctionVersion.to_json, FunctionVersion.from_json)


def scope_of(account: str, region: str) -> str:
    return f"{account}:{region}"


def _version_key(name: str, number: int) -> str:
    return f"{name}:{number:08d}"


class FunctionExists(Exception):
    pass


class Functions:
    def __init__(self, database: Database) -> None:
        self._database = database

    def create(self, scope: str, record: FunctionRecord, publish: bool) -> FunctionVersion:
        with self._database.transaction() as tx:
            try:
                FUNCTIONS.create(tx.records, scope, record.latest.name, record)
            except RecordExists:
                raise FunctionExists(record.latest.name) from None
            if not publish:
                return record.latest
            return self._publish(tx.records, scope, record, record.latest.description)

    def get(self, scope: str, name: str) -> FunctionRecord | None:
        with self._database.snapshot() as tx:
            found = FUNCTIONS.get(tx.records, scope, name)
        return None if found is None else found.value

    def update(
        self, scope: str, name: str, change: Callable[[FunctionRecord], FunctionRecord]
    ) -> FunctionRecord | None:
        with self._database.transaction() as tx:
            found = FUNCTIONS.get(tx.records, scope, name)
            if found is None:
                return None
            record = change(found.value)
            FUNCTIONS.put(tx.records, scope, name, record)
            return record

    def delete(self, scope: str, name: str) -> bool:
        with self._database.transaction() as tx:
            existed = FUNCTIONS.delete(tx.records, scope, name)
            for version in VERSIONS.list(tx.records, scope, prefix=f"{name}:"):
                VERSIONS.delete(tx.records, scope, version.name)
            delete_attachments(tx.records, scope, name)
            return existed

    def delete_version(self, scope: str, name: str, number: int) -> bool:
        with self._database.transaction() as tx:
            delete_version_attachments(tx.records, scope, name, str(number))
            return VERSIONS.delete(tx.records, scope, _version_key(name, number))

    def page(self, scope: str, after: str | None, limit: int) -> list[FunctionRecord]:
        with self._database.snapshot() as tx:
            found = FUNCTIONS.list(tx.records, scope, after=after, limit=limit)
        return [item.value for item in found]

    def version(self, scope: str, name: str, number: int) -> FunctionVersion | None:
        with self._database.snapshot() as tx:
            found = VERSIONS.get(tx.records, scope, _version_key(name, number))
        return None if found is None else found.value

    def versions(self, scope: str, name: str) -> list[FunctionVersion]:
        with self._database.snapshot() as tx:
            return [item.value for item in VERSIONS.list(tx.records, scope, prefix=f"{name}:")]

    def publish(
        self,
        scope: str,
        name: str,
        description: str | None,
        check: Callable[[FunctionRecord], None],
    ) -> FunctionVersion | None:
        """A new version from `$LATEST` (or the last one, when nothing changed since)."""
        with self._database.transaction() as tx:
            found = FUNCTIONS.get(tx.records, scope, name)
            if found is None:
                return None
            check(found.value)
            return self._publish(tx.records, scope, found.value, description)

    def _publish(
        self, records: RecordStore, scope: str, record: FunctionRecord, description: str | None
    ) -> FunctionVersion:
        name = record.latest.name
        if record.last_version:
            last = VERSIONS.get(records, scope, _version_key(name, record.last_version))
            if last is not None and last.value.same_as(record.latest):
                return last.value
        number = record.last_version + 1
        version = record.latest.changed(
            version=str(number),
            description=record.latest.description if description is None else description,
        )
        VERSIONS.create(records, scope, _version_key(name, number), version)
        FUNCTIONS.put(records, scope, name, dataclasses.replace(record, last_version=number))
        return version
