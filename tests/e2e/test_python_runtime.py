"""The built-in Python runtime, driven through real forked environments."""

from __future__ import annotations

import json
import os

import pytest

from portico.runtime import Runtime
from tests.conftest import MakeFunction

pytestmark = pytest.mark.asyncio

ECHO = """
import os
count = 0
def handler(event, context):
    global count
    count += 1
    return {"event": event, "count": count, "pid": os.getpid()}
"""


async def test_warm_environment_keeps_module_state(
    runtime: Runtime, make_function: MakeFunction
) -> None:
    config = make_function({"app.py": ECHO})
    first = await runtime.invoke(config, b'{"n": 1}')
    second = await runtime.invoke(config, b'{"n": 2}')
    one, two = json.loads(first.payload), json.loads(second.payload)
    assert one["event"] == {"n": 1} and two["event"] == {"n": 2}
    assert (one["count"], two["count"]) == (1, 2)
    assert one["pid"] == two["pid"] != os.getpid()
    assert first.cold_start and first.init_duration_ms is not None
    assert not second.cold_start and second.init_duration_ms is None
    assert first.function_error is None and first.executed_version == "$LATEST"


async def test_handler_in_a_sub_package(runtime: Runtime, make_function: MakeFunction) -> None:
    config = make_function(
        {
            "pkg/__init__.py": "",
            "pkg/sub/__init__.py": "",
            "pkg/sub/mod.py": "def go(event, context):\n    return 'deep:' + event\n",
        },
        handler="pkg/sub/mod.go",
    )
    result = await runtime.invoke(config, b'"x"')
    assert json.loads(result.payload) == "deep:x"


async def test_events_and_answers_many_times_what_a_pipe_holds(
    runtime: Runtime, make_function: MakeFunction
) -> None:
    """An environment's channel is two pipes (64 KiB each at a time): a 5 MiB event and a
    5 MiB answer cross them whole, in both directions, invocation after invocation."""
    config = make_function(
        {
            "app.py": (
                "def handler(event, context):\n"
                "    return {'size': len(event['data']), 'back': event['data'][::-1]}\n"
            )
        }
    )
    for fill in "ab":
        data = (fill + "0123456789") * (5 * 1024 * 1024 // 11)
        result = await runtime.invoke(config, json.dumps({"data": data}).encode())
        answer = json.loads(result.payload)
        assert result.function_error is None
        assert answer == {"size": len(data), "back": data[::-1]}
