"""One execution environment: one OS process running one revision of one function.

    STARTING --ready--> IDLE --invoke--> BUSY --response/error--> IDLE
        |                 |                |
        +--init error-----+----exit/kill---+--timeout/OOM/crash--> DEAD

INIT runs once; module state then lives on across warm invokes. The host enforces the
timeout and the memory size, and turns every way a process can die into AWS's error.
"""

from __future__ import annotations

import asyncio
import dataclasses
import enum
import hashlib
import json
import os
import shutil
import time
from collections.abc import Callable
from pathlib import Path

from portico.runtime import errors_payload
from portico.runtime.config import FunctionConfig, RuntimeSettings
from portico.runtime.invocation import (
    ERROR,
    SUCCESS,
    TIMEOUT,
    InvocationRequest,
    InvocationResult,
    Outcome,
)
from portico.runtime.launch import EntrypointNotFound, Launcher, Transport, environment_variables
from portico.runtime.limits import RESPONSE_LIMIT_BYTES
from portico.runtime.logs import (
    InvocationLog,
    LogSink,
    OutputCapture,
    PlatformLines,
    new_stream_name,
)
from portico.runtime.processes import EnvProcess, ExitStatus

_PAGE_KB = os.sysconf("SC_PAGE_SIZE") // 1024
CHANNEL_LOST_GRACE = 0.5  # seconds
# Timers may fire up to a clock tick early (uvloop counts milliseconds): a memory check
# that due is made then, rather than put off by a timer of no delay.
_CLOCK_SLACK = 0.001  # seconds


Then = Callable[[InvocationResult | BaseException], None]
"""Who gets an invocation's result, or what went wrong in Portico making it."""


class State(enum.Enum):
    STARTING = "starting"
    IDLE = "idle"
    BUSY = "busy"
    DEAD = "dead"


class InitFailed(Exception):
    """INIT did not complete; `outcome` is what the invocation that waited on it returns.

    `platform_message` is set when the platform (not the runtime) produced the error, whose
    message then names the waiting invocation's request id."""

    def __init__(
        self, outcome: Outcome, init_duration_ms: float, platform_message: str | None = None
    ) -> None:
        super().__init__(outcome.error_type)
        self.outcome = outcome
        self.init_duration_ms = init_duration_ms
        self.platform_message = platform_message


class _ResidentSet:
    """A process's resident set size, now (`/proc/<pid>/statm`) and at its peak (`VmHWM` in
    `/proc/<pid>/status`), each read through a descriptor kept open: one pread() a look.
    Opened afresh, a file took eight system calls and a Python file object each time, and a
    busy environment is looked at every 10 ms (and, for runtimes that do not report their
    peak, once an invocation). The descriptors stay with the process they were opened for,
    whatever later takes its pid."""

    def __init__(self, pid: int) -> None:
        self._folder = f"/proc/{pid}/"
        self._fds: dict[str, int] = {}

    def kb(self) -> int | None:
        try:
            return int(self._read("statm", 128).split()[1]) * _PAGE_KB
        except (OSError, ValueError, IndexError):
            return None

    def peak_kb(self) -> int | None:
        try:
            status = self._read("status", 8192)
            return int(status[status.index(b"\nVmHWM:") + 8 :].split(None, 1)[0])
        except (OSError, ValueError, IndexError):
            return None

    def _read(self, name: str, size: int) -> bytes:
        fd = self._fds.get(name)
        if fd is None:
            fd = self._fds[name] = os.open(self._folder + name, os.O_RDONLY | os.O_CLOEXEC)
        return os.pread(fd, size, 0)

    def close(self) -> None:
        fds, self._fds = self._fds, {}
        for fd in fds.values():
            os.close(fd)


class ExecutionEnvironment:
    """Owns a process, its Runtime API transport, its output capture and its log stream."""

    def __init__(
        self,
        config: FunctionConfig,
        settings: RuntimeSettings,
        launcher: Launcher,
        log_sink: LogSink,
        *,
        provisioned: bool = False,
        extra_environment: dict[str, str] | None = None,
        on_death: Callable[[ExecutionEnvironment], None] | None = None,
        on_closed: Callable[[ExecutionEnvironment], None] | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.config = config
        self.id = os.urandom(16).hex()
        self.log_stream = new_stream_name(config.version)
        self.state = State.STARTING
        self.provisioned = provisioned
        self._clock = clock
        self.last_used = clock()
        self.init_duration_ms: float | None = None
        self.invocations = 0
        self.accepting = False  # the runtime waits for work (asked for /next)
        self._accepting_waiter: asyncio.Future[None] | None = None
        self._settings = settings
        self._launcher = launcher
        self._sink = log_sink
        self._extra_environment = extra_environment or {}
        self._on_death = on_death
        self._on_closed = on_closed
        self._lines = PlatformLines(
            config.log_format == "JSON",
            config.function_name,
            config.version,
            config.system_log_level,
        )
        self._tmp_dir = launcher.environments_dir / self.id
        self._ready: asyncio.Future[None] | None = None
        # The invocation running: its request, and who gets its result (None once it has one).
        self._request: InvocationRequest | None = None
        self._then: Then | None = None
        self._started = 0.0  # perf_counter at its start
        self._start_ms = 0  # its START line's time
        self._start_index = 0  # how many captured lines come before its START line
        self._current: str | None = None
        self._process: EnvProcess | None = None
        self._resident: _ResidentSet | None = None
        self._transport: Transport | None = None
        self._capture: OutputCapture | None = None
        self._out_of_memory = False
        self._flooded = False
        self._deadline = 0.0  # loop time
        self._next_memory_check = 0.0  # loop time
        self._tick: asyncio.TimerHandle | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._init_reported = False

    @property
    def alive(self) -> bool:
        return self.state is not State.DEAD

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process is not None else None

    # -- INIT ---------------------------------------------------------------------------

    async def start(self) -> None:
        """Start the process and run INIT; raises InitFailed (the environment is then dead)."""
        self._loop = loop = asyncio.get_running_loop()
        self._ready = loop.create_future()
        # stdout and stderr share one pipe: one log stream, in the order written.
        out_read, out_write = os.pipe()
        self._capture = OutputCapture(
            loop, out_read, self._settings.max_log_bytes_per_invoke, self._on_flood
        )
        tmp_dir = self._tmp_dir
        tmp_dir.mkdir(mode=0o700)
        version, version_arn = _runtime_version(self.config)
        self._capture.add(self._lines.init_start(version, version_arn, self.provisioned))
        started = time.perf_counter()

        def variables(runtime_api: str) -> dict[str, str]:
            return environment_variables(
                self.config,
                seen=self._launcher.sandbox.seen(self.config),
                log_stream=self.log_stream,
                runtime_api=runtime_api,
                tmp_dir=self._launcher.sandbox.tmp_path(tmp_dir),
                provisioned=self.provisioned,
                extra=self._extra_environment,
            )

        try:
            launched = await self._launcher.launch(self.config, self, variables, out_write, tmp_dir)
        except EntrypointNotFound as exc:
            self._die()
            self._closed()
            outcome = _runtime_error(exc.error_type, str(exc))
            raise InitFailed(outcome, 0.0, str(exc)) from None
        except BaseException:
            self._die()
            self._closed()
            raise
        finally:
            os.close(out_write)
        self._process, self._transport = launched.process, launched.transport
        self._resident = _ResidentSet(self._process.pid)
        self._process.exited.add_done_callback(self._on_exit)
        try:
            await asyncio.wait_for(asyncio.shield(self._ready), self._settings.init_timeout)
        except TimeoutError:
            self._kill()
            elapsed = (time.perf_counter() - started) * 1000
            outcome = Outcome(
                TIMEOUT,
                errors_payload.timed_out("", self._settings.init_timeout),
                "Sandbox.Timedout",
                platform_error=True,
            )
            message = f"Task timed out after {self._settings.init_timeout:.2f} seconds"
            raise InitFailed(outcome, elapsed, message) from None
        except InitFailed as failure:
            failure.init_duration_ms = (time.perf_counter() - started) * 1000
            raise
        self.init_duration_ms = (time.perf_counter() - started) * 1000
        # A provisioned environment's INIT happened ahead of time: no invoke reports it.
        self._init_reported = self.provisioned
        self._flush_logs()
        self.state = State.IDLE

    # -- INVOKE -------------------------------------------------------------------------

    async def invoke(self, request: InvocationRequest) -> InvocationResult:
        loop = self._loop
        assert loop is not None
        answered: asyncio.Future[InvocationResult] = loop.create_future()
        self.start_invoke(request, lambda result: _settle(answered, result))
        return await answered

    def start_invoke(self, request: InvocationRequest, then: Then) -> None:
        """Send `request` to the runtime; `then` gets the result once there is one (the
        runtime's answer, or the platform's error when it timed out or died), called from
        the event loop on its own, as a future's callbacks are; or what went wrong in
        Portico making it, as `invoke` would raise it."""
        capture, transport, loop = self._capture, self._transport, self._loop
        assert capture is not None and transport is not None and loop is not None
        started = time.perf_counter()
        # Sent first: if sending raises, the environment is as it was, idle and waiting.
        # Nothing the runtime answers can be read before this method returns.
        transport.send_invocation(request)
        request_id = request.request_id
        self.state = State.BUSY
        self.invocations += 1
        self._current = request_id
        self.accepting = False
        self._request, self._then = request, then
        self._start_ms = time.time_ns() // 1_000_000
        self._start_index = len(capture.events)  # START follows what was captured so far
        self._started = started
        now = loop.time()
        self._deadline = now + self.config.timeout
        self._next_memory_check = now + self._settings.memory_check_interval
        if self._tick is None:
            self._tick = loop.call_at(min(self._next_memory_check, self._deadline), self._on_tick)

    def _complete(self, request: InvocationRequest, outcome: Outcome, then: Then) -> None:
        duration_ms = (time.perf_counter() - self._started) * 1000
        self._current = None
        transport = self._transport
        if transport is not None and transport.implicit_next:
            self.accepting = True
        self.last_used = self._clock()
        result: InvocationResult | BaseException
        try:
            result = self._finish_invocation(request, outcome, duration_ms)
        except Exception as error:  # a fault of Portico's own: the caller is still answered
            result = error
        if self.state is State.BUSY:
            self.state = State.IDLE
        then(result)

    async def until_accepting(self, grace: float) -> bool:
        """Wait for a runtime that has answered to ask for more; False if it died or took
        longer than `grace` (it is then stopped)."""
        if self.accepting or not self.alive:
            return self.alive
        self._accepting_waiter = asyncio.get_running_loop().create_future()
        try:
            await asyncio.wait_for(asyncio.shield(self._accepting_waiter), grace)
        except TimeoutError:
            self.stop()
        finally:
            self._accepting_waiter = None
        return self.alive and self.accepting

    def report_init_failure(
        self, request: InvocationRequest, failure: InitFailed
    ) -> InvocationResult:
        """Log and return what an invocation gets when the INIT it waited for failed."""
        assert self._capture is not None
        outcome = failure.outcome
        self._capture.drain(everything=True)
        self._capture.add(
            self._lines.init_report(
                failure.init_duration_ms,
                outcome.status,
                outcome.error_type if outcome.status == ERROR else None,
            )
        )
        self._start_ms = time.time_ns() // 1_000_000
        self._start_index = len(self._capture.events)
        self._init_reported = True
        if failure.platform_message is not None:
            payload = _runtime_error(
                outcome.error_type or "Runtime.Unknown",
                failure.platform_message,
                request.request_id,
            ).payload
        else:
            payload = _with_request_id(outcome.payload, request.request_id)
        return self._finish_invocation(
            request, dataclasses.replace(outcome, payload=payload), failure.init_duration_ms
        )

    def _finish_invocation(
        self, request: InvocationRequest, outcome: Outcome, duration_ms: float
    ) -> InvocationResult:
        capture = self._capture
        assert capture is not None
        capture.drain()
        error_type = outcome.error_type
        if error_type == "Runtime.ExitError" or error_type == "Runtime.OutOfMemory":
            message = json.loads(outcome.payload).get("errorMessage", "")
            capture.add(f"{message}\nRuntime.ExitError\n")
        init_ms = None
        if not self._init_reported:
            init_ms = self.init_duration_ms
            self._init_reported = True
        config = self.config
        request_id = request.request_id
        status = outcome.status
        succeeded = status == SUCCESS
        max_memory_used_mb = self._max_memory_used_mb(outcome)
        captured = capture.take()
        log = InvocationLog(
            self._lines.style,
            request_id,
            self._start_ms,
            self._start_index,
            [(event.timestamp, event.message) for event in captured] if captured else [],
            time.time_ns() // 1_000_000,
            duration_ms,
            config.memory_size,
            max_memory_used_mb,
            init_ms,
            status,
            None if succeeded else error_type,
            outcome.platform_error,
        )
        self._sink.put_invocation(
            config.log_group_name,
            self.log_stream,
            log,
            account_id=config.account_id,
            region=config.region,
        )
        return InvocationResult(
            request_id,
            outcome.payload,
            config.version,
            None if succeeded else "Unhandled",
            error_type,
            status,
            log,
            duration_ms,
            init_ms,
            max_memory_used_mb,
            self.log_stream,
            init_ms is not None,
        )

    def _max_memory_used_mb(self, outcome: Outcome) -> int:
        if self._out_of_memory:
            return self.config.memory_size
        kb = outcome.max_rss_kb
        if kb is None and self._resident is not None:
            kb = self._resident.peak_kb()
        return -(-(kb or 0) // 1024)

    # -- what the runtime said (RuntimePeer) ---------------------------------------------

    def on_ready(self) -> None:
        self.accepting = True
        if self._accepting_waiter is not None and not self._accepting_waiter.done():
            self._accepting_waiter.set_result(None)
        if self._ready is not None and not self._ready.done():
            self._ready.set_result(None)

    def on_init_error(self, error_type: str, body: bytes) -> None:
        if self._ready is not None and not self._ready.done():
            outcome = Outcome(ERROR, body, error_type, platform_error=True)
            self._ready.set_exception(InitFailed(outcome, 0.0))
            self._kill()

    def on_response(self, request_id: str, body: bytes, max_rss_kb: int | None) -> None:
        if request_id != self._current:
            return
        if len(body) > RESPONSE_LIMIT_BYTES:
            document = errors_payload.response_too_large()
            self._resolve(
                Outcome(ERROR, document, "Function.ResponseSizeTooLarge", max_rss_kb, True)
            )
            return
        self._resolve(Outcome(SUCCESS, body, None, max_rss_kb))

    def on_error(
        self, request_id: str, error_type: str, body: bytes, max_rss_kb: int | None
    ) -> None:
        if request_id == self._current:
            self._resolve(Outcome(ERROR, body, error_type, max_rss_kb))

    def on_out_of_memory(self) -> None:
        self._out_of_memory = True

    def on_channel_lost(self) -> None:
        """The runtime closed its end: it is exiting. Give it a moment to exit by itself
        (its exit status is the error to report), then make sure."""
        if self.state is not State.DEAD:
            asyncio.get_running_loop().call_later(CHANNEL_LOST_GRACE, self._kill)

    # -- limits and death ----------------------------------------------------------------

    def _resolve(self, outcome: Outcome) -> None:
        """The running invocation's outcome: completed on the loop's next turn, after what
        resolved it (a timeout's kill, an exit's bookkeeping) is done."""
        then, request = self._then, self._request
        if then is not None and request is not None and self._loop is not None:
            self._then = self._request = None
            self._loop.call_soon(self._complete, request, outcome, then)

    def _on_tick(self) -> None:
        """The watchdog of the running invocation: its timeout, and its memory size every
        `memory_check_interval`.

        An invocation that ends leaves the timer armed, and the next one adopts it: the timer
        is due no later than that one's first check would be (an environment's interval and
        timeout never change), so when it fires early it just moves on to the right time.
        Short invocations thus cost no timer each, and an idle environment none at all."""
        self._tick = None
        if self._current is None or self._process is None or self.state is not State.BUSY:
            return
        loop = self._loop
        assert loop is not None
        now = loop.time()
        if now >= self._deadline:
            self._on_timeout()
            return
        if now >= self._next_memory_check - _CLOCK_SLACK:
            rss_kb = None if self._resident is None else self._resident.kb()
            if rss_kb is not None and rss_kb > self.config.memory_size * 1024:
                self._out_of_memory = True
                self._kill()
                return
            self._next_memory_check = now + self._settings.memory_check_interval
        self._tick = loop.call_at(min(self._next_memory_check, self._deadline), self._on_tick)

    def _on_timeout(self) -> None:
        if self._current is None:
            return
        self._resolve(
            Outcome(
                TIMEOUT,
                errors_payload.timed_out(self._current, self.config.timeout),
                "Sandbox.Timedout",
                platform_error=True,
            )
        )
        self._kill()

    def _on_flood(self) -> None:
        self._flooded = True
        self._kill()

    def _on_exit(self, exited: asyncio.Future[ExitStatus]) -> None:
        status = exited.result()
        request_id = self._current
        self._die()
        self._closed()
        report_type = "Runtime.ExitError"
        if self._out_of_memory:
            report_type, reason = "Runtime.OutOfMemory", "signal: killed"
        elif self._flooded:
            limit = self._settings.max_log_bytes_per_invoke
            reason = f"signal: killed (log output over {limit} bytes in one invocation)"
        elif status.code == 0:
            reason = ""
        else:
            reason = status.describe()
        message = (
            f"Runtime exited with error: {reason}"
            if reason
            else "Runtime exited without providing a reason"
        )
        if self._ready is not None and not self._ready.done():
            failure = InitFailed(_runtime_error(report_type, message), 0.0, message)
            self._ready.set_exception(failure)
        elif request_id is not None:
            self._resolve(_runtime_error(report_type, message, request_id))

    def _kill(self) -> None:
        """SIGKILL the process group; the environment is dead from now on, whatever the
        exit report (which still decides the pending invocation's error) says later."""
        if self._process is not None:
            self._process.kill()
        self._die()

    def _die(self) -> None:
        if self.state is State.DEAD:
            return
        self.state = State.DEAD
        if self._tick is not None:
            self._tick.cancel()
            self._tick = None
        if self._capture is not None:
            self._capture.drain(everything=True)
        if self._transport is not None:
            self._transport.close()
        if self._resident is not None:
            self._resident.close()
        _remove_tmp(self._tmp_dir)
        if self._accepting_waiter is not None and not self._accepting_waiter.done():
            self._accepting_waiter.set_result(None)
        if self._on_death is not None:
            self._on_death(self)

    def _closed(self) -> None:
        """The process is gone (or never was): nothing of this environment is left to wait for."""
        if self._capture is not None:
            self._capture.drain(everything=True)
            self._capture.close()  # its events stay readable for the last REPORT
        if self._on_closed is not None:
            on_closed, self._on_closed = self._on_closed, None
            on_closed(self)

    def stop(self) -> None:
        """Kill the process; the exit is reported as for any other death."""
        self._kill()

    async def wait_closed(self) -> None:
        if self._process is not None:
            await asyncio.shield(self._process.exited)
        if self._capture is not None:
            self._flush_logs()
            self._capture.close()

    def _flush_logs(self) -> None:
        if self._capture is not None:
            events = self._capture.take()
            if events:
                self._sink.put(
                    self.config.log_group_name,
                    self.log_stream,
                    events,
                    account_id=self.config.account_id,
                    region=self.config.region,
                )


def _remove_tmp(path: Path) -> None:
    """Most functions leave their folder empty: one rmdir; a full tree goes to a thread."""
    try:
        path.rmdir()
    except FileNotFoundError:
        pass
    except OSError:
        asyncio.get_running_loop().run_in_executor(None, shutil.rmtree, path, True)


def _runtime_error(report_type: str, message: str, request_id: str | None = None) -> Outcome:
    """A platform failure: the caller sees Runtime.ExitError (also for running out of
    memory, as on AWS); REPORT and the result carry the precise `report_type`."""
    payload_type = "Runtime.ExitError" if report_type == "Runtime.OutOfMemory" else report_type
    payload = errors_payload.platform_error(payload_type, message, request_id)
    return Outcome(ERROR, payload, report_type, platform_error=True)


def _with_request_id(payload: bytes, request_id: str) -> bytes:
    """INIT errors are replayed to the invoke that waited, with its request id filled in."""
    try:
        document = json.loads(payload)
    except ValueError:
        return payload
    if isinstance(document, dict) and document.get("requestId") == "":
        document["requestId"] = request_id
        return json.dumps(document).encode()
    return payload


def _runtime_version(config: FunctionConfig) -> tuple[str, str]:
    family = config.runtime.removesuffix(".x")
    for prefix in ("python", "nodejs"):
        if family.startswith(prefix):
            family = f"{prefix}:{family[len(prefix) :]}"
    version = f"{family}.portico"
    digest = hashlib.sha256(version.encode()).hexdigest()
    return version, f"arn:aws:lambda:{config.region}::runtime:{digest}"


def _settle(
    future: asyncio.Future[InvocationResult], result: InvocationResult | BaseException
) -> None:
    if future.done():  # its waiter may have been cancelled
        return
    if isinstance(result, BaseException):
        future.set_exception(result)
    else:
        future.set_result(result)
