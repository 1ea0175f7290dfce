"""`make bench`: cold start, warm invoke and idle memory, each beside a floor measured in the
same run on the same machine.

    floor (no Portico)                          Portico (Runtime, uvloop when it works)
    ------------------                          ---------------------------------------
    os.fork of this process + a byte on a pipe  cold start: new environment -> response
    fresh interpreter runs the handler          (compared with both)
    direct call, json in and out                warm invoke p50/p99, sequential rate
    pipe round trip to a warm child             (compared with both)
    -                                           8 concurrent callers: rate
    warm invoke (the runtime only);             Invoke through `portico up`: HTTP + SigV4
    uvicorn answering a constant (HTTP floor)   (bench/wire.py): p50/p99, rate, 8 callers
    -                                           USS of N idle environments, zygote RSS
    uvicorn hello world; serverless-offline     an HTTP API's `$default` route on the same
    serving the handler (bench/gateway.py)      handler under wrk: requests/s at 16
                                                connections, p50/p99 at 1

A floor and its Portico figure are sampled in alternation (one cold start, one fork; a block
of warm invokes, a block of each floor, a block of wire invokes), so a noisy neighbour skews
both alike; so are the three HTTP servers under wrk, round by round.
`--only invoke` or `--only gateway` runs one part.
Prints a table and writes one JSON object per figure to bench/results/latest.jsonl.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import importlib.util
import json
import os
import resource
import struct
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

import gateway
import wire
from figures import (
    NS_PER,
    Figure,
    Series,
    Target,
    process_cpu_ns,
    scratch_folder,
    timed,
    timed_async,
)
from portico.runtime import FunctionConfig, Runtime, RuntimeSettings

HANDLER_SOURCE = 'def handler(e, c):\n    return {"ok": True}\n'
PAYLOAD = b"{}"
RESULTS = Path(__file__).parent / "results" / "latest.jsonl"
LENGTH = struct.Struct("!I")
FRESH_INTERPRETER_CODE = (
    "import json, sys; sys.path.insert(0, sys.argv[1]); from app import handler; "
    "sys.stdout.write(json.dumps(handler(json.loads(sys.argv[2]), None)))"
)
LIMITS = {
    "cold_start_p50": 5.0,
    "warm_overhead_p50": 150.0,
    **wire.TARGETS,
    "idle_environment_uss_median": 12.0,
}
TARGETS = {name: Target(limit) for name, limit in LIMITS.items()}
PARTS = ("invoke", "gateway")

Handler = Callable[[Any, Any], Any]


@dataclass(frozen=True)
class Sizes:
    """How many samples of each kind; `--quick` shrinks them all."""

    warmup: int
    cold_starts: int
    fresh_interpreters: int
    warm_rounds: int
    warm_invokes_per_round: int
    concurrency: int
    invokes_per_worker: int
    idle_environments: int
    wire: wire.WireSizes
    gateway: gateway.GatewaySizes


FULL = Sizes(
    warmup=300,
    cold_starts=400,
    fresh_interpreters=100,
    warm_rounds=20,
    warm_invokes_per_round=500,
    concurrency=8,
    invokes_per_worker=1000,
    idle_environments=200,
    wire=wire.WireSizes(warmup=300, lean_per_round=250, others_per_round=100),
    gateway=gateway.GatewaySizes(warmup_s=3, rounds=5, throughput_s=5, latency_s=5),
)
QUICK = Sizes(
    warmup=30,
    cold_starts=30,
    fresh_interpreters=10,
    warm_rounds=4,
    warm_invokes_per_round=100,
    concurrency=8,
    invokes_per_worker=50,
    idle_environments=20,
    wire=wire.WireSizes(warmup=30, lean_per_round=50, others_per_round=20),
    gateway=gateway.GatewaySizes(warmup_s=1, rounds=2, throughput_s=2, latency_s=2),
)


# -- floors: no Portico -----------------------------------------------------------------------


def load_handler(code_dir: Path) -> Handler:
    spec = importlib.util.spec_from_file_location("bench_app", code_dir / "app.py")
    if spec is None or spec.loader is None:
        raise SystemExit(f"cannot load {code_dir / 'app.py'}")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    handler: Handler = module.handler
    return handler


def fork_and_signal() -> None:
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.write(write_end, b"x")
        os._exit(0)
    os.read(read_end, 1)
    os.waitpid(pid, 0)
    os.close(read_end)
    os.close(write_end)


def fresh_interpreter(code_dir: Path) -> None:
    argv = [sys.executable, "-I", "-S", "-c", FRESH_INTERPRETER_CODE, str(code_dir), "{}"]
    done = subprocess.run(argv, stdout=subprocess.PIPE, check=True)
    if json.loads(done.stdout) != {"ok": True}:
        raise SystemExit(f"the fresh interpreter answered {done.stdout!r}")


def direct_call(handler: Handler, payload: bytes = PAYLOAD) -> bytes:
    return json.dumps(handler(json.loads(payload), None)).encode()


def read_exactly(fd: int, size: int) -> bytes:
    chunks = []
    while size:
        chunk = os.read(fd, size)
        if not chunk:
            raise EOFError("peer closed")
        chunks.append(chunk)
        size -= len(chunk)
    return b"".join(chunks)


class PipeFloor:
    """A forked child answering length-prefixed requests on a pipe each way, as Portico's
    environments do: the simplest IPC loop that still decodes, calls and encodes. Forked
    before the event loop starts."""

    def __init__(self, handler: Handler) -> None:
        to_child, from_child = os.pipe(), os.pipe()
        self._pid = os.fork()
        if self._pid == 0:
            os.close(to_child[1])
            os.close(from_child[0])
            _serve(to_child[0], from_child[1], handler)
            os._exit(0)
        os.close(to_child[0])
        os.close(from_child[1])
        self._write, self._read = to_child[1], from_child[0]

    def round_trip(self, payload: bytes = PAYLOAD) -> bytes:
        os.write(self._write, LENGTH.pack(len(payload)) + payload)
        (size,) = LENGTH.unpack(read_exactly(self._read, LENGTH.size))
        return read_exactly(self._read, size)

    def child_cpu_ns(self) -> int:
        """The child's CPU time so far (an empty request asks for it)."""
        return int(self.round_trip(b""))

    def close(self) -> None:
        os.close(self._write)
        os.close(self._read)
        os.waitpid(self._pid, 0)


def _serve(requests: int, answers: int, handler: Handler) -> None:
    while True:
        try:
            (size,) = LENGTH.unpack(read_exactly(requests, LENGTH.size))
        except EOFError:
            return
        if size == 0:
            body = str(time.process_time_ns()).encode()
        else:
            body = direct_call(handler, read_exactly(requests, size))
        os.write(answers, LENGTH.pack(len(body)) + body)


@dataclass
class Floors:
    handler: Handler
    pipe: PipeFloor
    code_dir: Path


# -- Portico ----------------------------------------------------------------------------------


@dataclass
class Samples:
    fork: Series = field(default_factory=Series)
    fresh_interpreter: Series = field(default_factory=Series)
    cold_start: Series = field(default_factory=Series)
    cold_init_ms: list[float] = field(default_factory=list)
    direct: Series = field(default_factory=Series)
    pipe: Series = field(default_factory=Series)
    warm: Series = field(default_factory=Series)
    warm_environment_cpu_ns: int = 0
    pipe_child_cpu_ns: int = 0
    concurrent: Series = field(default_factory=Series)
    concurrent_environments: int = 0
    wire: wire.WireSamples = field(default_factory=wire.WireSamples)
    uss_kb: list[int] = field(default_factory=list)
    zygote_rss_kb: int = 0
    bench_rss_kb: int = 0


async def invoke_ok(runtime: Runtime, config: FunctionConfig) -> float | None:
    """Invoke once; returns the INIT duration the runtime reported (None when warm)."""
    result = await runtime.invoke(config, PAYLOAD)
    if result.function_error is not None or json.loads(result.payload) != {"ok": True}:
        raise SystemExit(f"{config.function_name} failed: {result.payload!r}")
    return result.init_duration_ms


async def stop_environments(runtime: Runtime, function_name: str) -> None:
    environments = runtime.environments(function_name)
    for environment in environments:
        environment.stop()
    await asyncio.gather(*(environment.wait_closed() for environment in environments))
    runtime.reap_once()  # drops the pools left empty


async def cold_start(runtime: Runtime, config: FunctionConfig, samples: Samples) -> None:
    started = time.perf_counter_ns()
    init_ms = await invoke_ok(runtime, config)
    samples.cold_start.samples.append(time.perf_counter_ns() - started)
    if init_ms is None:
        raise SystemExit("a cold-start sample was served by a warm environment")
    samples.cold_init_ms.append(init_ms)
    await stop_environments(runtime, config.function_name)


def _revision(base: FunctionConfig, tag: str) -> FunctionConfig:
    """A distinct environment value makes a new revision, so the invoke needs a new env."""
    return dataclasses.replace(base, environment={"BENCH_SAMPLE": tag})


async def measure_cold(
    runtime: Runtime, base: FunctionConfig, floors: Floors, sizes: Sizes, samples: Samples
) -> None:
    scratch = Samples()
    for index in range(sizes.warmup // 10):
        await cold_start(runtime, _revision(base, f"warmup-{index}"), scratch)
        fork_and_signal()
    fresh_every = max(1, sizes.cold_starts // sizes.fresh_interpreters)
    fresh_interpreter(floors.code_dir)
    for index in range(sizes.cold_starts):
        await cold_start(runtime, _revision(base, str(index)), samples)
        timed(samples.fork, 1, fork_and_signal)
        if index % fresh_every == 0:
            timed(samples.fresh_interpreter, 1, lambda: fresh_interpreter(floors.code_dir))
    samples.bench_rss_kb = rss_kb(os.getpid())


async def measure_warm(
    runtime: Runtime,
    config: FunctionConfig,
    floors: Floors,
    sizes: Sizes,
    samples: Samples,
    wire_path: wire.WireBench,
) -> None:
    def invoke() -> Awaitable[float | None]:
        return invoke_ok(runtime, config)

    def direct() -> bytes:
        return direct_call(floors.handler)

    scratch = Samples()
    await timed_async(scratch.warm, sizes.warmup, invoke)
    timed(scratch.direct, sizes.warmup, direct)
    timed(scratch.pipe, sizes.warmup, floors.pipe.round_trip)
    wire_path.warm_up(sizes.wire)
    (environment,) = runtime.environments(config.function_name)
    pid = environment.pid
    if pid is None:
        raise SystemExit("the warm environment has no process")
    environment_cpu, pipe_child_cpu = process_cpu_ns(pid), floors.pipe.child_cpu_ns()
    count = sizes.warm_invokes_per_round
    for _ in range(sizes.warm_rounds):
        timed(samples.direct, count, direct)
        timed(samples.pipe, count, floors.pipe.round_trip)
        await timed_async(samples.warm, count, invoke)
        wire_path.round(sizes.wire.lean_per_round, sizes.wire.others_per_round)
    samples.warm_environment_cpu_ns = process_cpu_ns(pid) - environment_cpu
    samples.pipe_child_cpu_ns = floors.pipe.child_cpu_ns() - pipe_child_cpu


async def measure_concurrent(
    runtime: Runtime, config: FunctionConfig, sizes: Sizes, samples: Samples
) -> None:
    """`concurrency` callers invoking back to back: the pool grows to that many environments."""

    async def caller(calls: int, series: Series) -> None:
        await timed_async(series, calls, lambda: invoke_ok(runtime, config))

    width = sizes.concurrency
    await asyncio.gather(*(caller(20, Series()) for _ in range(width)))
    per_caller = [Series() for _ in range(width)]
    started, cpu_started = time.perf_counter_ns(), time.process_time_ns()
    await asyncio.gather(*(caller(sizes.invokes_per_worker, s) for s in per_caller))
    samples.concurrent.elapsed_ns = time.perf_counter_ns() - started
    samples.concurrent.cpu_ns = time.process_time_ns() - cpu_started
    samples.concurrent.samples = [ns for series in per_caller for ns in series.samples]
    samples.concurrent_environments = len(runtime.environments(config.function_name))


def uss_kb(pid: int) -> int:
    """Unique set size: the pages no other process shares."""
    private = 0
    with open(f"/proc/{pid}/smaps_rollup") as rollup:
        for line in rollup:
            if line.startswith(("Private_Clean:", "Private_Dirty:")):
                private += int(line.split()[1])
    return private


def rss_kb(pid: int) -> int:
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise SystemExit(f"no VmRSS for pid {pid}")


async def measure_memory(
    runtime: Runtime, base: FunctionConfig, sizes: Sizes, samples: Samples
) -> None:
    """Idle environments of distinct functions, each invoked once, then left warm."""
    names = [f"bench-idle-{index}" for index in range(sizes.idle_environments)]
    for name in names:
        await invoke_ok(runtime, dataclasses.replace(base, function_name=name))
    pids = [env.pid for name in names for env in runtime.environments(name)]
    if len(pids) != len(names):
        raise SystemExit(f"expected {len(names)} idle environments, found {len(pids)}")
    samples.uss_kb = [uss_kb(pid) for pid in pids if pid is not None]
    zygote = runtime.zygote_pid
    samples.zygote_rss_kb = rss_kb(zygote) if zygote is not None else 0


async def measure(floors: Floors, scratch: Path, sizes: Sizes) -> Samples:
    """Every section; `portico up` runs beside the warm and concurrent ones only."""
    runtime = Runtime(RuntimeSettings(state_dir=scratch / "state"))
    await runtime.start(reap=False)
    samples = Samples()
    code_dir = floors.code_dir
    base = FunctionConfig(function_name="bench-cold", handler="app.handler", code_dir=code_dir)
    warm = dataclasses.replace(base, function_name="bench-warm")
    try:
        await measure_cold(runtime, base, floors, sizes, samples)
        with wire.WireBench.start(scratch / "wire", code_dir) as wire_path:
            await measure_warm(runtime, warm, floors, sizes, samples, wire_path)
            await measure_concurrent(runtime, warm, sizes, samples)
            wire_path.concurrent(sizes.concurrency, sizes.invokes_per_worker)
            samples.wire = wire_path.samples
        await measure_memory(runtime, base, sizes, samples)
    finally:
        await runtime.close()
    return samples


# -- the event loop ---------------------------------------------------------------------------


async def probe_runtime(code_dir: Path, state_dir: Path) -> str | None:
    """One cold and one warm invoke; returns why they failed, or None."""
    problems: list[str] = []
    loop = asyncio.get_running_loop()
    loop.set_exception_handler(lambda _loop, context: problems.append(_describe(context)))
    runtime = Runtime(RuntimeSettings(state_dir=state_dir))
    await runtime.start(reap=False)
    config = FunctionConfig(function_name="bench-probe", handler="app.handler", code_dir=code_dir)
    try:
        for _ in range(2):
            result = await runtime.invoke(config, PAYLOAD)
            if result.function_error is not None:
                problems.append(f"invoke failed: {result.payload.decode()}")
                break
    finally:
        await runtime.close()
    return "; ".join(problems) or None


def _describe(context: dict[str, Any]) -> str:
    exception = context.get("exception")
    where = str(context.get("message", ""))
    if exception is None:
        return where
    return f"{where}: {type(exception).__name__}: {exception}".strip(": ")


def choose_event_loop(code_dir: Path, state_dir: Path, wanted: str) -> str:
    """uvloop when importable and Portico runs on it; otherwise asyncio's default loop."""
    if wanted == "asyncio":
        return "asyncio (default loop, as asked)"
    try:
        import uvloop
    except ImportError:
        return "asyncio (default loop: uvloop is not importable)"
    asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())
    problem = asyncio.run(probe_runtime(code_dir, state_dir))
    version = metadata.version("uvloop")
    if problem is None or wanted == "uvloop":
        return f"uvloop {version}" + (f" (fails: {problem})" if problem else "")
    asyncio.set_event_loop_policy(None)
    return f"asyncio (default loop; Portico fails on uvloop {version}: {problem})"


# -- the report -------------------------------------------------------------------------------


def _median(values: Iterable[float]) -> float:
    ordered = sorted(values)
    middle = len(ordered) // 2
    return ordered[middle] if len(ordered) % 2 else (ordered[middle - 1] + ordered[middle]) / 2


def cold_figures(samples: Samples) -> list[Figure]:
    p50, p99 = samples.cold_start.latency("cold_start", "ms")
    fork_p50, fork_p99 = samples.fork.latency("fork_baseline", "ms")
    fresh_p50, fresh_p99 = samples.fresh_interpreter.latency("fresh_interpreter_baseline", "ms")
    init_p50 = Figure("cold_start_init_duration_p50", _median(samples.cold_init_ms), "ms")
    return [
        fork_p50,
        fork_p99,
        fresh_p50,
        fresh_p99,
        p50.against(fork_p50),
        p99.against(fork_p99),
        p50.against(fresh_p50, "cold_start_p50_vs_fresh_interpreter"),
        p99.against(fresh_p99, "cold_start_p99_vs_fresh_interpreter"),
        init_p50.against(p50),
    ]


def warm_figures(samples: Samples) -> list[Figure]:
    p50, p99 = samples.warm.latency("warm_invoke", "µs")
    direct_p50, direct_p99 = samples.direct.latency("direct_call_floor", "µs")
    pipe_p50, pipe_p99 = samples.pipe.latency("pipe_round_trip_floor", "µs")
    sequential = samples.warm.rate("warm_throughput_sequential")
    direct_rate = samples.direct.rate("direct_call_floor_throughput")
    pipe_rate = samples.pipe.rate("pipe_round_trip_floor_throughput")
    width = samples.concurrent_environments
    concurrent = samples.concurrent.rate(f"warm_throughput_concurrency_{width}")
    concurrent_p50 = samples.concurrent.latency(f"warm_invoke_concurrency_{width}", "µs")[0]
    return [
        direct_p50,
        direct_p99,
        pipe_p50,
        pipe_p99,
        p50.against(direct_p50),
        p99.against(direct_p99),
        p50.against(pipe_p50, "warm_invoke_p50_vs_pipe"),
        p99.against(pipe_p99, "warm_invoke_p99_vs_pipe"),
        Figure("warm_overhead_p50", p50.value - direct_p50.value, "µs"),
        Figure("warm_overhead_over_pipe_p50", p50.value - pipe_p50.value, "µs"),
        direct_rate,
        pipe_rate,
        sequential.against(pipe_rate),
        sequential.against(direct_rate, "warm_throughput_sequential_vs_direct"),
        concurrent.against(sequential),
        concurrent_p50.against(p50),
    ]


def cpu_figures(samples: Samples) -> list[Figure]:
    """Where a warm invoke's time goes: this process (the host) and the environment."""
    host_cpu = samples.warm.cpu_per_call("warm_invoke_host_cpu")
    pipe_cpu = samples.pipe.cpu_per_call("pipe_round_trip_floor_host_cpu")
    env_cpu = Figure(
        "warm_invoke_environment_cpu",
        samples.warm_environment_cpu_ns / len(samples.warm.samples) / NS_PER["µs"],
        "µs",
    )
    child_cpu = Figure(
        "pipe_round_trip_floor_child_cpu",
        samples.pipe_child_cpu_ns / len(samples.pipe.samples) / NS_PER["µs"],
        "µs",
    )
    width = samples.concurrent_environments
    concurrent_cpu = samples.concurrent.cpu_per_call(f"warm_concurrency_{width}_host_cpu")
    return [
        pipe_cpu,
        host_cpu.against(pipe_cpu),
        child_cpu,
        env_cpu.against(child_cpu),
        concurrent_cpu.against(host_cpu),
    ]


def memory_figures(samples: Samples) -> list[Figure]:
    uss_mb = [kb / 1024 for kb in samples.uss_kb]
    return [
        Figure("idle_environment_uss_median", _median(uss_mb), "MB"),
        Figure("idle_environment_uss_max", max(uss_mb), "MB"),
        Figure("idle_environments_uss_sum", sum(uss_mb), "MB"),
        Figure("zygote_rss", samples.zygote_rss_kb / 1024, "MB"),
    ]


def print_table(title: str, figures: Sequence[Figure]) -> None:
    width = max([40, *(len(f.name) for f in figures)])
    base_width = max([32, *(len(f.baseline.name) for f in figures if f.baseline)])
    print(f"\n{title}")
    print(
        f"  {'figure':<{width}} {'value':>11} {'unit':<10} {'baseline':<{base_width}} {'ratio':>8}"
    )
    for f in figures:
        base = f.baseline.name if f.baseline else ""
        ratio = f"{f.ratio:.2f}x" if f.ratio is not None else ""
        print(f"  {f.name:<{width}} {f.value:>11.3f} {f.unit:<10} {base:<{base_width}} {ratio:>8}")


def print_targets(figures: dict[str, Figure], targets: dict[str, Target]) -> None:
    print("\nTargets")
    for name, target in targets.items():
        figure = figures.get(name)
        if figure is None or (target.of_ratio and figure.ratio is None):
            print(f"  SKIP  {name} (not measured)")
            continue
        verdict = "PASS" if target.met(figure) else "MISS"
        print(f"  {verdict}  {target.describe(figure)}")


def write_results(figures: Iterable[Figure]) -> None:
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    lines = [json.dumps(figure.record(), ensure_ascii=False) for figure in figures]
    RESULTS.write_text("\n".join(lines) + "\n")


def load_average() -> str:
    one, five, _fifteen = os.getloadavg()
    return f"load average {one:.2f} (1 min), {five:.2f} (5 min)"


@dataclass(frozen=True)
class CpuClock:
    """Busy CPU time of the whole machine and of this process tree, for spotting neighbours."""

    wall_s: float
    machine_busy_s: float
    ours_s: float

    @classmethod
    def now(cls) -> CpuClock:
        with open("/proc/stat") as stat:
            fields = [int(value) for value in stat.readline().split()[1:]]
        busy_ticks = sum(fields) - fields[3] - fields[4]  # all but idle and iowait
        ours = sum(
            usage.ru_utime + usage.ru_stime
            for usage in (resource.getrusage(resource.RUSAGE_SELF), _children_usage())
        )
        return cls(time.monotonic(), busy_ticks / os.sysconf("SC_CLK_TCK"), ours)

    def others_share_since(self, start: CpuClock) -> float:
        """The share of all CPUs that other processes (and the hypervisor) used meanwhile."""
        others = (self.machine_busy_s - start.machine_busy_s) - (self.ours_s - start.ours_s)
        return max(0.0, others) / ((self.wall_s - start.wall_s) * (os.cpu_count() or 1))


def _children_usage() -> resource.struct_rusage:
    # The zygote and the environments it reaped count once the runtime has closed.
    return resource.getrusage(resource.RUSAGE_CHILDREN)


def write_handler(root: Path) -> Path:
    code_dir = root / "code"
    code_dir.mkdir()
    (code_dir / "app.py").write_text(HANDLER_SOURCE)
    return code_dir


def run(sizes: Sizes, loop: str) -> Samples:
    with scratch_folder("portico-bench-") as scratch:
        root = Path(scratch)
        code_dir = write_handler(root)
        print(f"event loop: {choose_event_loop(code_dir, root / 'probe', loop)}", flush=True)
        handler = load_handler(code_dir)
        floors = Floors(handler, PipeFloor(handler), code_dir)
        try:
            return asyncio.run(measure(floors, root, sizes))
        finally:
            floors.pipe.close()


def invoke_sections(samples: Samples) -> dict[str, list[Figure]]:
    return {
        f"Cold start ({len(samples.cold_start.samples)} samples; fork baseline forks this "
        f"process, RSS {samples.bench_rss_kb / 1024:.0f} MB)": cold_figures(samples),
        f"Warm invoke ({len(samples.warm.samples)} samples)": warm_figures(samples),
        "CPU time per warm invoke (host = this process)": cpu_figures(samples),
        wire.title(samples.wire): wire.figures(
            samples.wire, samples.warm, samples.concurrent, samples.concurrent_environments
        ),
        "CPU time per wire invoke (server = the `portico up` process, client = this one)": (
            wire.cpu_figures(samples.wire, samples.warm)
        ),
        f"Memory ({len(samples.uss_kb)} idle environments)": memory_figures(samples),
    }


def run_gateway(sizes: gateway.GatewaySizes) -> gateway.GatewayReport:
    with scratch_folder("portico-bench-gateway-") as scratch:
        return gateway.run(sizes, Path(scratch))


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description="Portico's cold start, warm invoke, memory and HTTP API gateway."
    )
    parser.add_argument("--quick", action="store_true", help="few samples: a smoke run")
    parser.add_argument(
        "--loop",
        choices=("auto", "uvloop", "asyncio"),
        default="auto",
        help="auto (default): uvloop when importable and Portico works on it",
    )
    parser.add_argument(
        "--only",
        choices=PARTS,
        help="invoke: cold start, warm invoke, wire path, memory; "
        "gateway: the HTTP API under wrk beside uvicorn and serverless-offline",
    )
    args = parser.parse_args(argv)
    parts = [args.only] if args.only else list(PARTS)
    sizes = QUICK if args.quick else FULL
    python = f"{sys.version.split()[0]} ({os.path.realpath(sys.executable)})"
    print(f"portico bench: python {python}, {os.cpu_count()} cpus, {load_average()}")
    started = CpuClock.now()
    sections: dict[str, list[Figure]] = {}
    targets: dict[str, Target] = {}
    report = gateway.GatewayReport()
    if "invoke" in parts:
        sections.update(invoke_sections(run(sizes, args.loop)))
        targets.update(TARGETS)
    if "gateway" in parts:
        report = run_gateway(sizes.gateway)
        if report.figures:
            sections[report.title] = report.figures
        targets.update(gateway.TARGETS)
    others = CpuClock.now().others_share_since(started)
    for title, figures in sections.items():
        print_table(title, figures)
    for message in report.skipped:
        print(f"\nSKIPPED  {message}")
    for message in report.failures:
        print(f"\nFAILED  {message}")
    everything = {f.name: f for figures in sections.values() for f in figures}
    print_targets(everything, targets)
    write_results(everything.values())
    print(f"\nother processes used {others:.0%} of the CPUs during the run; {load_average()}")
    if others > 0.1:
        print("  (the machine was shared: expect noisier, slower figures than on an idle one)")
    print(f"wrote {RESULTS}")
    return 1 if report.failures else 0


if __name__ == "__main__":
    sys.exit(main())
