"""Concurrency, provisioned concurrency, reaping and revisions."""

from __future__ import annotations

import asyncio
import dataclasses
import json
from pathlib import Path
from typing import Any

import pytest

from portico.runtime import Runtime, RuntimeSettings
from portico.runtime.errors import TooManyRequestsException
from portico.runtime.launch import FramedTransport
from portico.runtime.logs import MemoryLogSink
from tests.conftest import MakeFunction, started_runtime

pytestmark = pytest.mark.asyncio

SLOW = """
import os, time
def handler(event, context):
    time.sleep(event.get("sleep", 0))
    return {"pid": os.getpid(), "init": os.environ["AWS_LAMBDA_INITIALIZATION_TYPE"]}
"""


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


async def test_concurrent_invokes_get_their_own_environments(
    runtime: Runtime, make_function: MakeFunction
) -> None:
    config = make_function({"app.py": SLOW})
    results = await asyncio.gather(*(runtime.invoke(config, b'{"sleep": 0.3}') for _ in range(4)))
    pids = {json.loads(result.payload)["pid"] for result in results}
    assert len(pids) == 4
    assert len(runtime.environments(config.function_name)) == 4


async def test_reserved_concurrency_throttles(
    runtime: Runtime, make_function: MakeFunction
) -> None:
    config = make_function({"app.py": SLOW}, reserved_concurrency=2)
    slow = [asyncio.ensure_future(runtime.invoke(config, b'{"sleep": 0.5}')) for _ in range(2)]
    await asyncio.sleep(0.1)
    with pytest.raises(TooManyRequestsException) as raised:
        await runtime.invoke(config, b"{}")
    error = raised.value
    assert (error.code, error.status_code, error.message) == (
        "TooManyRequestsException",
        429,
        "Rate Exceeded.",
    )
    assert error.fields == {
        "Reason": "ReservedFunctionConcurrentInvocationLimitExceeded",
        "Type": "User",
    }
    assert all(result.function_error is None for result in await asyncio.gather(*slow))
    assert (await runtime.invoke(config, b"{}")).function_error is None


async def test_reserved_concurrency_of_zero_blocks_every_invoke(
    runtime: Runtime, make_function: MakeFunction
) -> None:
    config = make_function({"app.py": SLOW}, reserved_concurrency=0)
    with pytest.raises(TooManyRequestsException):
        await runtime.invoke(config, b"{}")


async def test_account_concurrency(state_dir: Path, make_function: MakeFunction) -> None:
    async with started_runtime(
        RuntimeSettings(state_dir=state_dir, account_concurrency=2)
    ) as runtime:
        one = make_function({"app.py": SLOW}, function_name="one")
        two = make_function({"app.py": SLOW}, function_name="two")
        busy = [
            asyncio.ensure_future(runtime.invoke(one, b'{"sleep": 0.4}')),
            asyncio.ensure_future(runtime.invoke(two, b'{"sleep": 0.4}')),
        ]
        await asyncio.sleep(0.1)
        with pytest.raises(TooManyRequestsException) as raised:
            await runtime.invoke(one, b"{}")
        assert raised.value.fields["Reason"] == "ConcurrentInvocationLimitExceeded"
        await asyncio.gather(*busy)


async def test_provisioned_concurrency(runtime: Runtime, make_function: MakeFunction) -> None:
    config = make_function({"app.py": SLOW})
    await runtime.set_provisioned_concurrency(config, 2)
    ready = runtime.environments(config.function_name)
    assert len(ready) == 2 and all(env.provisioned for env in ready)
    result = await runtime.invoke(config, b"{}")
    seen = json.loads(result.payload)
    assert seen["init"] == "provisioned-concurrency"
    assert seen["pid"] in {env.pid for env in ready}
    # Already initialized: the invoke reports no INIT.
    assert not result.cold_start
    await runtime.set_provisioned_concurrency(config, 0)
    await asyncio.sleep(0.1)
    assert runtime.environments(config.function_name) == []


async def test_idle_environments_are_reaped(state_dir: Path, make_function: MakeFunction) -> None:
    clock = FakeClock()
    async with started_runtime(
        RuntimeSettings(state_dir=state_dir, idle_timeout=60), clock=clock
    ) as runtime:
        config = make_function({"app.py": SLOW})
        provisioned = make_function({"app.py": SLOW}, function_name="kept")
        await runtime.set_provisioned_concurrency(provisioned, 1)
        first = json.loads((await runtime.invoke(config, b"{}")).payload)["pid"]
        clock.now += 30
        assert runtime.reap_once() == 0
        clock.now += 31
        assert runtime.reap_once() == 1
        assert runtime.environments(config.function_name) == []
        assert len(runtime.environments("kept")) == 1
        again = await runtime.invoke(config, b"{}")
        assert again.cold_start and json.loads(again.payload)["pid"] != first


async def test_a_new_revision_never_reuses_old_environments(
    runtime: Runtime, make_function: MakeFunction
) -> None:
    config = make_function({"app.py": SLOW})
    old_pid = json.loads((await runtime.invoke(config, b"{}")).payload)["pid"]
    changed = dataclasses.replace(config, environment={"NEW": "1"})
    assert changed.revision != config.revision
    result = await runtime.invoke(changed, b"{}")
    assert result.cold_start and json.loads(result.payload)["pid"] != old_pid
    runtime.retire(config.function_name, keep_revision=changed.revision)
    await asyncio.sleep(0.1)
    pids = {env.pid for env in runtime.environments(config.function_name)}
    assert old_pid not in pids and len(pids) == 1


async def test_provisioned_environments_are_replaced_when_they_die(
    state_dir: Path, make_function: MakeFunction
) -> None:
    async with started_runtime(RuntimeSettings(state_dir=state_dir)) as runtime:
        config = make_function({"app.py": "import os\ndef handler(e, c):\n    os._exit(1)\n"})
        await runtime.set_provisioned_concurrency(config, 1)
        await runtime.invoke(config, b"{}")
        assert runtime.environments(config.function_name) == []
        runtime.reap_once()
        for _ in range(50):
            if runtime.environments(config.function_name):
                break
            await asyncio.sleep(0.02)
        assert [env.provisioned for env in runtime.environments(config.function_name)] == [True]


class BreakableSink(MemoryLogSink):
    """A log sink that fails on demand: a fault of Portico's own, after an invocation."""

    broken = False

    def put(self, group: str, stream: str, events: Any, **where: Any) -> None:
        if self.broken:
            raise RuntimeError("the log sink failed")
        super().put(group, stream, events, **where)


async def test_start_invoke_hands_results_and_faults_on(
    state_dir: Path, make_function: MakeFunction
) -> None:
    """`start_invoke` runs an invocation without a coroutine on an environment that waits;
    its result, or a fault of Portico's own after it, goes to `then`, and the environment
    serves on. `invoke` raises the same fault."""
    sink = BreakableSink()
    async with started_runtime(RuntimeSettings(state_dir=state_dir), log_sink=sink) as runtime:
        config = make_function({"app.py": SLOW})
        got: list[Any] = []
        arrived = asyncio.Event()

        def then(result: Any) -> None:
            got.append(result)
            arrived.set()

        assert not runtime.start_invoke(config, b"{}", then)  # none waits: nothing done
        first = json.loads((await runtime.invoke(config, b"{}")).payload)["pid"]
        for broken in (False, True, False):
            sink.broken = broken
            arrived.clear()
            assert runtime.start_invoke(config, b"{}", then)
            await asyncio.wait_for(arrived.wait(), 10)
        assert json.loads(got[0].payload)["pid"] == first
        assert isinstance(got[1], RuntimeError)
        assert json.loads(got[2].payload)["pid"] == first
        sink.broken = True
        with pytest.raises(RuntimeError, match="the log sink failed"):
            await runtime.invoke(config, b"{}")
        sink.broken = False
        assert json.loads((await runtime.invoke(config, b"{}")).payload)["pid"] == first


async def test_an_invocation_that_cannot_be_sent_leaves_the_environment_waiting(
    state_dir: Path, make_function: MakeFunction, monkeypatch: pytest.MonkeyPatch
) -> None:
    """When sending the invocation raises, `start_invoke` raises and nothing began: the
    environment is idle and waiting again, the concurrency counted for it is given back, and
    the next invocation runs on it (not on a fresh one)."""
    settings = RuntimeSettings(state_dir=state_dir, account_concurrency=1)
    async with started_runtime(settings) as runtime:
        config = make_function({"app.py": SLOW})
        first = json.loads((await runtime.invoke(config, b"{}")).payload)["pid"]

        def broken(self: FramedTransport, invocation: Any) -> None:
            raise RuntimeError("the invocation could not be sent")

        with monkeypatch.context() as patched:
            patched.setattr(FramedTransport, "send_invocation", broken)
            with pytest.raises(RuntimeError, match="could not be sent"):
                runtime.start_invoke(config, b"{}", lambda result: None)
        got: list[Any] = []
        arrived = asyncio.Event()

        def then(result: Any) -> None:
            got.append(result)
            arrived.set()

        assert runtime.start_invoke(config, b"{}", then)  # waits again; concurrency 1 is free
        await asyncio.wait_for(arrived.wait(), 10)
        assert json.loads(got[0].payload)["pid"] == first
