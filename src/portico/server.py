"""Running Portico: uvicorn serving the app, a ready line once it listens, clean SIGTERM."""

from __future__ import annotations

import asyncio
import contextlib
import signal
import sys
from collections.abc import Iterator
from pathlib import Path

import uvicorn

from portico.app import HEALTH_PATH, create_app
from portico.runtime import FunctionConfig, Runtime
from portico.settings import Settings


class _Server(uvicorn.Server):
    """uvicorn's server, but SIGTERM/SIGINT end it with status 0 after a graceful drain
    (uvicorn itself re-raises the signal once it has shut down)."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield

    def request_exit(self) -> None:
        if self.should_exit:
            self.force_exit = True
        self.should_exit = True


async def serve(settings: Settings, example: Path | None = None) -> None:
    """Serve until SIGTERM / SIGINT; with `example`, run that function once when ready."""
    app = create_app(settings)
    config = uvicorn.Config(
        app,
        host=settings.host,
        port=settings.port,
        loop="none",
        http="httptools",
        lifespan="on",
        log_level="warning",
        access_log=False,
        timeout_graceful_shutdown=30,
    )
    server = _Server(config)
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, server.request_exit)
    serving = asyncio.ensure_future(server.serve())
    while not server.started and not serving.done():
        await asyncio.sleep(0.01)
    if server.started:
        host, port = server.servers[0].sockets[0].getsockname()[:2]
        app.listening_on(host, port)
        print(
            f"Portico ready on http://{host}:{port} (health: {HEALTH_PATH}, "
            f"data: {settings.data_dir})",
            flush=True,
        )
        if example is not None:
            await run_example(app.runtime, example)
    await serving


async def run_example(runtime: Runtime, folder: Path) -> None:
    """Invoke the example app's function once and show its log and result."""
    config = FunctionConfig(function_name="hello", handler="app.handler", code_dir=folder)
    event = folder / "event.json"
    result = await runtime.invoke(config, event.read_bytes() if event.exists() else b"{}")
    sys.stderr.write(result.log_tail.decode("utf-8", "replace"))
    print(result.payload.decode("utf-8", "replace"), flush=True)


def run(settings: Settings, example: Path | None = None) -> int:
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
