"""The confinement an environment applies to itself (shim/sandbox.py), run in a fresh
interpreter: as root, and as an unprivileged user (whose private /tmp needs a user
namespace)."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import uuid
from pathlib import Path
from typing import Any

import pytest

from portico.runtime.confinement import SHIM_DIR, SYSTEM_READ
from portico.runtime.shim import sandbox

pytestmark = pytest.mark.skipif(
    sandbox.landlock_abi() < 1, reason="this kernel has no Landlock (Linux 5.13+), or it is off"
)

# A fresh interpreter confines itself as `sandbox.confine(**rules)` says (as nobody, when
# asked), then prints what the script that follows finds; or {"confined": false, ...} when
# the system allows it no confinement.
CONFINE = """
import ctypes, errno, json, os, socket, sys
sys.path.insert(0, sys.argv[1])
import sandbox
given = json.loads(sys.argv[2])
paths = given["paths"]
if given["as_nobody"]:
    os.setgid(65534)
    os.setuid(65534)
    ctypes.CDLL(None).prctl(4, 1, 0, 0, 0)  # dumpable again, as a process started as nobody
try:
    sandbox.confine(**given["rules"])
except sandbox.Unconfinable as error:
    print(json.dumps({"confined": False, "why": str(error)}))
    sys.exit(0)

def attempt(action):
    try:
        return action()
    except OSError as error:
        return errno.errorcode[error.errno]
"""

CONFINED = """
print(json.dumps({
    "confined": True,
    "uid": os.getuid(),
    "read a file not allowed": attempt(lambda: open(paths["secret"]).read()),
    "read a file of /etc outside the rules": attempt(lambda: open(paths["etc"]).read()),
    "write /tmp": attempt(lambda: open("/tmp/written", "w").write("x")),
    "read what it wrote": attempt(lambda: open("/tmp/written").read()),
    "list /tmp": attempt(lambda: sorted(os.listdir("/tmp"))),
    "read an allowed file": attempt(lambda: len(open(paths["allowed"]).read()) > 0),
    "signal its parent": attempt(lambda: os.kill(os.getppid(), 0)),
    "connect to a socket in /run": attempt(
        lambda: socket.socket(socket.AF_UNIX).connect(paths["socket"]) if paths["socket"] else 0
    ),
}))
"""


def _etc_file_outside_the_rules() -> str:
    """A file of /etc anyone may read that the rules leave out: only Landlock refuses it
    (below /tmp a file is simply absent once /tmp is private)."""
    allowed = {Path(path).name for path in SYSTEM_READ if path.startswith("/etc/")}
    for entry in sorted(Path("/etc").iterdir()):
        if entry.name not in allowed and entry.is_file() and entry.stat().st_mode & 0o004:
            return str(entry)
    raise AssertionError("no world-readable file in /etc")


def confined(tmp_path: Path, *, as_nobody: bool, socket_path: str = "") -> dict[str, Any]:
    secret = tmp_path / "outside" / "secret.txt"
    secret.parent.mkdir()
    secret.write_text("not yours")
    secret.parent.chmod(0o755)
    secret.chmod(0o644)
    own = tmp_path / "own-tmp"
    own.mkdir()
    if as_nobody:
        os.chown(own, 65534, 65534)
    rules = {
        "read": [*SYSTEM_READ, sys.base_prefix, str(SHIM_DIR)],
        "write": [str(own), "/dev/null"],
        "tmp_dir": str(own),
    }
    paths = {
        "secret": str(secret),
        "allowed": str(SHIM_DIR / "sandbox.py"),
        "socket": socket_path,
        "etc": _etc_file_outside_the_rules(),
    }
    outcome = run_confined(CONFINED, rules, paths, as_nobody=as_nobody)
    outcome["written on the host"] = (own / "written").exists()
    return outcome


def run_confined(
    script: str, rules: dict[str, Any], paths: dict[str, str], *, as_nobody: bool
) -> dict[str, Any]:
    """What `script` prints, run after CONFINE in a fresh interpreter."""
    given = {"rules": rules, "paths": paths, "as_nobody": as_nobody}
    done = subprocess.run(
        [sys.executable, "-I", "-S", "-c", CONFINE + script, str(SHIM_DIR), json.dumps(given)],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    outcome: dict[str, Any] = json.loads(done.stdout)
    return outcome


@pytest.mark.skipif(os.geteuid() != 0, reason="runs as root: the server here is root")
def test_as_root(tmp_path: Path) -> None:
    """Root's own sockets in /run (Docker's, D-Bus's) would let uid 0 talk to the system:
    the environment's /run is empty."""
    socket_path = f"/run/portico-test-{uuid.uuid4().hex}.sock"
    with socket.socket(socket.AF_UNIX) as server:
        server.bind(socket_path)
        os.chmod(socket_path, 0o660)
        server.listen()
        try:
            outcome = confined(tmp_path, as_nobody=False, socket_path=socket_path)
        finally:
            os.unlink(socket_path)
    assert "written" in outcome.pop("list /tmp")
    assert outcome == {
        "confined": True,
        "uid": 0,
        # the secret is below /tmp here, so not even there once /tmp is the private one
        "read a file not allowed": "ENOENT" if str(tmp_path).startswith("/tmp/") else "EACCES",
        "read a file of /etc outside the rules": "EACCES",
        "write /tmp": 1,
        "read what it wrote": "x",
        "read an allowed file": True,
        "signal its parent": "EPERM",
        "connect to a socket in /run": "ENOENT",
        "written on the host": True,
    }


@pytest.mark.skipif(os.geteuid() != 0, reason="becoming an unprivileged user needs root")
def test_as_an_unprivileged_user() -> None:
    base = Path(tempfile.mkdtemp())  # pytest's own folders are closed to other users
    try:
        base.chmod(0o755)
        outcome = confined(base, as_nobody=True)
    finally:
        shutil.rmtree(base)
    if not outcome["confined"]:
        pytest.skip(f"this system gives unprivileged users no user namespace: {outcome}")
    assert outcome["uid"] == 65534
    assert outcome["read a file not allowed"] in ("ENOENT", "EACCES")
    assert outcome["read a file of /etc outside the rules"] == "EACCES"
    assert outcome["read what it wrote"] == "x" and outcome["written on the host"]
    assert "written" in outcome["list /tmp"]
    assert outcome["signal its parent"] == "EPERM"


LAID_OUT = """
print(json.dumps({
    "confined": True,
    "cwd": os.getcwd(),
    "task": sorted(os.listdir("/var/task")),
    "opt": sorted(os.listdir("/opt")),
    "both layers had it": open("/opt/both").read(),
    "write /var/task": attempt(lambda: open("/var/task/new", "w")),
    "write /opt": attempt(lambda: open("/opt/new", "w")),
    "write /tmp": attempt(lambda: open("/tmp/written", "w").write("x")),
}))
"""


def laid_out(base: Path, *, as_nobody: bool) -> dict[str, Any]:
    folders = {name: base / name for name in ("code", "first", "second", "tmp")}
    for name, folder in folders.items():
        folder.mkdir()
        if name != "tmp":
            (folder / f"{name}.txt").write_text(name)
            (folder / "both").write_text(name)
        folder.chmod(0o755)
    if as_nobody:
        os.chown(folders["tmp"], 65534, 65534)
    rules = {
        "read": [*SYSTEM_READ, sys.base_prefix, str(SHIM_DIR), str(base)],
        "write": [str(folders["tmp"])],
        "tmp_dir": str(folders["tmp"]),
        "task": str(folders["code"]),
        "layers": [str(folders["first"]), str(folders["second"])],
    }
    outcome = run_confined(LAID_OUT, rules, {}, as_nobody=as_nobody)
    outcome["written on the host"] = (folders["tmp"] / "written").exists()
    return outcome


LAMBDA_LAYOUT = {
    "confined": True,
    "cwd": "/var/task",
    "task": ["both", "code.txt"],
    "opt": ["both", "first.txt", "second.txt"],
    "both layers had it": "second",  # the later layer's
    "write /var/task": "EROFS",
    "write /opt": "EROFS",
    "write /tmp": 1,
    "written on the host": True,
}


@pytest.mark.skipif(os.geteuid() != 0, reason="runs as root: the server here is root")
def test_lambda_layout_as_root(tmp_path: Path) -> None:
    assert laid_out(tmp_path, as_nobody=False) == LAMBDA_LAYOUT


@pytest.mark.skipif(os.geteuid() != 0, reason="becoming an unprivileged user needs root")
def test_lambda_layout_as_an_unprivileged_user() -> None:
    """An overlay in a user namespace of its own (Linux 5.11+)."""
    base = Path(tempfile.mkdtemp())
    try:
        base.chmod(0o755)
        outcome = laid_out(base, as_nobody=True)
    finally:
        shutil.rmtree(base)
    if outcome["confined"] is not True:
        pytest.skip(f"this system allows an unprivileged user no such mounts: {outcome}")
    assert outcome == LAMBDA_LAYOUT


@pytest.mark.skipif(os.geteuid() != 0, reason="runs as root: the server here is root")
@pytest.mark.skipif(not os.path.isdir("/var/tmp"), reason="this system has no /var/tmp")
def test_lambda_layout_with_the_data_dir_below_var() -> None:
    """Code, layers and the environment's folder below /var, which the layout covers: each
    is opened or mounted before, so /tmp stays writable and the code readable."""
    base = Path(tempfile.mkdtemp(dir="/var/tmp"))
    try:
        assert laid_out(base, as_nobody=False) == LAMBDA_LAYOUT
    finally:
        shutil.rmtree(base)
