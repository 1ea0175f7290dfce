"""Execution environments run confined: a function reaches its code, its layers, the runtime
and the system, writes only its own /tmp, and cannot read the server's files, read or signal
other processes, or hold a capability (the server here runs as root)."""

from __future__ import annotations

import json
import os
import uuid
from pathlib import Path
from typing import Any

import pytest

from portico.runtime import FunctionConfig, Runtime, RuntimeSettings
from tests.conftest import MakeFunction, probed_sandbox, started_runtime
from tests.e2e.conftest import Server
from tests.e2e.test_lambda_api import ROLE, zipped

pytestmark = pytest.mark.skipif(
    not probed_sandbox().available,
    reason="this kernel or container allows no Landlock sandbox with a private /tmp",
)

PYTHON_PROBES = """
import errno, os, subprocess

def attempt(action):
    try:
        action()
        return "ok"
    except OSError as error:
        return errno.errorcode[error.errno]

def handler(event, context):
    secret, pid, scratch = event["secret"], event["pid"], event["scratch"]
    task_root = os.environ["LAMBDA_TASK_ROOT"]
    with open("/proc/self/status") as status:
        capabilities = [line.split()[1] for line in status if line.startswith("CapEff")][0]
    child = subprocess.run(["cat", secret], capture_output=True)
    try:
        listed = os.path.basename(secret) in os.listdir(os.path.dirname(secret))
    except OSError:
        listed = False
    return {
        "read the server's file": attempt(lambda: open(secret).read()),
        "see the server's file listed": listed,
        "a child process reads the server's file": child.returncode == 0,
        "read the server's environment": attempt(lambda: open(f"/proc/{pid}/environ").read()),
        "signal the server": attempt(lambda: os.kill(pid, 0)),
        "write into its code": attempt(lambda: open(os.path.join(task_root, "new.py"), "w")),
        "read its code": attempt(lambda: open(os.path.join(task_root, "app.py")).read()),
        "read the host's password hashes": attempt(lambda: open("/etc/shadow").read()),
        "resolve a name": attempt(lambda: __import__("socket").getaddrinfo("localhost", 80)),
        "write and read /tmp": attempt(lambda: open(scratch, "w").write("x"))
        + attempt(lambda: open(scratch).read()),
        "import the standard library": attempt(lambda: __import__("xml.dom.minidom")),
        "effective capabilities": capabilities,
    }
"""

CONFINED = {
    "see the server's file listed": False,
    "a child process reads the server's file": False,
    "read the server's environment": "EACCES",
    "signal the server": "EPERM",
    "read its code": "ok",
    "read the host's password hashes": "EACCES",
    "resolve a name": "ok",
    "write and read /tmp": "okok",
    "import the standard library": "ok",
    "effective capabilities": "0000000000000000",
    "written to the host's /tmp": False,
}


async def probe(runtime: Runtime, config: FunctionConfig, tmp_path: Path) -> dict[str, Any]:
    """What the function's probes found, given a file of the server's, the server's pid and
    a name in /tmp that nothing else uses (removed from the host's /tmp afterwards, should
    it land there)."""
    secret = tmp_path / "secret.txt"
    secret.write_text("the server's own")
    scratch = Path("/tmp") / f"portico-sandbox-{uuid.uuid4().hex}"
    event = {"secret": str(secret), "pid": os.getpid(), "scratch": str(scratch)}
    try:
        outcome: dict[str, Any] = json.loads(
            (await runtime.invoke(config, json.dumps(event).encode())).payload
        )
    finally:
        landed = scratch.exists()
        scratch.unlink(missing_ok=True)
    outcome["written to the host's /tmp"] = landed
    return outcome


async def probe_on_a_runtime_of_its_own(
    config: FunctionConfig, tmp_path: Path, **settings: Any
) -> dict[str, Any]:
    async with started_runtime(
        RuntimeSettings(state_dir=tmp_path / "state", **settings)
    ) as runtime:
        return await probe(runtime, config, tmp_path)


def assert_confined(outcome: dict[str, Any]) -> None:
    # Below /tmp (as here) the server's folders are not even there; elsewhere, refused.
    assert outcome.pop("read the server's file") in ("EACCES", "ENOENT")
    # Refused by the sandbox, or read-only as a mount where it had to be bound (below /tmp)
    assert outcome.pop("write into its code") in ("EACCES", "EROFS")
    assert outcome == CONFINED


@pytest.mark.asyncio
async def test_a_python_function_reaches_only_what_it_may(
    runtime: Runtime, make_function: MakeFunction, tmp_path: Path
) -> None:
    assert_confined(await probe(runtime, make_function({"app.py": PYTHON_PROBES}), tmp_path))


@pytest.mark.asyncio
async def test_confined_too_when_the_server_execs_the_process_itself(
    make_function: MakeFunction, tmp_path: Path
) -> None:
    """With forking off, a fresh interpreter is confined between the server's fork and exec."""
    config = make_function({"app.py": PYTHON_PROBES})
    assert_confined(await probe_on_a_runtime_of_its_own(config, tmp_path, fork_environments=False))


@pytest.mark.asyncio
async def test_unconfined_when_the_sandbox_is_turned_off(
    make_function: MakeFunction, tmp_path: Path
) -> None:
    """The switch is real (and the tests above fail without the sandbox)."""
    config = make_function({"app.py": PYTHON_PROBES})
    outcome = await probe_on_a_runtime_of_its_own(config, tmp_path, sandbox=False)
    assert outcome["read the server's file"] == "ok"
    assert outcome["signal the server"] == "ok"
    assert outcome["written to the host's /tmp"]


NODE_PROBES = """
const fs = require("fs");
const attempt = (action) => {
  try { action(); return "ok"; } catch (error) { return error.code; }
};
exports.handler = async (event) => ({
  "read the server's file": attempt(() => fs.readFileSync(event.secret)),
  "read the server's environment": attempt(() => fs.readFileSync(`/proc/${event.pid}/environ`)),
  "signal the server": attempt(() => process.kill(event.pid, 0)),
  "write and read /tmp": attempt(() => fs.writeFileSync(event.scratch, "x"))
    + attempt(() => fs.readFileSync(event.scratch)),
  "read its code": attempt(() => fs.readFileSync(`${process.env.LAMBDA_TASK_ROOT}/index.js`)),
});
"""


@pytest.mark.asyncio
async def test_a_node_function_reaches_only_what_it_may(
    runtime: Runtime, make_function: MakeFunction, tmp_path: Path
) -> None:
    config = make_function({"index.js": NODE_PROBES}, handler="index.handler", runtime="nodejs20.x")
    outcome = await probe(runtime, config, tmp_path)
    assert outcome.pop("read the server's file") in ("EACCES", "ENOENT")
    assert outcome == {
        "read the server's environment": "EACCES",
        "signal the server": "EPERM",
        "write and read /tmp": "okok",
        "read its code": "ok",
        "written to the host's /tmp": False,
    }


READ_ANY_FILE = """
import errno
def handler(event, context):
    found = {}
    for path in event["paths"]:
        try:
            with open(path, "rb") as file:
                found[path] = len(file.read())
        except OSError as error:
            found[path] = errno.errorcode[error.errno]
    return found
"""


def test_functions_cannot_read_the_database_or_each_others_code(server: Server) -> None:
    """Through the real server: the database (every function's environment variables and
    every secret) and another function's code are out of a function's reach."""
    lambda_ = server.client("lambda")
    other = "def handler(event, context):\n    return 'other code'\n"
    for name, source in (("reader", READ_ANY_FILE), ("other", other)):
        lambda_.create_function(
            FunctionName=name,
            Runtime="python3.12",
            Role=ROLE,
            Handler="app.handler",
            Code={"ZipFile": zipped({"app.py": source})},
            Environment={"Variables": {"TOKEN": f"{name}-token"}},
        )
        lambda_.get_waiter("function_active_v2").wait(FunctionName=name)
        lambda_.invoke(FunctionName=name, Payload=json.dumps({"paths": []}))
    data_dir = server.log_path.parent / "data"
    database = next(data_dir.rglob("portico.db"))
    other_code = [path for path in data_dir.rglob("app.py") if b"other code" in path.read_bytes()]
    assert other_code, "the other function's code is on disk"
    paths = [str(database), *(str(path) for path in other_code)]
    response = lambda_.invoke(FunctionName="reader", Payload=json.dumps({"paths": paths}))
    found: dict[str, Any] = json.loads(response["Payload"].read())
    assert set(found) == set(paths)
    assert all(value in ("EACCES", "ENOENT") for value in found.values())
