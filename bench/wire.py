"""The wire path: Invoke through `portico up` (HTTP, SigV4, the Lambda REST protocol) beside the
runtime-only invoke that bench/run.py times in its own process.

    this process (the clients)                    `portico up` (its own process)
    --------------------------                    ------------------------------
    lean: one keep-alive socket, each request     uvicorn + httptools -> AwsEndpoint
          signed by botocore's SigV4Auth and      -> SigV4 verify -> botocore-model parse
          serialized before the clock starts      -> Lambda provider -> Runtime.invoke
    http.client: the same, through the stdlib    -> serialize -> response
    boto3: client.invoke (its own signing,
           retries and parsing: client-side cost)
    8 threads, one lean connection each
    HTTP floor: the lean client's requests to     uvicorn + httptools serving a constant
                another process                   answer: what HTTP alone costs

Both processes share the machine's CPUs, so a client's own cost is part of the wall time: the
lean client keeps it small; http.client and boto3 show what real clients add on top.
"""

from __future__ import annotations

import asyncio
import contextlib
import http.client
import importlib.util
import io
import json
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.parse
import zipfile
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any

import boto3
import uvicorn
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.config import Config
from botocore.credentials import Credentials

from figures import NS_PER, Figure, Series, process_cpu_ns, timed

ACCESS_KEY_ID = "AKIAPORTICOBENCHKEY1"
SECRET_ACCESS_KEY = "portico-bench-secret-access-key-00000000"
REGION = "us-east-1"
ROLE = "arn:aws:iam::000000000000:role/r"
FUNCTION_NAME = "bench-wire"
INVOKE_PATH = f"/2015-03-31/functions/{FUNCTION_NAME}/invocations"
PAYLOAD = b"{}"
READY = re.compile(r"ready on (http://[\d.]+:\d+)")
HTTP_FLOOR = "http-floor"
START_TIMEOUT_S = 30.0
STOP_TIMEOUT_S = 30.0
# The target: the wire path adds less than 0.5 ms at p50 (in µs, the unit of the figure).
TARGETS = {"wire_overhead_p50": 500.0}


@dataclass(frozen=True)
class WireSizes:
    warmup: int
    lean_per_round: int
    others_per_round: int  # http.client and boto3, each


class ServerProcess:
    """A server in its own process that prints `... ready on http://HOST:PORT` once it
    listens; stopped with SIGTERM."""

    def __init__(self, process: subprocess.Popen[str], url: str) -> None:
        self.process = process
        self.url = url

    @classmethod
    def start(
        cls, argv: list[str], log_path: Path, environment: dict[str, str] | None = None
    ) -> ServerProcess:
        with log_path.open("w") as log:
            process = subprocess.Popen(
                argv, stdout=subprocess.PIPE, stderr=log, text=True, env=environment
            )
        url = _wait_until_ready(process)
        server = cls(process, url or "")
        if url is None:
            server.stop()
            raise SystemExit(f"{' '.join(argv)} did not start:\n{log_path.read_text()}")
        return server

    @property
    def pid(self) -> int:
        return self.process.pid

    def cpu_ns(self) -> int:
        """The server process's CPU time (all its threads; not its functions' processes)."""
        return process_cpu_ns(self.pid)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(STOP_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                self.process.kill()
        self.process.communicate()


def _wait_until_ready(process: subprocess.Popen[str]) -> str | None:
    """The server prints its address once it listens: wait for that line, not a sleep."""
    if process.stdout is None:
        return None
    timer = threading.Timer(START_TIMEOUT_S, process.kill)
    timer.start()
    try:
        for line in process.stdout:
            found = READY.search(line)
            if found:
                return found.group(1)
    finally:
        timer.cancel()
    return None


def start_portico(
    data_dir: Path,
    log_path: Path,
    source: Path | None = None,
    extra_environment: dict[str, str] | None = None,
) -> ServerProcess:
    """`portico up` on a free port; with `source`, Portico's code from that `src` folder
    (another revision's) rather than the installed one; `extra_environment` adds to its
    variables."""
    argv = [sys.executable, "-m", "portico.cli.main", "up", "--port", "0"]
    argv += ["--data-dir", str(data_dir), "--example", ""]
    environment = {
        **os.environ,
        "PORTICO_ACCESS_KEY_ID": ACCESS_KEY_ID,
        "PORTICO_SECRET_ACCESS_KEY": SECRET_ACCESS_KEY,
        **(extra_environment or {}),
    }
    if source is not None:
        environment["PYTHONPATH"] = str(source)
    return ServerProcess.start(argv, log_path, environment)


def start_http_floor(log_path: Path) -> ServerProcess:
    """The HTTP floor: the same uvicorn set-up as `portico up` serving a constant answer."""
    return ServerProcess.start([sys.executable, __file__, HTTP_FLOOR], log_path)


async def _floor_app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] != "http":
        return
    while (await receive()).get("more_body"):
        pass
    headers = [(b"content-type", b"application/json"), (b"content-length", b"12")]
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    await send({"type": "http.response.body", "body": b'{"ok": true}'})


async def _serve_http_floor() -> None:
    await serve_app(_floor_app, "HTTP floor")


async def serve_app(app: Any, label: str) -> None:
    """Serve `app` with uvicorn (1 worker, httptools) on a free loopback port; print
    "<label> ready on http://host:port" once it listens."""
    config = uvicorn.Config(
        app,
        host="127.0.0.1",
        port=0,
        loop="none",
        http="httptools",
        lifespan="off",
        log_level="warning",
        access_log=False,
    )
    server = uvicorn.Server(config)
    serving = asyncio.ensure_future(server.serve())
    while not server.started and not serving.done():
        await asyncio.sleep(0.01)
    if server.started:
        host, port = server.servers[0].sockets[0].getsockname()[:2]
        print(f"{label} ready on http://{host}:{port}", flush=True)
    await serving


def serve_http_floor() -> None:
    try:
        import uvloop
    except ImportError:
        asyncio.run(_serve_http_floor())
    else:
        uvloop.run(_serve_http_floor())


def server_event_loop() -> str:
    """What `portico up` runs on: portico.server uses uvloop whenever it is importable."""
    return "uvloop" if importlib.util.find_spec("uvloop") else "asyncio's default loop"


def _check(body: bytes, status: int = 200) -> None:
    if status != 200 or json.loads(body) != {"ok": True}:
        raise SystemExit(f"the wire invoke answered {status}: {body!r}")


class Signer:
    """Signs an Invoke of the bench's function with botocore's SigV4Auth, as boto3 would."""

    def __init__(self, url: str) -> None:
        self._url = url + INVOKE_PATH
        self._auth = SigV4Auth(Credentials(ACCESS_KEY_ID, SECRET_ACCESS_KEY), "lambda", REGION)

    def sign(self) -> dict[str, str]:
        request = AWSRequest(method="POST", url=self._url, data=PAYLOAD)
        self._auth.add_auth(request)
        return dict(request.headers.items())


class SocketInvoker:
    """The lean client: one keep-alive TCP connection; each request is signed and serialized
    before the clock starts, and the response is read by its Content-Length, so what is timed
    is little more than the server."""

    def __init__(self, url: str) -> None:
        parts = urllib.parse.urlsplit(url)
        self._host = parts.netloc
        self._signer = Signer(url)
        self._socket = socket.create_connection((parts.hostname, parts.port))
        self._socket.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self._buffer = b""

    def presigned(self, count: int) -> Callable[[], None]:
        """Signs `count` requests now; each call of the result sends the next one."""
        requests = iter([self._request(self._signer.sign()) for _ in range(count)])
        return lambda: self.send(next(requests))

    def _request(self, headers: dict[str, str]) -> bytes:
        lines = [f"POST {INVOKE_PATH} HTTP/1.1", f"Host: {self._host}"]
        lines += [f"{name}: {value}" for name, value in headers.items()]
        lines.append(f"Content-Length: {len(PAYLOAD)}")
        return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + PAYLOAD

    def send(self, request: bytes) -> None:
        self._socket.sendall(request)
        head = self._read_until(b"\r\n\r\n")
        status_line, *header_lines = head.decode("latin-1").split("\r\n")
        length = next(
            int(line.partition(":")[2])
            for line in header_lines
            if line.lower().startswith("content-length:")
        )
        _check(self._read(length), int(status_line.split()[1]))

    def _read_until(self, marker: bytes) -> bytes:
        while marker not in self._buffer:
            self._fill()
        head, _, self._buffer = self._buffer.partition(marker)
        return head

    def _read(self, size: int) -> bytes:
        while len(self._buffer) < size:
            self._fill()
        body, self._buffer = self._buffer[:size], self._buffer[size:]
        return body

    def _fill(self) -> None:
        chunk = self._socket.recv(65536)
        if not chunk:
            raise SystemExit(f"the server at {self._host} closed the connection")
        self._buffer += chunk

    def close(self) -> None:
        self._socket.close()


class HttpClientInvoker:
    """The standard library's keep-alive http.client, each request signed before the clock
    starts: the lean client plus http.client's own request and response handling."""

    def __init__(self, url: str) -> None:
        parts = urllib.parse.urlsplit(url)
        self._signer = Signer(url)
        self._connection = http.client.HTTPConnection(parts.hostname or "", parts.port)

    def presigned(self, count: int) -> Callable[[], None]:
        signed = iter([self._signer.sign() for _ in range(count)])
        return lambda: self.send(next(signed))

    def send(self, headers: dict[str, str]) -> None:
        self._connection.request("POST", INVOKE_PATH, body=PAYLOAD, headers=headers)
        response = self._connection.getresponse()
        _check(response.read(), response.status)

    def close(self) -> None:
        self._connection.close()


def lambda_client(url: str) -> Any:
    return boto3.client(
        "lambda",
        endpoint_url=url,
        region_name=REGION,
        aws_access_key_id=ACCESS_KEY_ID,
        aws_secret_access_key=SECRET_ACCESS_KEY,
        config=Config(retries={"max_attempts": 1}),
    )


def deploy(client: Any, code_dir: Path) -> None:
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as zipped:
        zipped.write(code_dir / "app.py", "app.py")
    client.create_function(
        FunctionName=FUNCTION_NAME,
        Runtime="python3.12",
        Role=ROLE,
        Handler="app.handler",
        Code={"ZipFile": archive.getvalue()},
    )


@dataclass
class Client:
    """One client's latency samples, and the server's CPU time while they were taken."""

    series: Series = field(default_factory=Series)
    server_cpu_ns: int = 0


@dataclass
class WireSamples:
    http_floor: Client = field(default_factory=Client)
    lean: Client = field(default_factory=Client)
    http_client: Client = field(default_factory=Client)
    boto3: Client = field(default_factory=Client)
    concurrent: Client = field(default_factory=Client)
    concurrency: int = 0


class WireBench:
    """`portico up` with the bench's function deployed, the HTTP floor, and the clients."""

    def __init__(self, server: ServerProcess, http_floor: ServerProcess, code_dir: Path) -> None:
        self.server = server
        self.http_floor = http_floor
        self.samples = WireSamples()
        self._boto3 = lambda_client(server.url)
        deploy(self._boto3, code_dir)
        self._floor = SocketInvoker(http_floor.url)
        self._lean = SocketInvoker(server.url)
        self._http_client = HttpClientInvoker(server.url)

    @classmethod
    def start(cls, root: Path, code_dir: Path) -> WireBench:
        root.mkdir()
        with contextlib.ExitStack() as started:
            server = start_portico(root / "data", root / "server.log")
            started.callback(server.stop)
            http_floor = start_http_floor(root / "http-floor.log")
            started.callback(http_floor.stop)
            bench = cls(server, http_floor, code_dir)
            started.pop_all()
        return bench

    def __enter__(self) -> WireBench:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        for invoker in (self._floor, self._lean, self._http_client):
            invoker.close()
        self.server.stop()
        self.http_floor.stop()

    def boto3_invoke(self) -> None:
        response = self._boto3.invoke(FunctionName=FUNCTION_NAME, Payload=PAYLOAD)
        _check(response["Payload"].read())

    def warm_up(self, sizes: WireSizes) -> None:
        self.round(sizes.warmup, sizes.warmup, WireSamples())

    def round(self, lean_calls: int, other_calls: int, samples: WireSamples | None = None) -> None:
        """A block of each client, sampled in alternation with the runtime-only blocks."""
        if samples is None:
            samples = self.samples
        floor, lean, http_client = self._floor, self._lean, self._http_client
        _block(self.http_floor, samples.http_floor, lean_calls, floor.presigned(lean_calls))
        _block(self.server, samples.lean, lean_calls, lean.presigned(lean_calls))
        _block(self.server, samples.http_client, other_calls, http_client.presigned(other_calls))
        _block(self.server, samples.boto3, other_calls, self.boto3_invoke)

    def concurrent(self, width: int, calls_per_worker: int) -> None:
        """`width` threads, each with its own lean connection, invoking back to back."""
        invokers = [SocketInvoker(self.server.url) for _ in range(width)]
        per_worker = [Series() for _ in range(width)]
        series = self.samples.concurrent.series
        try:
            with ThreadPoolExecutor(width) as pool:
                list(pool.map(_timed_calls, invokers, [Series() for _ in invokers], [20] * width))
                started, cpu_started = time.perf_counter_ns(), time.process_time_ns()
                server_cpu = self.server.cpu_ns()
                list(pool.map(_timed_calls, invokers, per_worker, [calls_per_worker] * width))
                self.samples.concurrent.server_cpu_ns = self.server.cpu_ns() - server_cpu
                series.elapsed_ns = time.perf_counter_ns() - started
                series.cpu_ns = time.process_time_ns() - cpu_started
        finally:
            for invoker in invokers:
                invoker.close()
        series.samples = [ns for worker in per_worker for ns in worker.samples]
        self.samples.concurrency = width


def _block(server: ServerProcess, client: Client, calls: int, call: Callable[[], None]) -> None:
    server_cpu = server.cpu_ns()
    timed(client.series, calls, call)
    client.server_cpu_ns += server.cpu_ns() - server_cpu


def _timed_calls(invoker: SocketInvoker, series: Series, calls: int) -> None:
    timed(series, calls, invoker.presigned(calls))


# -- the report -------------------------------------------------------------------------------


def title(wire: WireSamples) -> str:
    counts = (len(client.series.samples) for client in (wire.lean, wire.http_client, wire.boto3))
    return (
        "Wire path: Invoke through `portico up` ({} lean + {} http.client + {} boto3 invokes)\n"
        "  The server runs in its own process on {}, sharing this machine's {} CPUs with the\n"
        "  client. lean = a keep-alive socket, SigV4Auth-signed and serialized before the clock\n"
        "  starts; http.client = the same with the standard library's client; boto3 =\n"
        "  client.invoke, its own signing and parsing included. HTTP floor = the lean client's\n"
        "  requests to the same uvicorn set-up serving a constant answer."
    ).format(*counts, server_event_loop(), os.cpu_count())


def figures(
    wire: WireSamples, runtime: Series, runtime_concurrent: Series, runtime_width: int
) -> list[Figure]:
    """The wire figures against the runtime-only ones (same names and values as run.py's)."""
    warm_p50, warm_p99 = runtime.latency("warm_invoke", "µs")
    floor_p50, floor_p99 = wire.http_floor.series.latency("http_round_trip_floor", "µs")
    p50, p99 = wire.lean.series.latency("wire_invoke", "µs")
    http_p50, http_p99 = wire.http_client.series.latency("wire_http_client_invoke", "µs")
    boto3_p50, boto3_p99 = wire.boto3.series.latency("wire_boto3_invoke", "µs")
    width = wire.concurrency
    concurrent = wire.concurrent.series
    concurrent_p50 = concurrent.latency(f"wire_invoke_concurrency_{width}", "µs")[0]
    sequential = wire.lean.series.rate("wire_throughput_sequential")
    runtime_rate = runtime.rate("warm_throughput_sequential")
    runtime_concurrent_rate = runtime_concurrent.rate(
        f"warm_throughput_concurrency_{runtime_width}"
    )
    floor_rate = wire.http_floor.series.rate("http_round_trip_floor_throughput")
    return [
        floor_p50,
        floor_p99,
        p50.against(warm_p50),
        p99.against(warm_p99),
        Figure("wire_overhead_p50", p50.value - warm_p50.value, "µs"),
        Figure("wire_overhead_p99", p99.value - warm_p99.value, "µs"),
        Figure("wire_overhead_over_http_floor_p50", p50.value - floor_p50.value, "µs"),
        http_p50.against(p50),
        http_p99.against(p99),
        boto3_p50.against(p50),
        boto3_p99.against(p99),
        Figure("boto3_client_overhead_p50", boto3_p50.value - p50.value, "µs"),
        floor_rate,
        sequential.against(runtime_rate),
        sequential.against(floor_rate, "wire_throughput_sequential_vs_http_floor"),
        wire.http_client.series.rate("wire_http_client_throughput_sequential").against(sequential),
        wire.boto3.series.rate("wire_boto3_throughput_sequential").against(sequential),
        concurrent.rate(f"wire_throughput_concurrency_{width}").against(runtime_concurrent_rate),
        concurrent_p50.against(p50),
    ]


def _server_cpu(name: str, client: Client) -> Figure:
    return Figure(name, client.server_cpu_ns / len(client.series.samples) / NS_PER["µs"], "µs")


def cpu_figures(wire: WireSamples, runtime: Series) -> list[Figure]:
    """CPU per invoke: the server process (everything but the function's own process) beside
    this process hosting the Runtime in the runtime-only invoke; and each client's own."""
    host = runtime.cpu_per_call("warm_invoke_host_cpu")
    floor = _server_cpu("http_round_trip_floor_server_cpu", wire.http_floor)
    server = _server_cpu("wire_server_cpu", wire.lean)
    width = wire.concurrency
    lean_client = wire.lean.series.cpu_per_call("wire_lean_client_cpu")
    return [
        floor,
        server.against(host),
        server.against(floor, "wire_server_cpu_vs_http_floor"),
        Figure("wire_server_cpu_over_runtime", server.value - host.value, "µs"),
        _server_cpu(f"wire_concurrency_{width}_server_cpu", wire.concurrent).against(server),
        lean_client,
        wire.http_client.series.cpu_per_call("wire_http_client_client_cpu").against(lean_client),
        wire.boto3.series.cpu_per_call("wire_boto3_client_cpu").against(lean_client),
    ]


if __name__ == "__main__" and sys.argv[1:] == [HTTP_FLOOR]:
    serve_http_floor()
