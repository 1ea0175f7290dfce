"""Running Portico: uvicorn serving the app, a listener that accepts connections all at once,
requests bounded in size and time and answers in time (`http_bounds`), a ready line once it
listens, clean SIGTERM."""

from __future__ import annotations

import asyncio
import contextlib
import errno
import gc
import logging
import os
import resource
import signal
import socket
import sys
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any, cast

import uvicorn

from portico.app import HEALTH_PATH, Portico, create_app
from portico.credentials import credentials_path
from portico.http_bounds import REQUEST_TIMEOUT_SECONDS, BoundedHttpProtocol
from portico.settings import Settings

logger = logging.getLogger(__name__)

# accept() failing for want of resources: wait, rather than spin on a socket that stays ready.
_OUT_OF_RESOURCES = {errno.EMFILE, errno.ENFILE, errno.ENOBUFS, errno.ENOMEM}
_RETRY_ACCEPT_AFTER = 1.0  # seconds
BACKLOG = 2048  # connections the kernel holds until they are accepted (uvicorn's default)
_CHOOSE_PORT_ATTEMPTS = 8
_MOST_OPEN_FILES = 1_048_576  # Linux's default fs.nr_open


class _Listener:
    """The listening socket: each time it is ready, every connection waiting is accepted.

    uvloop's own server (libuv) accepts one connection per turn of the event loop. Under load
    a turn lasts milliseconds, so clients that connect together waited in the kernel's queue:
    the last of 256 connections opened at once was accepted seconds later, and its first
    request timed out. Here the waiting connections are taken all at once (up to the backlog)
    and handed to the loop, which serves each as it would have."""

    def __init__(
        self,
        loop: asyncio.AbstractEventLoop,
        sock: socket.socket,
        protocol_factory: Callable[[], asyncio.Protocol],
        backlog: int,
    ) -> None:
        self._loop = loop
        self._sock = sock
        self._protocol_factory = protocol_factory
        self._backlog = backlog
        self._handing_over: set[asyncio.Task[object]] = set()
        sock.setblocking(False)
        loop.add_reader(sock.fileno(), self._accept)

    @property
    def sockets(self) -> list[socket.socket]:
        return [self._sock]

    def _accept(self) -> None:
        for _ in range(self._backlog):
            try:
                connection, _address = self._sock.accept()
            except (BlockingIOError, InterruptedError):
                return
            except ConnectionAbortedError:
                continue  # the client gave up before its turn
            except OSError as exc:
                if exc.errno not in _OUT_OF_RESOURCES:
                    raise
                logger.error("cannot accept connections (%s): retrying in a second", exc)
                self._loop.remove_reader(self._sock.fileno())
                self._loop.call_later(_RETRY_ACCEPT_AFTER, self._resume)
                return
            connection.setblocking(False)
            handover = self._loop.create_task(
                self._loop.connect_accepted_socket(self._protocol_factory, connection)
            )
            self._handing_over.add(handover)
            handover.add_done_callback(self._handed_over)

    def _handed_over(self, task: asyncio.Task[object]) -> None:
        self._handing_over.discard(task)
        if not task.cancelled() and task.exception() is not None:
            logger.warning("a connection was lost as it was accepted: %s", task.exception())

    def _resume(self) -> None:
        if self._sock.fileno() != -1:
            self._loop.add_reader(self._sock.fileno(), self._accept)

    def close(self) -> None:
        if self._sock.fileno() != -1:
            self._loop.remove_reader(self._sock.fileno())
            self._sock.close()

    async def wait_closed(self) -> None:
        """Connections already accepted are uvicorn's to drain: nothing of ours to wait for."""


def _bind(host: str, port: int, backlog: int) -> list[socket.socket]:
    """A listening socket on each address `host` names (both of `localhost`'s, say), as
    asyncio's own servers bind; all on one port, even when port 0 lets the first choose it."""
    found = socket.getaddrinfo(host or None, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    addresses = list(dict.fromkeys(found))
    attempts = 0
    while True:
        try:
            return _bind_all(addresses, port, backlog)
        except OSError as exc:
            # The port the first address chose may be taken at another: choose again.
            attempts += 1
            retry = port == 0 and exc.errno == errno.EADDRINUSE
            if not retry or attempts == _CHOOSE_PORT_ATTEMPTS:
                raise


def _bind_all(
    addresses: Sequence[tuple[socket.AddressFamily, socket.SocketKind, int, str, tuple[Any, ...]]],
    port: int,
    backlog: int,
) -> list[socket.socket]:
    listening: list[socket.socket] = []
    try:
        for family, kind, protocol, _name, address in addresses:
            sock = socket.socket(family, kind, protocol)
            listening.append(sock)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            if family == socket.AF_INET6:  # the IPv4 addresses get sockets of their own
                sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
            sock.bind((address[0], port, *address[2:]))
            sock.listen(backlog)
            port = port or sock.getsockname()[1]
    except OSError:
        for sock in listening:
            sock.close()
        raise
    return listening


class _Server(uvicorn.Server):
    """uvicorn's server with these changes:
    - SIGTERM/SIGINT end it with status 0 after a graceful drain (uvicorn itself re-raises
      the signal once it has shut down); a second one stops waiting for open connections,
      a third exits at once;
    - its listening socket is a `_Listener`, which accepts connections all at once;
    - once a second, connections whose request head is overdue, whose request body has
      stalled or whose response has not moved (`request_timeout`) are closed, and those
      kept alive with no request for longer than the keep-alive timeout (uvicorn's
      `timeout_keep_alive`, 5 s by default: within a second more)."""

    def __init__(
        self, config: uvicorn.Config, request_timeout: float = REQUEST_TIMEOUT_SECONDS
    ) -> None:
        super().__init__(config)
        self.request_timeout = request_timeout

    async def on_tick(self, counter: int) -> bool:
        if counter % 10 == 0:  # uvicorn ticks every 0.1 s
            self.time_out_requests()
        return await super().on_tick(counter)

    def time_out_requests(self) -> None:
        now = asyncio.get_running_loop().time()
        overdue = now - self.request_timeout
        idle_too_long = now - self.config.timeout_keep_alive
        for connection in list(self.server_state.connections):
            if not isinstance(connection, BoundedHttpProtocol):
                continue
            started = connection.head_started
            moved = connection.body_moved
            idle = connection.idle_since
            if idle is not None and idle < idle_too_long:
                connection.time_out_idle()
            elif started is not None and started < overdue:
                connection.time_out_head()
            elif moved is not None and moved < overdue:
                connection.time_out_body()
            else:
                unsent_since = connection.unsent_since(now)
                if unsent_since is not None and unsent_since < overdue:
                    connection.drop()

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        config = self.config
        listening = sockets or _bind(config.host, config.port, config.backlog)
        # With an empty list of sockets, uvicorn runs the app's startup and listens on nothing.
        await super().startup(sockets=[])

        def protocol_factory() -> asyncio.Protocol:
            return config.http_protocol_class(  # type: ignore[call-arg]  # uvicorn's own call
                config=config, server_state=self.server_state, app_state=self.lifespan.state
            )

        loop = asyncio.get_running_loop()
        listeners = [_Listener(loop, sock, protocol_factory, config.backlog) for sock in listening]
        # uvicorn closes and waits for its servers at shutdown: all a listener has to offer.
        self.servers = cast("list[asyncio.Server]", listeners)

    def request_exit(self) -> None:
        if self.force_exit:  # a third signal: no more waiting at all
            os._exit(1)
        if self.should_exit:
            self.force_exit = True
        self.should_exit = True

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        await super().shutdown(sockets)
        if self.force_exit:
            # uvicorn skips the app's shutdown when a second signal forces it. That signal is
            # meant to cut short the wait for open connections: Portico still stores the log
            # lines it holds, stops its environments and closes its database.
            await self.lifespan.shutdown()


async def serve(settings: Settings, example: Path | None = None) -> None:
    """Serve until SIGTERM / SIGINT; with `example`, run that function once when ready."""
    try:
        listening = _bind(settings.host, settings.port, BACKLOG)
    except OSError as exc:
        where = f"{settings.host}:{settings.port}"
        raise SystemExit(f"Portico cannot listen on {where}: {exc}") from None
    app = create_app(settings)
    config = uvicorn.Config(
        app,
        host=settings.host,
        port=settings.port,
        loop="none",
        http=BoundedHttpProtocol,
        lifespan="on",
        log_level="warning",
        access_log=False,
        server_header=False,  # AWS endpoints do not name their server
        # The peer's address is the caller's: X-Forwarded-For is data for the functions (the
        # gateway passes it on), not something to rewrite the client address from.
        proxy_headers=False,
        timeout_graceful_shutdown=30,
        backlog=BACKLOG,
    )
    server = _Server(config)
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, server.request_exit)
    serving = asyncio.ensure_future(server.serve(sockets=listening))
    while not server.started and not serving.done():
        await asyncio.sleep(0.01)
    if server.started:
        host, port = listening[0].getsockname()[:2]
        app.listening_on(host, port)
        # What start-up made lives as long as the server: kept out of the collector's full
        # passes, which under load came every few seconds and took tens of milliseconds.
        gc.freeze()
        print(
            f"Portico ready on http://{host}:{port} (health: {HEALTH_PATH}, "
            f"data: {settings.data_dir})",
            flush=True,
        )
        if example is not None:
            try:
                await run_example(app, example)
            except Exception as exc:  # the server serves on without its example
                if not server.should_exit:  # stopped while the example ran: no fault of it
                    logger.error("the example app could not be run: %s", exc)
    await serving


async def run_example(app: Portico, folder: Path) -> None:
    """Deploy the example app's function (`hello`) through the Lambda API, as any client
    would, then invoke it once and show its log and result."""
    await asyncio.to_thread(_deploy_and_invoke, app, folder)


def _deploy_and_invoke(app: Portico, folder: Path) -> None:
    import base64
    import io
    import zipfile

    import boto3

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for path in sorted(folder.rglob("*")):
            if path.is_file() and "__pycache__" not in path.parts:
                archive.write(path, path.relative_to(folder))
    client = boto3.client(
        "lambda",
        endpoint_url=app.endpoint_url,
        region_name=app.settings.default_region,
        aws_access_key_id=app.admin_key.access_key_id,
        aws_secret_access_key=app.admin_key.secret_access_key,
    )
    try:
        client.update_function_code(FunctionName="hello", ZipFile=buffer.getvalue())
    except client.exceptions.ResourceNotFoundException:
        client.create_function(
            FunctionName="hello",
            Runtime="python3.12",
            Role=f"arn:aws:iam::{app.settings.account_id}:role/portico-example",
            Handler="app.handler",
            Code={"ZipFile": buffer.getvalue()},
        )
    event = folder / "event.json"
    response = client.invoke(
        FunctionName="hello",
        Payload=event.read_bytes() if event.exists() else b"{}",
        LogType="Tail",
    )
    sys.stderr.write(base64.b64decode(response["LogResult"]).decode("utf-8", "replace"))
    print(response["Payload"].read().decode("utf-8", "replace"), flush=True)
    print(
        f"The example function `hello` is deployed: "
        f"aws --endpoint-url {app.endpoint_url} lambda invoke --function-name hello out.json "
        f"(credentials: {credentials_path(app.settings.data_dir)}, profile portico)",
        flush=True,
    )


def raise_open_files_limit() -> None:
    """Let the server hold as many connections and environments as the system allows it: its
    soft limit on open files (often 1,024, a few hundred clients' worth) is raised to the
    hard one. (Each environment gets Lambda's 1,024 again.)"""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    # An unlimited hard limit is not a number of files: Linux's own ceiling is.
    wanted = _MOST_OPEN_FILES if hard == resource.RLIM_INFINITY else hard
    if soft < wanted:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))
        except (ValueError, OSError):
            logger.warning("cannot raise the open files limit above %d", soft)


def run(settings: Settings, example: Path | None = None) -> int:
    raise_open_files_limit()
    try:
        import uvloop

        uvloop.run(serve(settings, example))
    except ImportError:
        asyncio.run(serve(settings, example))
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(run(Settings.from_environment()))
