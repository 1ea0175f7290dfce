"""`kill -9` of a process using the SQLite store loses nothing it acknowledged."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from portico.store import ManualClock
from portico.store.sqlite import SqliteDatabase, SqliteQueue, open_database

Q = "lambda-async"

# The child reports each acknowledgement on stdout, then carries on (or waits) until killed.
CHILD = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    from portico.store.sqlite import SqliteQueue, open_database

    queue = SqliteQueue(open_database(Path(sys.argv[1])))
    mode = sys.argv[2]
    if mode == "stream":
        index = 0
        while True:
            print(queue.enqueue("lambda-async", b"event-%d" % index), flush=True)
            index += 1
    elif mode == "one":
        print(queue.enqueue("lambda-async", b"the-event"), flush=True)
    elif mode == "work":
        queue.enqueue("lambda-async", b"done")
        queue.enqueue("lambda-async", b"in-progress")
        done, in_progress = queue.claim("lambda-async", 60.0, limit=2)
        queue.ack(done.receipt)
        print("acked", flush=True)
    time.sleep(60)
    """
)


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    return tmp_path / "data"


def run_child(data_dir: Path, mode: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-c", CHILD, str(data_dir), mode],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def kill(child: subprocess.Popen[str]) -> None:
    os.kill(child.pid, signal.SIGKILL)
    assert child.wait(timeout=10) == -signal.SIGKILL
    assert child.stdout is not None and child.stderr is not None
    child.stdout.close()
    child.stderr.close()


def lines(child: subprocess.Popen[str]) -> Iterator[str]:
    assert child.stdout is not None
    for line in child.stdout:
        yield line.strip()
    assert child.stderr is not None
    pytest.fail(f"the child exited: {child.stderr.read()}")


@pytest.fixture
def reopen(data_dir: Path) -> Iterator[Callable[[], SqliteQueue]]:
    opened: list[SqliteDatabase] = []

    def open_queue() -> SqliteQueue:
        # Far enough ahead that any lease the child took has expired.
        opened.append(open_database(data_dir, clock=ManualClock(time.time() + 3600)))
        return SqliteQueue(opened[-1])

    yield open_queue
    for database in opened:
        database.close()


def test_an_enqueue_that_returned_survives_kill_9(
    data_dir: Path, reopen: Callable[[], SqliteQueue]
) -> None:
    child = run_child(data_dir, "one")
    message_id = next(lines(child))
    kill(child)

    queue = reopen()
    (message,) = queue.claim(Q, 30.0, limit=10)
    assert (message.id, message.payload, message.attempts) == (message_id, b"the-event", 1)


def test_kill_9_during_a_stream_of_enqueues_loses_no_acknowledged_one(
    data_dir: Path, reopen: Callable[[], SqliteQueue]
) -> None:
    child = run_child(data_dir, "stream")
    acknowledged = []
    for line in lines(child):
        acknowledged.append(line)
        if len(acknowledged) == 200:
            break
    kill(child)  # most likely in the middle of the next enqueue

    found = reopen().claim(Q, 30.0, limit=100_000)
    assert set(acknowledged) <= {message.id for message in found}
    # Commits are whole and in order: what survived is a prefix of what was sent, no gaps.
    assert [m.payload for m in found] == [b"event-%d" % i for i in range(len(found))]


def test_kill_9_keeps_acks_and_redelivers_what_was_in_progress(
    data_dir: Path, reopen: Callable[[], SqliteQueue]
) -> None:
    child = run_child(data_dir, "work")
    assert next(lines(child)) == "acked"
    kill(child)

    queue = reopen()
    (message,) = queue.claim(Q, 30.0, limit=10)
    assert (message.payload, message.attempts) == (b"in-progress", 2)
    assert queue.depth(Q).pending == 1
