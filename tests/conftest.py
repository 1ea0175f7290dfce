from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import functools
import sys
import tempfile
import textwrap
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio

from portico.runtime import FunctionConfig, Runtime, RuntimeSettings
from portico.runtime.confinement import Sandbox

MakeFunction = Callable[..., FunctionConfig]


@functools.cache
def probed_sandbox() -> Sandbox:
    """What this system allows environments (probed once, as a server does at start)."""
    sandbox = Sandbox(True, Path(sys.prefix))
    # Asked first from an async test or a sync one: the probe gets a loop of its own.
    with (
        tempfile.TemporaryDirectory() as scratch,
        concurrent.futures.ThreadPoolExecutor(1) as thread,
    ):
        thread.submit(asyncio.run, sandbox.start(Path(scratch) / "probe")).result()
    return sandbox


def task_root_seen(config: FunctionConfig) -> Path:
    """Where a (confined) environment of `config` finds its code: /var/task, as on Lambda,
    where the system allows the mounts."""
    return Path("/var/task") if probed_sandbox().lambda_layout else config.code_dir


def layers_seen(config: FunctionConfig) -> list[Path]:
    """... and its layers: merged at /opt, or each where the server keeps it."""
    return [Path("/opt")] if probed_sandbox().lambda_layout else list(config.layers)


@pytest.fixture
def state_dir(tmp_path: Path) -> Path:
    path = tmp_path / "state"
    path.mkdir()
    return path


@contextlib.asynccontextmanager
async def started_runtime(settings: RuntimeSettings, **options: Any) -> AsyncIterator[Runtime]:
    """A runtime started (without its reaper), closed on the way out."""
    runtime = Runtime(settings, **options)
    await runtime.start(reap=False)
    try:
        yield runtime
    finally:
        await runtime.close()


@pytest_asyncio.fixture
async def runtime(state_dir: Path) -> AsyncIterator[Runtime]:
    async with started_runtime(RuntimeSettings(state_dir=state_dir)) as started:
        yield started


@pytest.fixture
def make_function(tmp_path: Path) -> MakeFunction:
    """Write source files into a fresh code folder and describe the function."""
    counter = iter(range(1_000_000))

    def make(files: dict[str, str], handler: str = "app.handler", **config: Any) -> FunctionConfig:
        code_dir = tmp_path / f"code{next(counter)}"
        for name, source in files.items():
            path = code_dir / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(textwrap.dedent(source))
            if name == "bootstrap" or name.endswith(".sh"):
                path.chmod(0o755)
        config.setdefault("function_name", "fn")
        return FunctionConfig(handler=handler, code_dir=code_dir, **config)

    return make
