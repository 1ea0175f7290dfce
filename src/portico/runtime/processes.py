"""Starting the OS processes that execution environments live in.

Python environments are forked from the zygote (a warm template process); every other
runtime (and Python when forking is off) is a fresh `exec` of its bootstrap.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import os
import resource
import signal
import socket
import subprocess
import sys
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from portico.runtime.limits import OPEN_FILES
from portico.runtime.packages import SHIM_IMPORT_NAME
from portico.runtime.shim import zygote as zygote_shim


@dataclass(frozen=True, slots=True)
class ExitStatus:
    code: int | None = None
    signal: int | None = None

    @classmethod
    def from_wait_status(cls, status: int) -> ExitStatus:
        if os.WIFSIGNALED(status):
            return cls(signal=os.WTERMSIG(status))
        return cls(code=os.waitstatus_to_exitcode(status))

    @classmethod
    def from_returncode(cls, returncode: int) -> ExitStatus:
        return cls(signal=-returncode) if returncode < 0 else cls(code=returncode)

    def describe(self) -> str:
        """As AWS words it: `exit status 1`, `signal: killed`, `signal: segmentation fault`."""
        if self.signal is not None:
            name = signal.strsignal(self.signal) or f"signal {self.signal}"
            return f"signal: {name.lower()}"
        return f"exit status {self.code}"


UNKNOWN_EXIT = ExitStatus(signal=signal.SIGKILL)


class EnvProcess:
    """A running environment process and the future of its exit."""

    def __init__(
        self,
        pid: int,
        exited: asyncio.Future[ExitStatus],
        waiter: asyncio.Task[None] | None = None,
    ) -> None:
        self.pid = pid
        self.exited = exited
        self._waiter = waiter  # keeps the task that reaps an exec'd child alive

    def kill(self) -> None:
        if not self.exited.done():
            _kill_group(self.pid)


def _kill_group(pid: int) -> None:
    """SIGKILL an environment and whatever it started (it leads its own session)."""
    try:
        os.killpg(pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)


class Zygote:
    """Host side of the template process: asks it to fork, hears of exits."""

    def __init__(
        self,
        site_dir: Path,
        preload: Sequence[str],
        confined_reads: Sequence[str] | None = None,
        layout: bool = False,
    ) -> None:
        self._site_dir = site_dir
        self._preload = preload
        self._layout = layout  # spares prepare Lambda's layout too
        # What every confined environment reads: spares prepare those rules ahead of need.
        self._confined_reads = confined_reads
        self._sock: socket.socket | None = None
        self._process: asyncio.subprocess.Process | None = None
        self._ready: asyncio.Future[None] | None = None
        self._spawning: dict[int, asyncio.Future[EnvProcess]] = {}
        self._exits: dict[int, asyncio.Future[ExitStatus]] = {}
        self._spare: tuple[int, socket.socket] | None = None
        self._ids = itertools.count(1)
        self._lock = asyncio.Lock()
        # Messages waiting for room in the zygote's socket, in order, with copies of their fds.
        self._outbox: deque[tuple[bytes, list[int]]] = deque()

    async def _start(self) -> None:
        loop = asyncio.get_running_loop()
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        code = (
            f"import sys; sys.path.insert(0, {str(self._site_dir)!r}); "
            f"from {SHIM_IMPORT_NAME} import zygote; zygote.main()"
        )
        self._ready = loop.create_future()
        self._process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-I",
            "-S",
            "-c",
            code,
            str(theirs.fileno()),
            ",".join(self._preload),
            "" if self._confined_reads is None else json.dumps(list(self._confined_reads)),
            "layout" if self._layout else "",
            pass_fds=[theirs.fileno()],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            env={"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LANG": "C.UTF-8"},
            # Its own session: a Ctrl-C meant for the server is the server's to handle.
            start_new_session=True,
        )
        theirs.close()
        # Never block the loop on a full socket (see _post), whichever loop runs this.
        ours.setblocking(False)
        self._sock = ours
        loop.add_reader(ours.fileno(), self._on_readable)
        await self._ready

    async def ensure_started(self) -> None:
        async with self._lock:
            if self._sock is None:
                await self._start()

    def _on_readable(self) -> None:
        assert self._sock is not None
        try:
            message, fds = zygote_shim.receive(self._sock)
        except BlockingIOError:
            return
        except (OSError, EOFError):
            self._lost()
            return
        self._dispatch(message, fds)

    def _dispatch(self, message: dict[str, Any], fds: list[int]) -> None:
        loop = asyncio.get_running_loop()
        match message["op"]:
            case "ready":
                if self._ready is not None and not self._ready.done():
                    self._ready.set_result(None)
            case "spawned":
                pid = message["pid"]
                exited = self._exits[pid] = loop.create_future()
                waiter = self._spawning.pop(message["id"], None)
                if waiter is not None and not waiter.done():
                    waiter.set_result(EnvProcess(pid, exited))
            case "spare":
                self._exits[message["pid"]] = loop.create_future()
                if self._spare is not None:
                    self._spare[1].close()
                self._spare = (message["pid"], socket.socket(fileno=fds[0]))
            case "exited":
                future = self._exits.pop(message["pid"], None)
                if future is not None and not future.done():
                    future.set_result(ExitStatus.from_wait_status(message["status"]))

    def _lost(self) -> None:
        """The zygote died: fail what waits on it; the next spawn starts a new one."""
        if self._sock is not None:
            loop = asyncio.get_running_loop()
            loop.remove_reader(self._sock.fileno())
            if self._outbox:
                loop.remove_writer(self._sock.fileno())
            self._sock.close()
            self._sock = None
        for _message, fds in self._outbox:
            _close_all(fds)
        self._outbox.clear()
        if self._spare is not None:
            self._spare[1].close()
            self._spare = None
        for waiter in self._spawning.values():
            if not waiter.done():
                waiter.set_exception(ConnectionError("the zygote exited"))
        # Without the zygote nobody reaps its children or reports their exits: end them.
        for pid, exited in self._exits.items():
            _kill_group(pid)
            if not exited.done():
                exited.set_result(UNKNOWN_EXIT)
        if self._ready is not None and not self._ready.done():
            self._ready.set_exception(ConnectionError("the zygote failed to start"))
        self._spawning.clear()
        self._exits.clear()

    async def spawn(self, request: dict[str, Any], fds: Sequence[int]) -> EnvProcess:
        await self.ensure_started()
        assert self._sock is not None
        spare = self._take_spare(request, fds)
        if spare is not None:
            return spare
        spawn_id = next(self._ids)
        waiter: asyncio.Future[EnvProcess] = asyncio.get_running_loop().create_future()
        self._spawning[spawn_id] = waiter
        self._post({**request, "op": "spawn", "id": spawn_id}, fds)
        return await waiter

    def _post(self, message: dict[str, Any], fds: Sequence[int] = ()) -> None:
        """Send `message` (with `fds`) to the zygote, after any that wait before it.

        A storm of cold starts asks for forks faster than the zygote makes them, and its
        socket fills up. A message that finds no room waits in the outbox, with copies of its
        fds (the caller may close its own meanwhile), and goes as soon as there is room."""
        data = json.dumps(message).encode()
        if not self._outbox:
            try:
                self._send(data, fds)
                return
            except BlockingIOError:
                assert self._sock is not None
                asyncio.get_running_loop().add_writer(self._sock.fileno(), self._send_waiting)
            except OSError:  # the zygote is gone: _lost() fails whoever waits on it
                self._lost()
                return
        self._outbox.append((data, [os.dup(fd) for fd in fds]))

    def _send(self, data: bytes, fds: Sequence[int]) -> None:
        if self._sock is None:
            raise ConnectionError("the zygote exited")
        if fds:
            socket.send_fds(self._sock, [data], list(fds))
        else:
            self._sock.send(data)

    def _send_waiting(self) -> None:
        """The zygote's socket has room again: send what waits, in order, while it lasts."""
        while self._outbox:
            data, fds = self._outbox[0]
            try:
                self._send(data, fds)
            except BlockingIOError:
                return
            except OSError:
                self._lost()
                return
            self._outbox.popleft()
            _close_all(fds)
        if self._sock is not None:
            asyncio.get_running_loop().remove_writer(self._sock.fileno())

    def _take_spare(self, request: dict[str, Any], fds: Sequence[int]) -> EnvProcess | None:
        """Assign the waiting spare, if there is a live one, and ask for the next."""
        spare, self._spare = self._spare, None
        if spare is None:
            return None
        pid, sock = spare
        exited = self._exits.get(pid)
        try:
            if exited is None or exited.done():
                return None
            socket.send_fds(sock, [json.dumps(request).encode()], list(fds))
        except OSError:
            return None
        finally:
            sock.close()
            if self._sock is not None:
                self._post({"op": "refill"})
        return EnvProcess(pid, exited)

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process is not None else None

    async def close(self) -> None:
        if self._sock is not None:
            self._lost()
        if self._process is not None:
            try:
                await asyncio.wait_for(self._process.wait(), 2)
            except TimeoutError:
                self._process.kill()
                await self._process.wait()
            self._process = None


def _close_all(fds: Sequence[int]) -> None:
    for fd in fds:
        with contextlib.suppress(OSError):
            os.close(fd)


async def exec_process(
    argv: Sequence[str],
    env: dict[str, str],
    cwd: Path,
    output_fd: int,
    data_limit: int | None,
    confine: Callable[[], None] | None = None,
) -> EnvProcess:
    """A fresh process in its own session, its stdout and stderr into `output_fd`; `confine`
    runs in the child before exec."""
    process = await asyncio.create_subprocess_exec(
        *argv,
        env=env,
        cwd=cwd,
        stdin=subprocess.DEVNULL,
        stdout=output_fd,
        stderr=output_fd,
        start_new_session=True,
        preexec_fn=confine,
    )
    try:
        resource.prlimit(process.pid, resource.RLIMIT_NOFILE, (OPEN_FILES, OPEN_FILES))
        resource.prlimit(process.pid, resource.RLIMIT_CORE, (0, 0))
        if data_limit:
            resource.prlimit(process.pid, resource.RLIMIT_DATA, (data_limit, data_limit))
    except (ProcessLookupError, OSError):
        pass
    loop = asyncio.get_running_loop()
    exited: asyncio.Future[ExitStatus] = loop.create_future()

    async def wait() -> None:
        returncode = await process.wait()
        if not exited.done():
            exited.set_result(ExitStatus.from_returncode(returncode))

    return EnvProcess(process.pid, exited, loop.create_task(wait()))
