"""The bootstrap sets `_X_AMZN_TRACE_ID` for every invocation: visible everywhere, no leak.

Each check runs in a fresh interpreter, so the test process's own environment is untouched.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from typing import Any

PRELUDE = """
import ctypes, json, os, subprocess
from portico.runtime.shim.bootstrap import TraceVariable

libc = ctypes.CDLL(None)
libc.getenv.restype = ctypes.c_char_p

def seen():
    shell = subprocess.run(
        ["sh", "-c", 'printf %s "${_X_AMZN_TRACE_ID-unset}"'], capture_output=True, text=True
    ).stdout
    c_value = libc.getenv(b"_X_AMZN_TRACE_ID")
    return {
        "environ": os.environ.get("_X_AMZN_TRACE_ID"),
        "getenv": os.getenv("_X_AMZN_TRACE_ID"),
        "c": c_value.decode() if c_value is not None else None,
        "subprocess": shell,
    }

def rss_kb():
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") // 1024

trace = TraceVariable()
"""


def run(script: str) -> Any:
    completed = subprocess.run(
        [sys.executable, "-c", PRELUDE + textwrap.dedent(script)],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    return json.loads(completed.stdout)


def everywhere(value: str | None) -> dict[str, str | None]:
    return {"environ": value, "getenv": value, "c": value, "subprocess": value or "unset"}


def test_python_c_and_subprocesses_see_each_invocations_trace_id() -> None:
    seen = run(
        """
        trace.set("Root=1-5759e988-bd862e3fe1be46a994272793;Sampled=1")
        first = seen()
        trace.set("Root=1-5759e989-000000000000000000000001;Sampled=0")
        second = seen()
        trace.set(None)
        print(json.dumps([first, second, seen()]))
        """
    )
    assert seen == [
        everywhere("Root=1-5759e988-bd862e3fe1be46a994272793;Sampled=1"),
        everywhere("Root=1-5759e989-000000000000000000000001;Sampled=0"),
        everywhere(None),
    ]


def test_a_function_that_sets_or_removes_the_variable_gets_it_back_next_invocation() -> None:
    seen = run(
        """
        trace.set("Root=1-00000001-000000000000000000000001")
        os.environ["_X_AMZN_TRACE_ID"] = "set by the function"
        by_function = seen()
        trace.set("Root=1-00000002-000000000000000000000002")
        after_set = seen()
        del os.environ["_X_AMZN_TRACE_ID"]
        trace.set("Root=1-00000003-000000000000000000000003")
        print(json.dumps([by_function, after_set, seen()]))
        """
    )
    assert seen == [
        everywhere("set by the function"),
        everywhere("Root=1-00000002-000000000000000000000002"),
        everywhere("Root=1-00000003-000000000000000000000003"),
    ]


def test_a_trace_id_longer_than_the_buffer_is_set_whole() -> None:
    long_value = "Root=1-5759e988-bd862e3fe1be46a994272793;Lineage=" + "a1b2c3d4:0|" * 60
    seen = run(
        f"""
        trace.set("Root=1-short")
        trace.set({long_value!r})
        long_seen = seen()
        trace.set("Root=1-short-again")
        print(json.dumps([long_seen, seen()]))
        """
    )
    assert seen == [everywhere(long_value), everywhere("Root=1-short-again")]


def test_each_invocations_trace_id_costs_no_memory() -> None:
    # Through setenv() each value was kept for good: about 140 bytes per invocation, so
    # 200,000 invocations grew the process by some 28 MB.
    grown_kb = run(
        """
        for i in range(2000):
            trace.set(f"Root=1-{i:08x}-{i:024x};Parent={i:016x};Sampled=0")
        before = rss_kb()
        for i in range(200_000):
            trace.set(f"Root=1-{i:08x}-{i:024x};Parent={i:016x};Sampled=0")
        print(rss_kb() - before)
        """
    )
    assert grown_kb < 2048
