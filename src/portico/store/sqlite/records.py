"""`RecordStore` on the `records` table."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Collection, Mapping
from typing import Any

from portico.store.clock import Clock
from portico.store.errors import RecordConflict, RecordExists, StoreError
from portico.store.records import Record
from portico.store.sqlite.session import Session, translate_errors

_COLUMNS = "scope, kind, name, value, version, created_at, updated_at"
_GET = (
    "SELECT scope, kind, name, value, version, created_at, updated_at FROM records"
    " WHERE scope = ? AND kind = ? AND name = ?"
)
_CREATE = (
    "INSERT INTO records (scope, kind, name, value, version, created_at, updated_at)"
    " VALUES (?, ?, ?, ?, 1, ?, ?) ON CONFLICT DO NOTHING"
    " RETURNING scope, kind, name, value, version, created_at, updated_at"
)
_UPSERT = (
    "INSERT INTO records (scope, kind, name, value, version, created_at, updated_at)"
    " VALUES (?, ?, ?, ?, 1, ?, ?) ON CONFLICT (scope, kind, name) DO UPDATE SET"
    " value = excluded.value, version = records.version + 1, updated_at = excluded.updated_at"
    " RETURNING scope, kind, name, value, version, created_at, updated_at"
)
_REPLACE = (
    "UPDATE records SET value = ?, version = version + 1, updated_at = ?"
    " WHERE scope = ? AND kind = ? AND name = ? AND version = ?"
    " RETURNING scope, kind, name, value, version, created_at, updated_at"
)


class SqliteRecords:
    def __init__(self, session: Session, clock: Clock) -> None:
        self._session = session
        self._clock = clock

    @translate_errors
    def get(self, scope: str, kind: str, name: str) -> Record | None:
        row = self._db.execute(_GET, (scope, kind, name)).fetchone()
        return None if row is None else _record(row)

    @translate_errors
    def create(self, scope: str, kind: str, name: str, value: Mapping[str, Any]) -> Record:
        now = self._clock.now()
        rows = self._db.execute(_CREATE, (scope, kind, name, _encode(value), now, now)).fetchall()
        if not rows:
            raise RecordExists(f"{kind} {name!r} already exists in {scope}")
        return _record(rows[0])

    @translate_errors
    def put(
        self,
        scope: str,
        kind: str,
        name: str,
        value: Mapping[str, Any],
        *,
        expected_version: int | None = None,
    ) -> Record:
        now = self._clock.now()
        if expected_version is None:
            upsert = (scope, kind, name, _encode(value), now, now)
            rows = self._db.execute(_UPSERT, upsert).fetchall()
        else:
            replace = (_encode(value), now, scope, kind, name, expected_version)
            rows = self._db.execute(_REPLACE, replace).fetchall()
            if not rows:
                raise RecordConflict(
                    f"{kind} {name!r} in {scope} is not at version {expected_version}"
                )
        return _record(rows[0])

    @translate_errors
    def delete(
        self, scope: str, kind: str, name: str, *, expected_version: int | None = None
    ) -> bool:
        key = (scope, kind, name)
        if expected_version is None:
            sql = "DELETE FROM records WHERE scope = ? AND kind = ? AND name = ?"
            return self._db.execute(sql, key).rowcount > 0
        sql = "DELETE FROM records WHERE scope = ? AND kind = ? AND name = ? AND version = ?"
        if self._db.execute(sql, (*key, expected_version)).rowcount > 0:
            return True
        if self.get(scope, kind, name) is None:
            return False
        raise RecordConflict(f"{kind} {name!r} in {scope} is not at version {expected_version}")

    @translate_errors
    def list(
        self,
        scope: str,
        kind: str,
        *,
        prefix: str = "",
        after: str | None = None,
        limit: int | None = None,
    ) -> list[Record]:
        clauses = ["scope = ?", "kind = ?"]
        params: list[object] = [scope, kind]
        if prefix:
            clauses.append("name >= ?")
            params.append(prefix)
            upper = prefix_upper_bound(prefix)
            if upper is not None:
                clauses.append("name < ?")
                params.append(upper)
        if after is not None:
            clauses.append("name > ?")
            params.append(after)
        params.append(-1 if limit is None else limit)
        where = " AND ".join(clauses)
        sql = f"SELECT {_COLUMNS} FROM records WHERE {where} ORDER BY name LIMIT ?"  # noqa: S608
        return [_record(row) for row in self._db.execute(sql, params)]

    @translate_errors
    def count(self, scope: str, kind: str) -> int:
        sql = "SELECT COUNT(*) FROM records WHERE scope = ? AND kind = ?"
        return int(self._db.execute(sql, (scope, kind)).fetchone()[0])

    @translate_errors
    def delete_scope(self, scope: str, *, kinds: Collection[str] | None = None) -> int:
        if kinds is None:
            return self._db.execute("DELETE FROM records WHERE scope = ?", (scope,)).rowcount
        kinds = list(kinds)
        if not kinds:
            return 0
        marks = ", ".join("?" * len(kinds))
        sql = f"DELETE FROM records WHERE scope = ? AND kind IN ({marks})"  # noqa: S608
        return self._db.execute(sql, (scope, *kinds)).rowcount

    @property
    def _db(self) -> sqlite3.Connection:
        return self._session.connection


def prefix_upper_bound(prefix: str) -> str | None:
    """The least string above every string that starts with `prefix` (None: no such
    string). Code-point order, which SQLite's binary collation of UTF-8 text follows."""
    chars = list(prefix)
    while chars:
        code = ord(chars.pop()) + 1
        if 0xD800 <= code <= 0xDFFF:  # surrogates cannot be stored; skip past them
            code = 0xE000
        if code <= 0x10FFFF:
            return "".join(chars) + chr(code)
    return None


def _encode(value: Mapping[str, Any]) -> str:
    if not isinstance(value, Mapping):
        raise ValueError(f"value must be a JSON object, got {type(value).__name__}")
    try:
        return json.dumps(dict(value), separators=(",", ":"), ensure_ascii=False, allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"value must be a JSON object: {exc}") from exc


def _record(row: tuple[Any, ...]) -> Record:
    scope, kind, name, value, version, created_at, updated_at = row
    decoded = json.loads(value)
    if not isinstance(decoded, dict):
        raise StoreError(f"{kind} {name!r} in {scope} holds no JSON object")
    return Record(scope, kind, name, decoded, version, created_at, updated_at)
