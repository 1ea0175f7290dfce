"""`portico invoke` runs a function from a folder, with the same runtime and limits."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

EXAMPLE = Path(__file__).parents[2] / "examples" / "hello"


def portico(*args: str, stdin: bytes | None = None) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [sys.executable, "-m", "portico.cli.main", *args],
        input=stdin,
        capture_output=True,
        timeout=60,
        check=False,
    )


def test_invoke_the_example() -> None:
    done = portico(
        "invoke", str(EXAMPLE), "--handler", "app.handler", "--event", str(EXAMPLE / "event.json")
    )
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["body"] == "Hello, Portico!" and result["function"] == "hello"
    log = done.stderr.decode()
    assert "INIT_START" in log and f"START RequestId: {result['requestId']}" in log
    assert "\tgreeting Portico\n" in log and "REPORT RequestId:" in log


def test_invoke_with_options_and_stdin(tmp_path: Path) -> None:
    (tmp_path / "app.py").write_text(
        "import os\ndef handler(e, c):\n    return [e, os.environ['MODE'], c.memory_limit_in_mb]\n"
    )
    done = portico(
        "invoke",
        str(tmp_path),
        "--handler",
        "app.handler",
        "--event",
        "-",
        "--env",
        "MODE=test",
        "--memory",
        "512",
        stdin=b'{"x": 1}',
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == [{"x": 1}, "test", "512"]


def test_invoke_reports_a_timeout_as_aws_does(tmp_path: Path) -> None:
    (tmp_path / "app.py").write_text("import time\ndef handler(e, c):\n    time.sleep(10)\n")
    done = portico("invoke", str(tmp_path), "--handler", "app.handler", "--timeout", "1")
    assert done.returncode == 1
    error = json.loads(done.stdout)
    assert error["errorType"] == "Sandbox.Timedout"
    assert error["errorMessage"].endswith("Error: Task timed out after 1.00 seconds")
    assert "Status: timeout" in done.stderr.decode()
