"""What an execution environment may touch: the host's side of the sandbox.

A function reads the system's programs and libraries (and of /etc what they need to run),
its interpreter, the runtime's own packages, its code and its layers; it writes only its own
temporary folder, which it sees as /tmp. It cannot read the data dir (the database, other
functions' code, keys), other processes' memory or environment, nor signal the server or
other environments. As root it holds no capability. The process applies this to itself
(shim/sandbox.py) before the function's code runs.

Landlock (Linux 5.13 and later; signals are scoped from 6.12) does the file system part,
with a mount namespace for /tmp; where the system allows neither, environments run
unconfined, and the server says so once when it starts.

The mount namespace also gives environments Lambda's layout: the code at /var/task, the
layers merged at /opt (an overlay; Linux 5.11 and later without root). Functions that name
those paths (a layer's /opt/bin/tool, a file below /var/task) run unchanged. Where the
system allows no such mounts, or the server's own files lie below /opt, environments see
their code and layers where the server keeps them, as LAMBDA_TASK_ROOT, PATH, sys.path and
NODE_PATH say.
"""

from __future__ import annotations

import asyncio
import logging
import os
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from portico.runtime.config import FunctionConfig
from portico.runtime.shim import sandbox

logger = logging.getLogger(__name__)

SHIM_DIR = Path(sandbox.__file__).parent
# The system's programs and libraries, and the kernel's views of this process and of the
# machine. Of /etc, only what programs read to run: name resolution, certificates, time zones,
# users and groups, the loader's cache (not the whole: a server run as root leaves its
# environments uid 0, still the owner of /etc/shadow and the host's keys).
SYSTEM_READ = (
    "/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32", "/proc", "/sys",
    "/dev/urandom", "/dev/random",
    *(f"/etc/{name}" for name in (
        "alternatives", "ca-certificates", "ca-certificates.conf", "crypto-policies",
        "gai.conf", "group", "host.conf", "hostname", "hosts", "ld.so.cache", "ld.so.conf",
        "ld.so.conf.d", "localtime", "locale.alias", "mime.types", "nsswitch.conf",
        "os-release", "passwd", "pki", "protocols", "resolv.conf", "rpc", "services", "ssl",
        "timezone",
    )),
)  # fmt: skip
SYSTEM_WRITE = ("/dev/null", "/dev/zero", "/dev/full")
PRIVATE_TMP = "/tmp"

_PROBE = (
    "import os, sys; sys.path.insert(0, sys.argv[1]); import sandbox\n"
    "scratch = sys.argv[2]\n"
    "layout = {}\n"
    "if sys.argv[3] == 'layout':\n"
    "    for name in ('task', 'one', 'two'):\n"
    "        os.mkdir(os.path.join(scratch, name))\n"
    "        open(os.path.join(scratch, name, name), 'w').close()\n"
    "    layout = {'task': scratch + '/task', 'layers': [scratch + '/one', scratch + '/two']}\n"
    "try:\n"
    "    sandbox.confine([scratch], [scratch], scratch, **layout)\n"
    "    if layout:\n"
    "        for seen in ('/var/task/task', '/opt/one', '/opt/two'):\n"
    "            open(seen).close()\n"
    "except OSError:\n"
    "    print(0)\n"
    "else:\n"
    "    print(1)\n"
)


@dataclass(frozen=True, slots=True)
class Confinement:
    """One environment's rules, as the process applies them to itself."""

    common: tuple[str, ...]  # what every environment reads (a spare prepares these)
    read: tuple[str, ...]  # what this one reads besides: its code and layers
    write: tuple[str, ...]
    tmp_dir: str
    task: str | None = None  # with Lambda's layout: the code, for /var/task
    layers: tuple[str, ...] = ()  # ... and the layers, in order, for /opt

    def message(self) -> dict[str, Any]:
        """The rules as the zygote's spawn request carries them (`sandbox.confine`'s)."""
        return {
            "common": list(self.common),
            "read": list(self.read),
            "write": list(self.write),
            "tmp_dir": self.tmp_dir,
            "task": self.task,
            "layers": list(self.layers),
        }

    def apply(self) -> None:
        """Confine the calling process (a child between fork and exec)."""
        sandbox.confine(self.read, self.write, self.tmp_dir, self.common, self.task, self.layers)


@dataclass(frozen=True, slots=True)
class Seen:
    """Where an environment finds its code and its layers."""

    task_root: Path
    layers: tuple[Path, ...]  # the first first; a later one wins
    runtime_dir: Path  # this runtime's own files (LAMBDA_RUNTIME_DIR)


LAMBDA_LAYOUT = Seen(
    Path(sandbox.TASK_ROOT), (Path(sandbox.LAYERS_ROOT),), Path(sandbox.RUNTIME_DIR)
)


def _python_paths() -> list[str]:
    """The interpreter environments run on: its installation and, for a virtual
    environment, the folder whose pyvenv.cfg a fresh interpreter reads."""
    paths = {sys.base_prefix, sys.prefix, os.path.dirname(os.path.realpath(sys.executable))}
    return sorted(os.path.realpath(path) for path in paths)


def _node_paths() -> list[str]:
    node = shutil.which("node")
    return [str(Path(os.path.realpath(node)).parent.parent)] if node else []


def _targets(folder: Path) -> list[str]:
    """`folder` and where its symlinks lead (the runtime's packages are links into the
    server's installation: Landlock checks the files they resolve to)."""
    paths = [str(folder)]
    try:
        entries = list(folder.iterdir())
    except OSError:
        return paths
    paths += sorted({os.path.realpath(entry) for entry in entries if entry.is_symlink()})
    return paths


class Sandbox:
    """Decides each environment's confinement; `start` finds out what this kernel allows."""

    def __init__(self, enabled: bool, runtime_site: Path) -> None:
        self.enabled = enabled
        self.available = False
        self.lambda_layout = False  # code at /var/task, layers at /opt
        self._runtime_site = runtime_site
        self._common: tuple[str, ...] | None = None

    async def start(self, scratch: Path) -> None:
        """Try the whole confinement once, in a throwaway process, before any environment
        relies on it (a container may forbid namespaces, a kernel lack Landlock); and, in
        another, with Lambda's layout."""
        if not self.enabled:
            return
        try:
            scratch.mkdir(mode=0o700, exist_ok=True)
        except OSError:
            logger.exception("The sandbox's probe could not run")
            layout = False
        else:
            self.available, layout = await asyncio.gather(
                _probe(scratch / "plain", layout=False), _probe(scratch / "layout", layout=True)
            )
            shutil.rmtree(scratch, ignore_errors=True)
        below_opt = self._below_opt()
        self.lambda_layout = self.available and layout and not below_opt
        if not self.available:
            logger.warning(
                "Execution environments run unconfined: this system allows no Landlock "
                "sandbox with a private /tmp (Linux 5.13+, and a mount namespace)"
            )
        elif not self.lambda_layout:
            logger.warning(
                "Execution environments see their code and layers where the server keeps "
                "them, not at /var/task and /opt: %s",
                f"the server's own files lie below /opt ({below_opt[0]})"
                if below_opt
                else "this system allows no such mounts in their namespace (without root, an "
                "overlay on /opt needs Linux 5.11+)",
            )

    def _below_opt(self) -> list[str]:
        """What every environment reads below /opt: the layers' /opt would hide it."""
        return [path for path in self.common_read() if _below(path, sandbox.LAYERS_ROOT)]

    def layout_wanted(self) -> bool:
        """Whether environments are to get Lambda's layout, should the probe allow it (a
        spare prepares it before the probe has answered)."""
        return self.enabled and not self._below_opt()

    def common_read(self) -> tuple[str, ...]:
        """What every environment reads (once the runtime's package folder is built)."""
        if self._common is None:
            common = [*SYSTEM_READ, *_python_paths(), *_node_paths(), str(SHIM_DIR)]
            common += _targets(self._runtime_site)
            self._common = tuple(dict.fromkeys(common))
        return self._common

    def tmp_path(self, tmp_dir: Path) -> str:
        """The environment's temporary folder as its processes name it."""
        return PRIVATE_TMP if self.available else str(tmp_dir)

    def seen(self, config: FunctionConfig) -> Seen:
        """Where the function's environments find its code and layers."""
        if self.lambda_layout:
            return LAMBDA_LAYOUT
        return Seen(config.code_dir, tuple(config.layers), SHIM_DIR)

    def confinement(self, config: FunctionConfig, tmp_dir: Path) -> Confinement | None:
        if not self.available:
            return None
        read = (str(config.code_dir), *(str(layer) for layer in config.layers))
        write = (*SYSTEM_WRITE, str(tmp_dir))
        if not self.lambda_layout:
            return Confinement(self.common_read(), read, write, str(tmp_dir))
        layers = tuple(str(layer) for layer in config.layers)
        return Confinement(
            self.common_read(), read, write, str(tmp_dir), str(config.code_dir), layers
        )


async def _probe(scratch: Path, *, layout: bool) -> bool:
    """Whether a throwaway process confines itself (with Lambda's layout)."""
    output = b""
    try:
        scratch.mkdir(mode=0o700)
        process = await asyncio.create_subprocess_exec(
            *(sys.executable, "-I", "-S", "-c", _PROBE, str(SHIM_DIR), str(scratch)),
            "layout" if layout else "plain",
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.DEVNULL,
        )
        output, _ = await process.communicate()
    except OSError:
        logger.exception("The sandbox's probe could not run")
    return output.strip() == b"1"


def _below(path: str, folder: str) -> bool:
    return path == folder or path.startswith(folder + "/")
