"""A durable work queue: at-least-once delivery with leases, for async invocations and retries.

    enqueue ──► ready ──claim──► leased ──ack──► (gone)
                  ▲                │
                  │    release / fail (backoff) / lease expires
                  └────────────────┤
                                   └─ dead_letter / fail (attempts used up) ──► dead

- `enqueue` returns only once the message is durable: an HTTP 202 sent after it survives
  `kill -9` (and, with the default settings, power loss).
- `claim` leases messages whose time has come, oldest first, and counts the attempt. A
  worker that dies holding a lease loses it when the lease expires; the message is then
  claimed again. So a message may be processed twice, never lost: handlers are idempotent
  (async invocations use the request id as `message_id`, and a second enqueue of the same
  id is a no-op while the first is queued).
- Every claim gets a fresh `receipt`. `ack`, `release`, `extend`, `fail` and `dead_letter`
  take it and do nothing (return False) once it is stale — after the lease expired and
  another worker claimed the message, or after an ack.
- A worker checks `Claimed.attempts` and `enqueued_at` against its own limits (Lambda's
  maximum retry attempts and event age) before working, so a message whose handler kills
  its worker every time still reaches the dead letters.

Time comes from an injected `Clock`; nothing here sleeps. Workers poll `claim` and may sleep
until `next_visible_at`.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True, slots=True)
class Claimed:
    id: str
    queue: str
    payload: bytes
    attempts: int  # claims so far, this one included
    enqueued_at: float
    lease_expires_at: float
    receipt: str  # proves this claim to ack / release / extend / fail


@dataclass(frozen=True, slots=True)
class DeadLetter:
    id: str
    queue: str
    payload: bytes
    attempts: int
    enqueued_at: float
    dead_at: float
    error: str


@dataclass(frozen=True, slots=True)
class QueueDepth:
    ready: int  # claimable now
    delayed: int  # waiting for a delay or a retry backoff
    in_flight: int  # leased to a worker
    dead: int

    @property
    def pending(self) -> int:
        """Messages that will still be delivered."""
        return self.ready + self.delayed + self.in_flight


@dataclass(frozen=True, slots=True)
class Backoff:
    """Exponential retry delays: `initial`, then times `factor` per attempt, up to `maximum`."""

    initial: float = 1.0
    factor: float = 2.0
    maximum: float = 300.0

    def delay(self, attempts: int) -> float:
        exponent = min(max(attempts - 1, 0), 64)
        return float(min(self.maximum, self.initial * self.factor**exponent))


DEFAULT_BACKOFF = Backoff()


class FailOutcome(enum.Enum):
    RETRY = "retry"  # released, visible again after the backoff
    DEAD = "dead"  # attempts used up: moved to the dead letters
    STALE = "stale"  # the receipt no longer holds the message; nothing changed


class DurableQueue(Protocol):
    def enqueue(
        self,
        queue: str,
        payload: bytes,
        *,
        delay_seconds: float = 0.0,
        message_id: str | None = None,
    ) -> str:
        """Store a message durably and return its id (`message_id` when given; enqueueing
        an id that is still queued changes nothing)."""
        ...

    def claim(self, queue: str, lease_seconds: float, limit: int = 1) -> list[Claimed]:
        """Lease up to `limit` visible messages, oldest first, for `lease_seconds`."""
        ...

    def ack(self, receipt: str) -> bool:
        """Done: delete the message."""
        ...

    def release(self, receipt: str, delay_seconds: float = 0.0) -> bool:
        """Give the message back, visible again after `delay_seconds`."""
        ...

    def extend(self, receipt: str, lease_seconds: float) -> bool:
        """Keep the lease for `lease_seconds` from now (a heartbeat for long work)."""
        ...

    def fail(
        self, receipt: str, error: str, *, max_attempts: int, backoff: Backoff = DEFAULT_BACKOFF
    ) -> FailOutcome:
        """Retry after `backoff.delay(attempts)`, or dead-letter once `max_attempts` are used."""
        ...

    def dead_letter(self, receipt: str, error: str) -> bool:
        """Give up on the message now; it is kept with `error` among the dead letters."""
        ...

    def dead_letters(self, queue: str, *, limit: int = 100) -> list[DeadLetter]: ...

    def purge(self, queue: str) -> int:
        """Delete every message of `queue`, dead ones too; return how many."""
        ...

    def depth(self, queue: str) -> QueueDepth: ...

    def next_visible_at(self, queue: str) -> float | None:
        """When the earliest live message is (or became) claimable; None when there is none."""
        ...
