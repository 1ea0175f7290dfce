"""The built-in Node.js runtime: `node bootstrap.js` speaking the HTTP Runtime API."""

from __future__ import annotations

import asyncio
import json
import os
import re
import shutil
from pathlib import Path
from typing import Any

import pytest

from portico.runtime import InvocationResult, Runtime
from portico.runtime.logs import MemoryLogSink
from tests.conftest import MakeFunction, layers_seen, task_root_seen

if shutil.which("node") is None:
    pytest.skip("the nodejs runtimes need `node` on PATH", allow_module_level=True)

pytestmark = [pytest.mark.asyncio, pytest.mark.node]

NODE = "nodejs20.x"
STAMP = r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z"

ECHO = """
let count = 0;
exports.handler = async (event, context) => {
  count += 1;
  return { event, count, pid: process.pid };
};
"""

CONTEXT = """
exports.handler = async (event, context) => ({
  awsRequestId: context.awsRequestId,
  functionName: context.functionName,
  functionVersion: context.functionVersion,
  invokedFunctionArn: context.invokedFunctionArn,
  memoryLimitInMB: context.memoryLimitInMB,
  logGroupName: context.logGroupName,
  logStreamName: context.logStreamName,
  remaining: context.getRemainingTimeInMillis(),
  waits: context.callbackWaitsForEmptyEventLoop,
  identity: context.identity,
  clientContext: context.clientContext,
  traceId: process.env._X_AMZN_TRACE_ID,
  legacy: [typeof context.done, typeof context.succeed, typeof context.fail],
});
"""


def body(result: InvocationResult) -> Any:
    return json.loads(result.payload)


def function_lines(result: InvocationResult) -> list[str]:
    """The log lines the function wrote during the invocation: between START and END."""
    lines = result.log_tail.decode().split("\n")
    start = next(i for i, line in enumerate(lines) if line.startswith("START RequestId: "))
    end = next(i for i, line in enumerate(lines) if line.startswith("END RequestId: "))
    return lines[start + 1 : end]


# -- INVOKE ---------------------------------------------------------------------------


async def test_async_handler_keeps_module_state_across_warm_invokes(
    runtime: Runtime, make_function: MakeFunction
) -> None:
    config = make_function({"index.js": ECHO}, handler="index.handler", runtime=NODE)
    first = await runtime.invoke(config, b'{"n": 1}')
    second = await runtime.invoke(config, b'{"n": 2}')
    one, two = body(first), body(second)
    assert one["event"] == {"n": 1} and two["event"] == {"n": 2}
    assert (one["count"], two["count"]) == (1, 2)
    assert one["pid"] == two["pid"] != os.getpid()
    assert first.cold_start and first.init_duration_ms is not None
    assert not second.cold_start and second.init_duration_ms is None
    assert first.function_error is None and first.status == "success"
    # Node reports no peak of its own: REPORT's Max Memory Used is the process's VmHWM.
    assert 10 < first.max_memory_used_mb <= second.max_memory_used_mb < 128


async def test_callback_answers_once_the_event_loop_is_empty(
    runtime: Runtime, make_function: MakeFunction
) -> None:
    source = """
    exports.handler = (event, context, callback) => {
      setTimeout(() => console.log('timer fired'), 50);
      callback(null, { doubled: event.n * 2 });
    };
    """
    config = make_function({"index.js": source}, handler="index.handler", runtime=NODE)
    result = await runtime.invoke(config, b'{"n": 21}')
    assert body(result) == {"doubled": 42}
    assert result.function_error is None
    assert any(line.endswith("\tINFO\ttimer fired") for line in function_lines(result))


async def test_callback_without_waiting_for_the_event_loop(
    runtime: Runtime, make_function: MakeFunction
) -> None:
    source = """
    exports.handler = (event, context, callback) => {
      context.callbackWaitsForEmptyEventLoop = false;
      setTimeout(() => console.log('timer fired'), 2000);
      callback(null, 'now');
    };
    """
    config = make_function({"index.js": source}, handler="index.handler", runtime=NODE)
    result = await runtime.invoke(config, b"{}")
    assert body(result) == "now"
    assert not any("timer fired" in line for line in function_lines(result))
    assert result.duration_ms < 1500


async def test_legacy_context_methods_and_only_the_first_answer_counts(
    runtime: Runtime, make_function: MakeFunction
) -> None:
    source = """
    exports.handler = (event, context, callback) => {
      context.succeed('first');
      context.fail(new Error('ignored'));
      callback(null, 'also ignored');
    };
    """
    config = make_function({"index.js": source}, handler="index.handler", runtime=NODE)
    result = await runtime.invoke(config, b"{}")
    assert body(result) == "first"
    assert result.function_error is None
    assert function_lines(result) == []  # the later calls are no-ops, not errors


async def test_sync_handler_that_never_calls_back_answers_null(
    runtime: Runtime, make_function: MakeFunction
) -> None:
    source = "exports.handler = (event, context) => { return 'ignored, as on AWS'; };\n"
    config = make_function({"index.js": source}, handler="index.handler", runtime=NODE)
    result = await runtime.invoke(config, b"{}")
    assert result.payload == b"null"
    assert result.function_error is None


async def test_async_handler_whose_promise_can_never_settle(
    runtime: Runtime, make_function: MakeFunction
) -> None:
    source = "exports.handler = async () => new Promise(() => {});\n"
    config = make_function({"index.js": source}, handler="index.handler", runtime=NODE)
    result = await runtime.invoke(config, b"{}")
    assert result.function_error == "Unhandled"
    assert body(result)["errorType"] == "Runtime.NodeJsExit"
    assert "Promise that was never settled" in body(result)["errorMessage"]


async def test_undefined_result_is_null(runtime: Runtime, make_function: MakeFunction) -> None:
    source = "exports.handler = async () => undefined;\n"
    config = make_function({"index.js": source}, handler="index.handler", runtime=NODE)
    result = await runtime.invoke(config, b"{}")
    assert result.payload == b"null"


async def test_streamed_response_is_buffered(runtime: Runtime, make_function: MakeFunction) -> None:
    source = """
    exports.handler = awslambda.streamifyResponse(async (event, responseStream) => {
      responseStream.write('hello ');
      responseStream.write(event.name);
      responseStream.end();
    });
    """
    config = make_function({"index.js": source}, handler="index.handler", runtime=NODE)
    result = await runtime.invoke(config, b'{"name": "stream"}')
    assert result.function_error is None, result.payload
    assert result.payload == b"hello stream"


@pytest.mark.parametrize(
    "files",
    [
        {"index.mjs": "export const handler = async (event) => ({ esm: event.x });\n"},
        {
            "package.json": '{"type": "module"}',
            "index.js": "export const handler = async (event) => ({ esm: event.x });\n",
        },
        {"index.cjs": "exports.handler = async (event) => ({ esm: event.x });\n"},
    ],
    ids=["mjs", "type-module-js", "cjs"],
)
async def test_module_flavours(
    runtime: Runtime, make_function: MakeFunction, files: dict[str, str]
) -> None:
    config = make_function(files, handler="index.handler", runtime=NODE)
    result = await runtime.invoke(config, b'{"x": 7}')
    assert result.function_error is None, result.payload
    assert body(result) == {"esm": 7}


@pytest.mark.parametrize(
    ("files", "handler"),
    [
        ({"src/app.js": "exports.handler = async (e) => 'deep:' + e;\n"}, "src/app.handler"),
        ({"index.js": "exports.a = { b: async (e) => 'deep:' + e };\n"}, "index.a.b"),
        (
            {"lib/api/v1.mjs": "export default { go: async (e) => 'deep:' + e };\n"},
            "lib/api/v1.default.go",
        ),
    ],
    ids=["folder", "nested-property", "esm-default-export"],
)
async def test_nested_handler_paths(
    runtime: Runtime, make_function: MakeFunction, files: dict[str, str], handler: str
) -> None:
    config = make_function(files, handler=handler, runtime=NODE)
    result = await runtime.invoke(config, b'"x"')
    assert result.function_error is None, result.payload
    assert body(result) == "deep:x"


async def test_modules_from_layers_resolve_through_node_path(
    runtime: Runtime, make_function: MakeFunction, tmp_path: Path
) -> None:
    layer = tmp_path / "layer"
    package = layer / "nodejs" / "node_modules" / "greeter"
    package.mkdir(parents=True)
    (package / "index.js").write_text("module.exports = (name) => `hello ${name}`;\n")
    source = """
    const greet = require('greeter');
    exports.handler = async (event) => greet(event.name);
    """
    config = make_function(
        {"index.js": source}, handler="index.handler", runtime=NODE, layers=(layer,)
    )
    result = await runtime.invoke(config, b'{"name": "layer"}')
    assert body(result) == "hello layer"


TRACE_PROBE = """
const { execFileSync } = require('child_process');
const seen = () => ({
  value: process.env._X_AMZN_TRACE_ID ?? null,
  has: '_X_AMZN_TRACE_ID' in process.env,
  listed: Object.keys(process.env).includes('_X_AMZN_TRACE_ID'),
  copied: { ...process.env }._X_AMZN_TRACE_ID ?? null,
  child: execFileSync('sh', ['-c', 'printf %s "${_X_AMZN_TRACE_ID-unset}"']).toString(),
});
exports.handler = async (event) => {
  const given = seen();
  if (event.set !== undefined) process.env._X_AMZN_TRACE_ID = event.set;
  if (event.remove) delete process.env._X_AMZN_TRACE_ID;
  const name = process.env.AWS_LAMBDA_FUNCTION_NAME;
  return { given, after: seen(), name, path: 'PATH' in process.env };
};
"""

TRACE_CHURN = """
const fs = require('fs');
const rssKb = () => Number(fs.readFileSync('/proc/self/statm', 'utf8').split(' ')[1]) * 4;
const hex = (n, width) => n.toString(16).padStart(width, '0');
exports.handler = async () => {
  const set = (i) => {
    const parent = hex(i, 16);
    process.env._X_AMZN_TRACE_ID = `Root=1-${hex(i, 8)}-${hex(i, 24)};Parent=${parent};Sampled=0`;
  };
  for (let i = 0; i < 2000; i++) set(i);
  const before = rssKb();
  for (let i = 0; i < 200000; i++) set(i);
  return { grownKb: rssKb() - before };
};
"""


def trace_seen(value: str | None) -> dict[str, Any]:
    """What the probe sees of `_X_AMZN_TRACE_ID` when it is `value` (None: unset)."""
    present = value is not None
    return {
        "value": value,
        "has": present,
        "listed": present,
        "copied": value,
        "child": value if present else "unset",
    }


async def test_trace_id_reaches_process_env_copies_and_child_processes(
    runtime: Runtime, make_function: MakeFunction
) -> None:
    config = make_function({"index.js": TRACE_PROBE}, handler="index.handler", runtime=NODE)
    first_id = "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1"
    second_id = "Root=1-5759e989-bd862e3fe1be46a994272794;Parent=53995c3f42cd8ad9;Sampled=0"
    third_id = "Root=1-5759e98a-bd862e3fe1be46a994272795;Parent=53995c3f42cd8ada;Sampled=0"
    first = body(await runtime.invoke(config, b'{"set": 42}', trace_id=first_id))
    second = body(await runtime.invoke(config, b'{"remove": true}', trace_id=second_id))
    third = body(await runtime.invoke(config, b"{}", trace_id=third_id))
    # Set by the function: a string, as in the real environment.
    assert first == {
        "given": trace_seen(first_id),
        "after": trace_seen("42"),
        "name": "fn",
        "path": True,
    }
    assert second["given"] == trace_seen(second_id) and second["after"] == trace_seen(None)
    assert third["given"] == third["after"] == trace_seen(third_id)


async def test_trace_ids_set_in_process_env_cost_no_memory(
    runtime: Runtime, make_function: MakeFunction
) -> None:
    # Through setenv() each value was kept for good: about 160 bytes per invocation, so
    # 200,000 invocations grew the environment by some 32 MB.
    config = make_function({"index.js": TRACE_CHURN}, handler="index.handler", runtime=NODE)
    result = await runtime.invoke(config, b"{}")
    assert body(result)["grownKb"] < 8192


async def test_context_fields(runtime: Runtime, make_function: MakeFunction) -> None:
    config = make_function({"index.js": CONTEXT}, handler="index.handler", runtime=NODE)
    trace_id = "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1"
    result = await runtime.invoke(
        config,
        b"{}",
        trace_id=trace_id,
        client_context='{"custom": {"k": "v"}}',
        cognito_identity='{"cognitoIdentityId": "id-1", "cognitoIdentityPoolId": "pool-1"}',
    )
    context = body(result)
    assert context["awsRequestId"] == result.request_id
    assert context["functionName"] == "fn"
    assert context["functionVersion"] == "$LATEST"
    assert context["invokedFunctionArn"] == config.function_arn
    assert context["memoryLimitInMB"] == "128"
    assert context["logGroupName"] == "/aws/lambda/fn"
    assert context["logStreamName"] == result.log_stream
    assert 0 < context["remaining"] <= config.timeout * 1000
    assert context["waits"] is True
    assert context["identity"] == {"cognitoIdentityId": "id-1", "cognitoIdentityPoolId": "pool-1"}
    assert context["clientContext"] == {"custom": {"k": "v"}}
    assert context["traceId"] == trace_id
    assert context["legacy"] == ["function", "function", "function"]


# -- errors ---------------------------------------------------------------------------

ESCAPES = {
    "uncaught-exception": (
        "setTimeout(() => { throw new Error('escaped'); }, 0)",
        "Uncaught Exception",
        ("Error", "escaped"),
    ),
    "unhandled-rejection": (
        "Promise.reject(new Error('escaped'))",
        "Unhandled Promise Rejection",
        ("Runtime.UnhandledPromiseRejection", "Error: escaped"),
    ),
}


def escaping(escape: str) -> str:
    """A handler whose error escapes it when the event says `crash`."""
    return (
        "exports.handler = (event) => {\n"
        f"  if (event.crash) {{ {escape}; }}\n"
        "  else return Promise.resolve(process.pid);\n"
        "};\n"
    )


async def test_thrown_error_fails_the_invoke_but_not_the_process(
    runtime: Runtime, make_function: MakeFunction
) -> None:
    source = """
    exports.handler = async (event) => {
      if (event.fail) throw new TypeError('bad input');
      return process.pid;
    };
    """
    config = make_function({"index.js": source}, handler="index.handler", runtime=NODE)
    pid = body(await runtime.invoke(config, b"{}"))
    failed = await runtime.invoke(config, b'{"fail": true}')
    assert failed.function_error == "Unhandled" and failed.status == "error"
    document = body(failed)
    assert document["errorType"] == "TypeError"
    assert document["errorMessage"] == "bad input"
    assert document["trace"][0] == "TypeError: bad input"
    assert any("index.js" in frame for frame in document["trace"][1:])
    assert body(await runtime.invoke(config, b"{}")) == pid

    [logged] = [line for line in function_lines(failed) if "\tERROR\t" in line]
    match = re.fullmatch(rf"{STAMP}\t{failed.request_id}\tERROR\tInvoke Error \t(.*)", logged)
    assert match is not None, logged
    error = json.loads(match.group(1))
    assert (error["errorType"], error["errorMessage"]) == ("TypeError", "bad input")
    assert error["stack"][0] == "TypeError: bad input"


@pytest.mark.parametrize(
    ("call", "expected"),
    [
        ("callback(new RangeError('too far'))", ("RangeError", "too far")),
        ("callback('plain words')", ("string", "plain words")),
        ("context.fail()", ("string", "handled")),
    ],
)
async def test_errors_passed_to_callbacks(
    runtime: Runtime, make_function: MakeFunction, call: str, expected: tuple[str, str]
) -> None:
    source = f"exports.handler = (event, context, callback) => {{ {call}; }};\n"
    config = make_function({"index.js": source}, handler="index.handler", runtime=NODE)
    result = await runtime.invoke(config, b"{}")
    assert result.function_error == "Unhandled"
    document = body(result)
    assert (document["errorType"], document["errorMessage"]) == expected
    assert isinstance(document["trace"], list)


@pytest.mark.parametrize("escape", ESCAPES.values(), ids=ESCAPES.keys())
async def test_error_escaping_the_handler_ends_the_environment(
    runtime: Runtime, make_function: MakeFunction, escape: tuple[str, str, tuple[str, str]]
) -> None:
    code, label, expected = escape
    config = make_function({"index.js": escaping(code)}, handler="index.handler", runtime=NODE)
    pid = body(await runtime.invoke(config, b"{}"))
    [environment] = runtime.environments(config.function_name)
    crashed = await runtime.invoke(config, b'{"crash": true}')
    assert crashed.function_error == "Unhandled"
    document = body(crashed)
    assert (document["errorType"], document["errorMessage"]) == expected
    assert any(f"\tERROR\t{label} \t{{" in line for line in function_lines(crashed))
    await asyncio.wait_for(environment.wait_closed(), 5)  # the runtime exits after reporting
    after = await runtime.invoke(config, b"{}")
    assert after.function_error is None and after.cold_start
    assert body(after) != pid


async def test_invoke_right_after_an_uncaught_exception_gets_a_fresh_environment(
    runtime: Runtime, make_function: MakeFunction
) -> None:
    """The runtime exits after posting the error: the next invoke must not be handed to it."""
    code = ESCAPES["uncaught-exception"][0]
    config = make_function({"index.js": escaping(code)}, handler="index.handler", runtime=NODE)
    await runtime.invoke(config, b'{"crash": true}')
    after = await runtime.invoke(config, b"{}")
    assert after.function_error is None, after.payload


async def test_unserializable_result(runtime: Runtime, make_function: MakeFunction) -> None:
    source = "exports.handler = async () => { const a = {}; a.self = a; return a; };\n"
    config = make_function({"index.js": source}, handler="index.handler", runtime=NODE)
    result = await runtime.invoke(config, b"{}")
    assert result.function_error == "Unhandled"
    assert body(result)["errorMessage"] == "Unable to stringify response body"


# -- INIT errors ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("files", "handler", "error_type", "message"),
    [
        ({"other.js": ""}, "index.handler", "Runtime.ImportModuleError", None),
        (
            {"index.js": "exports.other = () => 1;\n"},
            "index.handler",
            "Runtime.HandlerNotFound",
            "index.handler is undefined or not exported",
        ),
        (
            {"index.js": "exports.handler = 42;\n"},
            "index.handler",
            "Runtime.HandlerNotFound",
            "index.handler is not a function",
        ),
        ({"index.js": ""}, "index", "Runtime.MalformedHandlerName", "Bad handler"),
        (
            {"index.js": "exports.handler = async () => {\n"},
            "index.handler",
            "Runtime.UserCodeSyntaxError",
            None,
        ),
        (
            {"index.js": "throw new Error('config missing');\n"},
            "index.handler",
            "Error",
            "config missing",
        ),
    ],
    ids=["missing-module", "missing-handler", "not-a-function", "bad-name", "syntax", "throws"],
)
async def test_init_failures(
    runtime: Runtime,
    make_function: MakeFunction,
    files: dict[str, str],
    handler: str,
    error_type: str,
    message: str | None,
) -> None:
    config = make_function(files, handler=handler, runtime=NODE)
    result = await runtime.invoke(config, b"{}")
    assert result.function_error == "Unhandled"
    assert result.error_type == error_type
    document = body(result)
    assert document["errorType"] == error_type
    assert document["trace"][0].startswith(error_type)
    if message is not None:
        assert document["errorMessage"].endswith(message)
    log = result.log_tail.decode()
    assert f'\tundefined\tERROR\tUncaught Exception \t{{"errorType":"{error_type}"' in log
    assert f"Status: error\tError Type: {error_type}" in log


async def test_missing_module_reports_node_resolution_error(
    runtime: Runtime, make_function: MakeFunction
) -> None:
    config = make_function({"other.js": ""}, handler="index.handler", runtime=NODE)
    result = await runtime.invoke(config, b"{}")
    document = body(result)
    assert document["errorType"] == "Runtime.ImportModuleError"
    # As AWS returns it: the runtime's own document, no "RequestId: ..." prefix.
    message = document["errorMessage"]
    assert message.startswith("Error: Cannot find module 'index'\nRequire stack:\n- ")
    assert document["trace"][:2] == [
        "Runtime.ImportModuleError: Error: Cannot find module 'index'",
        "Require stack:",
    ]


# -- logs -----------------------------------------------------------------------------


async def test_console_lines_in_aws_text_format(
    runtime: Runtime, make_function: MakeFunction
) -> None:
    source = """
    console.log('loading');
    exports.handler = async () => {
      console.log('%s=%d', 'answer', 42);
      console.info({ nested: { a: 1 } });
      console.warn('careful');
      console.error('first line\\nsecond line');
      console.debug('details');
      console.trace('finer');
      return 'ok';
    };
    """
    config = make_function({"index.js": source}, handler="index.handler", runtime=NODE)
    result = await runtime.invoke(config, b"{}")
    rid = result.request_id
    lines = function_lines(result)
    expected = [
        ("INFO", "answer=42"),
        ("INFO", "{ nested: { a: 1 } }"),
        ("WARN", "careful"),
        ("ERROR", "first line\rsecond line"),
        ("DEBUG", "details"),
        ("TRACE", "finer"),
    ]
    assert len(lines) == len(expected), lines
    for line, (level, message) in zip(lines, expected, strict=True):
        assert re.fullmatch(rf"{STAMP}\t{rid}\t{level}\t{re.escape(message)}", line), line
    sink = runtime.log_sink
    assert isinstance(sink, MemoryLogSink)
    logged = "".join(event.message for event in sink.events(config.log_group_name))
    assert re.search(rf"{STAMP}\tundefined\tINFO\tloading\n", logged)


async def test_console_lines_in_json_format(runtime: Runtime, make_function: MakeFunction) -> None:
    source = """
    exports.handler = async () => {
      console.log('count: %d', 3);
      console.info({ kind: 'structured' });
      console.debug('filtered out at INFO');
      console.error('failed:', new Error('oops'));
      return 'ok';
    };
    """
    config = make_function(
        {"index.js": source}, handler="index.handler", runtime=NODE, log_format="JSON"
    )
    result = await runtime.invoke(config, b"{}")
    records = [json.loads(line) for line in result.log_tail.decode().splitlines()]
    own = [record for record in records if "level" in record]
    assert [(r["level"], r["requestId"]) for r in own] == [
        ("INFO", result.request_id),
        ("INFO", result.request_id),
        ("ERROR", result.request_id),
    ]
    assert own[0]["message"] == "count: 3"
    assert own[1]["message"] == {"kind": "structured"}
    assert own[2]["errorType"] == "Error" and own[2]["errorMessage"] == "oops"
    assert own[2]["stackTrace"][0] == "Error: oops"
    assert all(re.fullmatch(STAMP, record["timestamp"]) for record in own)


# -- limits and crashes ---------------------------------------------------------------


async def test_timeout(runtime: Runtime, make_function: MakeFunction) -> None:
    source = """
    exports.handler = async (event) => {
      if (event.wait) await new Promise((resolve) => setTimeout(resolve, 60000));
      return 'done';
    };
    """
    config = make_function({"index.js": source}, handler="index.handler", runtime=NODE, timeout=1.0)
    result = await runtime.invoke(config, b'{"wait": true}')
    assert result.status == "timeout"
    assert result.function_error == "Unhandled"
    document = body(result)
    assert document["errorType"] == "Sandbox.Timedout"
    assert document["errorMessage"].endswith("Task timed out after 1.00 seconds")
    assert body(await runtime.invoke(config, b"{}")) == "done"


async def test_process_exit_in_handler_replaces_the_environment(
    runtime: Runtime, make_function: MakeFunction
) -> None:
    source = """
    exports.handler = async (event) => {
      if (event.exit) process.exit(2);
      return process.pid;
    };
    """
    config = make_function({"index.js": source}, handler="index.handler", runtime=NODE)
    before = await runtime.invoke(config, b"{}")
    crashed = await runtime.invoke(config, b'{"exit": true}')
    assert crashed.function_error == "Unhandled"
    document = body(crashed)
    assert document["errorType"] == "Runtime.ExitError"
    assert document["errorMessage"].endswith("Runtime exited with error: exit status 2")
    after = await runtime.invoke(config, b"{}")
    assert after.function_error is None and after.cold_start
    assert body(after) != body(before)


async def test_open_files_are_limited_as_on_lambda(
    runtime: Runtime, make_function: MakeFunction
) -> None:
    source = (
        "const fs = require('fs');\n"
        "exports.handler = async () => fs.readFileSync('/proc/self/limits', 'utf8')"
        ".split('\\n').find((line) => line.startsWith('Max open files'));\n"
    )
    config = make_function({"index.js": source}, handler="index.handler", runtime=NODE)
    assert body(await runtime.invoke(config, b"{}")).split()[3:5] == ["1024", "1024"]


async def test_node_is_started_as_aws_starts_it(
    runtime: Runtime, make_function: MakeFunction, tmp_path: Path
) -> None:
    layer = tmp_path / "layer"
    (layer / "nodejs" / "node_modules" / "shared").mkdir(parents=True)
    (layer / "nodejs" / "node_modules" / "shared" / "index.js").write_text(
        "module.exports = 'from the layer';\n"
    )
    source = (
        "exports.handler = async () => ({ argv: process.execArgv, "
        "nodePath: process.env.NODE_PATH, shared: require('shared') });\n"
    )
    config = make_function(
        {"index.js": source},
        handler="index.handler",
        runtime=NODE,
        memory_size=256,
        layers=(layer,),
    )
    seen = body(await runtime.invoke(config, b"{}"))
    assert "--max-old-space-size=231" in seen["argv"]
    assert "--max-semi-space-size=12" in seen["argv"]
    [opt] = layers_seen(config)
    assert seen["nodePath"].split(":") == [
        str(opt / "nodejs" / "node20" / "node_modules"),
        str(opt / "nodejs" / "node_modules"),
        str(task_root_seen(config)),
    ]
    assert seen["shared"] == "from the layer"
