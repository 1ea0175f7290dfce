"""Every way a Python function can fail, reported as AWS reports it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from portico.runtime import Runtime, RuntimeSettings
from portico.runtime.errors import RequestEntityTooLargeException
from portico.runtime.limits import SYNC_REQUEST_LIMIT_BYTES
from tests.conftest import MakeFunction, started_runtime

pytestmark = pytest.mark.asyncio

PID = "import os\ndef handler(event, context):\n    return os.getpid()\n"


def error_of(payload: bytes) -> dict[str, object]:
    document = json.loads(payload)
    assert isinstance(document, dict)
    return document


async def test_unhandled_exception(runtime: Runtime, make_function: MakeFunction) -> None:
    config = make_function(
        {"app.py": "def handler(event, context):\n    raise ValueError('boom')\n"}
    )
    result = await runtime.invoke(config, b"{}")
    assert result.function_error == "Unhandled"
    error = error_of(result.payload)
    assert error["errorType"] == "ValueError"
    assert error["errorMessage"] == "boom"
    assert error["requestId"] == result.request_id
    trace = error["stackTrace"]
    assert isinstance(trace, list) and len(trace) == 1
    assert "app.py" in trace[0] and "raise ValueError('boom')" in trace[0]
    log = result.log_tail.decode()
    assert "[ERROR] ValueError: boom\rTraceback (most recent call last):" in log
    # A handler exception is the function's, not the platform's: no Status on REPORT.
    assert "Status:" not in log
    # ... and the environment survives it.
    again = await runtime.invoke(config, b"{}")
    assert again.function_error == "Unhandled" and not again.cold_start


@pytest.mark.parametrize(
    ("files", "handler", "error_type", "message"),
    [
        (
            {"other.py": ""},
            "app.handler",
            "Runtime.ImportModuleError",
            "Unable to import module 'app': No module named 'app'",
        ),
        (
            {"app.py": "x = 1\n"},
            "app.handler",
            "Runtime.HandlerNotFound",
            "Handler 'handler' missing on module 'app'",
        ),
        (
            {"app.py": ""},
            "app",
            "Runtime.MalformedHandlerName",
            "Bad handler 'app': not enough values to unpack (expected 2, got 1)",
        ),
        (
            {"app.py": "x = = 1\n"},
            "app.handler",
            "Runtime.UserCodeSyntaxError",
            "Syntax error in module 'app': invalid syntax (app.py, line 1)",
        ),
        ({"app.py": "raise KeyError('cfg')\n"}, "app.handler", "KeyError", "'cfg'"),
    ],
)
async def test_init_errors(
    runtime: Runtime,
    make_function: MakeFunction,
    files: dict[str, str],
    handler: str,
    error_type: str,
    message: str,
) -> None:
    config = make_function(files, handler=handler)
    result = await runtime.invoke(config, b"{}")
    assert result.function_error == "Unhandled"
    assert result.error_type == error_type
    error = error_of(result.payload)
    assert error["errorType"] == error_type
    assert error["errorMessage"] == message
    assert error["requestId"] == result.request_id
    log = result.log_tail.decode()
    assert "INIT_REPORT Init Duration: " in log
    assert f"Phase: init\tStatus: error\tError Type: {error_type}" in log
    assert f"Status: error\tError Type: {error_type}\n" in log
    # Nothing is left running, and the next invoke tries INIT again.
    assert runtime.environments(config.function_name) == []
    again = await runtime.invoke(config, b"{}")
    assert again.error_type == error_type


async def test_timeout_kills_and_replaces_the_environment(
    runtime: Runtime, make_function: MakeFunction
) -> None:
    config = make_function(
        {
            "app.py": """
            import os, time
            def handler(event, context):
                if event.get("sleep"):
                    print("going to sleep")
                    time.sleep(30)
                return os.getpid()
            """
        },
        timeout=1.0,
    )
    first_pid = json.loads((await runtime.invoke(config, b"{}")).payload)
    result = await runtime.invoke(config, b'{"sleep": true}')
    assert result.status == "timeout"
    assert result.function_error == "Unhandled"
    assert 1000 <= result.duration_ms < 1500
    assert error_of(result.payload) == {
        "errorType": "Sandbox.Timedout",
        "errorMessage": f"RequestId: {result.request_id} Error: Task timed out after 1.00 seconds",
    }
    log = result.log_tail.decode()
    assert "going to sleep\n" in log
    assert log.rstrip("\n").endswith("Status: timeout")
    after = await runtime.invoke(config, b"{}")
    assert after.cold_start and json.loads(after.payload) != first_pid


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        ("os._exit(3)", "Runtime exited with error: exit status 3"),
        (
            "import ctypes; ctypes.string_at(0)",
            "Runtime exited with error: signal: segmentation fault",
        ),
        ("os.abort()", "Runtime exited with error: signal: aborted"),
        ("import sys; sys.exit(0)", "Runtime exited without providing a reason"),
    ],
)
async def test_process_death_is_an_exit_error(
    runtime: Runtime, make_function: MakeFunction, body: str, reason: str
) -> None:
    config = make_function(
        {
            "app.py": f"""
            import os
            def handler(event, context):
                if event.get("die"):
                    {body}
                return os.getpid()
            """
        }
    )
    pid = json.loads((await runtime.invoke(config, b"{}")).payload)
    result = await runtime.invoke(config, b'{"die": true}')
    assert result.function_error == "Unhandled"
    assert error_of(result.payload) == {
        "errorType": "Runtime.ExitError",
        "errorMessage": f"RequestId: {result.request_id} Error: {reason}",
    }
    log = result.log_tail.decode()
    assert f"RequestId: {result.request_id} Error: {reason}\nRuntime.ExitError\n" in log
    assert "Status: error\tError Type: Runtime.ExitError\n" in log
    after = await runtime.invoke(config, b"{}")
    assert after.function_error is None and json.loads(after.payload) != pid


async def test_other_invokes_are_unaffected_by_a_crash(
    runtime: Runtime, make_function: MakeFunction
) -> None:
    import asyncio

    crasher = make_function(
        {"app.py": "import os, time\ndef handler(e, c):\n    time.sleep(0.2)\n    os._exit(1)\n"},
        function_name="crasher",
    )
    steady = make_function(
        {"app.py": "import time\ndef handler(e, c):\n    time.sleep(0.3)\n    return 'fine'\n"},
        function_name="steady",
    )
    crashed, fine = await asyncio.gather(
        runtime.invoke(crasher, b"{}"), runtime.invoke(steady, b"{}")
    )
    assert crashed.error_type == "Runtime.ExitError"
    assert fine.function_error is None and json.loads(fine.payload) == "fine"


async def test_memory_limit(runtime: Runtime, make_function: MakeFunction) -> None:
    config = make_function(
        {
            "app.py": """
            import os
            hoard = []
            def handler(event, context):
                for _ in range(event["mb"]):
                    hoard.append(bytearray(os.urandom(1024 * 1024)))
                return len(hoard)
            """
        },
        memory_size=128,
        timeout=20.0,
    )
    small = await runtime.invoke(config, b'{"mb": 8}')
    assert small.function_error is None
    result = await runtime.invoke(config, b'{"mb": 400}')
    assert result.function_error == "Unhandled"
    assert result.error_type == "Runtime.OutOfMemory"
    assert error_of(result.payload) == {
        "errorType": "Runtime.ExitError",
        "errorMessage": f"RequestId: {result.request_id} Error: Runtime exited with error: "
        "signal: killed",
    }
    assert "Status: error\tError Type: Runtime.OutOfMemory" in result.log_tail.decode()
    after = await runtime.invoke(config, b'{"mb": 1}')
    assert after.function_error is None and json.loads(after.payload) == 1


async def test_allocation_beyond_the_hard_ceiling(
    runtime: Runtime, make_function: MakeFunction
) -> None:
    # One huge allocation fails at once (no time for the watchdog): still an OOM.
    config = make_function(
        {"app.py": "def handler(event, context):\n    return len(bytearray(8 * 1024**3))\n"}
    )
    result = await runtime.invoke(config, b"{}")
    assert result.error_type == "Runtime.OutOfMemory"


async def test_stdout_flood(runtime: Runtime, make_function: MakeFunction) -> None:
    config = make_function(
        {
            "app.py": """
            import sys
            def handler(event, context):
                if event.get("flood"):
                    line = "x" * 1023 + "\\n"
                    while True:
                        sys.stdout.write(line)
                return "ok"
            """
        },
        timeout=30.0,
    )
    result = await runtime.invoke(config, b'{"flood": true}')
    assert result.error_type == "Runtime.ExitError"
    assert "log output over" in error_of(result.payload)["errorMessage"]  # type: ignore[operator]
    assert result.duration_ms < 10_000
    after = await runtime.invoke(config, b"{}")
    assert json.loads(after.payload) == "ok"


async def test_request_too_large(runtime: Runtime, make_function: MakeFunction) -> None:
    config = make_function({"app.py": PID})
    payload = b'"' + b"x" * SYNC_REQUEST_LIMIT_BYTES + b'"'
    with pytest.raises(RequestEntityTooLargeException) as raised:
        await runtime.invoke(config, payload)
    assert raised.value.status_code == 413
    assert raised.value.message == (
        "Request must be smaller than 6291456 bytes for the InvokeFunction operation"
    )


async def test_response_too_large(runtime: Runtime, make_function: MakeFunction) -> None:
    config = make_function(
        {"app.py": "def handler(event, context):\n    return 'x' * (7 * 1024 * 1024)\n"}
    )
    result = await runtime.invoke(config, b"{}")
    assert result.function_error == "Unhandled"
    assert error_of(result.payload) == {
        "errorMessage": "Response payload size exceeded maximum allowed payload size "
        "(6291556 bytes).",
        "errorType": "Function.ResponseSizeTooLarge",
    }


async def test_unserializable_result(runtime: Runtime, make_function: MakeFunction) -> None:
    config = make_function({"app.py": "def handler(event, context):\n    return {1, 2}\n"})
    result = await runtime.invoke(config, b"{}")
    error = error_of(result.payload)
    assert error["errorType"] == "Runtime.MarshalError"
    assert error["errorMessage"] == (
        "Unable to marshal response: Object of type set is not JSON serializable"
    )


async def test_init_timeout(state_dir: Path, make_function: MakeFunction) -> None:
    async with started_runtime(RuntimeSettings(state_dir=state_dir, init_timeout=0.5)) as runtime:
        config = make_function(
            {"app.py": "import time\ntime.sleep(5)\ndef handler(e, c):\n    return 1\n"}
        )
        result = await runtime.invoke(config, b"{}")
        assert result.status == "timeout"
        assert error_of(result.payload) == {
            "errorType": "Sandbox.Timedout",
            "errorMessage": f"RequestId: {result.request_id} Error: Task timed out after "
            "0.50 seconds",
        }
        assert "Phase: init\tStatus: timeout\n" in result.log_tail.decode()
        assert runtime.environments(config.function_name) == []


async def test_exit_during_init(runtime: Runtime, make_function: MakeFunction) -> None:
    config = make_function({"app.py": "import os\nos._exit(4)\n"})
    result = await runtime.invoke(config, b"{}")
    assert error_of(result.payload) == {
        "errorType": "Runtime.ExitError",
        "errorMessage": f"RequestId: {result.request_id} Error: Runtime exited with error: "
        "exit status 4",
    }
