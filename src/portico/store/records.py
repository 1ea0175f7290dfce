"""Records: JSON documents named by (scope, kind, name), versioned for conditional writes.

Most of what the services keep is configuration shaped like their wire models — a Lambda
function's configuration, a version, an alias, a policy, a tag set, a log group, a secret and
its versions — read and written whole, listed by owner, deleted with their owner. One table
of documents serves all of them:

    scope                           kind                  name        value (JSON)   version
    lambda:000000000000:us-east-1   lambda.function       my-fn       {...}          7
    arn:...:function:my-fn          lambda.version        00000001    {...}          1
    arn:...:function:my-fn          lambda.alias          live        {...}          3
    arn:...:function:my-fn          lambda.policy         $LATEST     {...}          2

- `scope` groups what is listed and deleted together (an account and region, or the owning
  resource's ARN); `delete_scope` removes every kind in one scope, so deleting a function
  takes its versions, aliases and policies along.
- `list` is ordered by `name` as a string (code-point order) and pages with `after`; give
  names that must sort as numbers a fixed width (`f"{n:08d}"`).
- `version` starts at 1 and grows by one on every write: pass `expected_version` to make a
  write conditional (optimistic concurrency, as Lambda's `RevisionId` needs).

A write that must read first (allocating the next version number, moving an alias) does both
inside one `Database.transaction()`: transactions are serialisable.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from typing import Any, Generic, Protocol, TypeVar

JsonObject = dict[str, Any]
T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Record:
    scope: str
    kind: str
    name: str
    value: JsonObject
    version: int
    created_at: float  # seconds since the epoch
    updated_at: float


class RecordStore(Protocol):
    """Record access inside one transaction (see `Database.transaction`)."""

    def get(self, scope: str, kind: str, name: str) -> Record | None: ...

    def create(self, scope: str, kind: str, name: str, value: Mapping[str, Any]) -> Record:
        """Insert a new record; `RecordExists` when the name is taken."""
        ...

    def put(
        self,
        scope: str,
        kind: str,
        name: str,
        value: Mapping[str, Any],
        *,
        expected_version: int | None = None,
    ) -> Record:
        """Insert or replace. With `expected_version`, replace only that version of an
        existing record, else `RecordConflict`."""
        ...

    def delete(
        self, scope: str, kind: str, name: str, *, expected_version: int | None = None
    ) -> bool:
        """False when there was no record; `RecordConflict` on a version mismatch."""
        ...

    def list(
        self,
        scope: str,
        kind: str,
        *,
        prefix: str = "",
        after: str | None = None,
        limit: int | None = None,
    ) -> list[Record]:
        """Records of one kind in one scope, by name; `after` excludes names up to it."""
        ...

    def count(self, scope: str, kind: str) -> int: ...

    def delete_scope(self, scope: str, *, kinds: Collection[str] | None = None) -> int:
        """Delete every record in `scope` (of `kinds` only, if given); return how many."""
        ...


@dataclass(frozen=True, slots=True)
class Versioned(Generic[T]):
    name: str
    value: T
    version: int


@dataclass(frozen=True, slots=True)
class RecordKind(Generic[T]):
    """A kind with its codec, so a service reads and writes its own models, not dicts.

    FUNCTIONS = RecordKind("lambda.function", FunctionRecord.to_json, FunctionRecord.from_json)
    found = FUNCTIONS.get(tx.records, scope, "my-fn")   # Versioned[FunctionRecord] | None
    """

    kind: str
    encode: Callable[[T], Mapping[str, Any]]
    decode: Callable[[JsonObject], T]

    def get(self, records: RecordStore, scope: str, name: str) -> Versioned[T] | None:
        record = records.get(scope, self.kind, name)
        return None if record is None else self._load(record)

    def create(self, records: RecordStore, scope: str, name: str, value: T) -> Versioned[T]:
        return self._load(records.create(scope, self.kind, name, self.encode(value)))

    def put(
        self,
        records: RecordStore,
        scope: str,
        name: str,
        value: T,
        *,
        expected_version: int | None = None,
    ) -> Versioned[T]:
        record = records.put(
            scope, self.kind, name, self.encode(value), expected_version=expected_version
        )
        return self._load(record)

    def delete(self, records: RecordStore, scope: str, name: str) -> bool:
        return records.delete(scope, self.kind, name)

    def list(
        self,
        records: RecordStore,
        scope: str,
        *,
        prefix: str = "",
        after: str | None = None,
        limit: int | None = None,
    ) -> list[Versioned[T]]:
        found = records.list(scope, self.kind, prefix=prefix, after=after, limit=limit)
        return [self._load(record) for record in found]

    def _load(self, record: Record) -> Versioned[T]:
        return Versioned(record.name, self.decode(record.value), record.version)
