"""The SQLite backend's own promises: where the file lives, its settings, its migrations."""

from __future__ import annotations

import sqlite3
import stat
import threading
from pathlib import Path

import pytest

from portico.store import ManualClock, StoreError
from portico.store.sqlite import MIGRATIONS, SqliteDatabase, SqliteQueue, open_database

EXTRA = "CREATE TABLE extra (a TEXT); INSERT INTO extra VALUES ('x;y');"
CURRENT = list(range(1, len(MIGRATIONS) + 1))  # the versions this Portico applies


def versions(path: Path) -> list[int]:
    with sqlite3.connect(path) as raw:
        rows = raw.execute("SELECT version FROM schema_version ORDER BY version").fetchall()
    raw.close()
    return [row[0] for row in rows]


class _Event:
    def __init__(self, timestamp: int, message: str) -> None:
        self.timestamp, self.message = timestamp, message


def tables(path: Path) -> set[str]:
    with sqlite3.connect(path) as raw:
        rows = raw.execute("SELECT name FROM sqlite_master WHERE type = 'table'").fetchall()
    raw.close()
    return {row[0] for row in rows}


def test_the_database_lives_in_the_data_dir_readable_by_its_owner_only(tmp_path: Path) -> None:
    with open_database(tmp_path / "data") as db:
        assert db.path == tmp_path / "data" / "portico.db"
        assert stat.S_IMODE(db.path.stat().st_mode) == 0o600


def test_durability_settings(tmp_path: Path) -> None:
    with open_database(tmp_path) as db, db.writing() as session:
        pragma = session.connection.execute
        assert pragma("PRAGMA journal_mode").fetchone() == ("wal",)
        assert pragma("PRAGMA synchronous").fetchone() == (2,)  # FULL
        assert pragma("PRAGMA foreign_keys").fetchone() == (1,)
        assert pragma("PRAGMA busy_timeout").fetchone() == (5000,)
    with open_database(tmp_path, synchronous="NORMAL") as db, db.writing() as session:
        assert session.connection.execute("PRAGMA synchronous").fetchone() == (1,)
    with pytest.raises(ValueError, match="synchronous"):
        SqliteDatabase(tmp_path / "x.db", synchronous="OFF")  # type: ignore[arg-type]


def test_migrations_apply_once_and_in_order(tmp_path: Path) -> None:
    path = tmp_path / "portico.db"
    SqliteDatabase(path).close()
    SqliteDatabase(path).close()
    assert versions(path) == CURRENT
    assert {"records", "log_events", "queue_messages"} <= tables(path)

    with SqliteDatabase(path, migrations=(*MIGRATIONS, EXTRA)) as db, db.snapshot() as tx:
        assert tx.records.count("s", "k") == 0
    SqliteDatabase(path, migrations=(*MIGRATIONS, EXTRA)).close()
    assert versions(path) == [*CURRENT, len(CURRENT) + 1]
    with sqlite3.connect(path) as raw:
        assert raw.execute("SELECT a FROM extra").fetchall() == [("x;y",)]
    raw.close()


def test_log_events_keep_their_positions_when_groups_and_streams_become_numbers(
    tmp_path: Path,
) -> None:
    path = tmp_path / "portico.db"
    SqliteDatabase(path, migrations=MIGRATIONS[:1]).close()  # the text-keyed table
    with sqlite3.connect(path) as raw:
        raw.executemany(
            "INSERT INTO log_events (log_group, log_stream, timestamp, ingestion_time, message)"
            " VALUES (?, ?, ?, ?, ?)",
            [
                ("g", "s1", 10, 100, "a"),
                ("g", "s2", 20, 100, "b"),
                ("h", "s1", 15, 100, "c"),
                ("g", "s1", 30, 100, "gone"),
            ],
        )
        raw.execute("DELETE FROM log_events WHERE message = 'gone'")  # its position: never again
    raw.close()

    with SqliteDatabase(path) as db:
        with db.snapshot() as tx:
            g = tx.log_events.query("g")
            assert [(e.position, e.stream, e.message) for e in g] == [
                (1, "s1", "a"),
                (2, "s2", "b"),
            ]
            assert [e.message for e in tx.log_events.query("h", streams=["s1"])] == ["c"]
        with db.transaction() as tx:
            tx.log_events.append("g", "s1", [_Event(40, "new")], ingestion_time=200)
        with db.snapshot() as tx:
            [new] = tx.log_events.query("g", streams=["s1"], start=40)
            assert (new.position, new.message) == (5, "new")
    assert versions(path) == CURRENT


def test_a_failing_migration_changes_nothing(tmp_path: Path) -> None:
    path = tmp_path / "portico.db"
    SqliteDatabase(path).close()
    broken = "CREATE TABLE half (a TEXT); INSERT INTO missing VALUES (1);"
    with pytest.raises(StoreError, match="missing"):
        SqliteDatabase(path, migrations=(*MIGRATIONS, broken))
    assert versions(path) == CURRENT
    assert "half" not in tables(path)


def test_a_newer_schema_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "portico.db"
    SqliteDatabase(path, migrations=(*MIGRATIONS, EXTRA)).close()
    with pytest.raises(StoreError, match=f"schema version {len(CURRENT) + 1}"):
        SqliteDatabase(path)


def test_processes_opening_a_fresh_file_together_migrate_it_once(tmp_path: Path) -> None:
    path = tmp_path / "portico.db"
    errors: list[BaseException] = []

    def open_and_close() -> None:
        try:
            SqliteDatabase(path).close()
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=open_and_close) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert versions(path) == CURRENT


def test_a_corrupt_file_is_a_store_error(tmp_path: Path) -> None:
    path = tmp_path / "portico.db"
    path.write_bytes(b"this is not a database" * 100)
    with pytest.raises(StoreError) as raised:
        SqliteDatabase(path)
    assert isinstance(raised.value.__cause__, sqlite3.Error)


def test_another_process_holding_the_write_lock_is_a_store_error(tmp_path: Path) -> None:
    path = tmp_path / "portico.db"
    with SqliteDatabase(path, busy_timeout=0.05) as db:
        other = sqlite3.connect(path, isolation_level=None)
        other.execute("BEGIN IMMEDIATE")
        try:
            with pytest.raises(StoreError, match="locked"), db.transaction() as tx:
                tx.records.put("s", "k", "n", {})
            with pytest.raises(StoreError, match="locked"):
                SqliteQueue(db).enqueue("q", b"x")
        finally:
            other.execute("ROLLBACK")
            other.close()
        with db.transaction() as tx:  # and the database works on afterwards
            tx.records.put("s", "k", "n", {})


def test_a_writer_that_never_finishes_times_out_others(tmp_path: Path) -> None:
    with SqliteDatabase(tmp_path / "portico.db", busy_timeout=0.05) as db:
        holding, release = threading.Event(), threading.Event()

        def hold() -> None:
            with db.transaction():
                holding.set()
                release.wait(10)

        holder = threading.Thread(target=hold)
        holder.start()
        holding.wait(10)
        try:
            with pytest.raises(StoreError, match="busy"), db.transaction():
                pass
            with db.snapshot() as tx:  # readers are not held up
                assert tx.records.count("s", "k") == 0
        finally:
            release.set()
            holder.join()


def test_timestamps_come_from_the_clock(tmp_path: Path) -> None:
    clock = ManualClock(1234.5)
    with open_database(tmp_path, clock=clock) as db:
        with db.transaction() as tx:
            record = tx.records.put("s", "k", "n", {})
        assert (record.created_at, record.updated_at) == (1234.5, 1234.5)


def test_a_progress_handler_runs_while_the_database_writes(tmp_path: Path) -> None:
    calls: list[int] = []

    def progress() -> int:
        calls.append(1)
        return 0  # go on

    with SqliteDatabase(tmp_path / "db.sqlite") as db:
        db.on_progress(progress, 1_000)
        with db.writing() as session:
            session.connection.execute("CREATE TABLE t (n INTEGER)")
            session.connection.executemany("INSERT INTO t VALUES (?)", [(n,) for n in range(2000)])
        assert len(calls) > 10
        db.on_progress(None, 1_000)
        before = len(calls)
        with db.writing() as session:
            session.connection.executemany("INSERT INTO t VALUES (?)", [(n,) for n in range(2000)])
        assert len(calls) == before
