"""The HTTP API gateway under load: wrk, in its own process, against four servers answering
`hello` on loopback, sampled in alternation within one run.

    server                       what answers GET /
    ------                       ------------------
    uvicorn (the ceiling)        a hello-world ASGI app: 1 worker, httptools, uvloop
    serverless-offline           `serverless offline` (serverless v3 + serverless-offline, from
                                 npm into bench/.cache/): an `httpApi` event on the handler
    Portico                      `portico up`; the function created with boto3 and an HTTP API
                                 quick-created on it (`$default` route, AWS_PROXY, payload 2.0,
                                 auto-deployed `$default` stage); wrk loads ApiEndpoint + "/"
    Portico's runtime floor      the uvicorn set-up above in front of Portico's runtime: each
                                 request invokes the handler in the same execution environments,
                                 with a fixed payload 2.0 event of the gateway's size and no
                                 gateway, logs or metrics: how far the design itself gets here

The handler is the same Python file for serverless-offline and Portico, run by the same
interpreter (this one's). Before anything is measured each server must answer 200 `hello`;
during the runs, wrk's non-2xx/3xx responses and socket errors count as failed responses.
Throughput and p99 under load: `wrk -t2 -c16`; latency: `wrk -t1 -c1 --latency`; each repeated
per round with the servers' order rotated, and the median of the rounds taken.
"""

from __future__ import annotations

import contextlib
import http.client
import io
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.parse
import zipfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3
import botocore.exceptions
import uvicorn
from botocore.config import Config

import wire
from figures import NS_PER, Figure, Target, tree_cpu_ns
from wrk import WRK_SCRIPT, Wrk, WrkRun, find_wrk

HANDLER_SOURCE = 'def handler(event, context):\n    return {"statusCode": 200, "body": "hello"}\n'
EXPECTED_BODY = b"hello"
# Both serverless-offline (`python3` on PATH) and Portico run this interpreter, whatever the
# runtime's name says; python3.12 is a runtime both accept.
FUNCTION_RUNTIME = "python3.12"
FUNCTION_NAME = "bench-gateway"
SERVERLESS_VERSION = "3.40.0"  # the last major version that runs without a login
SERVERLESS_OFFLINE_VERSION = "13.10.1"  # the last major version for serverless v3
NPM_CACHE = Path(__file__).parent / ".cache" / "serverless-offline"
SERVERLESS_YML = f"""\
service: portico-bench
frameworkVersion: "3"
provider:
  name: aws
  runtime: {FUNCTION_RUNTIME}
functions:
  hello:
    handler: handler.handler
    events:
      - httpApi: "*"
plugins:
  - serverless-offline
"""
UVICORN_HELLO = "uvicorn-hello"
RUNTIME_FLOOR = "runtime-floor"
CHECKED_REQUESTS = 20
START_TIMEOUT_S = 120.0
STOP_TIMEOUT_S = 30.0
HIGH_CONCURRENCY = 16
ROLES = ("server", "functions", "log_writer")
TARGETS = {
    # Portico serves at least twice serverless-offline's requests/s at concurrency 16 ...
    "gateway_portico_throughput_c16": Target(2.0, at_least=True, of_ratio=True),
    # ... answers faster than it at concurrency 1 ...
    "gateway_portico_latency_c1_p50": Target(1.0, of_ratio=True),
    # ... and keeps at least 35% of what uvicorn alone serves.
    "gateway_portico_throughput_c16_vs_uvicorn": Target(0.35, at_least=True, of_ratio=True),
    "gateway_failed_responses": Target(1.0),
}


# The account's HTTP API throttling quota, raised as a quota increase raises it on AWS: with
# AWS's default (10,000 requests a second, burst 5,000) a server faster than that would
# answer 429s, and the bench would measure the quota rather than the gateway. Every request
# still passes the account's and the route's token buckets.
RAISED_ACCOUNT_QUOTA = {
    "PORTICO_ACCOUNT_THROTTLE_RATE": "1000000",
    "PORTICO_ACCOUNT_THROTTLE_BURST": "1000000",
}


@dataclass(frozen=True)
class GatewaySizes:
    warmup_s: int
    rounds: int
    throughput_s: int
    latency_s: int


class NotServing(Exception):
    """A server could not be started, or did not answer 200 `hello`."""


class Unavailable(Exception):
    """What a server needs is missing on this machine (node, npm, a package download)."""


# -- the servers ------------------------------------------------------------------------------


@dataclass
class Contender:
    """A server under load: `key` names its figures, `url` is what wrk loads, `pid` is the
    process whose tree (functions, log writer) is charged the CPU each request costs."""

    key: str
    label: str
    url: str
    pid: int | None = None
    throughput: list[WrkRun] = field(default_factory=list)
    latency: list[WrkRun] = field(default_factory=list)
    cpu: list[dict[str, float]] = field(default_factory=list)  # µs per request, by role
    failed_responses: int = 0
    start_ms: float | None = None  # from its launch to its listening (one sample)


async def hello_app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] != "http":
        return
    headers = [(b"content-type", b"text/plain"), (b"content-length", b"5")]
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    await send({"type": "http.response.body", "body": EXPECTED_BODY})


async def _serve_hello() -> None:
    await wire.serve_app(hello_app, "uvicorn hello")


def serve_hello() -> None:
    import uvloop

    uvloop.run(_serve_hello())


def start_uvicorn(root: Path, stack: contextlib.ExitStack) -> Contender:
    started = time.perf_counter()
    server = wire.ServerProcess.start([sys.executable, __file__, UVICORN_HELLO], root / "uv.log")
    start_ms = _since(started)
    stack.callback(server.stop)
    return Contender(
        "uvicorn", "uvicorn hello world", server.url + "/", server.pid, start_ms=start_ms
    )


def _since(started: float) -> float:
    return (time.perf_counter() - started) * 1000


class _DiscardedLogs:
    """The floor keeps no logs: a LogSink that drops what it is given."""

    def put_invocation(self, group: str, stream: str, log: Any, **where: Any) -> None:
        del group, stream, log, where

    def put(self, group: str, stream: str, events: Any, **where: Any) -> None:
        del group, stream, events, where


def floor_event(scope: dict[str, Any]) -> dict[str, Any]:
    """A payload 2.0 event with the fields and sizes Portico's gateway sends for GET /, built
    with none of its work (no routing, ids, clock or header rules)."""
    headers = {name.decode("latin-1"): value.decode("latin-1") for name, value in scope["headers"]}
    return {
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": scope["path"],
        "rawQueryString": scope["query_string"].decode("latin-1"),
        "headers": headers,
        "requestContext": {
            "accountId": "000000000000",
            "apiId": "floor00000",
            "domainName": "floor00000.execute-api.localhost",
            "domainPrefix": "floor00000",
            "http": {
                "method": scope["method"],
                "path": scope["path"],
                "protocol": "HTTP/1.1",
                "sourceIp": "127.0.0.1",
                "userAgent": headers.get("user-agent", ""),
            },
            "requestId": "floor-request-id",
            "routeKey": "$default",
            "stage": "$default",
            "time": "01/Jan/2026:00:00:00 +0000",
            "timeEpoch": 1767225600000,
        },
        "isBase64Encoded": False,
    }


async def _serve_runtime_floor(state: Path) -> None:
    """uvicorn (as for the hello world) in front of Portico's runtime: each request invokes
    the handler in the same execution environments `portico up` runs."""
    import portico.gateway.payloads as payloads
    from portico.runtime import FunctionConfig, Runtime, RuntimeSettings

    code = state / "function"
    code.mkdir(parents=True, exist_ok=True)
    (code / "app.py").write_text(HANDLER_SOURCE)
    config = FunctionConfig(FUNCTION_NAME, "app.handler", code, runtime=FUNCTION_RUNTIME)
    runtime = Runtime(RuntimeSettings(state_dir=state / "runtime"), log_sink=_DiscardedLogs())
    await runtime.start(reap=False)

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        while (await receive()).get("more_body"):
            pass
        result = await runtime.invoke(config, payloads.encode(floor_event(scope)))
        answer = payloads.decode(result.payload)
        body = str(answer["body"]).encode()
        headers = [(b"content-type", b"text/plain"), (b"content-length", b"%d" % len(body))]
        await send(
            {"type": "http.response.start", "status": answer["statusCode"], "headers": headers}
        )
        await send({"type": "http.response.body", "body": body})

    try:
        await wire.serve_app(app, "runtime floor")
    finally:
        await runtime.close()


def serve_runtime_floor(state: Path) -> None:
    import uvloop

    uvloop.run(_serve_runtime_floor(state))


def start_runtime_floor(root: Path, stack: contextlib.ExitStack) -> Contender:
    """The ceiling of Portico's own design on this machine: its runtime with no gateway."""
    argv = [sys.executable, __file__, RUNTIME_FLOOR, str(root / "floor")]
    started = time.perf_counter()
    server = wire.ServerProcess.start(argv, root / "floor.log")
    start_ms = _since(started)
    stack.callback(server.stop)
    label = "Portico's runtime, no gateway"
    return Contender("runtime_floor", label, server.url + "/", server.pid, start_ms=start_ms)


def start_portico(
    root: Path, stack: contextlib.ExitStack, source: Path | None = None, key: str = "portico"
) -> Contender:
    """`portico up`, the function and a quick-created HTTP API on it, all through boto3; with
    `source`, Portico's code from that `src` folder."""
    started = time.perf_counter()
    server = wire.start_portico(
        root / f"{key}-data", root / f"{key}.log", source, RAISED_ACCOUNT_QUOTA
    )
    start_ms = _since(started)
    stack.callback(server.stop)
    try:
        endpoint = create_http_api(server.url)
    except (botocore.exceptions.BotoCoreError, botocore.exceptions.ClientError) as error:
        raise NotServing(f"Portico: setting up the HTTP API failed: {error}") from error
    return Contender(key, "Portico HTTP API", endpoint + "/", server.pid, start_ms=start_ms)


def _client(service: str, url: str) -> Any:
    return boto3.client(
        service,
        endpoint_url=url,
        region_name=wire.REGION,
        aws_access_key_id=wire.ACCESS_KEY_ID,
        aws_secret_access_key=wire.SECRET_ACCESS_KEY,
        config=Config(retries={"max_attempts": 1}),
    )


def create_http_api(url: str) -> str:
    """Creates the function and an HTTP API on it as one would on AWS; returns ApiEndpoint."""
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as zipped:
        zipped.writestr("app.py", HANDLER_SOURCE)
    functions = _client("lambda", url)
    function_arn = functions.create_function(
        FunctionName=FUNCTION_NAME,
        Runtime=FUNCTION_RUNTIME,
        Role=wire.ROLE,
        Handler="app.handler",
        Code={"ZipFile": archive.getvalue()},
    )["FunctionArn"]
    functions.get_waiter("function_active_v2").wait(FunctionName=FUNCTION_NAME)
    api = _client("apigatewayv2", url).create_api(
        Name=FUNCTION_NAME, ProtocolType="HTTP", Target=function_arn
    )
    account = function_arn.split(":")[4]
    functions.add_permission(
        FunctionName=FUNCTION_NAME,
        StatementId="bench-gateway-invoke",
        Action="lambda:InvokeFunction",
        Principal="apigateway.amazonaws.com",
        SourceArn=f"arn:aws:execute-api:{wire.REGION}:{account}:{api['ApiId']}/*",
    )
    endpoint: str = api["ApiEndpoint"]
    return endpoint


def install_serverless_offline() -> Path:
    """serverless v3 and serverless-offline, pinned, installed once into bench/.cache/."""
    if shutil.which("npm") is None:
        raise Unavailable("serverless-offline: node and npm are not on PATH")
    binary = NPM_CACHE / "node_modules" / ".bin" / "serverless"
    wanted = {"serverless": SERVERLESS_VERSION, "serverless-offline": SERVERLESS_OFFLINE_VERSION}
    if binary.exists() and all(_npm_version(name) == v for name, v in wanted.items()):
        return binary
    NPM_CACHE.mkdir(parents=True, exist_ok=True)
    manifest = {"name": "portico-bench-serverless-offline", "private": True}
    (NPM_CACHE / "package.json").write_text(json.dumps({**manifest, "dependencies": wanted}))
    print(
        f"installing serverless@{SERVERLESS_VERSION} and serverless-offline@"
        f"{SERVERLESS_OFFLINE_VERSION} into {NPM_CACHE} ...",
        flush=True,
    )
    argv = ["npm", "install", "--no-audit", "--no-fund", "--loglevel=error"]
    done = subprocess.run(argv, cwd=NPM_CACHE, capture_output=True, text=True)
    if done.returncode != 0 or not binary.exists():
        raise Unavailable(f"serverless-offline: npm install failed:\n{done.stdout}{done.stderr}")
    return binary


def _npm_version(package: str) -> str | None:
    try:
        manifest = NPM_CACHE / "node_modules" / package / "package.json"
        version: str = json.loads(manifest.read_text())["version"]
    except (OSError, ValueError, KeyError):
        return None
    return version


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


def serverless_environment() -> dict[str, str]:
    """Its Python runner starts `python3` from PATH (and VIRTUAL_ENV's bin first): this
    interpreter's directory goes first, so both emulators run the same Python."""
    environment = {
        **os.environ,
        "PATH": os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")]),
        "SLS_TELEMETRY_DISABLED": "1",
        "SLS_NOTIFICATIONS_MODE": "off",
    }
    if sys.prefix != sys.base_prefix:
        environment["VIRTUAL_ENV"] = sys.prefix
    return environment


def start_serverless_offline(root: Path, stack: contextlib.ExitStack) -> Contender:
    """`serverless offline` with its default options (host and ports set); its process group
    (node and the Python processes it spawns) is stopped afterwards."""
    binary = install_serverless_offline()
    (NPM_CACHE / "serverless.yml").write_text(SERVERLESS_YML)
    (NPM_CACHE / "handler.py").write_text(HANDLER_SOURCE)
    http_port = free_port()
    argv = [str(binary), "offline", "--host", "127.0.0.1"]
    argv += ["--httpPort", str(http_port), "--lambdaPort", str(free_port())]
    started = time.perf_counter()
    with (root / "serverless-offline.log").open("w") as log:
        process = subprocess.Popen(
            argv,
            cwd=NPM_CACHE,
            stdout=log,
            stderr=subprocess.STDOUT,
            env=serverless_environment(),
            start_new_session=True,
        )
    stack.callback(stop_process_group, process)
    if not _accepts_connections(process, http_port):
        log_text = (root / "serverless-offline.log").read_text()
        raise NotServing(f"serverless offline did not start:\n{log_text}")
    start_ms = _since(started)
    url = f"http://127.0.0.1:{http_port}/"
    return Contender(
        "serverless_offline", "serverless-offline", url, process.pid, start_ms=start_ms
    )


def _accepts_connections(process: subprocess.Popen[bytes], port: int) -> bool:
    """Node prints its banner through a log file, so readiness is the port accepting."""
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline and process.poll() is None:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
        except OSError:
            time.sleep(0.1)
        else:
            return True
    return False


def stop_process_group(process: subprocess.Popen[bytes]) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(STOP_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)  # the Python runners it may have left behind


def check_serving(contender: Contender) -> None:
    """Every one of a few requests must answer 200 `hello`: fail loudly before measuring."""
    parts = urllib.parse.urlsplit(contender.url)
    connection = http.client.HTTPConnection(parts.hostname or "", parts.port, timeout=30)
    try:
        for _ in range(CHECKED_REQUESTS):
            connection.request("GET", parts.path)
            response = connection.getresponse()
            body = response.read()
            if response.status != 200 or body != EXPECTED_BODY:
                raise NotServing(
                    f"{contender.label} answered {response.status} {body[:300]!r} to GET "
                    f"{contender.url} (expected 200 {EXPECTED_BODY!r})"
                )
    except OSError as error:
        raise NotServing(f"{contender.label} at {contender.url}: {error}") from error
    finally:
        connection.close()


# -- the run ----------------------------------------------------------------------------------


@dataclass
class GatewayReport:
    title: str = ""
    figures: list[Figure] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)  # what this machine could not run
    failures: list[str] = field(default_factory=list)  # servers that answered wrongly


Starter = Callable[[Path, contextlib.ExitStack], Contender]
STARTERS: dict[str, Starter] = {
    "uvicorn": start_uvicorn,
    "serverless_offline": start_serverless_offline,
    "portico": start_portico,
    "runtime_floor": start_runtime_floor,
}


def start_all(root: Path, stack: contextlib.ExitStack, report: GatewayReport) -> list[Contender]:
    contenders = []
    for start in STARTERS.values():
        try:
            contender = start(root, stack)
            check_serving(contender)
        except Unavailable as missing:
            report.skipped.append(str(missing))
        except NotServing as problem:
            report.failures.append(str(problem))
        else:
            contenders.append(contender)
    return contenders


def rotated(contenders: Sequence[Contender], by: int) -> list[Contender]:
    shift = by % len(contenders)
    return [*contenders[shift:], *contenders[:shift]]


def measure(wrk: Wrk, contenders: Sequence[Contender], sizes: GatewaySizes) -> None:
    """Each round: every server's throughput run, then every server's latency run, in an
    order rotated per round so that drifts of the machine hit all of them alike."""
    for contender in contenders:  # warm: environments started, caches and JITs filled
        warm = wrk.run(contender.url, HIGH_CONCURRENCY, sizes.warmup_s)
        contender.failed_responses += warm.failed
    for index in range(sizes.rounds):
        order = rotated(contenders, index)
        for contender in order:
            before = _tree_cpu(contender)
            run = wrk.run(contender.url, HIGH_CONCURRENCY, sizes.throughput_s)
            contender.throughput.append(run)
            if before is not None and run.requests:
                after = _tree_cpu(contender) or {}
                contender.cpu.append(
                    {
                        role: (used - before.get(role, 0)) / run.requests / NS_PER["µs"]
                        for role, used in after.items()
                    }
                )
        for contender in order:
            contender.latency.append(wrk.run(contender.url, 1, sizes.latency_s))
    for contender in contenders:
        contender.failed_responses += sum(
            r.failed for r in contender.throughput + contender.latency
        )


def _role(command_line: str) -> str:
    """What a process below a server does: Portico's log writer, or functions (execution
    environments, their zygote, serverless-offline's Python runners)."""
    return "log_writer" if "portico.services.logs.writer" in command_line else "functions"


def _tree_cpu(contender: Contender) -> dict[str, int] | None:
    return None if contender.pid is None else tree_cpu_ns(contender.pid, _role)


def _median(values: Sequence[float]) -> float:
    ordered = sorted(values)
    middle = len(ordered) // 2
    return ordered[middle] if len(ordered) % 2 else (ordered[middle - 1] + ordered[middle]) / 2


def contender_figures(contender: Contender) -> dict[str, Figure]:
    prefix = f"gateway_{contender.key}"
    rates = [run.successful_rate for run in contender.throughput]
    return {
        "throughput": Figure(f"{prefix}_throughput_c16", _median(rates), "requests/s"),
        "p50": Figure(
            f"{prefix}_latency_c1_p50", _median([r.p50_us for r in contender.latency]), "µs"
        ),
        "p99": Figure(
            f"{prefix}_latency_c1_p99", _median([r.p99_us for r in contender.latency]), "µs"
        ),
        # Under load: what a server's pauses (a collector's pass, a flush) cost its clients.
        "p99_c16": Figure(
            f"{prefix}_latency_c16_p99",
            _median([r.p99_us for r in contender.throughput]),
            "µs",
        ),
        "failed": Figure(f"{prefix}_failed_responses", contender.failed_responses, "responses"),
        **(
            {"start": Figure(f"{prefix}_start_to_listening", contender.start_ms, "ms")}
            if contender.start_ms is not None
            else {}
        ),
        **{
            f"cpu_{role}": Figure(
                f"{prefix}_cpu_per_request_c16_{role}",
                _median([run.get(role, 0.0) for run in contender.cpu]),
                "µs",
            )
            for role in ROLES
            if any(role in run for run in contender.cpu)
        },
    }


def figures(contenders: Sequence[Contender]) -> list[Figure]:
    """Each server's figures: serverless-offline's against uvicorn's, Portico's against
    serverless-offline's and (as `..._vs_uvicorn`) against uvicorn's."""
    by_key = {contender.key: contender_figures(contender) for contender in contenders}
    uvicorn_, offline, portico, floor = (by_key.get(key) for key in STARTERS)
    result: list[Figure] = []
    if uvicorn_:
        result += _against(uvicorn_, None)
    if offline:
        result += _against(offline, uvicorn_)
    if portico:
        result += _against(portico, offline)
        if uvicorn_:
            result += _against(portico, uvicorn_, "_vs_uvicorn")
    if floor:
        # How far the design itself gets: the floor against serverless-offline, and how
        # much of the floor's throughput Portico keeps with its gateway in front.
        result += _against(floor, offline)
        if portico:
            result += _against(portico, floor, "_vs_floor")
    # Where each server's CPU goes per request at -c16 (wrk's own is not counted); Portico's
    # against the floor's, role by role: what its gateway adds.
    for key, server in by_key.items():
        for kind in (k for k in server if k.startswith("cpu_")):
            floor_figure = floor.get(kind) if floor and key == "portico" else None
            result.append(server[kind].against(floor_figure) if floor_figure else server[kind])
    # From launch to listening, one sample each: Portico's against serverless-offline's.
    for key, server in by_key.items():
        if "start" in server:
            baseline = offline.get("start") if offline and key == "portico" else None
            result.append(server["start"].against(baseline) if baseline else server["start"])
    failed = [server["failed"] for server in by_key.values()]
    result += failed
    result.append(Figure("gateway_failed_responses", sum(f.value for f in failed), "responses"))
    return result


def _against(
    these: dict[str, Figure], baseline: dict[str, Figure] | None, suffix: str = ""
) -> list[Figure]:
    kinds = ("throughput", "p50", "p99", "p99_c16")
    if baseline is None:
        return [these[kind] for kind in kinds]
    return [these[kind].against(baseline[kind], these[kind].name + suffix) for kind in kinds]


def title(wrk: Wrk, sizes: GatewaySizes) -> str:
    node = subprocess.run(["node", "--version"], capture_output=True, text=True).stdout.strip()
    return (
        f"HTTP API gateway under {wrk.version()}: {sizes.rounds} rounds, median; requests/s "
        f"with -t2 -c{HIGH_CONCURRENCY} for {sizes.throughput_s}s,\n"
        f"  latency with -t1 -c1 --latency for {sizes.latency_s}s. GET / answered `hello` by "
        f"uvicorn {uvicorn.__version__} (1 worker, httptools,\n"
        f"  uvloop), serverless {SERVERLESS_VERSION} + serverless-offline "
        f"{SERVERLESS_OFFLINE_VERSION} on node {node or '-'} (httpApi event, default\n"
        f"  options), Portico (`portico up`, a quick-created HTTP API) and Portico's runtime "
        f"floor (its runtime behind\n  the same uvicorn, no gateway). wrk and the servers share "
        f"the {os.cpu_count()} CPUs."
    )


def run(sizes: GatewaySizes, root: Path) -> GatewayReport:
    report = GatewayReport()
    binary = find_wrk()
    if binary is None:
        report.skipped.append("wrk is not installed (apt-get install wrk): no gateway figures")
        return report
    root.mkdir(parents=True, exist_ok=True)
    script = root / "result.lua"
    script.write_text(WRK_SCRIPT)
    wrk = Wrk(binary, script)
    report.title = title(wrk, sizes)
    with contextlib.ExitStack() as stack:
        contenders = start_all(root, stack, report)
        if contenders:
            measure(wrk, contenders, sizes)
    report.figures = figures(contenders)
    return report


if __name__ == "__main__" and sys.argv[1:] == [UVICORN_HELLO]:
    serve_hello()
elif __name__ == "__main__" and sys.argv[1:2] == [RUNTIME_FLOOR]:
    serve_runtime_floor(Path(sys.argv[2]))
