"""What every `DurableQueue` backend does: leases, retries, delays, dead letters, depth."""

from __future__ import annotations

import threading

import pytest

from portico.store import (
    Backoff,
    DurableQueue,
    FailOutcome,
    ManualClock,
    QueueDepth,
)
from tests.functional.store.backends import Backend

Q = "lambda-async"
LEASE = 30.0


def claim_one(queue: DurableQueue, lease: float = LEASE) -> tuple[bytes, int, str] | None:
    claimed = queue.claim(Q, lease)
    if not claimed:
        return None
    (message,) = claimed
    return message.payload, message.attempts, message.receipt


def test_claim_returns_messages_oldest_first(queue: DurableQueue, clock: ManualClock) -> None:
    ids = []
    for payload in [b"a", b"b", b"c", b"d"]:
        ids.append(queue.enqueue(Q, payload))
        clock.advance(0.001)
    queue.enqueue("another-queue", b"x")

    first = queue.claim(Q, LEASE, limit=3)
    second = queue.claim(Q, LEASE, limit=3)

    assert [m.payload for m in first] == [b"a", b"b", b"c"]
    assert [m.id for m in first] == ids[:3]
    assert [m.payload for m in second] == [b"d"]
    assert queue.claim(Q, LEASE) == []
    message = first[0]
    assert (message.queue, message.attempts) == (Q, 1)
    assert message.lease_expires_at == clock.now() + LEASE
    assert message.enqueued_at == pytest.approx(clock.now() - 0.004)


def test_same_moment_messages_keep_enqueue_order(queue: DurableQueue) -> None:
    for index in range(20):
        queue.enqueue(Q, str(index).encode())
    assert [m.payload for m in queue.claim(Q, LEASE, limit=20)] == [
        str(i).encode() for i in range(20)
    ]


def test_an_expired_lease_makes_the_message_visible_again(
    queue: DurableQueue, clock: ManualClock
) -> None:
    queue.enqueue(Q, b"job")
    first = claim_one(queue)
    clock.advance(LEASE - 0.001)
    assert claim_one(queue) is None
    clock.advance(0.001)
    second = claim_one(queue)

    assert first is not None and second is not None
    assert (first[:2], second[:2]) == ((b"job", 1), (b"job", 2))
    assert first[2] != second[2]
    assert not queue.ack(first[2]), "a stale receipt acks nothing"
    assert queue.depth(Q).in_flight == 1
    assert queue.ack(second[2])
    assert queue.depth(Q) == QueueDepth(0, 0, 0, 0)


def test_ack_removes_for_good(queue: DurableQueue, clock: ManualClock) -> None:
    queue.enqueue(Q, b"job")
    claimed = claim_one(queue)
    assert claimed is not None
    assert queue.ack(claimed[2])
    assert not queue.ack(claimed[2])
    clock.advance(LEASE * 10)
    assert claim_one(queue) is None
    assert queue.next_visible_at(Q) is None


def test_an_expired_lease_can_still_ack_until_someone_else_claims(
    queue: DurableQueue, clock: ManualClock
) -> None:
    queue.enqueue(Q, b"job")
    claimed = claim_one(queue)
    assert claimed is not None
    clock.advance(LEASE * 2)
    assert queue.ack(claimed[2])
    assert claim_one(queue) is None


def test_delayed_messages_wait(queue: DurableQueue, clock: ManualClock) -> None:
    queue.enqueue(Q, b"later", delay_seconds=10)
    queue.enqueue(Q, b"now")

    assert queue.depth(Q) == QueueDepth(ready=1, delayed=1, in_flight=0, dead=0)
    assert [m.payload for m in queue.claim(Q, LEASE, limit=5)] == [b"now"]
    assert queue.next_visible_at(Q) == clock.now() + 10
    clock.advance(9.999)
    assert queue.claim(Q, LEASE) == []
    clock.advance(0.001)
    assert [m.payload for m in queue.claim(Q, LEASE)] == [b"later"]


def test_release_returns_a_message_after_a_delay(queue: DurableQueue, clock: ManualClock) -> None:
    queue.enqueue(Q, b"job")
    claimed = claim_one(queue)
    assert claimed is not None
    assert queue.release(claimed[2], delay_seconds=5)
    assert not queue.release(claimed[2]), "release ends the lease"
    assert queue.depth(Q) == QueueDepth(ready=0, delayed=1, in_flight=0, dead=0)
    clock.advance(4.999)
    assert claim_one(queue) is None
    clock.advance(0.001)
    again = claim_one(queue)
    assert again is not None and again[:2] == (b"job", 2)


def test_extend_keeps_the_lease(queue: DurableQueue, clock: ManualClock) -> None:
    queue.enqueue(Q, b"job")
    claimed = claim_one(queue)
    assert claimed is not None
    clock.advance(LEASE - 1)
    assert queue.extend(claimed[2], LEASE)
    clock.advance(LEASE - 1)
    assert claim_one(queue) is None
    assert queue.ack(claimed[2])
    assert not queue.extend(claimed[2], LEASE)


def test_fail_retries_with_backoff_then_dead_letters(
    queue: DurableQueue, clock: ManualClock
) -> None:
    backoff = Backoff(initial=60, factor=2, maximum=100)
    message_id = queue.enqueue(Q, b"job")
    outcomes, delays = [], []
    for _ in range(3):
        claimed = claim_one(queue)
        assert claimed is not None
        outcomes.append(queue.fail(claimed[2], "boom", max_attempts=3, backoff=backoff))
        if outcomes[-1] is FailOutcome.RETRY:
            delay = queue.next_visible_at(Q)
            assert delay is not None
            delays.append(delay - clock.now())
            clock.advance(delays[-1])
        assert queue.fail(claimed[2], "again", max_attempts=3) is FailOutcome.STALE

    assert outcomes == [FailOutcome.RETRY, FailOutcome.RETRY, FailOutcome.DEAD]
    assert delays == [60, 100]
    assert claim_one(queue) is None
    assert queue.depth(Q) == QueueDepth(0, 0, 0, dead=1)
    (dead,) = queue.dead_letters(Q)
    assert (dead.id, dead.payload, dead.attempts, dead.error) == (message_id, b"job", 3, "boom")
    assert dead.dead_at == clock.now()


def test_dead_letter_now(queue: DurableQueue, clock: ManualClock) -> None:
    queue.enqueue(Q, b"poison")
    claimed = claim_one(queue)
    assert claimed is not None
    assert queue.dead_letter(claimed[2], "Function not found")
    assert not queue.dead_letter(claimed[2], "twice")
    assert not queue.ack(claimed[2])
    clock.advance(LEASE * 2)
    assert claim_one(queue) is None
    assert [d.error for d in queue.dead_letters(Q)] == ["Function not found"]


def test_a_message_id_is_enqueued_once_while_queued(queue: DurableQueue) -> None:
    first = queue.enqueue(Q, b"one", message_id="req-1")
    second = queue.enqueue(Q, b"two", message_id="req-1")
    assert first == second == "req-1"
    assert queue.depth(Q).ready == 1
    assert [m.payload for m in queue.claim(Q, LEASE, limit=5)] == [b"one"]


def test_depth_counts_each_state(queue: DurableQueue, clock: ManualClock) -> None:
    for payload in [b"a", b"b", b"c", b"d"]:
        queue.enqueue(Q, payload)
    queue.enqueue(Q, b"e", delay_seconds=60)
    _leased, doomed = queue.claim(Q, LEASE, limit=2)
    queue.dead_letter(doomed.receipt, "x")

    assert queue.depth(Q) == QueueDepth(ready=2, delayed=1, in_flight=1, dead=1)
    assert queue.depth(Q).pending == 4
    assert queue.depth("empty") == QueueDepth(0, 0, 0, 0)
    clock.advance(LEASE)
    assert queue.depth(Q) == QueueDepth(ready=3, delayed=1, in_flight=0, dead=1)


def test_purge_empties_one_queue(queue: DurableQueue) -> None:
    queue.enqueue(Q, b"a")
    queue.enqueue(Q, b"b")
    queue.enqueue("keep", b"c")
    assert queue.purge(Q) == 2
    assert queue.depth(Q).pending == 0
    assert queue.depth("keep").pending == 1


def test_bad_arguments_are_refused(queue: DurableQueue) -> None:
    with pytest.raises(ValueError, match="delay_seconds"):
        queue.enqueue(Q, b"x", delay_seconds=-1)
    with pytest.raises(ValueError, match="delay_seconds"):
        queue.enqueue(Q, b"x", delay_seconds=float("nan"))
    with pytest.raises(ValueError, match="payload"):
        queue.enqueue(Q, "text")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="lease_seconds"):
        queue.claim(Q, 0)
    with pytest.raises(ValueError, match="limit"):
        queue.claim(Q, LEASE, limit=0)
    with pytest.raises(ValueError, match="receipt"):
        queue.ack("not-a-receipt")
    with pytest.raises(ValueError, match="max_attempts"):
        queue.fail("0" * 40, "x", max_attempts=0)
    assert queue.depth(Q).pending == 0


def test_concurrent_workers_never_share_a_message(queue: DurableQueue) -> None:
    for index in range(200):
        queue.enqueue(Q, str(index).encode())
    taken: list[list[bytes]] = [[] for _ in range(6)]

    def work(mine: list[bytes]) -> None:
        while batch := queue.claim(Q, LEASE, limit=3):
            for message in batch:
                mine.append(message.payload)
                assert queue.ack(message.receipt)

    threads = [threading.Thread(target=work, args=(mine,)) for mine in taken]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    everything = [payload for mine in taken for payload in mine]
    assert sorted(everything) == sorted(str(i).encode() for i in range(200))
    assert queue.depth(Q).pending == 0


def test_messages_survive_reopening(backend: Backend, clock: ManualClock) -> None:
    first = backend.open(clock)
    first.queue.enqueue(Q, b"leased")
    (leased,) = first.queue.claim(Q, LEASE)
    first.queue.enqueue(Q, b"queued")
    first.database.close()

    again = backend.open(clock)
    assert [m.payload for m in again.queue.claim(Q, LEASE, limit=5)] == [b"queued"]
    clock.advance(LEASE)
    (redelivered,) = again.queue.claim(Q, LEASE)
    assert (redelivered.payload, redelivered.attempts) == (b"leased", 2)
    assert not again.queue.ack(leased.receipt)
