from __future__ import annotations

import json

from portico.runtime.logs import (
    InvocationLog,
    LogEvent,
    PlatformLines,
    Report,
    invocation_events,
    tail,
)


def report(**overrides: object) -> Report:
    values: dict[str, object] = {
        "request_id": "r-1",
        "duration_ms": 2.5,
        "memory_size": 128,
        "max_memory_used_mb": 36,
        "init_duration_ms": None,
        "status": "success",
        "error_type": None,
        "platform_error": False,
    }
    values.update(overrides)
    return Report(**values)  # type: ignore[arg-type]


def test_text_report_lines() -> None:
    lines = PlatformLines(False, "fn", "$LATEST")
    assert lines.report(report()) == (
        "REPORT RequestId: r-1\tDuration: 2.50 ms\tBilled Duration: 3 ms\t"
        "Memory Size: 128 MB\tMax Memory Used: 36 MB\t\n"
    )
    cold = report(init_duration_ms=110.1)
    assert lines.report(cold).endswith("Max Memory Used: 36 MB\tInit Duration: 110.10 ms\t\n")
    assert "Billed Duration: 113 ms" in lines.report(cold)
    timeout = report(status="timeout", error_type="Sandbox.Timedout", platform_error=True)
    assert lines.report(timeout).endswith("Max Memory Used: 36 MB\tStatus: timeout\n")
    oom = report(status="error", error_type="Runtime.OutOfMemory", platform_error=True)
    assert lines.report(oom).endswith("\tStatus: error\tError Type: Runtime.OutOfMemory\n")
    handler_error = report(status="error", error_type="ValueError")
    assert "Status" not in lines.report(handler_error)
    assert lines.start("r-1") == "START RequestId: r-1 Version: $LATEST\n"
    assert lines.end("r-1") == "END RequestId: r-1\n"


def test_json_records() -> None:
    lines = PlatformLines(True, "fn", "3")
    start = json.loads(lines.start("r-1"))
    assert start["type"] == "platform.start"
    assert start["record"] == {"requestId": "r-1", "version": "3"}
    assert start["time"].endswith("Z") and len(start["time"]) == 24
    assert lines.end("r-1") is None
    record = json.loads(lines.report(report(status="error", error_type="X", init_duration_ms=5)))
    assert record["record"]["status"] == "error" and record["record"]["errorType"] == "X"
    assert record["record"]["metrics"]["initDurationMs"] == 5


def test_tail_keeps_the_last_bytes() -> None:
    events = [LogEvent(1, "a" * 3000 + "\n"), LogEvent(2, "b" * 3000 + "\n")]
    assert tail(events) == (("a" * 3000 + "\n" + "b" * 3000 + "\n").encode())[-4096:]
    assert tail([LogEvent(1, "short\n")]) == b"short\n"


def test_system_log_level_warn_drops_platform_records() -> None:
    lines = PlatformLines(True, "fn", "$LATEST", system_log_level="WARN")
    assert lines.start("r") is None and lines.report(report()) is None
    assert lines.init_start("python:3.12", "arn", False) is None
    assert PlatformLines(False, "fn", "$LATEST", "WARN").start("r") is not None


def invocation(style: tuple[bool, str, str, str | None], **changes: object) -> InvocationLog:
    log = InvocationLog(
        style,
        "req-1",
        1_700_000_000_100,
        1,
        [(1_700_000_000_050, "init output\n"), (1_700_000_000_150, "hello\n")],
        1_700_000_000_200,
        12.345,
        128,
        41,
        None,
        "success",
        None,
        False,
    )
    return log._replace(**changes)


def test_an_invocations_log_renders_as_its_lines_one_by_one() -> None:
    """What the log writer renders from an invocation's log is what the platform's lines
    would be, rendered at once in order: what came before START, START, the function's
    output, END, REPORT; END and REPORT at the invocation's end."""
    style = (False, "fn", "$LATEST", None)
    lines = PlatformLines(*style)
    log = invocation(style)
    report = Report("req-1", 12.345, 128, 41, None, "success", None, False)
    assert invocation_events(log) == [
        LogEvent(1_700_000_000_050, "init output\n"),
        LogEvent(1_700_000_000_100, lines.start("req-1") or ""),
        LogEvent(1_700_000_000_150, "hello\n"),
        LogEvent(1_700_000_000_200, lines.end("req-1") or ""),
        LogEvent(1_700_000_000_200, lines.report(report) or ""),
    ]
    failed = invocation(style, status="error", error_type="Runtime.ExitError", platform_error=True)
    assert invocation_events(failed)[-1].message.endswith(
        "\tStatus: error\tError Type: Runtime.ExitError\n"
    )


def test_an_invocations_log_in_json_stamps_records_with_their_own_times() -> None:
    events = invocation_events(invocation((True, "fn", "7", None), start_index=0))
    records = [json.loads(event.message) for event in events if event.message.startswith("{")]
    assert [(r["type"], r["time"]) for r in records] == [
        ("platform.start", "2023-11-14T22:13:20.100Z"),
        ("platform.report", "2023-11-14T22:13:20.200Z"),
    ]
    assert records[0]["record"] == {"requestId": "req-1", "version": "7"}
    assert records[1]["record"]["metrics"]["durationMs"] == 12.345
    quiet = invocation_events(invocation((True, "fn", "7", "WARN"), start_index=0))
    assert [event.message for event in quiet] == ["init output\n", "hello\n"]
