"""What every `Database` backend does: records, transactions, snapshots, log events."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any

import pytest

from portico.store import (
    Database,
    LogCursor,
    ManualClock,
    RecordConflict,
    RecordExists,
    RecordKind,
    StoreError,
    Transaction,
)
from tests.functional.store.backends import Backend

SCOPE = "lambda:000000000000:us-east-1"
FN = "lambda.function"


class Boom(Exception):
    pass


def put_function(db: Database, name: str, **value: Any) -> None:
    with db.transaction() as tx:
        tx.records.put(SCOPE, FN, name, value)


# records


def test_create_get_and_versions(db: Database, clock: ManualClock) -> None:
    with db.transaction() as tx:
        created = tx.records.create(SCOPE, FN, "fn", {"Runtime": "python3.12", "Memory": 128})
    clock.advance(5)
    with db.transaction() as tx:
        updated = tx.records.put(SCOPE, FN, "fn", {"Runtime": "python3.13"})
    with db.snapshot() as tx:
        found = tx.records.get(SCOPE, FN, "fn")
        missing = tx.records.get(SCOPE, FN, "other")

    assert created.version == 1 and created.value == {"Runtime": "python3.12", "Memory": 128}
    assert found == updated
    assert (updated.version, updated.value) == (2, {"Runtime": "python3.13"})
    assert updated.created_at == created.created_at == clock.now() - 5
    assert updated.updated_at == clock.now()
    assert missing is None


def test_create_refuses_a_taken_name(db: Database) -> None:
    put_function(db, "fn", Memory=128)
    with pytest.raises(RecordExists), db.transaction() as tx:
        tx.records.create(SCOPE, FN, "fn", {"Memory": 256})
    with db.snapshot() as tx:
        assert tx.records.get(SCOPE, FN, "fn").value == {"Memory": 128}  # type: ignore[union-attr]


def test_conditional_put_and_delete(db: Database) -> None:
    with db.transaction() as tx:
        first = tx.records.create(SCOPE, FN, "fn", {"RevisionId": "a"})
        second = tx.records.put(SCOPE, FN, "fn", {"RevisionId": "b"}, expected_version=1)
        with pytest.raises(RecordConflict):
            tx.records.put(SCOPE, FN, "fn", {"RevisionId": "c"}, expected_version=first.version)
        with pytest.raises(RecordConflict):
            tx.records.put(SCOPE, FN, "absent", {"RevisionId": "c"}, expected_version=1)
        with pytest.raises(RecordConflict):
            tx.records.delete(SCOPE, FN, "fn", expected_version=1)
        assert tx.records.delete(SCOPE, FN, "fn", expected_version=second.version)
        assert not tx.records.delete(SCOPE, FN, "fn", expected_version=second.version)
        assert not tx.records.delete(SCOPE, FN, "fn")
    assert second.version == 2


def test_list_orders_by_name_and_pages(db: Database) -> None:
    with db.transaction() as tx:
        for name in ["b", "a", "c", "ab", "d"]:
            tx.records.put(SCOPE, FN, name, {"Name": name})
        tx.records.put(SCOPE, "lambda.alias", "aa", {})
        tx.records.put("elsewhere", FN, "aa", {})
    with db.snapshot() as tx:
        names = [r.name for r in tx.records.list(SCOPE, FN)]
        page1 = [r.name for r in tx.records.list(SCOPE, FN, limit=2)]
        page2 = [r.name for r in tx.records.list(SCOPE, FN, after=page1[-1], limit=2)]
        page3 = [r.name for r in tx.records.list(SCOPE, FN, after=page2[-1], limit=2)]
        prefixed = [r.name for r in tx.records.list(SCOPE, FN, prefix="a")]
        count = tx.records.count(SCOPE, FN)
    assert names == ["a", "ab", "b", "c", "d"]
    assert (page1, page2, page3) == (["a", "ab"], ["b", "c"], ["d"])
    assert prefixed == ["a", "ab"]
    assert count == 5


def test_prefix_listing_is_exact_at_unicode_edges(db: Database) -> None:
    names = ["a", "a\U0010ffff", "a\U0010ffffz", "b", "\ud7ffx", "\ue000", "é", "éa", "f"]
    with db.transaction() as tx:
        for name in names:
            tx.records.put(SCOPE, FN, name, {})
    with db.snapshot() as tx:
        assert [r.name for r in tx.records.list(SCOPE, FN, prefix="a")] == [
            "a",
            "a\U0010ffff",
            "a\U0010ffffz",
        ]
        assert [r.name for r in tx.records.list(SCOPE, FN, prefix="a\U0010ffff")] == [
            "a\U0010ffff",
            "a\U0010ffffz",
        ]
        assert [r.name for r in tx.records.list(SCOPE, FN, prefix="\ud7ff")] == ["\ud7ffx"]
        assert [r.name for r in tx.records.list(SCOPE, FN, prefix="é")] == ["é", "éa"]


def test_delete_scope_takes_every_kind_or_the_named_ones(db: Database) -> None:
    arn = "arn:aws:lambda:us-east-1:000000000000:function:fn"
    with db.transaction() as tx:
        for kind in ["lambda.version", "lambda.alias", "lambda.policy"]:
            tx.records.put(arn, kind, "1", {})
            tx.records.put(arn, kind, "2", {})
        tx.records.put("other-arn", "lambda.version", "1", {})
    with db.transaction() as tx:
        assert tx.records.delete_scope(arn, kinds=["lambda.policy"]) == 2
        assert tx.records.delete_scope(arn, kinds=[]) == 0
        assert tx.records.delete_scope(arn) == 4
    with db.snapshot() as tx:
        assert tx.records.count(arn, "lambda.version") == 0
        assert tx.records.count("other-arn", "lambda.version") == 1


def test_values_must_be_json_objects(db: Database) -> None:
    with db.transaction() as tx:
        with pytest.raises(ValueError, match="JSON object"):
            tx.records.put(SCOPE, FN, "fn", ["not", "an", "object"])  # type: ignore[arg-type]
        with pytest.raises(ValueError, match="JSON object"):
            tx.records.put(SCOPE, FN, "fn", {"x": float("nan")})
        with pytest.raises(ValueError, match="JSON object"):
            tx.records.put(SCOPE, FN, "fn", {"x": object()})
        stored = tx.records.put(SCOPE, FN, "fn", {"nested": {"list": [1, "ü", None, True]}})
    assert stored.value == {"nested": {"list": [1, "ü", None, True]}}


@dataclass(frozen=True)
class Alias:
    name: str
    function_version: str

    def to_json(self) -> dict[str, Any]:
        return {"Name": self.name, "FunctionVersion": self.function_version}

    @classmethod
    def from_json(cls, value: dict[str, Any]) -> Alias:
        return cls(value["Name"], value["FunctionVersion"])


ALIASES = RecordKind("lambda.alias", Alias.to_json, Alias.from_json)


def test_record_kind_reads_and_writes_models(db: Database) -> None:
    with db.transaction() as tx:
        created = ALIASES.create(tx.records, "fn-arn", "live", Alias("live", "1"))
        moved = ALIASES.put(
            tx.records, "fn-arn", "live", Alias("live", "2"), expected_version=created.version
        )
        ALIASES.put(tx.records, "fn-arn", "beta", Alias("beta", "3"))
    with db.snapshot() as tx:
        assert ALIASES.get(tx.records, "fn-arn", "live") == moved
        assert [a.value for a in ALIASES.list(tx.records, "fn-arn")] == [
            Alias("beta", "3"),
            Alias("live", "2"),
        ]
    assert (moved.name, moved.value, moved.version) == ("live", Alias("live", "2"), 2)


# transactions


def test_a_raising_block_rolls_back_and_its_exception_goes_on(db: Database) -> None:
    put_function(db, "kept", Memory=128)
    with pytest.raises(Boom), db.transaction() as tx:
        tx.records.put(SCOPE, FN, "kept", {"Memory": 1024})
        tx.records.put(SCOPE, FN, "new", {})
        tx.log_events.append("g", "s", [_Event(1, "x")], ingestion_time=1)
        raise Boom
    with db.snapshot() as tx:
        assert tx.records.get(SCOPE, FN, "kept").value == {"Memory": 128}  # type: ignore[union-attr]
        assert tx.records.get(SCOPE, FN, "new") is None
        assert tx.log_events.query("g") == []


def test_committed_data_survives_reopening(backend: Backend, clock: ManualClock) -> None:
    first = backend.open(clock)
    put_function(first.database, "fn", Memory=512)
    with pytest.raises(Boom), first.database.transaction() as tx:
        tx.records.put(SCOPE, FN, "uncommitted", {})
        raise Boom
    first.database.close()

    again = backend.open(clock)
    with again.database.snapshot() as tx:
        assert tx.records.get(SCOPE, FN, "fn").value == {"Memory": 512}  # type: ignore[union-attr]
        assert tx.records.get(SCOPE, FN, "uncommitted") is None


def test_transactions_are_serialisable(db: Database) -> None:
    """Read-modify-write in concurrent transactions loses no update."""
    put_function(db, "counter", n=0)

    def increment() -> None:
        for _ in range(25):
            with db.transaction() as tx:
                record = tx.records.get(SCOPE, FN, "counter")
                assert record is not None
                tx.records.put(SCOPE, FN, "counter", {"n": record.value["n"] + 1})

    threads = [threading.Thread(target=increment) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    with db.snapshot() as tx:
        assert tx.records.get(SCOPE, FN, "counter").value == {"n": 200}  # type: ignore[union-attr]


def test_a_snapshot_sees_one_moment(db: Database) -> None:
    put_function(db, "a", v=1)
    put_function(db, "b", v=1)

    def write_both() -> None:
        put_function(db, "a", v=2)
        put_function(db, "b", v=2)

    with db.snapshot() as tx:
        before = tx.records.get(SCOPE, FN, "a")
        writer = threading.Thread(target=write_both)
        writer.start()
        writer.join()
        after = tx.records.get(SCOPE, FN, "b")
    assert before is not None and after is not None
    assert (before.value, after.value) == ({"v": 1}, {"v": 1})
    with db.snapshot() as tx:
        assert tx.records.get(SCOPE, FN, "b").value == {"v": 2}  # type: ignore[union-attr]


def test_a_snapshot_is_read_only(db: Database) -> None:
    with pytest.raises(StoreError), db.snapshot() as tx:
        tx.records.put(SCOPE, FN, "fn", {})
    with db.snapshot() as tx:
        assert tx.records.get(SCOPE, FN, "fn") is None


def test_a_transaction_handle_dies_with_its_block(db: Database) -> None:
    with db.transaction() as tx:
        leaked: Transaction = tx
    with pytest.raises(StoreError):
        leaked.records.put(SCOPE, FN, "fn", {})
    with db.snapshot() as tx:
        leaked = tx
    with pytest.raises(StoreError):
        leaked.records.get(SCOPE, FN, "fn")


def test_transactions_do_not_nest(db: Database) -> None:
    with db.transaction(), pytest.raises(StoreError, match="nest"), db.transaction():
        pass


def test_a_closed_database_refuses_work(db: Database) -> None:
    db.close()
    with pytest.raises(StoreError), db.transaction():
        pass
    with pytest.raises(StoreError), db.snapshot():
        pass
    db.close()  # twice is fine


# log events


@dataclass(frozen=True)
class _Event:
    timestamp: int
    message: str


def test_log_events_by_stream_and_time(db: Database) -> None:
    with db.transaction() as tx:
        tx.log_events.append("g", "s1", [_Event(10, "a"), _Event(30, "c")], ingestion_time=100)
        tx.log_events.append("g", "s2", [_Event(20, "b"), _Event(30, "d")], ingestion_time=101)
        tx.log_events.append("other", "s1", [_Event(15, "z")], ingestion_time=102)
    with db.snapshot() as tx:
        everything = tx.log_events.query("g")
        s1 = tx.log_events.query("g", streams=["s1"])
        window = tx.log_events.query("g", start=20, end=30)
        newest_first = tx.log_events.query("g", descending=True, limit=3)
        none = tx.log_events.query("g", streams=[])

    assert [(e.message, e.stream, e.timestamp) for e in everything] == [
        ("a", "s1", 10),
        ("b", "s2", 20),
        ("c", "s1", 30),
        ("d", "s2", 30),  # same millisecond: append order
    ]
    assert [e.ingestion_time for e in everything] == [100, 101, 100, 101]
    assert [e.message for e in s1] == ["a", "c"]
    assert [e.message for e in window] == ["b"]
    assert [e.message for e in newest_first] == ["d", "c", "b"]
    assert none == []


@pytest.mark.parametrize("count", [0, 1, 7, 8, 9, 64, 585, 1200])
def test_log_events_of_several_streams_go_in_in_order(db: Database, count: int) -> None:
    # Counts around the sizes the SQLite backend inserts at once (512, 64, 8, then one by one).
    streams = [("g", "s1"), ("g", "s2"), ("h", "s1")]
    batches = [
        (group, stream, [_Event(i // 3, f"{group}/{stream}/{i}") for i in range(n, count, 3)])
        for n, (group, stream) in enumerate(streams)
    ]
    with db.transaction() as tx:
        stored = tx.log_events.append_streams(batches, ingestion_time=7)
    with db.snapshot() as tx:
        g = tx.log_events.query("g", limit=count + 1)
        g_s2 = tx.log_events.query("g", streams=["s2"], limit=count + 1)
        h = tx.log_events.query("h", limit=count + 1)

    assert stored == count
    expected_g = sorted(
        [(e.timestamp, 0, e.message) for e in batches[0][2]]
        + [(e.timestamp, 1, e.message) for e in batches[1][2]]
    )
    assert [(e.timestamp, e.message) for e in g] == [(t, m) for t, _order, m in expected_g]
    assert [e.message for e in g_s2] == [e.message for e in batches[1][2]]
    assert [(e.stream, e.message, e.ingestion_time) for e in h] == [
        ("s1", e.message, 7) for e in batches[2][2]
    ]


@pytest.mark.parametrize("descending", [False, True])
def test_log_event_pages_resume_at_the_cursor(db: Database, descending: bool) -> None:
    with db.transaction() as tx:
        events = [_Event(t, f"m{i}") for i, t in enumerate([1, 1, 1, 2, 2, 3, 5, 5])]
        tx.log_events.append("g", "s", events, ingestion_time=9)
    seen: list[str] = []
    cursor: LogCursor | None = None
    with db.snapshot() as tx:
        while page := tx.log_events.query("g", after=cursor, limit=3, descending=descending):
            seen += [e.message for e in page]
            cursor = page[-1].cursor
    expected = [f"m{i}" for i in range(8)]
    assert seen == (expected[::-1] if descending else expected)


def test_log_events_delete_by_stream_group_and_age(db: Database) -> None:
    with db.transaction() as tx:
        tx.log_events.append("g", "s1", [_Event(1, "a"), _Event(5, "b")], ingestion_time=9)
        tx.log_events.append("g", "s2", [_Event(2, "c"), _Event(6, "d")], ingestion_time=9)
        tx.log_events.append("h", "s1", [_Event(1, "e")], ingestion_time=9)
    with db.transaction() as tx:
        assert tx.log_events.delete_before("g", 5) == 2
        assert [e.message for e in tx.log_events.query("g")] == ["b", "d"]
        assert tx.log_events.delete("g", stream="s1") == 1
        assert [e.message for e in tx.log_events.query("g")] == ["d"]
        assert tx.log_events.delete("g") == 1
        assert tx.log_events.query("g") == []
        assert [e.message for e in tx.log_events.query("h")] == ["e"]
