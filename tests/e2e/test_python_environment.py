"""What a Python function sees: context, variables, paths, /tmp, layers, logs."""

from __future__ import annotations

import base64
import json
import os
import sys
import time
from pathlib import Path

import pytest

from portico.runtime import Runtime
from portico.runtime.logs import MemoryLogSink
from tests.conftest import MakeFunction, probed_sandbox, started_runtime, task_root_seen

pytestmark = pytest.mark.asyncio

INTROSPECT = """
import os, sys, tempfile
def handler(event, context):
    return {
        "env": dict(os.environ),
        "cwd": os.getcwd(),
        "path": sys.path,
        "tmp": tempfile.gettempdir(),
        "context": {
            "aws_request_id": context.aws_request_id,
            "function_name": context.function_name,
            "function_version": context.function_version,
            "invoked_function_arn": context.invoked_function_arn,
            "memory_limit_in_mb": context.memory_limit_in_mb,
            "log_group_name": context.log_group_name,
            "log_stream_name": context.log_stream_name,
            "remaining": context.get_remaining_time_in_millis(),
            "identity": vars(context.identity),
            "client_context": None if context.client_context is None else {
                "custom": context.client_context.custom,
                "app_title": context.client_context.client.app_title,
            },
        },
    }
"""


async def test_context_and_environment_variables(
    runtime: Runtime, make_function: MakeFunction
) -> None:
    config = make_function(
        {"app.py": INTROSPECT},
        function_name="probe",
        memory_size=256,
        timeout=5.0,
        environment={"GREETING": "hi", "AWS_REGION": "cannot-override"},
        region="eu-west-1",
    )
    client_context = json.dumps({"client": {"app_title": "demo"}, "custom": {"k": "v"}})
    identity = json.dumps({"cognitoIdentityId": "id-1", "cognitoIdentityPoolId": "pool-1"})
    result = await runtime.invoke(
        config,
        b"{}",
        qualifier="live",
        trace_id="Root=1-5759e988-bd862e3fe1be46a994272793;Sampled=1",
        client_context=client_context,
        cognito_identity=identity,
    )
    seen = json.loads(result.payload)
    env, context = seen["env"], seen["context"]
    assert env["GREETING"] == "hi"
    assert env["AWS_REGION"] == env["AWS_DEFAULT_REGION"] == "eu-west-1"
    assert env["AWS_LAMBDA_FUNCTION_NAME"] == "probe"
    assert env["AWS_LAMBDA_FUNCTION_VERSION"] == "$LATEST"
    assert env["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"] == "256"
    assert env["AWS_LAMBDA_INITIALIZATION_TYPE"] == "on-demand"
    assert env["AWS_LAMBDA_LOG_GROUP_NAME"] == "/aws/lambda/probe"
    assert env["AWS_LAMBDA_LOG_STREAM_NAME"] == result.log_stream
    assert env["AWS_EXECUTION_ENV"] == "AWS_Lambda_python3.12"
    assert env["LAMBDA_TASK_ROOT"] == str(task_root_seen(config)) == seen["cwd"]
    assert env["_HANDLER"] == "app.handler"
    assert env["TZ"] == ":UTC"
    assert env["_X_AMZN_TRACE_ID"] == "Root=1-5759e988-bd862e3fe1be46a994272793;Sampled=1"
    assert "AWS_LAMBDA_RUNTIME_API" in env
    assert "AWS_LAMBDA_LOG_FORMAT" not in env
    # Nothing of the server's own environment leaks in.
    assert "VIRTUAL_ENV" not in env and "HOME" not in env and "PYTEST_CURRENT_TEST" not in env
    assert context["aws_request_id"] == result.request_id
    assert context["function_name"] == "probe"
    assert context["function_version"] == "$LATEST"
    assert context["invoked_function_arn"] == (
        "arn:aws:lambda:eu-west-1:000000000000:function:probe:live"
    )
    assert context["memory_limit_in_mb"] == "256"
    assert context["log_group_name"] == "/aws/lambda/probe"
    assert context["log_stream_name"] == result.log_stream
    assert 4000 < context["remaining"] <= 5000
    assert context["identity"] == {
        "cognito_identity_id": "id-1",
        "cognito_identity_pool_id": "pool-1",
    }
    assert context["client_context"] == {"custom": {"k": "v"}, "app_title": "demo"}


async def test_log_stream_name_format(runtime: Runtime, make_function: MakeFunction) -> None:
    result = await runtime.invoke(make_function({"app.py": INTROSPECT}), b"{}")
    day, _, rest = result.log_stream.rpartition("/")
    assert day == time.strftime("%Y/%m/%d", time.gmtime())
    assert rest.startswith("[$LATEST]") and len(rest) == len("[$LATEST]") + 32


async def test_private_writable_tmp_per_environment(
    runtime: Runtime, make_function: MakeFunction
) -> None:
    """Each environment has a /tmp of its own, as on Lambda: kept across its invokes, seen by
    no other environment, and not the server's."""
    code = {
        "app.py": """
        import tempfile, os
        def handler(event, context):
            path = "/tmp/note.txt"
            before = os.path.exists(path)
            with open(path, "w") as f:
                f.write("x")
            return {"tmp": tempfile.gettempdir(), "existed": before}
        """
    }
    config = make_function(code)
    first = json.loads((await runtime.invoke(config, b"{}")).payload)
    second = json.loads((await runtime.invoke(config, b"{}")).payload)
    assert first == {"tmp": "/tmp", "existed": False} and second["existed"]
    other = make_function(code, function_name="other")
    assert json.loads((await runtime.invoke(other, b"{}")).payload)["existed"] is False
    assert not Path("/tmp/note.txt").exists()


async def test_open_files_are_limited_as_on_lambda(
    runtime: Runtime, make_function: MakeFunction
) -> None:
    """Lambda's quota: 1,024 file descriptors, whatever the server itself may hold."""
    config = make_function(
        {
            "app.py": """
            import resource
            def handler(event, context):
                held = []
                try:
                    while True:
                        held.append(open("/dev/null"))
                except OSError as error:
                    opened, failure = len(held), type(error).__name__
                for f in held:
                    f.close()
                return {"limit": resource.getrlimit(resource.RLIMIT_NOFILE), "opened": opened,
                        "failure": failure}
            """
        }
    )
    seen = json.loads((await runtime.invoke(config, b"{}")).payload)
    assert seen["limit"] == [1024, 1024]
    assert 1000 < seen["opened"] < 1024 and seen["failure"] == "OSError"


async def test_sys_path_layers_and_boto3(
    runtime: Runtime, make_function: MakeFunction, tmp_path: Path
) -> None:
    older, newer = tmp_path / "layer1", tmp_path / "layer2"
    (older / "python").mkdir(parents=True)
    (older / "python" / "shared.py").write_text("WHO = 'older'\n")
    (older / "python" / "only_old.py").write_text("WHO = 'only-old'\n")
    site = newer / "python" / "lib" / "python3.12" / "site-packages"
    site.mkdir(parents=True)
    (site / "shared.py").write_text("WHO = 'newer'\n")
    config = make_function(
        {
            "app.py": """
            import importlib.util, sys
            import boto3, botocore, shared, only_old
            def handler(event, context):
                hidden = [m for m in ("portico", "h11", "pytest", "uvloop")
                          if importlib.util.find_spec(m) is not None]
                return {"shared": shared.WHO, "old": only_old.WHO, "path": sys.path,
                        "boto3": boto3.__version__, "hidden": hidden}
            """
        },
        layers=(older, newer),
    )
    result = await runtime.invoke(config, b"{}")
    seen = json.loads(result.payload)
    assert seen["shared"] == "newer" and seen["old"] == "only-old"
    assert seen["path"][0] == str(task_root_seen(config))
    if probed_sandbox().lambda_layout:  # both merged at /opt, the newer over the older
        assert seen["path"][1:4] == [
            "/opt/python/lib/python3.12/site-packages",
            f"/opt/python/lib/python{sys.version_info[0]}.{sys.version_info[1]}/site-packages",
            "/opt/python",
        ]
    else:
        assert seen["path"].index(str(site)) < seen["path"].index(str(older / "python"))
    assert seen["boto3"]
    assert seen["hidden"] == []


async def test_function_code_shadows_a_preloaded_package(
    runtime: Runtime, make_function: MakeFunction
) -> None:
    config = make_function(
        {
            "boto3/__init__.py": "__version__ = 'bundled'\n",
            "app.py": "import boto3\ndef handler(e, c):\n    return boto3.__version__\n",
        }
    )
    result = await runtime.invoke(config, b"{}")
    assert json.loads(result.payload) == "bundled"


async def test_text_logs(state_dir: Path, make_function: MakeFunction) -> None:
    from portico.runtime import RuntimeSettings

    sink = MemoryLogSink()
    async with started_runtime(RuntimeSettings(state_dir=state_dir), log_sink=sink) as runtime:
        config = make_function(
            {
                "app.py": """
                import logging, sys
                print("at import")
                logger = logging.getLogger()
                logger.setLevel(logging.INFO)
                def handler(event, context):
                    print("to stdout")
                    print("to stderr", file=sys.stderr)
                    logger.info("info %s", 42)
                    logging.getLogger("child").debug("hidden")
                    return None
                """
            },
            function_name="talker",
        )
        first = await runtime.invoke(config, b"{}")
        second = await runtime.invoke(config, b"{}")
    messages = [event.message for event in sink.events("/aws/lambda/talker")]
    assert messages[0].startswith("INIT_START Runtime Version: python:3.12.")
    assert "\tRuntime Version ARN: arn:aws:lambda:us-east-1::runtime:" in messages[0]
    assert messages[1] == "at import\n"
    assert messages[2] == f"START RequestId: {first.request_id} Version: $LATEST\n"
    assert messages[3] == "to stdout\n"
    assert messages[4] == "to stderr\n"
    level, stamp, request_id, text = messages[5].split("\t")
    assert (level, request_id, text) == ("[INFO]", first.request_id, "info 42\n")
    assert time.strptime(stamp[:19], "%Y-%m-%dT%H:%M:%S") and stamp.endswith("Z")
    assert messages[6] == f"END RequestId: {first.request_id}\n"
    report = messages[7]
    assert report.startswith(f"REPORT RequestId: {first.request_id}\tDuration: ")
    fields = dict(part.split(": ", 1) for part in report.rstrip("\t\n").split("\t")[1:])
    assert fields["Memory Size"] == "128 MB"
    assert fields["Billed Duration"].endswith(" ms") and fields["Init Duration"].endswith(" ms")
    assert int(fields["Max Memory Used"].split()[0]) > 0
    assert report.endswith("\t\n")
    assert "Init Duration" not in messages[-1] and second.request_id in messages[-1]
    assert "hidden" not in "".join(messages)
    assert first.log_tail.decode() == "".join(messages[2:8])
    assert all(event.timestamp > 0 for event in sink.events("/aws/lambda/talker"))


async def test_json_logs(runtime: Runtime, make_function: MakeFunction) -> None:
    config = make_function(
        {
            "app.py": """
            import logging
            def handler(event, context):
                print("plain print")
                logging.getLogger("app").info("structured", extra={"order": 7})
                logging.getLogger().debug("filtered out at INFO")
                return 1
            """
        },
        log_format="JSON",
    )
    result = await runtime.invoke(config, b"{}")
    lines = result.log_tail.decode().splitlines()
    start = json.loads(lines[0])
    assert start["type"] == "platform.start"
    assert start["record"] == {"requestId": result.request_id, "version": "$LATEST"}
    assert lines[1] == "plain print"
    record = json.loads(lines[2])
    assert record["level"] == "INFO" and record["message"] == "structured"
    assert record["logger"] == "app" and record["requestId"] == result.request_id
    assert record["order"] == 7 and record["timestamp"].endswith("Z")
    report = json.loads(lines[3])
    assert report["type"] == "platform.report" and report["record"]["status"] == "success"
    assert set(report["record"]["metrics"]) >= {
        "durationMs",
        "billedDurationMs",
        "memorySizeMB",
        "maxMemoryUsedMB",
    }
    assert len(lines) == 4


async def test_log_tail_is_the_last_4_kb(runtime: Runtime, make_function: MakeFunction) -> None:
    config = make_function(
        {"app.py": "def handler(e, c):\n    for i in range(500):\n        print(f'line {i:04d}')\n"}
    )
    result = await runtime.invoke(config, b"{}")
    assert len(result.log_tail) == 4096
    assert result.log_tail.decode().rstrip("\t\n").split("\n")[-1].startswith("REPORT")
    assert "line 0499\n" in result.log_tail.decode()
    assert base64.b64encode(result.log_tail)


async def test_handler_returning_unicode_and_decimals(
    runtime: Runtime, make_function: MakeFunction
) -> None:
    config = make_function(
        {
            "app.py": """
            from decimal import Decimal
            def handler(event, context):
                return {"text": "héllo ✓", "price": Decimal("1.50"), "n": None}
            """
        }
    )
    result = await runtime.invoke(config, b"{}")
    assert result.payload == '{"text": "héllo ✓", "price": 1.5, "n": null}'.encode()
    old = make_function({"app.py": "def handler(e, c):\n    return 'é'\n"}, runtime="python3.11")
    assert (await runtime.invoke(old, b"{}")).payload == b'"\\u00e9"'


async def test_bad_event_json(runtime: Runtime, make_function: MakeFunction) -> None:
    config = make_function({"app.py": "def handler(e, c):\n    return e\n"})
    result = await runtime.invoke(config, b"{not json")
    error = json.loads(result.payload)
    assert error["errorType"] == "Runtime.UnmarshalError"
    assert error["errorMessage"].startswith("Unable to unmarshal input: Expecting")
    assert os.getpid()
