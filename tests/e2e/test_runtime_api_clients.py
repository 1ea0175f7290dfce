"""The HTTP Runtime API, driven by the official client and by plain shell + curl."""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

import pytest

from portico.runtime import Runtime, RuntimeSettings
from tests.conftest import MakeFunction, started_runtime

pytestmark = pytest.mark.asyncio

CURL_BOOTSTRAP = """\
#!/bin/bash
set -euo pipefail
source "$LAMBDA_TASK_ROOT/$(echo "$_HANDLER" | cut -d. -f1).sh"
while true; do
  HEADERS="$(mktemp)"
  API="http://${AWS_LAMBDA_RUNTIME_API}/2018-06-01/runtime"
  EVENT_DATA=$(curl -sS -LD "$HEADERS" "$API/invocation/next")
  REQUEST_ID=$(grep -Fi Lambda-Runtime-Aws-Request-Id "$HEADERS" | tr -d '[:space:]' | cut -d: -f2)
  RESPONSE=$($(echo "$_HANDLER" | cut -d. -f2) "$EVENT_DATA")
  curl -sS "$API/invocation/$REQUEST_ID/response" -d "$RESPONSE"
done
"""

FUNCTION_SH = """\
function handler () {
  EVENT_DATA=$1
  echo "$EVENT_DATA" 1>&2
  echo "Echoing request: '$EVENT_DATA'"
}
"""


@pytest.mark.skipif(shutil.which("curl") is None, reason="the tutorial bootstrap needs curl")
async def test_custom_runtime_tutorial_bootstrap(
    runtime: Runtime, make_function: MakeFunction
) -> None:
    config = make_function(
        {"bootstrap": CURL_BOOTSTRAP, "function.sh": FUNCTION_SH},
        handler="function.handler",
        runtime="provided.al2023",
    )
    first = await runtime.invoke(config, b'{"key": "value"}')
    assert first.function_error is None, first.payload
    assert first.payload == b"""Echoing request: '{"key": "value"}'"""
    assert '{"key": "value"}\n' in first.log_tail.decode()
    second = await runtime.invoke(config, b'"again"')
    assert second.payload == b"""Echoing request: '"again"'""" and not second.cold_start


async def test_awslambdaric(runtime: Runtime, make_function: MakeFunction) -> None:
    pytest.importorskip("awslambdaric", reason="awslambdaric is a dev dependency")
    config = make_function(
        {
            "bootstrap": f"#!/bin/sh\nexec {sys.executable} -m awslambdaric app.handler\n",
            "app.py": """
            count = 0
            def handler(event, context):
                global count
                count += 1
                if event.get("fail"):
                    raise RuntimeError("as asked")
                return {"count": count, "id": context.aws_request_id,
                        "arn": context.invoked_function_arn,
                        "left": context.get_remaining_time_in_millis()}
            """,
        },
        runtime="provided.al2",
        timeout=10.0,
    )
    first = await runtime.invoke(config, b"{}", qualifier="7")
    assert first.function_error is None, first.payload
    seen = json.loads(first.payload)
    assert seen["count"] == 1 and seen["id"] == first.request_id
    assert seen["arn"].endswith(":function:fn:7")
    assert 0 < seen["left"] <= 10_000
    second = await runtime.invoke(config, b"{}")
    assert json.loads(second.payload)["count"] == 2
    failed = await runtime.invoke(config, b'{"fail": true}')
    assert failed.function_error == "Unhandled"
    error = json.loads(failed.payload)
    assert (error["errorType"], error["errorMessage"]) == ("RuntimeError", "as asked")
    assert error["requestId"] == failed.request_id


async def test_awslambdaric_import_error(runtime: Runtime, make_function: MakeFunction) -> None:
    pytest.importorskip("awslambdaric", reason="awslambdaric is a dev dependency")
    config = make_function(
        {"bootstrap": f"#!/bin/sh\nexec {sys.executable} -m awslambdaric nope.handler\n"},
        runtime="provided",
    )
    result = await runtime.invoke(config, b"{}")
    assert result.function_error == "Unhandled"
    assert json.loads(result.payload)["errorType"] == "Runtime.ImportModuleError"


async def test_missing_bootstrap(runtime: Runtime, make_function: MakeFunction) -> None:
    config = make_function({"readme.txt": "no bootstrap here"}, runtime="provided.al2023")
    result = await runtime.invoke(config, b"{}")
    assert result.function_error == "Unhandled"
    error = json.loads(result.payload)
    assert error["errorType"] == "Runtime.InvalidEntrypoint"
    assert "Couldn't find valid bootstrap(s)" in error["errorMessage"]


async def test_fresh_interpreter_mode_speaks_http(
    state_dir: Path, make_function: MakeFunction
) -> None:
    """With forking off, the built-in bootstrap runs in a new interpreter over HTTP."""
    async with started_runtime(
        RuntimeSettings(state_dir=state_dir, fork_environments=False)
    ) as runtime:
        config = make_function(
            {
                "app.py": """
                import os
                n = 0
                def handler(event, context):
                    global n
                    n += 1
                    if event == "fail":
                        raise TypeError("bad")
                    return [n, context.aws_request_id]
                """
            }
        )
        first = await runtime.invoke(config, b"null")
        assert json.loads(first.payload) == [1, first.request_id]
        second = await runtime.invoke(config, b"null")
        assert json.loads(second.payload) == [2, second.request_id]
        failed = await runtime.invoke(config, b'"fail"')
        assert json.loads(failed.payload)["errorType"] == "TypeError"
