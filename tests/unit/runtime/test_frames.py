from __future__ import annotations

import socket
import threading
import time
from pathlib import Path

from portico.runtime.shim import frames


def test_decoder_handles_split_and_joined_frames() -> None:
    one = frames.encode(frames.RESPONSE, {frames.REQUEST_ID: "r1"}, b"body")
    two = frames.encode(frames.READY, None)
    stream = one + two
    decoder = frames.FrameDecoder()
    got: list[frames.Frame] = []
    for i in range(len(stream)):
        got += decoder.feed(stream[i : i + 1])
    assert got == [(frames.RESPONSE, {frames.REQUEST_ID: "r1"}, b"body"), (frames.READY, {}, b"")]
    assert frames.FrameDecoder().feed(stream) == got


def test_blocking_read_frame_over_a_socketpair() -> None:
    left, right = socket.socketpair()
    with left, right:
        payload = b"x" * 300_000
        sender = frames.encode(frames.INVOKE, {"k": "v"}, payload)
        left.setblocking(True)
        import threading

        thread = threading.Thread(target=left.sendall, args=(sender,))
        thread.start()
        assert frames.read_frame(right) == (frames.INVOKE, {"k": "v"}, payload)
        thread.join()


def test_invoke_frame_carries_the_next_headers() -> None:
    from portico.runtime.invocation import InvocationRequest

    request = InvocationRequest("r", b'{"a": 1}', 123, "arn:f", "Root=1", "{}", '{"c": 1}')
    decoded = frames.FrameDecoder().feed(request.frame())
    assert decoded == [(frames.INVOKE, request.headers(), b'{"a": 1}')]
    plain = InvocationRequest("r", b"", 1, "arn", "t")
    assert frames.FrameDecoder().feed(plain.frame()) == [(frames.INVOKE, plain.headers(), b"")]


def _voluntary_switches(thread_id: int) -> int:
    status = Path(f"/proc/self/task/{thread_id}/status").read_text()
    return int(status.split("voluntary_ctxt_switches:")[1].split()[0])


def _asleep(thread_id: int) -> bool:
    return Path(f"/proc/self/task/{thread_id}/stat").read_text().rsplit(")", 1)[1].split()[0] == "S"


def test_a_reader_waiting_for_a_frame_sleeps_through_the_host_reading_its_answer() -> None:
    """An environment waits for its next invocation while the host reads the answer to the
    last one. The host's read frees room in the socket and the kernel wakes whoever sleeps on
    it: a reader asleep in recv() would wake for nothing, a trip through the scheduler (and
    another CPU's interrupt) on every invocation."""
    host, environment = socket.socketpair()
    with host, environment:
        reader = frames.FrameReader(environment)
        environment.sendall(frames.encode(frames.RESPONSE, {frames.REQUEST_ID: "r1"}, b"x" * 4096))
        got: list[frames.Frame] = []
        thread = threading.Thread(target=lambda: got.append(reader.read()))
        thread.start()
        assert thread.native_id is not None
        deadline = time.monotonic() + 5
        while not _asleep(thread.native_id) and time.monotonic() < deadline:
            time.sleep(0.01)
        time.sleep(0.05)
        before = _voluntary_switches(thread.native_id)
        answer = host.recv(65536)  # the host takes the answer: room in the socket
        assert answer.endswith(b"x" * 100)
        time.sleep(0.2)
        woken = _voluntary_switches(thread.native_id) - before
        host.sendall(frames.encode(frames.INVOKE, {frames.REQUEST_ID: "r2"}, b"{}"))
        thread.join(5)
        assert got == [(frames.INVOKE, {frames.REQUEST_ID: "r2"}, b"{}")]
        assert woken == 0
