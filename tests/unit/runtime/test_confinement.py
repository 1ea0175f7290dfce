"""The host's side of the sandbox: what an environment is allowed, and the switch."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

import pytest

from portico.runtime.config import FunctionConfig
from portico.runtime.confinement import SHIM_DIR, SYSTEM_WRITE, Sandbox
from portico.settings import Settings
from tests.conftest import probed_sandbox


def test_the_rules_name_the_runtimes_links_targets_the_code_and_the_layers(
    tmp_path: Path,
) -> None:
    package = tmp_path / "installed" / "boto3"
    package.mkdir(parents=True)
    site = tmp_path / "python-runtime"
    site.mkdir()
    (site / "boto3").symlink_to(package, target_is_directory=True)
    sandbox = Sandbox(True, site)
    sandbox.available = True  # as a successful probe leaves it
    config = FunctionConfig("f", "app.handler", tmp_path / "code", layers=(tmp_path / "layer",))
    confinement = sandbox.confinement(config, tmp_path / "env")
    assert confinement is not None
    assert {str(site), str(package), str(SHIM_DIR), "/usr", "/etc/ssl"} <= set(confinement.common)
    assert "/etc" not in confinement.common and "/etc/shadow" not in confinement.common
    assert confinement.read == (str(tmp_path / "code"), str(tmp_path / "layer"))
    assert confinement.write == (*SYSTEM_WRITE, str(tmp_path / "env"))
    assert sandbox.tmp_path(tmp_path / "env") == "/tmp"


def test_turned_off_it_probes_nothing_and_confines_nothing(tmp_path: Path) -> None:
    sandbox = Sandbox(False, tmp_path)
    asyncio.run(sandbox.start(tmp_path / "probe"))
    assert not sandbox.available and not (tmp_path / "probe").exists()
    assert sandbox.confinement(FunctionConfig("f", "app.handler", tmp_path), tmp_path) is None
    assert sandbox.tmp_path(tmp_path / "env") == str(tmp_path / "env")


def test_the_switch_in_the_environment() -> None:
    assert Settings.from_environment({}).sandbox is True
    assert Settings.from_environment({"PORTICO_SANDBOX": "0"}).sandbox is False
    assert Settings.from_environment({"PORTICO_SANDBOX": "off"}).sandbox is False
    assert Settings.from_environment({"PORTICO_SANDBOX": "1"}).sandbox is True
    assert Settings.from_environment({"PORTICO_SANDBOX": "1"}, sandbox=False).sandbox is False


def test_a_probe_that_cannot_run_leaves_environments_unconfined_and_says_so(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    sandbox = Sandbox(True, tmp_path)
    with caplog.at_level(logging.WARNING, logger="portico.runtime.confinement"):
        asyncio.run(sandbox.start(tmp_path / "missing" / "probe"))
    assert not sandbox.available
    assert "Execution environments run unconfined" in caplog.text
    assert sandbox.confinement(FunctionConfig("f", "app.handler", tmp_path), tmp_path) is None


def test_server_files_below_opt_keep_the_servers_paths_and_say_so(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """The layers' /opt would hide what every environment reads there (here, the runtime's
    packages): code and layers then stay where the server keeps them."""
    if not probed_sandbox().lambda_layout:
        pytest.skip("this system allows no Lambda layout, below /opt or not")
    sandbox = Sandbox(True, Path("/opt/portico-data/runtime/python-runtime"))
    with caplog.at_level(logging.WARNING, logger="portico.runtime.confinement"):
        asyncio.run(sandbox.start(tmp_path / "probe"))
    assert sandbox.available and not sandbox.lambda_layout and not sandbox.layout_wanted()
    assert "the server's own files lie below /opt" in caplog.text
    config = FunctionConfig("f", "app.handler", tmp_path / "code", layers=(tmp_path / "l",))
    seen = sandbox.seen(config)
    assert (seen.task_root, seen.layers) == (tmp_path / "code", (tmp_path / "l",))
    assert seen.runtime_dir == SHIM_DIR
    confinement = sandbox.confinement(config, tmp_path / "env")
    assert confinement is not None and confinement.task is None


def test_with_the_layout_code_and_layers_are_seen_at_var_task_and_opt(tmp_path: Path) -> None:
    sandbox = Sandbox(True, tmp_path)
    sandbox.available = sandbox.lambda_layout = True  # as a successful probe leaves them
    config = FunctionConfig("f", "app.handler", tmp_path / "code", layers=(tmp_path / "l",))
    seen = sandbox.seen(config)
    assert (seen.task_root, seen.layers) == (Path("/var/task"), (Path("/opt"),))
    assert seen.runtime_dir == Path("/var/runtime")
    confinement = sandbox.confinement(config, tmp_path / "env")
    assert confinement is not None
    code, layer = str(tmp_path / "code"), str(tmp_path / "l")
    assert (confinement.task, confinement.layers) == (code, (layer,))
    assert (confinement.message()["task"], confinement.message()["layers"]) == (code, [layer])
