"""`portico`: run functions locally; later, serve and deploy them."""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

from portico.errors import AwsError
from portico.runtime import FunctionConfig, InvocationResult, Runtime, RuntimeSettings
from portico.runtime.config import LOG_FORMATS, RUNTIMES
from portico.runtime.logs import MemoryLogSink


def _environment(pairs: Sequence[str]) -> dict[str, str]:
    env: dict[str, str] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise SystemExit(f"--env takes KEY=VALUE, got {pair!r}")
        env[key] = value
    return env


def _payload(args: argparse.Namespace) -> bytes:
    if args.payload is not None:
        return str(args.payload).encode()
    if args.event == "-":
        return sys.stdin.buffer.read()
    if args.event:
        return Path(args.event).read_bytes()
    return b"{}"


async def _invoke(config: FunctionConfig, payload: bytes) -> tuple[InvocationResult, str]:
    """One invocation in a throwaway runtime; returns the result and the whole log."""
    sink = MemoryLogSink()
    with tempfile.TemporaryDirectory(prefix="portico-") as state_dir:
        settings = RuntimeSettings(state_dir=Path(state_dir), preload_modules=())
        runtime = Runtime(settings, log_sink=sink)
        await runtime.start(reap=False)
        try:
            result = await runtime.invoke(config, payload)
        finally:
            await runtime.close()
    log = "".join(event.message for event in sink.events(config.log_group_name))
    return result, log


def invoke_command(args: argparse.Namespace) -> int:
    code_dir = Path(args.directory).resolve()
    if not code_dir.is_dir():
        raise SystemExit(f"{code_dir} is not a folder")
    config = FunctionConfig(
        function_name=args.function_name or code_dir.name,
        handler=args.handler,
        code_dir=code_dir,
        runtime=args.runtime,
        timeout=args.timeout,
        memory_size=args.memory,
        environment=_environment(args.env),
        layers=tuple(Path(layer).resolve() for layer in args.layer),
        log_format=args.log_format,
    )
    try:
        result, log = asyncio.run(_invoke(config, _payload(args)))
    except AwsError as error:
        print(f"{error.code}: {error.message}", file=sys.stderr)
        return 2
    sys.stderr.write(result.log_tail.decode("utf-8", "replace") if args.tail_only else log)
    sys.stderr.flush()
    sys.stdout.write(result.payload.decode("utf-8", "replace") + "\n")
    return 1 if result.function_error else 0


def up_command(args: argparse.Namespace) -> int:
    from portico.server import run
    from portico.settings import Settings

    settings = Settings.from_environment(
        host=args.host,
        port=args.port,
        data_dir=Path(args.data_dir) if args.data_dir else None,
        sandbox=False if args.no_sandbox else None,
    )
    example = Path(args.example).resolve() if args.example else None
    if example is not None and not (example / "app.py").exists():
        example = None
    return run(settings, example)


def parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(prog="portico", description=__doc__)
    commands = root.add_subparsers(dest="command", required=True)

    invoke = commands.add_parser("invoke", help="run a function from a folder, once")
    invoke.add_argument("directory", help="the function's code folder")
    invoke.add_argument("--handler", required=True, help="e.g. app.handler")
    invoke.add_argument("--event", help="a JSON file with the event ('-' for stdin)")
    invoke.add_argument("--payload", help="the event as inline JSON")
    invoke.add_argument("--runtime", default="python3.12", choices=sorted(RUNTIMES))
    invoke.add_argument("--timeout", type=float, default=3.0, help="seconds (default 3)")
    invoke.add_argument("--memory", type=int, default=128, help="MB (default 128)")
    invoke.add_argument("--env", action="append", default=[], metavar="KEY=VALUE")
    invoke.add_argument("--layer", action="append", default=[], metavar="DIR")
    invoke.add_argument("--log-format", default="Text", choices=LOG_FORMATS)
    invoke.add_argument("--function-name", help="defaults to the folder's name")
    invoke.add_argument(
        "--tail-only", action="store_true", help="print only the last 4 KB of the log"
    )
    invoke.set_defaults(run=invoke_command)

    up = commands.add_parser("up", help="start the Portico server")
    up.add_argument("--host", help="address to bind (default 127.0.0.1: loopback only)")
    up.add_argument("--port", type=int, help="port (default 4566; 0 picks a free one)")
    up.add_argument("--data-dir", help="where state lives (default ./.portico)")
    up.add_argument(
        "--example", default="examples/hello", help="a function folder to run once when ready"
    )
    up.add_argument(
        "--no-sandbox",
        action="store_true",
        help="run functions unconfined: they may read and write what the server may",
    )
    up.set_defaults(run=up_command)
    return root


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    code: int = args.run(args)
    return code


if __name__ == "__main__":
    raise SystemExit(main())
