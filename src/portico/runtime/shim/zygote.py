"""The template process: imports once, then forks pre-initialized execution environments.

    zygote ──fork() ahead of need──► spare: own session, warm pages; waits on a socket
    zygote ──{"op": "spare", "pid"} + fd [the spare's socket]──► host
    host ──request + fds [channel in, channel out, output]──► spare   (the cold start: one hop)
    host ──{"op": "refill"}──► zygote, which forks the next spare
    zygote ──{"op": "exited", "pid", "status"}──► host        (it reaps every child)

    spare ─► environment: fds, cwd, limits, confinement, then either
             env, sys.path, Bootstrap(FramedChannel).run()   (INIT + invoke loop), or,
             for another runtime (the request has `argv`, fds [output]), execve

A fork of a process that has already imported the interpreter, the bootstrap and the
preloaded packages (boto3) is far cheaper than a fresh interpreter, and a spare forked ahead
of need takes the fork, and the pages every environment writes, off the cold start's path.
`{"op": "spawn", "id"}` + fds (answered by `{"op": "spawned", "id", "pid"}`) forks on
demand when no spare is ready.
"""

from __future__ import annotations

import array
import contextlib
import gc
import importlib
import json
import logging
import os
import resource
import selectors
import signal
import socket
import sys
import tempfile
import traceback
from typing import Any

from . import bootstrap, sandbox

MAX_MESSAGE = 1 << 20
SHIM_PACKAGE = __name__.rpartition(".")[0]


def receive(sock: socket.socket) -> tuple[dict[str, Any], list[int]]:
    """One JSON message and the file descriptors that came with it."""
    fds = array.array("i")
    message, ancillary, _flags, _addr = sock.recvmsg(
        MAX_MESSAGE, socket.CMSG_SPACE(16 * fds.itemsize)
    )
    for level, kind, data in ancillary:
        if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
            fds.frombytes(data[: len(data) - (len(data) % fds.itemsize)])
    if not message:
        raise EOFError("the channel closed")
    return json.loads(message), list(fds)


def _send(control: socket.socket, message: dict[str, Any]) -> None:
    control.send(json.dumps(message).encode())


def _exit_code(exc: SystemExit) -> int:
    if exc.code is None:
        return 0
    if isinstance(exc.code, int):
        return exc.code
    sys.stderr.write(f"{exc.code}\n")
    return 1


def _run_child(body: Any, *args: Any) -> None:
    """Run a forked child's work and exit it, never returning into the zygote's loop."""
    code = 0
    try:
        body(*args)
    except SystemExit as exc:  # the handler called sys.exit(): exit as Python would
        code = _exit_code(exc)
    except BaseException:
        traceback.print_exc()
        code = 1
    finally:
        bootstrap._flush()
        os._exit(code)


class _NullChannel:
    """Swallows what a warm-up invocation answers."""

    def ready(self) -> None: ...
    def respond(self, request_id: str, body: bytes) -> None: ...
    def fail(self, request_id: str, error_type: str, body: bytes) -> None: ...
    def init_failed(self, error_type: str, body: bytes) -> None: ...
    def out_of_memory(self) -> None: ...

    def next(self) -> bootstrap.Invocation:
        raise EOFError("a warm-up has no invocations")


def _warm_up() -> None:
    """Walk INIT's and the first invoke's paths once in a spare, so that the pages they
    write are copied before a cold start needs them (a copy-on-write fault costs
    microseconds each, and a cold start would otherwise take hundreds of them)."""
    os.environ.update({f"PORTICO_WARM_UP_{i}": "x" * 64 for i in range(32)})
    os.environ.clear()
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    warm = bootstrap.Bootstrap(_NullChannel(), "warm.up")
    invocation = bootstrap.Invocation("warm-up", 0, "arn", "Root=1-0-0", None, None, b"{}")
    warm.invoke(lambda event, context: {"warm": [event, context.aws_request_id]}, invocation)
    root.handlers[:] = handlers
    root.setLevel(level)
    os.environ.clear()
    module = f"{SHIM_PACKAGE}.warmup"
    importlib.import_module(module)
    del sys.modules[module]


class Zygote:
    def __init__(
        self,
        control: socket.socket,
        preload: list[str],
        common: list[str] | None,
        layout: bool = False,
    ) -> None:
        self.control = control
        self.common = common  # what every confined environment reads; None: unconfined
        self.layout = layout  # spares prepare Lambda's layout (/var/task, /opt) too
        self.stdlib = [path for path in sys.path if path.startswith(sys.base_prefix)]
        # The folder holding this package also holds the runtime's own packages (boto3).
        self.runtime_site = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
        for name in preload:
            try:
                importlib.import_module(name)
            except Exception:  # a missing optional package only costs its users a slower INIT
                sys.stderr.write(f"portico zygote: could not preload {name}\n")
        # Top-level modules already imported, which a function's own code may shadow.
        self.preloaded = (
            frozenset(name.partition(".")[0] for name in sys.modules)
            - frozenset(sys.builtin_module_names)
            - {SHIM_PACKAGE}
        )
        self.selector = selectors.DefaultSelector()
        gc.collect()
        gc.freeze()  # keep the collector from touching (and so copying) inherited objects

    # -- the zygote's loop ----------------------------------------------------------------

    def serve(self) -> None:
        wakeup_read, wakeup_write = os.pipe()
        os.set_blocking(wakeup_write, False)
        os.set_blocking(wakeup_read, False)
        signal.set_wakeup_fd(wakeup_write)
        signal.signal(signal.SIGCHLD, lambda *_: None)
        self.selector.register(self.control, selectors.EVENT_READ)
        self.selector.register(wakeup_read, selectors.EVENT_READ)
        _send(self.control, {"op": "ready", "pid": os.getpid()})
        self._fork_spare()
        while True:
            for key, _events in self.selector.select():
                if key.fileobj is self.control:
                    request, fds = receive(self.control)
                    if request["op"] == "refill":
                        self._fork_spare()
                    else:
                        self._spawn(request, fds)
                else:
                    with contextlib.suppress(BlockingIOError):
                        os.read(wakeup_read, 4096)
                    self._reap()

    def _spawn(self, request: dict[str, Any], fds: list[int]) -> None:
        pid = self._fork(lambda: self._become(request, fds))
        for fd in fds:
            os.close(fd)
        _send(self.control, {"op": "spawned", "id": request["id"], "pid": pid})

    def _fork(self, body: Any) -> int:
        sys.stdout.flush()
        sys.stderr.flush()
        pid = os.fork()
        if pid == 0:
            _run_child(self._child, body)
        return pid

    def _fork_spare(self) -> None:
        """Fork a spare and hand the host the socket to assign it with."""
        host_end, spare_end = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        pid = self._fork(lambda: self._wait_as_spare(spare_end, host_end))
        spare_end.close()
        message = json.dumps({"op": "spare", "pid": pid}).encode()
        socket.send_fds(self.control, [message], [host_end.fileno()])
        host_end.close()

    def _reap(self) -> None:
        while True:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                return
            if pid == 0:
                return
            _send(self.control, {"op": "exited", "pid": pid, "status": status})

    # -- inside a forked child ----------------------------------------------------------

    def _child(self, body: Any) -> None:
        """Shed the zygote's state: its loop, its signals, its session."""
        self.selector.close()
        self.control.close()
        signal.set_wakeup_fd(-1)
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        os.setsid()
        devnull = os.open(os.devnull, os.O_RDONLY)
        os.dup2(devnull, 0)
        os.close(devnull)
        body()

    def _wait_as_spare(self, sock: socket.socket, host_end: socket.socket) -> None:
        host_end.close()
        os.environ.clear()
        _warm_up()
        if self.common is not None:
            # most of the confinement's cost, ahead of need
            sandbox.prepare(self.common, self.layout)
        try:
            request, fds = receive(sock)
        except (EOFError, OSError):  # the zygote is gone: nothing will come
            return
        sock.close()
        self._become(request, fds)

    def _become(self, request: dict[str, Any], fds: list[int]) -> None:
        """Turn into the environment `request` describes: the built-in Python bootstrap on a
        channel, or (with `argv`) any other runtime's process, exec'd."""
        *channel, output_fd = fds
        os.dup2(output_fd, 1)
        os.dup2(output_fd, 2)
        os.close(output_fd)
        _limit(request)
        confinement = request.get("sandbox")
        if confinement:
            sandbox.confine(**confinement)  # the mounts first: the cwd may be /var/task
        else:
            sandbox.discard()
        os.chdir(request["cwd"])
        if "argv" in request:
            argv: list[str] = request["argv"]
            bootstrap._flush()
            os.execve(argv[0], argv, request["env"])
        os.environ.clear()
        os.environ.update(request["env"])
        code_paths: list[str] = request["paths"]
        sys.path[:] = [*code_paths, self.runtime_site, *self.stdlib]
        self._purge_shadowed(code_paths)
        tempfile.tempdir = None
        sys.argv[:] = [""]
        bootstrap.make_streams_unbuffered()
        read_fd, write_fd = channel
        bootstrap.Bootstrap(bootstrap.FramedChannel(read_fd, write_fd), request["handler"]).run()

    def _purge_shadowed(self, paths: list[str]) -> None:
        """Forget preloaded modules that the function's own code or layers provide again."""
        provided: set[str] = set()
        for path in paths:
            try:
                entries = os.listdir(path)
            except OSError:
                continue
            provided.update(entry.removesuffix(".py") for entry in entries)
        shadowed = provided & self.preloaded
        if shadowed:
            for name in [name for name in sys.modules if name.partition(".")[0] in shadowed]:
                del sys.modules[name]
            importlib.invalidate_caches()


def _limit(request: dict[str, Any]) -> None:
    """An environment's limits: no core dumps, Lambda's open files, a ceiling on memory."""
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    open_files = request.get("open_files")
    if open_files:
        resource.setrlimit(resource.RLIMIT_NOFILE, (open_files, open_files))
    data_limit = request.get("data_limit")
    if data_limit:
        resource.setrlimit(resource.RLIMIT_DATA, (data_limit, data_limit))


def main() -> None:
    control = socket.socket(fileno=int(sys.argv[1]))
    preload = [name for name in sys.argv[2].split(",") if name] if len(sys.argv) > 2 else []
    common = json.loads(sys.argv[3]) if len(sys.argv) > 3 and sys.argv[3] else None
    layout = len(sys.argv) > 4 and sys.argv[4] == "layout"
    with contextlib.suppress(EOFError, ConnectionError):
        Zygote(control, preload, common, layout).serve()
    os._exit(0)
