"""How an execution environment's process is started, per runtime family.

python3.x  -> forked from the zygote, Runtime API messages as frames on two pipes
              (or, with forking off, a fresh interpreter speaking HTTP)
nodejs*.x  -> `node bootstrap.js` (Portico's), HTTP Runtime API
provided*  -> the function's own `bootstrap` (code root, then layers), HTTP Runtime API
"""

from __future__ import annotations

import asyncio
import logging
import os
import shutil
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol, cast

from portico.runtime import packages
from portico.runtime.config import (
    NODE_RUNTIMES,
    PROVIDED_RUNTIMES,
    PYTHON_RUNTIMES,
    FunctionConfig,
    RuntimeSettings,
)
from portico.runtime.confinement import Confinement, Sandbox, Seen
from portico.runtime.errors import InvalidRuntimeException
from portico.runtime.invocation import InvocationRequest
from portico.runtime.limits import OPEN_FILES
from portico.runtime.packages import SHIM_IMPORT_NAME
from portico.runtime.processes import EnvProcess, Zygote, exec_process
from portico.runtime.runtime_api import RuntimeApiEndpoint, RuntimePeer
from portico.runtime.shim import frames

logger = logging.getLogger(__name__)

SHIM_DIR = Path(__file__).parent / "shim"
SYSTEM_PATH = "/usr/local/bin:/usr/bin/:/bin"
MIB = 1024 * 1024


class EnvironmentPeer(RuntimePeer, Protocol):
    def on_out_of_memory(self) -> None: ...
    def on_channel_lost(self) -> None: ...


class Transport(Protocol):
    implicit_next: bool  # an answer means "next" too (the built-in bootstrap's frames)

    def send_invocation(self, invocation: InvocationRequest) -> None: ...
    def close(self) -> None: ...


_HEADER_SIZE = frames.HEADER.size
_unpack_header = frames.HEADER.unpack_from


def _max_rss_kb(meta: dict[str, str]) -> int | None:
    max_rss = meta.get(frames.MAX_RSS_KB)
    return int(max_rss) if max_rss and max_rss.isdigit() else None


class FramedTransport(asyncio.Protocol):
    """The built-in bootstrap's channel, as seen from the host: frames read from one pipe
    (this protocol's), invocations written to the other (`writer`)."""

    implicit_next = True  # the bootstrap reads the next frame as soon as it has answered

    def __init__(self, peer: EnvironmentPeer) -> None:
        self._peer = peer
        self._decoder = frames.FrameDecoder()
        self._transport: asyncio.ReadTransport | None = None
        self.writer: asyncio.WriteTransport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._transport = cast(asyncio.ReadTransport, transport)  # uvloop's: no subclass

    def data_received(self, data: bytes) -> None:
        decoder = self._decoder
        if not decoder.pending and len(data) >= _HEADER_SIZE:
            # Usually `data` is one whole frame, a response: read it in place.
            kind, meta_len, body_len = _unpack_header(data)
            meta_end = _HEADER_SIZE + meta_len
            if len(data) == meta_end + body_len:
                self._dispatch(kind, data[_HEADER_SIZE:meta_end].decode(), data[meta_end:])
                return
        for kind, meta, body in decoder.feed_raw(data):
            self._dispatch(kind, meta, body)

    def _dispatch(self, kind: int, raw_meta: str, body: bytes) -> None:
        peer = self._peer
        if kind == frames.RESPONSE:
            parts = raw_meta.split("\0")
            # The built-in bootstrap sends exactly these two, in this order.
            if len(parts) == 4 and parts[0] == frames.REQUEST_ID and parts[2] == frames.MAX_RSS_KB:
                max_rss = parts[3]
                peer.on_response(parts[1], body, int(max_rss) if max_rss.isdigit() else None)
                return
            meta = frames.decode_meta_text(raw_meta)
            peer.on_response(meta.get(frames.REQUEST_ID, ""), body, _max_rss_kb(meta))
        elif kind == frames.READY:
            peer.on_ready()
        elif kind == frames.ERROR:
            meta = frames.decode_meta_text(raw_meta)
            peer.on_error(
                meta.get(frames.REQUEST_ID, ""),
                meta.get(frames.ERROR_TYPE, "Unhandled"),
                body,
                _max_rss_kb(meta),
            )
        elif kind == frames.INIT_ERROR:
            meta = frames.decode_meta_text(raw_meta)
            peer.on_init_error(meta.get(frames.ERROR_TYPE, "Unhandled"), body)
        elif kind == frames.OUT_OF_MEMORY:
            peer.on_out_of_memory()

    def connection_lost(self, exc: Exception | None) -> None:
        self._peer.on_channel_lost()

    def send_invocation(self, invocation: InvocationRequest) -> None:
        writer = self.writer
        if writer is not None and not writer.is_closing():
            writer.write(invocation.frame())

    def close(self) -> None:
        if self._transport is not None:
            self._transport.close()
        if self.writer is not None:
            self.writer.close()


class _PipeToEnvironment(asyncio.BaseProtocol):
    """The protocol of the pipe the host writes invocations to: the environment's end of it
    closing is learnt from the other pipe (`FramedTransport.connection_lost`)."""


@dataclass(frozen=True, slots=True)
class Launched:
    process: EnvProcess
    transport: Transport


def code_paths(config: FunctionConfig, seen: Seen) -> list[str]:
    """The function's part of sys.path, as AWS lays it out: task root, then layers (the last
    one wins); the runtime's own packages and the standard library follow."""
    versions = dict.fromkeys([config.runtime, f"python{sys.version_info[0]}.{sys.version_info[1]}"])
    paths = [str(seen.task_root)]
    for layer in reversed(seen.layers):
        paths += [str(layer / "python" / "lib" / v / "site-packages") for v in versions]
        paths.append(str(layer / "python"))
    return paths


def _search_path(seen: Seen, first: str | None = None) -> str:
    parts = [first] if first else []
    parts.append(SYSTEM_PATH)
    parts += [str(layer / "bin") for layer in reversed(seen.layers)]
    return ":".join(parts)


def _library_path(seen: Seen) -> str:
    """AWS's order (the runtime's folders aside): the task root, its lib, then /opt/lib."""
    libs = [str(layer / "lib") for layer in reversed(seen.layers)]
    return ":".join([str(seen.task_root), str(seen.task_root / "lib"), *libs])


def environment_variables(
    config: FunctionConfig,
    *,
    seen: Seen,
    log_stream: str,
    runtime_api: str,
    tmp_dir: Path | str,
    provisioned: bool,
    extra: dict[str, str],
) -> dict[str, str]:
    """The variables AWS sets, over the function's own (which cannot replace them)."""
    env = {**config.environment, **extra}
    env.update(
        {
            "_HANDLER": config.handler,
            "AWS_REGION": config.region,
            "AWS_DEFAULT_REGION": config.region,
            "AWS_LAMBDA_FUNCTION_NAME": config.function_name,
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(config.memory_size),
            "AWS_LAMBDA_FUNCTION_VERSION": config.version,
            "AWS_LAMBDA_INITIALIZATION_TYPE": (
                "provisioned-concurrency" if provisioned else "on-demand"
            ),
            "AWS_LAMBDA_LOG_GROUP_NAME": config.log_group_name,
            "AWS_LAMBDA_LOG_STREAM_NAME": log_stream,
            "AWS_LAMBDA_RUNTIME_API": runtime_api,
            "LAMBDA_TASK_ROOT": str(seen.task_root),
            "LAMBDA_RUNTIME_DIR": str(seen.runtime_dir),
            "LANG": "en_US.UTF-8",
            "TZ": ":UTC",
            "TMPDIR": str(tmp_dir),
            "LD_LIBRARY_PATH": _library_path(seen),
        }
    )
    if config.runtime not in PROVIDED_RUNTIMES:
        env["AWS_EXECUTION_ENV"] = f"AWS_Lambda_{config.runtime}"
    if config.log_format == "JSON":
        env["AWS_LAMBDA_LOG_FORMAT"] = "JSON"
        env["AWS_LAMBDA_LOG_LEVEL"] = (config.application_log_level or "INFO").upper()
    if config.runtime in PYTHON_RUNTIMES:
        env["PATH"] = _search_path(seen, str(Path(sys.executable).parent))
    elif config.runtime in NODE_RUNTIMES:
        node = shutil.which("node")
        env["PATH"] = _search_path(seen, str(Path(node).parent) if node else None)
        if "NODE_PATH" not in config.environment:
            env["NODE_PATH"] = _node_path(config, seen)
    else:
        env["PATH"] = _search_path(seen)
    return env


def _node_path(config: FunctionConfig, seen: Seen) -> str:
    """AWS's order: each layer's nodejs/node<major>/node_modules and nodejs/node_modules
    (the last layer first), then the task root."""
    major = config.runtime.removeprefix("nodejs").removesuffix(".x")
    modules: list[str] = []
    for layer in reversed(seen.layers):
        modules.append(str(layer / "nodejs" / f"node{major}" / "node_modules"))
        modules.append(str(layer / "nodejs" / "node_modules"))
    return ":".join([*modules, str(seen.task_root)])


def node_arguments(memory_size: int) -> list[str]:
    """V8's heap sized to the function's memory, as AWS's Node bootstrap sizes it."""
    semi_space = max(memory_size // 10 // 2, 1)
    old_space = memory_size - memory_size // 10
    return [
        "--expose-gc",
        "--max-http-header-size=81920",
        f"--max-semi-space-size={semi_space}",
        f"--max-old-space-size={old_space}",
    ]


EnvironmentFactory = Callable[[str], dict[str, str]]


class Launcher:
    """Starts environment processes; owns the zygote and the runtime's package folder."""

    def __init__(self, settings: RuntimeSettings) -> None:
        self.settings = settings
        self.site_dir = settings.state_dir / "python-runtime"
        # Each environment's private temporary folder is made here.
        self.environments_dir = settings.state_dir / "environments"
        self.sandbox = Sandbox(settings.sandbox, self.site_dir)
        self._sandbox_starting: asyncio.Task[None] | None = None
        self._zygote: Zygote | None = None
        self._zygote_starting: asyncio.Task[None] | None = None

    async def start(self) -> None:
        """Ready to launch. The zygote starts (imports and preloads) in the background: the
        server is ready without waiting for it, and the first fork waits for it if it must."""
        self.environments_dir.mkdir(parents=True, exist_ok=True)
        await asyncio.to_thread(
            packages.build_runtime_site, self.site_dir, self.settings.runtime_packages
        )
        self._sandbox_starting = asyncio.ensure_future(
            self.sandbox.start(self.environments_dir / "sandbox-probe")
        )
        if self.settings.fork_environments:
            common = self.sandbox.common_read() if self.sandbox.enabled else None
            self._zygote = Zygote(
                self.site_dir, self.settings.preload_modules, common, self.sandbox.layout_wanted()
            )
            self._zygote_starting = asyncio.ensure_future(self._zygote.ensure_started())
            self._zygote_starting.add_done_callback(_report_zygote_start)

    async def close(self) -> None:
        for starting in (self._zygote_starting, self._sandbox_starting):
            if starting is not None and not starting.done():
                starting.cancel()
                await asyncio.gather(starting, return_exceptions=True)
        self._zygote_starting = self._sandbox_starting = None
        if self._zygote is not None:
            await self._zygote.close()

    @property
    def zygote_pid(self) -> int | None:
        return self._zygote.pid if self._zygote is not None else None

    def data_limit(self, config: FunctionConfig) -> int:
        """A hard ceiling far above the memory size, for allocations faster than the watchdog."""
        return config.memory_size * MIB * 2 + 512 * MIB

    async def launch(
        self,
        config: FunctionConfig,
        peer: EnvironmentPeer,
        environment: EnvironmentFactory,
        output_fd: int,
        tmp_dir: Path,
    ) -> Launched:
        """Start a process whose stdout and stderr both go to `output_fd`, confined to what
        its function may touch, `tmp_dir` its only writable folder."""
        if self._sandbox_starting is not None:
            await asyncio.shield(self._sandbox_starting)
        confinement = self.sandbox.confinement(config, tmp_dir)
        if config.runtime in PYTHON_RUNTIMES and self._zygote is not None:
            return await self._fork(config, peer, environment, output_fd, confinement)
        endpoint = RuntimeApiEndpoint(peer)
        address = await endpoint.start()
        try:
            argv = self._argv(config)
            if self._zygote is not None:  # a spare execs it, confined as it waited
                request = {
                    "argv": argv,
                    "env": environment(address),
                    **self._process_settings(config, confinement),
                }
                process = await self._zygote.spawn(request, [output_fd])
            else:
                process = await exec_process(
                    argv,
                    environment(address),
                    config.code_dir,
                    output_fd,
                    self.data_limit(config),
                    None if confinement is None else confinement.apply,
                )
        except BaseException:
            endpoint.close()
            raise
        return Launched(process, endpoint)

    async def _fork(
        self,
        config: FunctionConfig,
        peer: EnvironmentPeer,
        environment: EnvironmentFactory,
        output_fd: int,
        confinement: Confinement | None,
    ) -> Launched:
        assert self._zygote is not None
        request = {
            "env": environment("127.0.0.1:0"),
            "handler": config.handler,
            "paths": code_paths(config, self.sandbox.seen(config)),
            **self._process_settings(config, confinement),
        }
        to_environment, from_environment = os.pipe2(os.O_CLOEXEC), os.pipe2(os.O_CLOEXEC)
        try:
            # The environment reads the first pipe and writes the second.
            fds = [to_environment[0], from_environment[1], output_fd]
            process = await self._zygote.spawn(request, fds)
        except BaseException:
            os.close(to_environment[1])
            os.close(from_environment[0])
            raise
        finally:
            os.close(to_environment[0])
            os.close(from_environment[1])
        loop = asyncio.get_running_loop()
        protocol = FramedTransport(peer)
        reading = open(from_environment[0], "rb", buffering=0)  # noqa: SIM115 - the loop's
        writing = open(to_environment[1], "wb", buffering=0)  # noqa: SIM115 - the loop's
        try:
            await loop.connect_read_pipe(lambda: protocol, reading)
        except BaseException:
            reading.close()
            writing.close()
            raise
        try:
            protocol.writer, _ = await loop.connect_write_pipe(_PipeToEnvironment, writing)
        except BaseException:
            protocol.close()  # the transport closes its pipe
            writing.close()
            raise
        return Launched(process, protocol)

    def _process_settings(
        self, config: FunctionConfig, confinement: Confinement | None
    ) -> dict[str, Any]:
        """What the zygote's spawn request says of any environment's process."""
        return {
            "cwd": str(self.sandbox.seen(config).task_root),
            "data_limit": self.data_limit(config),
            "open_files": OPEN_FILES,
            "sandbox": None if confinement is None else confinement.message(),
        }

    def _argv(self, config: FunctionConfig) -> list[str]:
        if config.runtime in PYTHON_RUNTIMES:
            paths = [*code_paths(config, self.sandbox.seen(config)), str(self.site_dir)]
            code = (
                f"import sys; sys.path[:0] = {paths!r}; "
                f"from {SHIM_IMPORT_NAME} import bootstrap; bootstrap.main()"
            )
            return [sys.executable, "-I", "-S", "-c", code]
        if config.runtime in NODE_RUNTIMES:
            node = shutil.which("node")
            if node is None:
                raise InvalidRuntimeException(
                    f"Runtime {config.runtime} needs `node` on the server's PATH."
                )
            return [node, *node_arguments(config.memory_size), str(SHIM_DIR / "bootstrap.js")]
        if config.runtime in PROVIDED_RUNTIMES:
            return [str(find_bootstrap(config, self.sandbox.seen(config)))]
        raise InvalidRuntimeException(
            f"The runtime parameter of {config.runtime} is not supported."
        )


def _report_zygote_start(task: asyncio.Task[None]) -> None:
    if not task.cancelled() and task.exception() is not None:
        logger.error(
            "the Python zygote did not start (the next Python cold start tries again)",
            exc_info=task.exception(),
        )


class EntrypointNotFound(Exception):
    """A `provided` function with no executable bootstrap: an INIT failure, as on AWS."""

    error_type = "Runtime.InvalidEntrypoint"


def find_bootstrap(config: FunctionConfig, seen: Seen) -> Path:
    """The task root's `bootstrap`, else the layers': Lambda's /var/task/bootstrap, then
    /opt/bootstrap, which is the last layer's that has one (layers are merged in order);
    executable, and named as the environment sees it."""
    names = [seen.task_root / "bootstrap", *(layer / "bootstrap" for layer in seen.layers)]
    candidates = [(config.code_dir / "bootstrap", names[0])]
    for index in reversed(range(len(config.layers))):
        layered = config.layers[index] / "bootstrap"
        if layered.exists():
            candidates.append((layered, names[1 + min(index, len(seen.layers) - 1)]))
            break
    for candidate, name in candidates:
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return name
    raise EntrypointNotFound(f"Couldn't find valid bootstrap(s): [{' '.join(map(str, names))}]")
