"""The runtime's front: invoke a function revision, with AWS's concurrency rules.

    invoke(config, payload)
      -> admit (reserved + account concurrency, else TooManyRequestsException)
      -> a warm environment of this revision, or a cold start (fork or exec + INIT)
      -> the environment answers; it goes back to the pool unless it died

Background care (`reap_once`): idle environments past `idle_timeout` are stopped,
provisioned concurrency is topped up, empty pools of old revisions are dropped.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Mapping

from portico.runtime.config import FunctionConfig, RuntimeSettings
from portico.runtime.environment import ExecutionEnvironment, InitFailed, State, Then
from portico.runtime.errors import TooManyRequestsException
from portico.runtime.ids import IdGenerator
from portico.runtime.invocation import InvocationRequest, InvocationResult
from portico.runtime.launch import Launcher
from portico.runtime.limits import check_request_size
from portico.runtime.logs import LogSink, MemoryLogSink
from portico.runtime.pool import FunctionPool

# Variables an environment gets at its creation, beyond its function's (e.g. credentials
# issued for it alone).
EnvironmentHook = Callable[[FunctionConfig], Mapping[str, str]]

# How long an invoke waits for a runtime that has answered to ask for the next event,
# rather than starting another environment.
NEXT_GRACE = 2.0


class Runtime:
    """Runs functions in execution environments. One per server (or CLI run)."""

    def __init__(
        self,
        settings: RuntimeSettings,
        log_sink: LogSink | None = None,
        clock: Callable[[], float] = time.monotonic,
        ids: IdGenerator | None = None,
        environment_hook: EnvironmentHook | None = None,
    ) -> None:
        self.settings = settings
        self._environment_hook = environment_hook
        self._ids = ids if ids is not None else IdGenerator()
        self.log_sink: LogSink = log_sink if log_sink is not None else MemoryLogSink()
        self._clock = clock
        self._launcher = Launcher(settings)
        self._pools: dict[tuple[str, str], FunctionPool] = {}
        # Every environment whose process may still run, pooled or not (one whose INIT
        # failed is out of its pool while its exit is on the way): close() waits for all.
        self._living: set[ExecutionEnvironment] = set()
        self._in_flight: Counter[str] = Counter()
        self._in_flight_total = 0
        self._reaper: asyncio.Task[None] | None = None
        self._background: set[asyncio.Task[None]] = set()

    async def start(self, *, reap: bool = True) -> None:
        await self._launcher.start()
        if reap:
            self._reaper = asyncio.get_running_loop().create_task(self._reap_forever())

    async def close(self) -> None:
        if self._reaper is not None:
            self._reaper.cancel()
        environments = list(self._living)
        for env in environments:
            env.stop()
        await asyncio.gather(*(env.wait_closed() for env in environments), return_exceptions=True)
        self._pools.clear()
        await self._launcher.close()

    @property
    def zygote_pid(self) -> int | None:
        return self._launcher.zygote_pid

    # -- invoking -----------------------------------------------------------------------

    async def invoke(
        self,
        config: FunctionConfig,
        payload: bytes,
        *,
        qualifier: str | None = None,
        request_id: str | None = None,
        trace_id: str | None = None,
        client_context: str | None = None,
        cognito_identity: str | None = None,
        extra_environment: dict[str, str] | None = None,
    ) -> InvocationResult:
        """A synchronous (RequestResponse) invocation."""
        check_request_size(payload)
        self._admit(config)
        request_id = request_id or self._ids.request_id()
        pool = self._pools.get(config.pool_key) or self._pool(config)
        function_name = config.function_name
        self._in_flight[function_name] += 1
        self._in_flight_total += 1
        env: ExecutionEnvironment | None = None
        try:
            env = pool.take_idle()
            if env is not None and not env.accepting and not await env.until_accepting(NEXT_GRACE):
                pool.forget(env)
                env = None
            if env is None:
                env = self._new_environment(pool, extra_environment, provisioned=False)
                try:
                    await env.start()
                except InitFailed as failure:
                    request = InvocationRequest(request_id, payload, 0, "", "")
                    return env.report_init_failure(request, failure)
                pool.starting.discard(env)
                pool.busy.add(env)
            request = self._request(
                config, payload, request_id, qualifier, trace_id, client_context, cognito_identity
            )
            return await env.invoke(request)
        finally:
            self._in_flight[function_name] -= 1
            self._in_flight_total -= 1
            if env is not None:
                pool.give_back(env)

    def start_invoke(
        self,
        config: FunctionConfig,
        payload: bytes,
        then: Then,
        *,
        qualifier: str | None = None,
    ) -> bool:
        """`invoke` without a coroutine, when an environment of the function waits for
        work: the invocation is sent at once and `then` gets its result. False (and nothing
        done) when none waits: `invoke` then starts one. Raises as `invoke` does."""
        pool = self._pools.get(config.pool_key)
        if pool is None:
            return False
        check_request_size(payload)
        self._admit(config)
        env = pool.take_idle(waiting=True)
        if env is None:
            return False
        function_name = config.function_name
        self._in_flight[function_name] += 1
        self._in_flight_total += 1

        def release() -> None:
            self._in_flight[function_name] -= 1
            self._in_flight_total -= 1
            pool.give_back(env)

        def finished(result: InvocationResult | BaseException) -> None:
            release()
            then(result)

        try:
            env.start_invoke(
                self._request(config, payload, self._ids.request_id(), qualifier), finished
            )
        except BaseException:  # nothing was sent: the invocation never began
            release()
            raise
        return True

    def _request(
        self,
        config: FunctionConfig,
        payload: bytes,
        request_id: str,
        qualifier: str | None,
        trace_id: str | None = None,
        client_context: str | None = None,
        cognito_identity: str | None = None,
    ) -> InvocationRequest:
        # The deadline counts from the invoke phase, after any INIT.
        return InvocationRequest(
            request_id,
            payload,
            time.time_ns() // 1_000_000 + int(config.timeout * 1000),
            f"{config.function_arn}:{qualifier}" if qualifier else config.function_arn,
            trace_id or self._ids.trace_id(),
            client_context,
            cognito_identity,
        )

    def _admit(self, config: FunctionConfig) -> None:
        reserved = config.reserved_concurrency
        if reserved is not None and self._in_flight[config.function_name] >= reserved:
            raise TooManyRequestsException(TooManyRequestsException.RESERVED)
        if self._in_flight_total >= self.settings.account_concurrency:
            raise TooManyRequestsException(TooManyRequestsException.ACCOUNT)

    def _pool(self, config: FunctionConfig) -> FunctionPool:
        pool = self._pools.get(config.pool_key)
        if pool is None:
            pool = self._pools[config.pool_key] = FunctionPool(config)
        return pool

    def _new_environment(
        self,
        pool: FunctionPool,
        extra_environment: dict[str, str] | None,
        *,
        provisioned: bool,
    ) -> ExecutionEnvironment:
        extra = {**self.settings.extra_environment, **(extra_environment or {})}
        if self._environment_hook is not None:
            extra.update(self._environment_hook(pool.config))
        env = ExecutionEnvironment(
            pool.config,
            self.settings,
            self._launcher,
            self.log_sink,
            provisioned=provisioned,
            extra_environment=extra,
            on_death=pool.forget,
            on_closed=self._living.discard,
            clock=self._clock,
        )
        self._living.add(env)
        pool.starting.add(env)
        return env

    # -- provisioned concurrency, retiring, reaping ---------------------------------------

    async def set_provisioned_concurrency(
        self,
        config: FunctionConfig,
        count: int,
        extra_environment: dict[str, str] | None = None,
    ) -> None:
        """Keep `count` environments of this revision initialized (0 releases them)."""
        pool = self._pool(config)
        pool.provisioned_target = count
        surplus = pool.provisioned_alive - count
        for env in list(pool.idle):
            if surplus <= 0:
                break
            if env.provisioned:
                env.stop()
                surplus -= 1
        await self._top_up(pool, extra_environment)

    async def _top_up(self, pool: FunctionPool, extra: dict[str, str] | None = None) -> None:
        missing = pool.provisioned_target - pool.provisioned_alive
        fresh = [self._new_environment(pool, extra, provisioned=True) for _ in range(missing)]
        results = await asyncio.gather(*(env.start() for env in fresh), return_exceptions=True)
        for env, result in zip(fresh, results, strict=True):
            pool.starting.discard(env)
            if result is None:
                pool.give_back(env)

    def retire(self, function_name: str, keep_revision: str | None = None) -> None:
        """Stop idle environments of a function's other revisions; busy ones finish first."""
        for (name, revision), pool in self._pools.items():
            if name != function_name or revision == keep_revision:
                continue
            pool.provisioned_target = 0
            for env in list(pool.idle):
                env.stop()

    def reap_once(self) -> int:
        """Stop environments idle for longer than `idle_timeout`; returns how many."""
        now = self._clock()
        stopped = 0
        for key, pool in list(self._pools.items()):
            for env in list(pool.idle):
                if not env.provisioned and now - env.last_used > self.settings.idle_timeout:
                    env.stop()
                    stopped += 1
            if pool.provisioned_alive < pool.provisioned_target:
                task = asyncio.get_running_loop().create_task(self._top_up(pool))
                self._background.add(task)
                task.add_done_callback(self._background.discard)
            elif pool.is_empty() and pool.provisioned_target == 0:
                del self._pools[key]
        return stopped

    async def _reap_forever(self) -> None:
        interval = max(min(self.settings.idle_timeout / 4, 30.0), 0.05)
        while True:
            await asyncio.sleep(interval)
            self.reap_once()

    # -- introspection ------------------------------------------------------------------

    def environments(self, function_name: str | None = None) -> list[ExecutionEnvironment]:
        return [
            env
            for (name, _revision), pool in self._pools.items()
            if function_name is None or name == function_name
            for env in pool.all()
            if env.state is not State.DEAD
        ]


async def within(invocation: Awaitable[InvocationResult], seconds: float) -> InvocationResult:
    """The invocation's result if it comes within `seconds`, else TimeoutError; the
    invocation runs on either way (a function is not stopped because its caller left)."""
    task = asyncio.ensure_future(invocation)
    done, _pending = await asyncio.wait({task}, timeout=seconds)
    if not done:
        task.add_done_callback(_consume)
        raise TimeoutError
    return task.result()


def _consume(task: asyncio.Future[InvocationResult]) -> None:
    if not task.cancelled():
        task.exception()
