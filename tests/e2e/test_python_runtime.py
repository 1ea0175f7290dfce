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
