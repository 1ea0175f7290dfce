"""Functions find their code and layers where Lambda puts them: the code at /var/task (the
working directory), the layers merged at /opt (a later layer's file over an earlier one's),
the runtime at /var/runtime, all read-only; PATH, LD_LIBRARY_PATH, sys.path, NODE_PATH and
LAMBDA_RUNTIME_DIR name those paths. Without the sandbox, they find them where the server
keeps them."""

from __future__ import annotations

import json
import os
import shutil
import sys
from pathlib import Path
from typing import Any

import pytest

from portico.runtime import FunctionConfig, Runtime, RuntimeSettings
from tests.conftest import MakeFunction, probed_sandbox, started_runtime

pytestmark = pytest.mark.asyncio

needs_layout = pytest.mark.skipif(
    not probed_sandbox().lambda_layout,
    reason="this kernel or container allows environments no mount namespace with an overlay",
)

PYTHON_PROBES = """
import errno, os, subprocess, sys

def attempt(action):
    try:
        return action()
    except OSError as error:
        return errno.errorcode[error.errno]

def handler(event, context):
    import layered
    return {
        "cwd": os.getcwd(),
        "task root": os.environ["LAMBDA_TASK_ROOT"],
        "runtime dir": os.environ["LAMBDA_RUNTIME_DIR"],
        "runtime's bootstrap there": os.path.isfile("/var/runtime/bootstrap.py"),
        "own code": attempt(lambda: open("/var/task/app.py").read()[:6]),
        "opt": sorted(os.listdir("/opt")),
        "var": sorted(os.listdir("/var")),
        "shared file": attempt(lambda: open("/opt/data/shared.txt").read()),
        "older layer's own file": attempt(lambda: open("/opt/data/older.txt").read()),
        "tool on PATH": subprocess.run(["tool"], capture_output=True, text=True).stdout,
        "tool by path": subprocess.run(["/opt/bin/tool"], capture_output=True, text=True).stdout,
        "layer module": layered.__file__,
        "library path": os.environ["LD_LIBRARY_PATH"],
        "search path": os.environ["PATH"].split(":")[1:],
        "write into /var/task": attempt(lambda: open("/var/task/new.py", "w")),
        "write into /opt": attempt(lambda: open("/opt/new.txt", "w")),
    }
"""


def _layer(root: Path, name: str, files: dict[str, str]) -> Path:
    layer = root / name
    for relative, text in files.items():
        path = layer / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        if relative.startswith("bin/"):
            path.chmod(0o755)
    return layer


def _two_layers(tmp_path: Path) -> tuple[Path, Path]:
    older = _layer(
        tmp_path,
        "older",
        {
            "bin/tool": "#!/bin/sh\necho older\n",
            "data/shared.txt": "older",
            "data/older.txt": "only in the older",
            "python/layered.py": "",
        },
    )
    newer = _layer(
        tmp_path, "newer", {"bin/tool": "#!/bin/sh\necho newer\n", "data/shared.txt": "newer"}
    )
    return older, newer


def _host_var_links() -> list[str]:
    """The links of the host's /var (/var/run -> /run, say): kept, as paths resolve by them."""
    return [entry.name for entry in os.scandir("/var") if entry.is_symlink()]


LAID_OUT = {
    "cwd": "/var/task",
    "task root": "/var/task",
    "runtime dir": "/var/runtime",
    "runtime's bootstrap there": True,
    "own code": "\nimpor",
    "opt": ["bin", "data", "python"],
    "shared file": "newer",
    "older layer's own file": "only in the older",
    "tool on PATH": "newer\n",
    "tool by path": "newer\n",
    "layer module": "/opt/python/layered.py",
    "library path": "/var/task:/var/task/lib:/opt/lib",
    "search path": ["/usr/local/bin", "/usr/bin/", "/bin", "/opt/bin"],
    "write into /var/task": "EROFS",
    "write into /opt": "EROFS",
}


async def _invoke(runtime: Runtime, config: FunctionConfig) -> dict[str, Any]:
    result = await runtime.invoke(config, b"{}")
    assert result.function_error is None, result.payload
    outcome: dict[str, Any] = json.loads(result.payload)
    return outcome


async def _on_a_runtime_of_its_own(
    config: FunctionConfig, tmp_path: Path, **settings: Any
) -> dict[str, Any]:
    async with started_runtime(
        RuntimeSettings(state_dir=tmp_path / "state", **settings)
    ) as runtime:
        return await _invoke(runtime, config)


@needs_layout
async def test_a_python_function_finds_its_code_at_var_task_and_its_layers_at_opt(
    runtime: Runtime, make_function: MakeFunction, tmp_path: Path
) -> None:
    config = make_function({"app.py": PYTHON_PROBES}, layers=_two_layers(tmp_path))
    seen = await _invoke(runtime, config)
    assert seen.pop("var") == sorted(["task", "runtime", *_host_var_links()])
    assert seen == LAID_OUT


@needs_layout
async def test_every_cold_start_lays_out_alike(
    runtime: Runtime, make_function: MakeFunction, tmp_path: Path
) -> None:
    """The first may find no spare ready and confine itself from scratch; the next ones take
    spares that covered /var and /opt ahead of need."""
    layers = _two_layers(tmp_path)
    for name in ("first", "second", "third"):
        config = make_function({"app.py": PYTHON_PROBES}, function_name=name, layers=layers)
        seen = await _invoke(runtime, config)
        seen.pop("var")
        assert seen == LAID_OUT, name


@needs_layout
async def test_laid_out_alike_when_the_server_execs_the_process_itself(
    make_function: MakeFunction, tmp_path: Path
) -> None:
    config = make_function({"app.py": PYTHON_PROBES}, layers=_two_layers(tmp_path))
    seen = await _on_a_runtime_of_its_own(config, tmp_path, fork_environments=False)
    seen.pop("var")
    assert seen == LAID_OUT


@needs_layout
async def test_no_layer_leaves_an_empty_opt(runtime: Runtime, make_function: MakeFunction) -> None:
    source = "import os\ndef handler(e, c):\n    return [os.listdir('/opt'), os.getcwd()]\n"
    config = make_function({"app.py": source})
    assert await _invoke(runtime, config) == [[], "/var/task"]


@needs_layout
@pytest.mark.skipif(shutil.which("node") is None, reason="Node.js functions need `node`")
async def test_a_node_function_requires_from_opt_and_reads_var_task(
    runtime: Runtime, make_function: MakeFunction, tmp_path: Path
) -> None:
    layer = _layer(
        tmp_path,
        "modules",
        {"nodejs/node_modules/shared/index.js": "module.exports = 'from /opt';\n"},
    )
    source = (
        "const fs = require('fs');\n"
        "exports.handler = async () => ({ cwd: process.cwd(), "
        "byPath: require('/opt/nodejs/node_modules/shared'), byName: require('shared'), "
        "own: fs.readFileSync('/var/task/index.js', 'utf8').slice(0, 5) });\n"
    )
    config = make_function(
        {"index.js": source}, handler="index.handler", runtime="nodejs20.x", layers=(layer,)
    )
    assert await _invoke(runtime, config) == {
        "cwd": "/var/task",
        "byPath": "from /opt",
        "byName": "from /opt",
        "own": "const",
    }


@needs_layout
async def test_a_custom_runtime_bootstrap_from_a_layer_runs_as_opt_bootstrap(
    runtime: Runtime, make_function: MakeFunction, tmp_path: Path
) -> None:
    pytest.importorskip("awslambdaric", reason="awslambdaric is a dev dependency")
    layer = _layer(
        tmp_path,
        "runtime",
        {"bootstrap": f"#!/bin/sh\nexec {sys.executable} -m awslambdaric app.handler\n"},
    )
    (layer / "bootstrap").chmod(0o755)
    source = "import sys\ndef handler(e, c):\n    return sys.argv[0]\n"
    config = make_function({"app.py": source}, runtime="provided.al2023", layers=(layer,))
    seen = await _invoke(runtime, config)
    assert seen.endswith("awslambdaric/__main__.py")

    missing = make_function({"readme.txt": "none"}, runtime="provided.al2023", layers=(tmp_path,))
    result = await runtime.invoke(missing, b"{}")
    error = json.loads(result.payload)
    assert error["errorType"] == "Runtime.InvalidEntrypoint"
    assert error["errorMessage"].endswith(
        "Error: Couldn't find valid bootstrap(s): [/var/task/bootstrap /opt/bootstrap]"
    )


async def test_without_the_sandbox_code_and_layers_stay_where_the_server_keeps_them(
    make_function: MakeFunction, tmp_path: Path
) -> None:
    older, newer = _two_layers(tmp_path)
    source = (
        "import os, subprocess\n"
        "def handler(e, c):\n"
        "    tool = subprocess.run(['tool'], capture_output=True, text=True).stdout\n"
        "    return [os.getcwd(), os.environ['LAMBDA_TASK_ROOT'], tool]\n"
    )
    config = make_function({"app.py": source}, layers=(older, newer))
    seen = await _on_a_runtime_of_its_own(config, tmp_path, sandbox=False)
    assert seen == [str(config.code_dir), str(config.code_dir), "newer\n"]
