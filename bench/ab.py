"""Two revisions of Portico's gateway side by side: is a change faster?

    python bench/ab.py BASE [--rounds N] [--seconds S]

BASE (a git revision: `HEAD`, `main~3`, a commit) is checked out into a scratch folder; the
working tree is the other side. Both run `portico up` with the bench's HTTP API (the same set-up
as `make bench`'s gateway section) at once, and each round measures both, in an order that
alternates: requests/s, the server process's CPU per request and p99 at `wrk -c16`, then p50
and p99 at `wrk -c1`. On a noisy machine a single run says little, so the answer is the median
of the per-round ratios (working tree / BASE) and the number of rounds the working tree won. On
a noisy 2-CPU machine, two runs of 14 rounds of 2 s with the same code on both sides gave
median ratios between 0.95 and 1.06 for requests/s, p50 and CPU, and up to 1.3 for p99: read a
difference smaller than that as none.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import statistics
import subprocess
import sys
import tarfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import gateway
from figures import NS_PER, scratch_folder, tree_cpu_ns
from wrk import WRK_SCRIPT, Wrk, find_wrk

REPOSITORY = Path(__file__).resolve().parent.parent


@dataclass
class Side:
    label: str
    url: str
    pid: int
    rounds: list[dict[str, float]] = field(default_factory=list)


# name, what a round records, whether more is better
MEASURES = (
    ("requests/s at -c16", "rps", True),
    ("server CPU per request at -c16 (µs)", "cpu", False),
    ("p99 at -c16 (µs)", "p99_c16", False),
    ("p50 at -c1 (µs)", "p50", False),
    ("p99 at -c1 (µs)", "p99", False),
)


def export_source(revision: str, into: Path) -> Path:
    """`src/` of `revision`, written under `into`; its path."""
    archive = subprocess.run(
        ["git", "-C", str(REPOSITORY), "archive", "--format=tar", revision, "src"],
        capture_output=True,
        check=False,
    )
    if archive.returncode != 0:
        raise SystemExit(f"git archive {revision}: {archive.stderr.decode().strip()}")
    with tarfile.open(fileobj=io.BytesIO(archive.stdout)) as tar:
        if hasattr(tarfile, "data_filter"):
            tar.extractall(into, filter="data")
        else:  # Python before 3.11.4; the archive is git's own, of this repository
            tar.extractall(into)
    return into / "src"


def start(label: str, root: Path, stack: contextlib.ExitStack, source: Path | None) -> Side:
    key = "base" if source is not None else "head"
    contender = gateway.start_portico(root, stack, source, key)
    gateway.check_serving(contender)
    assert contender.pid is not None
    return Side(label, contender.url, contender.pid)


def measure_round(run: Wrk, side: Side, seconds: int) -> None:
    before = tree_cpu_ns(side.pid, lambda _command: "other").get("server", 0)
    loaded = run.run(side.url, gateway.HIGH_CONCURRENCY, seconds)
    used = tree_cpu_ns(side.pid, lambda _command: "other").get("server", 0) - before
    single = run.run(side.url, 1, seconds)
    side.rounds.append(
        {
            "rps": loaded.successful_rate,
            "cpu": used / max(loaded.requests, 1) / NS_PER["µs"],
            "p99_c16": loaded.p99_us,
            "p50": single.p50_us,
            "p99": single.p99_us,
        }
    )


def report(base: Side, head: Side) -> str:
    lines = [f"{'':38}{base.label:>12}{head.label:>14}   ratio (median)   {head.label} won"]
    for title, key, more_is_better in MEASURES:
        a = [r[key] for r in base.rounds]
        b = [r[key] for r in head.rounds]
        ratios = [y / x for x, y in zip(a, b, strict=True) if x]
        won = sum(1 for r in ratios if (r > 1 if more_is_better else r < 1))
        lines.append(
            f"{title:38}{statistics.median(a):12.1f}{statistics.median(b):14.1f}"
            f"   {statistics.median(ratios):13.3f}x   {won}/{len(ratios)}"
        )
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("base", help="the git revision to compare the working tree with")
    parser.add_argument("--rounds", type=int, default=12)
    parser.add_argument("--seconds", type=int, default=3, help="length of each wrk run")
    options = parser.parse_args(argv)
    binary = find_wrk()
    if binary is None:
        raise SystemExit("wrk is not installed (apt-get install wrk)")
    with scratch_folder("portico-ab-") as scratch:
        root = Path(scratch)
        script = root / "result.lua"
        script.write_text(WRK_SCRIPT)
        run = Wrk(binary, script)
        source = export_source(options.base, root / "base")
        with contextlib.ExitStack() as stack:
            base = start(options.base, root, stack, source)
            head = start("working tree", root, stack, None)
            for side in (base, head):  # warm: environments started
                run.run(side.url, gateway.HIGH_CONCURRENCY, options.seconds)
            for index in range(options.rounds):
                for side in (base, head) if index % 2 == 0 else (head, base):
                    measure_round(run, side, options.seconds)
                print(f"round {index + 1}/{options.rounds}", file=sys.stderr, flush=True)
    print(report(base, head))
    return 0


if __name__ == "__main__":
    sys.exit(main())
