"""The runtime survives the loss of its own helpers."""

from __future__ import annotations

import asyncio
import json
import os
import signal

import pytest

from portico.runtime import Runtime
from tests.conftest import MakeFunction

pytestmark = pytest.mark.asyncio


def alive(pid: int) -> bool:
    """Running, as opposed to gone or a zombie waiting for a parent that will not come."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rpartition(")")[2].split()[0] != "Z"
    except FileNotFoundError:
        return False


PID = "import os\ndef handler(event, context):\n    return os.getpid()\n"


async def test_a_killed_zygote_is_replaced(runtime: Runtime, make_function: MakeFunction) -> None:
    config = make_function({"app.py": PID})
    before = json.loads((await runtime.invoke(config, b"{}")).payload)
    zygote = runtime.zygote_pid
    assert zygote is not None
    os.kill(zygote, signal.SIGKILL)
    for _ in range(100):
        if not runtime.environments(config.function_name):
            break
        await asyncio.sleep(0.01)
    # Its children went with it (nobody could reap them) ...
    for _ in range(100):
        if not alive(before):
            break
        await asyncio.sleep(0.01)
    assert not alive(before)
    # ... and the next invoke starts a new zygote and a new environment.
    result = await runtime.invoke(config, b"{}")
    assert result.function_error is None and result.cold_start
    assert runtime.zygote_pid not in (None, zygote)


async def test_environment_killed_from_outside_while_idle(
    runtime: Runtime, make_function: MakeFunction
) -> None:
    config = make_function({"app.py": PID})
    pid = json.loads((await runtime.invoke(config, b"{}")).payload)
    os.kill(pid, signal.SIGKILL)
    for _ in range(100):
        if not runtime.environments(config.function_name):
            break
        await asyncio.sleep(0.01)
    result = await runtime.invoke(config, b"{}")
    assert result.function_error is None and json.loads(result.payload) != pid
