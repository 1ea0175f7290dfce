"""`scripts/fastest-python`, which picks the interpreter `make` builds .venv from: run for
real, with the candidates it finds on a PATH the test lays out."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "fastest-python"
THIS_PYTHON = os.path.realpath(sys.executable)


def _pick(path_dirs: list[Path], *args: str) -> subprocess.CompletedProcess[str]:
    # /usr/bin etc. stay on PATH: the script needs sh's tools; their python3 is a candidate.
    path = os.pathsep.join([*map(str, path_dirs), "/usr/bin", "/bin"])
    return subprocess.run(
        [str(SCRIPT), *args],
        capture_output=True,
        text=True,
        timeout=60,
        env={"PATH": path, "HOME": os.environ.get("HOME", "/")},
        check=True,
    )


def _interpreter_facts(executable: str) -> str:
    code = (
        "import sys, platform, venv, ensurepip;"
        "print(platform.python_implementation(), sys.version_info >= (3, 11))"
    )
    return subprocess.run(
        [executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout.strip()


def test_picks_a_cpython_that_can_make_a_venv(tmp_path: Path) -> None:
    (tmp_path / "python3").symlink_to(THIS_PYTHON)

    picked = _pick([tmp_path]).stdout.strip()

    assert os.path.isabs(picked) and os.path.realpath(picked) == picked
    assert _interpreter_facts(picked) == "CPython True"


def test_times_each_interpreter_once_and_skips_what_cannot_serve(tmp_path: Path) -> None:
    for name in ("python3", "python3.11", "python3.12"):
        (tmp_path / name).symlink_to(THIS_PYTHON)  # one interpreter under three names
    broken = tmp_path / "python3.13"
    broken.write_text("#!/bin/sh\nexit 1\n")
    broken.chmod(0o755)

    run = _pick([tmp_path], "-v")

    timed = [line.split(": ")[0] for line in run.stderr.splitlines() if line.endswith(" s")]
    assert timed.count(THIS_PYTHON) == 1
    assert len(timed) == len(set(timed))
    assert str(broken) not in timed
    assert run.stdout.strip() in timed
    seconds = {
        line.split(": ")[0]: float(line.split(": ")[1][:-2]) for line in run.stderr.splitlines()
    }
    assert seconds[run.stdout.strip()] == min(seconds.values())
