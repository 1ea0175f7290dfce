"""Which `bootstrap` a custom runtime's environment runs: the task root's, else the one
Lambda's merge of the layers leaves at /opt (the last layer's that has one)."""

from __future__ import annotations

from pathlib import Path

import pytest

from portico.runtime.config import FunctionConfig
from portico.runtime.confinement import LAMBDA_LAYOUT, SHIM_DIR, Seen
from portico.runtime.launch import EntrypointNotFound, find_bootstrap


def _bootstrap(folder: Path, *, executable: bool = True) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "bootstrap"
    path.write_text("#!/bin/sh\n")
    path.chmod(0o755 if executable else 0o644)
    return folder


def _config(tmp_path: Path, layers: tuple[Path, ...]) -> FunctionConfig:
    (tmp_path / "code").mkdir(exist_ok=True)
    return FunctionConfig("f", "h", tmp_path / "code", runtime="provided.al2023", layers=layers)


def _server_paths(config: FunctionConfig) -> Seen:
    return Seen(config.code_dir, tuple(config.layers), SHIM_DIR)


def test_the_task_roots_comes_first(tmp_path: Path) -> None:
    _bootstrap(tmp_path / "code")
    config = _config(tmp_path, (_bootstrap(tmp_path / "layer"),))
    assert find_bootstrap(config, LAMBDA_LAYOUT) == Path("/var/task/bootstrap")
    assert find_bootstrap(config, _server_paths(config)) == tmp_path / "code" / "bootstrap"


def test_the_last_layer_that_has_one_wins_as_the_merge_at_opt_does(tmp_path: Path) -> None:
    first = _bootstrap(tmp_path / "first")
    second = _bootstrap(tmp_path / "second")
    third = tmp_path / "third"  # no bootstrap: the second's shows through
    third.mkdir()
    config = _config(tmp_path, (first, second, third))
    assert find_bootstrap(config, LAMBDA_LAYOUT) == Path("/opt/bootstrap")
    assert find_bootstrap(config, _server_paths(config)) == second / "bootstrap"


def test_a_later_layers_file_that_cannot_run_hides_an_earlier_ones(tmp_path: Path) -> None:
    first = _bootstrap(tmp_path / "first")
    second = _bootstrap(tmp_path / "second", executable=False)
    config = _config(tmp_path, (first, second))
    with pytest.raises(EntrypointNotFound) as raised:
        find_bootstrap(config, LAMBDA_LAYOUT)
    assert str(raised.value) == (
        "Couldn't find valid bootstrap(s): [/var/task/bootstrap /opt/bootstrap]"
    )
