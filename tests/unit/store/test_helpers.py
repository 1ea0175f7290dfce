from __future__ import annotations

import pytest

from portico.store import Backoff, ManualClock
from portico.store.sqlite.records import prefix_upper_bound
from portico.store.sqlite.schema import split_statements


def test_split_statements_follows_sqlite() -> None:
    script = """
        -- a comment; with a semicolon
        CREATE TABLE t (a TEXT);  /* block; comment */
        INSERT INTO t VALUES ('semi;colon');
        CREATE TRIGGER tr AFTER INSERT ON t BEGIN
            UPDATE t SET a = 'x;'; DELETE FROM t WHERE a = 'y';
        END;
        SELECT 1
    """
    statements = split_statements(script)
    assert len(statements) == 4
    assert statements[0].endswith("CREATE TABLE t (a TEXT);")
    assert statements[1].startswith("/* block; comment */")
    assert statements[1].endswith("VALUES ('semi;colon');")
    assert statements[2].startswith("CREATE TRIGGER") and statements[2].endswith("END;")
    assert statements[3].startswith("SELECT 1") and statements[3].endswith(";")
    assert split_statements("  -- nothing\n ; ;") == []


@pytest.mark.parametrize(
    ("prefix", "bound"),
    [
        ("a", "b"),
        ("fn-", "fn."),
        ("a\U0010ffff", "b"),
        ("\U0010ffff", None),
        ("x\ud7ff", "x\ue000"),
    ],
)
def test_prefix_upper_bound(prefix: str, bound: str | None) -> None:
    assert prefix_upper_bound(prefix) == bound


def test_backoff_grows_to_its_maximum() -> None:
    backoff = Backoff(initial=1, factor=3, maximum=20)
    assert [backoff.delay(n) for n in range(0, 6)] == [1, 1, 3, 9, 20, 20]
    assert Backoff().delay(10_000) == 300


def test_manual_clock_moves_only_forward_when_told() -> None:
    clock = ManualClock(100.0)
    clock.advance(2.5)
    assert clock.now() == 102.5
    clock.set(50.0)
    assert clock.now() == 50.0
    with pytest.raises(ValueError, match="seconds"):
        clock.advance(-1)
