"""An environment's resident set, as its memory watchdog and its REPORT read it: through
descriptors kept open on the process's statm and status, which follow the process and not
its pid."""

from __future__ import annotations

import os
import subprocess
import sys

from portico.runtime.environment import _ResidentSet


def _statm_kb(pid: int) -> int:
    with open(f"/proc/{pid}/statm") as statm:
        return int(statm.read().split()[1]) * (os.sysconf("SC_PAGE_SIZE") // 1024)


def test_each_look_reads_the_resident_set_anew() -> None:
    code = (
        "import sys\nprint('ready', flush=True)\nkept = []\n"
        "for line in sys.stdin:\n"
        "    kept.append(bytearray(64 << 20)) if line == 'grow\\n' else kept.clear()\n"
        "    print('done', flush=True)\n"
    )
    grower = subprocess.Popen(
        [sys.executable, "-c", code], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    assert grower.stdin is not None and grower.stdout is not None
    resident = _ResidentSet(grower.pid)
    try:
        assert grower.stdout.readline() == "ready\n"
        before = resident.kb()
        assert before is not None and abs(before - _statm_kb(grower.pid)) < 1024
        grower.stdin.write("grow\n")
        grower.stdin.flush()
        assert grower.stdout.readline() == "done\n"
        after = resident.kb()
        assert after is not None and after > before + 60 * 1024  # 64 MiB written
        peak = resident.peak_kb()
        assert peak is not None and peak >= after
        grower.stdin.write("free\n")
        grower.stdin.flush()
        assert grower.stdout.readline() == "done\n"
        now = resident.kb()
        assert now is not None and now < after - 60 * 1024
        assert (resident.peak_kb() or 0) > now + 60 * 1024  # the peak stays
    finally:
        grower.kill()
        grower.wait()
        grower.stdin.close()
        grower.stdout.close()
        resident.close()


def test_a_process_gone_reads_as_unknown() -> None:
    process = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    resident = _ResidentSet(process.pid)
    try:
        assert resident.kb() and resident.peak_kb()
        process.kill()
        process.wait()
        assert resident.kb() is None and resident.peak_kb() is None
    finally:
        resident.close()
    resident.close()  # twice: nothing left to close
