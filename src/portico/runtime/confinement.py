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
    "import sys; sys.path.insert(0, sys.argv[1]); import sandbox\n"
    "try:\n"
    "    sandbox.confine([], [sys.argv[2]], sys.argv[2])\n"
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

    def message(self) -> dict[str, Any]:
        """The rules as the zygote's spawn request carries them (`sandbox.confine`'s)."""
        return {
            "common": list(self.common),
            "read": list(self.read),
            "write": list(self.write),
            "tmp_dir": self.tmp_dir,
        }

    def apply(self) -> None:
        """Confine the calling process (a child between fork and exec)."""
        sandbox.confine(self.read, self.write, self.tmp_dir, self.common)


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
        self._runtime_site = runtime_site
        self._common: tuple[str, ...] | None = None

    async def start(self, scratch: Path) -> None:
        """Try the whole confinement once, in a throwaway process, before any environment
        relies on it (a container may forbid namespaces, a kernel lack Landlock)."""
        if not self.enabled:
            return
        output = b""
        try:
            scratch.mkdir(mode=0o700, exist_ok=True)
            process = await asyncio.create_subprocess_exec(
                *(sys.executable, "-I", "-S", "-c", _PROBE, str(SHIM_DIR), str(scratch)),
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.DEVNULL,
            )
            output, _ = await process.communicate()
        except OSError:
            logger.exception("The sandbox's probe could not run")
        finally:
            shutil.rmtree(scratch, ignore_errors=True)
        self.available = output.strip() == b"1"
        if not self.available:
            logger.warning(
                "Execution environments run unconfined: this system allows no Landlock "
                "sandbox with a private /tmp (Linux 5.13+, and a mount namespace)"
            )

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

    def confinement(self, config: FunctionConfig, tmp_dir: Path) -> Confinement | None:
        if not self.available:
            return None
        read = (str(config.code_dir), *(str(layer) for layer in config.layers))
        write = (*SYSTEM_WRITE, str(tmp_dir))
        return Confinement(self.common_read(), read, write, str(tmp_dir))
