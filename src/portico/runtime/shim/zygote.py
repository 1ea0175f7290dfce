"""The template process: imports once, then forks pre-initialized execution environments.

    host ──SEQPACKET: {"op": "spawn", ...} + fds [channel, stdout, stderr]──► zygote
    host ◄──{"op": "spawned", "id", "pid"} / {"op": "exited", "pid", "status"}── zygote
                                                  │ fork()
                                                  ▼
                              environment: setsid, fds, env, cwd, limits, sys.path,
                              then Bootstrap(FramedChannel).run()  (INIT + invoke loop)

A fork of a process that has already imported the interpreter, the bootstrap and the
preloaded packages (boto3) costs about a millisecond; a fresh interpreter costs tens.
"""

from __future__ import annotations

import array
import contextlib
import gc
import importlib
import json
import os
import resource
import selectors
import signal
import socket
import sys
import tempfile
import traceback
from typing import Any

from . import bootstrap

MAX_MESSAGE = 1 << 20
SHIM_PACKAGE = __name__.rpartition(".")[0]


def _receive(control: socket.socket) -> tuple[dict[str, Any], list[int]]:
    fds = array.array("i")
    message, ancillary, _flags, _addr = control.recvmsg(
        MAX_MESSAGE, socket.CMSG_SPACE(16 * fds.itemsize)
    )
    for level, kind, data in ancillary:
        if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
            fds.frombytes(data[: len(data) - (len(data) % fds.itemsize)])
    if not message:
        raise EOFError("the host closed the control channel")
    return json.loads(message), list(fds)


def _send(control: socket.socket, message: dict[str, Any]) -> None:
    control.send(json.dumps(message).encode())


def _shadowed_modules(paths: list[str]) -> list[str]:
    """Preloaded top-level modules that the function's own code or layers provide again."""
    provided: set[str] = set()
    for path in paths:
        try:
            entries = os.listdir(path)
        except OSError:
            continue
        for entry in entries:
            provided.add(entry[:-3] if entry.endswith(".py") else entry)
    loaded = {name.partition(".")[0] for name in sys.modules}
    return sorted((provided & loaded) - set(sys.builtin_module_names) - {SHIM_PACKAGE})


def _purge(names: list[str]) -> None:
    for name in list(sys.modules):
        if name.partition(".")[0] in names:
            del sys.modules[name]


def _become_environment(request: dict[str, Any], fds: list[int], stdlib: list[str]) -> None:
    channel_fd, stdout_fd, stderr_fd = fds
    os.setsid()
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)
    os.dup2(stdout_fd, 1)
    os.dup2(stderr_fd, 2)
    for fd in (devnull, stdout_fd, stderr_fd):
        os.close(fd)
    os.environ.clear()
    os.environ.update(request["env"])
    os.chdir(request["cwd"])
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    data_limit = request.get("data_limit")
    if data_limit:
        resource.setrlimit(resource.RLIMIT_DATA, (data_limit, data_limit))
    code_paths: list[str] = request["paths"]
    sys.path[:] = [*code_paths, *stdlib]
    _purge(_shadowed_modules(code_paths))
    importlib.invalidate_caches()
    tempfile.tempdir = None
    sys.argv[:] = [""]
    bootstrap.make_streams_unbuffered()
    channel = bootstrap.FramedChannel(socket.socket(fileno=channel_fd))
    bootstrap.Bootstrap(channel, request["handler"]).run()


def _fork(
    control: socket.socket,
    selector: selectors.BaseSelector,
    request: dict[str, Any],
    fds: list[int],
    stdlib: list[str],
) -> None:
    sys.stdout.flush()
    sys.stderr.flush()
    pid = os.fork()
    if pid == 0:
        code = 0
        try:
            selector.close()
            control.close()
            signal.set_wakeup_fd(-1)
            signal.signal(signal.SIGCHLD, signal.SIG_DFL)
            signal.signal(signal.SIGTERM, signal.SIG_DFL)
            _become_environment(request, fds, stdlib)
        except SystemExit as exc:  # the handler called sys.exit(): exit as Python would
            code = _exit_code(exc)
        except BaseException:
            traceback.print_exc()
            code = 1
        finally:
            bootstrap._flush()
            os._exit(code)
    for fd in fds:
        os.close(fd)
    _send(control, {"op": "spawned", "id": request["id"], "pid": pid})


def _exit_code(exc: SystemExit) -> int:
    if exc.code is None:
        return 0
    if isinstance(exc.code, int):
        return exc.code
    sys.stderr.write(f"{exc.code}\n")
    return 1


def _reap(control: socket.socket) -> None:
    while True:
        try:
            pid, status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return
        _send(control, {"op": "exited", "pid": pid, "status": status})


def _preload(modules: list[str]) -> None:
    for name in modules:
        try:
            importlib.import_module(name)
        except Exception:  # a missing optional package only costs its users a slower INIT
            sys.stderr.write(f"portico zygote: could not preload {name}\n")


def serve(control: socket.socket, preload: list[str]) -> None:
    stdlib = [path for path in sys.path if path.startswith(sys.base_prefix)]
    _preload(preload)
    gc.collect()
    gc.freeze()  # keep the collector from touching (and so copying) inherited objects

    wakeup_read, wakeup_write = os.pipe()
    os.set_blocking(wakeup_write, False)
    os.set_blocking(wakeup_read, False)
    signal.set_wakeup_fd(wakeup_write)
    signal.signal(signal.SIGCHLD, lambda *_: None)
    selector = selectors.DefaultSelector()
    selector.register(control, selectors.EVENT_READ)
    selector.register(wakeup_read, selectors.EVENT_READ)
    _send(control, {"op": "ready", "pid": os.getpid()})
    while True:
        for key, _events in selector.select():
            if key.fileobj is control:
                request, fds = _receive(control)
                _fork(control, selector, request, fds, stdlib)
            else:
                with contextlib.suppress(BlockingIOError):
                    os.read(wakeup_read, 4096)
                _reap(control)


def main() -> None:
    control = socket.socket(fileno=int(sys.argv[1]))
    preload = [name for name in sys.argv[2].split(",") if name] if len(sys.argv) > 2 else []
    with contextlib.suppress(EOFError, ConnectionError):
        serve(control, preload)
    os._exit(0)
