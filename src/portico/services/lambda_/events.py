"""Asynchronous invocation (`InvocationType=Event`): durable, retried, at least once.

    Invoke(Event) -> enqueue durably -> 202          (acknowledged = stored: survives kill -9)
    worker: claim (lease = timeout + margin) -> invoke -> ack
                                  error -> retry after 1, then 2 "minutes" (base settable)
                                  out of retries / too old -> OnFailure destination, dead letter
                                  success -> OnSuccess destination

A message whose worker died reappears when its lease ends, so every acknowledged event
runs at least once, as on AWS.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import datetime
import json
import logging
from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass
from typing import Any

from portico.runtime import InvocationResult
from portico.store import Clock, DurableQueue

logger = logging.getLogger(__name__)

QUEUE = "lambda.async"
LEASE_MARGIN = 30.0
DEFAULT_RETRIES = 2
DEFAULT_MAX_AGE = 21600


@dataclass(frozen=True)
class AsyncEvent:
    account: str
    region: str
    function: str
    qualifier: str | None
    payload: str  # base64
    request_id: str
    enqueued_at: float

    def encode(self) -> bytes:
        return json.dumps(asdict(self)).encode()

    @classmethod
    def decode(cls, data: bytes) -> AsyncEvent:
        return cls(**json.loads(data))

    @property
    def body(self) -> bytes:
        return base64.b64decode(self.payload)


@dataclass(frozen=True)
class EventPolicy:
    """What the function's event invoke config says (AWS's defaults otherwise)."""

    maximum_retry_attempts: int = DEFAULT_RETRIES
    maximum_event_age: int = DEFAULT_MAX_AGE
    on_success: str | None = None
    on_failure: str | None = None
    timeout: float = 3.0


Invoke = Callable[[AsyncEvent], Awaitable[tuple[InvocationResult, str]]]  # result, function ARN
Policy = Callable[[AsyncEvent], Awaitable[EventPolicy | None]]  # None: the function is gone
Deliver = Callable[[str, AsyncEvent, dict[str, Any]], Awaitable[None]]


def destination_record(
    event: AsyncEvent,
    function_arn: str,
    condition: str,
    attempts: int,
    result: InvocationResult | None,
) -> dict[str, Any]:
    """The record AWS sends to OnSuccess / OnFailure destinations."""
    try:
        request_payload: Any = json.loads(event.body or b"null")
    except ValueError:
        request_payload = event.body.decode("utf-8", "replace")
    now = datetime.datetime.now(datetime.UTC)
    record: dict[str, Any] = {
        "version": "1.0",
        "timestamp": now.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
        "requestContext": {
            "requestId": event.request_id,
            "functionArn": function_arn,
            "condition": condition,
            "approximateInvokeCount": attempts,
        },
        "requestPayload": request_payload,
    }
    if result is not None:
        context: dict[str, Any] = {"statusCode": 200, "executedVersion": result.executed_version}
        if result.function_error:
            context["functionError"] = result.function_error
        record["responseContext"] = context
        try:
            record["responsePayload"] = json.loads(result.payload or b"null")
        except ValueError:
            record["responsePayload"] = result.payload.decode("utf-8", "replace")
    return record


class AsyncInvoker:
    def __init__(
        self,
        queue: DurableQueue,
        clock: Clock,
        invoke: Invoke,
        policy: Policy,
        deliver: Deliver,
        retry_base_seconds: float = 60.0,
        workers: int = 4,
    ) -> None:
        self._queue = queue
        self._clock = clock
        self._invoke = invoke
        self._policy = policy
        self._deliver = deliver
        self._retry_base = retry_base_seconds
        self._workers = workers
        self._wake = asyncio.Event()
        self._loop_task: asyncio.Task[None] | None = None
        self._running: set[asyncio.Task[None]] = set()

    async def submit(self, event: AsyncEvent) -> None:
        """Durable on return: only then may the caller answer 202."""
        await asyncio.to_thread(
            self._queue.enqueue, QUEUE, event.encode(), message_id=event.request_id
        )
        self._wake.set()

    def start(self) -> None:
        self._loop_task = asyncio.get_running_loop().create_task(self._run())

    async def close(self) -> None:
        if self._loop_task is not None:
            self._loop_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._loop_task
        # In-flight events keep their leases: after a restart they run again.
        for task in list(self._running):
            task.cancel()
        await asyncio.gather(*self._running, return_exceptions=True)

    async def _run(self) -> None:
        while True:
            try:
                started = await self.run_once()
            except Exception:
                logger.exception("async invocation worker failed; retrying")
                started = 0
            if started:
                continue
            self._wake.clear()
            wait = await asyncio.to_thread(self._queue.next_visible_at, QUEUE)
            timeout = 1.0 if wait is None else min(max(wait - self._clock.now(), 0.01), 1.0)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout)

    async def run_once(self) -> int:
        """Claim what is ready (within the worker limit) and start it; returns how many."""
        free = self._workers - len(self._running)
        if free <= 0:
            await asyncio.wait(self._running, return_when=asyncio.FIRST_COMPLETED)
            return 1
        claimed = await asyncio.to_thread(self._queue.claim, QUEUE, 900 + LEASE_MARGIN, free)
        for message in claimed:
            task = asyncio.get_running_loop().create_task(self._process(message))
            self._running.add(task)
            task.add_done_callback(self._running.discard)
        return len(claimed)

    async def _process(self, message: Any) -> None:
        event = AsyncEvent.decode(message.payload)
        policy = await self._policy(event)
        if policy is None:  # the function was deleted meanwhile
            await asyncio.to_thread(self._queue.ack, message.receipt)
            return
        age = self._clock.now() - event.enqueued_at
        if age > policy.maximum_event_age:
            await self._give_up(message, event, policy, "EventAgeExceeded", None, "")
            return
        await asyncio.to_thread(self._queue.extend, message.receipt, policy.timeout + LEASE_MARGIN)
        result, function_arn = await self._invoke(event)
        if result.function_error is None:
            if policy.on_success:
                record = destination_record(
                    event, function_arn, "Success", message.attempts, result
                )
                await self._deliver(policy.on_success, event, record)
            await asyncio.to_thread(self._queue.ack, message.receipt)
            return
        if message.attempts <= policy.maximum_retry_attempts:
            delay = self._retry_base * message.attempts  # AWS: 1 minute, then 2 minutes
            await asyncio.to_thread(self._queue.release, message.receipt, delay)
            return
        await self._give_up(message, event, policy, "RetriesExhausted", result, function_arn)

    async def _give_up(
        self,
        message: Any,
        event: AsyncEvent,
        policy: EventPolicy,
        condition: str,
        result: InvocationResult | None,
        function_arn: str,
    ) -> None:
        if policy.on_failure:
            record = destination_record(event, function_arn, condition, message.attempts, result)
            await self._deliver(policy.on_failure, event, record)
        await asyncio.to_thread(self._queue.dead_letter, message.receipt, condition)
