"""What every section of `make bench` measures with: latency series, timed loops, figures
(a value beside the baseline it is read against) and a process's CPU time."""

from __future__ import annotations

import dataclasses
import math
import os
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

NS_PER = {"ms": 1_000_000, "µs": 1_000}
# Scratch data dirs live where a data dir lives in use, not below /tmp: there each cold start
# would also bind the folders an environment reads back into its private /tmp (about 1 ms).
SCRATCH = Path(__file__).parent / ".cache" / "scratch"


def scratch_folder(prefix: str) -> tempfile.TemporaryDirectory[str]:
    """A scratch folder under SCRATCH, removed when the `with` block ends."""
    SCRATCH.mkdir(parents=True, exist_ok=True)
    return tempfile.TemporaryDirectory(prefix=prefix, dir=SCRATCH)


@dataclass(frozen=True)
class Figure:
    name: str
    value: float
    unit: str
    baseline: Figure | None = None

    @property
    def ratio(self) -> float | None:
        if self.baseline is None or self.baseline.value == 0:
            return None
        return self.value / self.baseline.value

    def against(self, baseline: Figure, name: str | None = None) -> Figure:
        """The same value compared with (another) baseline, under its own name."""
        return dataclasses.replace(self, name=name or self.name, baseline=baseline)

    def record(self) -> dict[str, Any]:
        base = self.baseline
        return {
            "name": self.name,
            "value": round(self.value, 4),
            "unit": self.unit,
            "baseline": base.name if base else None,
            "baseline_value": round(base.value, 4) if base else None,
            "ratio": round(self.ratio, 4) if self.ratio is not None else None,
        }


@dataclass
class Series:
    """Latency samples (ns), and the wall and CPU time of this process in the loops that
    took them."""

    samples: list[int] = field(default_factory=list)
    elapsed_ns: int = 0
    cpu_ns: int = 0

    def percentile(self, q: float) -> int:
        """Nearest rank, q in (0, 100]."""
        ordered = sorted(self.samples)
        return ordered[max(0, math.ceil(q / 100 * len(ordered)) - 1)]

    def latency(self, name: str, unit: str) -> tuple[Figure, Figure]:
        scale = NS_PER[unit]
        return (
            Figure(f"{name}_p50", self.percentile(50) / scale, unit),
            Figure(f"{name}_p99", self.percentile(99) / scale, unit),
        )

    def rate(self, name: str) -> Figure:
        return Figure(name, len(self.samples) / (self.elapsed_ns / 1e9), "invokes/s")

    def cpu_per_call(self, name: str) -> Figure:
        return Figure(name, self.cpu_ns / len(self.samples) / NS_PER["µs"], "µs")


def timed(series: Series, calls: int, call: Callable[[], object]) -> None:
    block_started, cpu_started = time.perf_counter_ns(), time.process_time_ns()
    for _ in range(calls):
        started = time.perf_counter_ns()
        call()
        series.samples.append(time.perf_counter_ns() - started)
    series.elapsed_ns += time.perf_counter_ns() - block_started
    series.cpu_ns += time.process_time_ns() - cpu_started


async def timed_async(series: Series, calls: int, call: Callable[[], Awaitable[object]]) -> None:
    block_started, cpu_started = time.perf_counter_ns(), time.process_time_ns()
    for _ in range(calls):
        started = time.perf_counter_ns()
        await call()
        series.samples.append(time.perf_counter_ns() - started)
    series.elapsed_ns += time.perf_counter_ns() - block_started
    series.cpu_ns += time.process_time_ns() - cpu_started


def process_cpu_ns(pid: int) -> int:
    """User + system time of a process, at clock-tick resolution."""
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rpartition(")")[2].split()
    ticks = int(fields[11]) + int(fields[12])
    return ticks * 1_000_000_000 // os.sysconf("SC_CLK_TCK")


def tree_cpu_ns(root: int, role_of: Callable[[str], str]) -> dict[str, int]:
    """User + system time of `root` ("server") and of every process below it, summed by the
    role `role_of` gives a descendant's command line. Processes already gone are not counted."""
    parents: dict[int, int] = {}
    ticks: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as stat:
                fields = stat.read().rpartition(")")[2].split()
        except OSError:
            continue
        parents[int(entry)] = int(fields[1])
        ticks[int(entry)] = int(fields[11]) + int(fields[12])
    by_role: dict[str, int] = {}
    tick_ns = 1_000_000_000 // os.sysconf("SC_CLK_TCK")
    for pid, used in ticks.items():
        ancestor = pid
        while ancestor not in (root, 0, 1) and ancestor in parents:
            ancestor = parents[ancestor]
        if ancestor != root:
            continue
        role = "server" if pid == root else role_of(_command_line(pid))
        by_role[role] = by_role.get(role, 0) + used * tick_ns
    return by_role


def _command_line(pid: int) -> str:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as cmdline:
            return cmdline.read().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


@dataclass(frozen=True)
class Target:
    """What a figure should reach: below `limit`, or at least `limit` with `at_least`; with
    `of_ratio`, the figure's ratio to its baseline is what is held against the limit."""

    limit: float
    at_least: bool = False
    of_ratio: bool = False

    def met(self, figure: Figure) -> bool:
        reading = figure.ratio if self.of_ratio else figure.value
        if reading is None:
            return False
        return reading >= self.limit if self.at_least else reading < self.limit

    def describe(self, figure: Figure) -> str:
        sign = "≥" if self.at_least else "<"
        if self.of_ratio and figure.baseline is not None and figure.ratio is not None:
            return (
                f"{figure.name} = {figure.ratio:.2f}x {figure.baseline.name} "
                f"(target {sign} {self.limit}x)"
            )
        return f"{figure.name} = {figure.value:.3f} {figure.unit} (target {sign} {self.limit})"
