"""Running Portico: uvicorn serving the app, a ready line once it listens, clean SIGTERM."""

from __future__ import annotations

import asyncio
import contextlib
import signal
import sys
from collections.abc import Iterator
from pathlib import Path

import uvicorn

from portico.app import HEALTH_PATH, Portico, create_app
from portico.credentials import credentials_path
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
        server_header=False,  # AWS endpoints do not name their server
        # The peer's address is the caller's: X-Forwarded-For is data for the functions (the
        # gateway passes it on), not something to rewrite the client address from.
        proxy_headers=False,
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
            await run_example(app, example)
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
