"""wrk, driven from Python: a run's requests, failures and latency percentiles, read from a
Lua `done` hook that prints them on one line (so the script costs nothing per request)."""

from __future__ import annotations

import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

WRK_SCRIPT = """\
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    "wrk-result %d %d %d %d %d %d %d %d %d\\n",
    summary.requests, summary.duration, e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(99)))
end
"""
WRK_RESULT = "wrk-result "


@dataclass(frozen=True)
class WrkRun:
    requests: int
    duration_s: float
    failed: int  # non-2xx/3xx responses and socket errors (connect, read, write, timeout)
    non_success: int
    p50_us: float
    p99_us: float

    @property
    def successful_rate(self) -> float:
        return (self.requests - self.non_success) / self.duration_s


def parse_wrk(output: str) -> WrkRun:
    line = next((ln for ln in output.splitlines() if ln.startswith(WRK_RESULT)), None)
    if line is None:
        raise SystemExit(f"wrk printed no result:\n{output}")
    requests, duration_us, connect, read, write, status, timeout, p50, p99 = (
        int(value) for value in line.removeprefix(WRK_RESULT).split()
    )
    return WrkRun(
        requests=requests,
        duration_s=duration_us / 1e6,
        failed=connect + read + write + status + timeout,
        non_success=status,
        p50_us=float(p50),
        p99_us=float(p99),
    )


@dataclass(frozen=True)
class Wrk:
    binary: str
    script: Path

    def run(self, url: str, connections: int, seconds: int) -> WrkRun:
        threads = min(2, connections)
        argv = [self.binary, f"-t{threads}", f"-c{connections}", f"-d{seconds}s"]
        argv += ["--timeout", "5s", "-s", str(self.script)]
        if connections == 1:
            argv.append("--latency")
        done = subprocess.run([*argv, url], capture_output=True, text=True)
        if done.returncode != 0:
            raise SystemExit(f"{' '.join(argv)} {url} failed:\n{done.stdout}{done.stderr}")
        return parse_wrk(done.stdout)

    def version(self) -> str:
        done = subprocess.run([self.binary, "-v"], capture_output=True, text=True)
        first = (done.stdout or done.stderr).splitlines()[:1]
        return first[0].split("[")[0].strip() if first else "wrk"


def find_wrk() -> str | None:
    """wrk from PATH; as root on a Debian-like system, installed with apt-get when missing."""
    found = shutil.which("wrk")
    if found or os.geteuid() != 0 or shutil.which("apt-get") is None:
        return found
    print("wrk is missing: apt-get install -y wrk", flush=True)
    install = ["apt-get", "install", "-y", "-q", "wrk"]
    if subprocess.run(install, capture_output=True).returncode != 0:
        subprocess.run(["apt-get", "update", "-q"], capture_output=True)
        subprocess.run(install, capture_output=True)
    return shutil.which("wrk")
