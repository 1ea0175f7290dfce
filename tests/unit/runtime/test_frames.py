from __future__ import annotations

import os
import threading
import time
from pathlib import Path

import pytest

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


def test_a_reader_reads_a_frame_larger_than_the_pipe_holds() -> None:
    read_end, write_end = os.pipe()
    with open(read_end, "rb", buffering=0), open(write_end, "wb", buffering=0) as writing:
        payload = bytes(range(256)) * 1200  # 300 KiB: several times what a pipe holds
        sent = frames.encode(frames.INVOKE, {"k": "v"}, payload)
        sent += frames.encode(frames.INVOKE, {"k": "w"}, b"next")
        thread = threading.Thread(target=writing.write, args=(sent,))
        thread.start()
        reader = frames.FrameReader(read_end)
        assert reader.read() == (frames.INVOKE, "k\0v", payload)
        assert reader.read() == (frames.INVOKE, "k\0w", b"next")
        thread.join()
        writing.close()
        with pytest.raises(EOFError):
            reader.read()


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
    last one. On a socketpair the host's read freed room in the socket the environment
    slept on, and the kernel woke it for nothing: a trip through the scheduler (and another
    CPU's interrupt) on every invocation. On a pipe of its own, it sleeps on."""
    to_environment, from_environment = os.pipe(), os.pipe()
    reader = frames.FrameReader(to_environment[0])
    answer = frames.encode(frames.RESPONSE, {frames.REQUEST_ID: "r1"}, b"x" * 4096)
    os.write(from_environment[1], answer)
    got: list[frames.RawFrame] = []
    thread = threading.Thread(target=lambda: got.append(reader.read()))
    thread.start()
    try:
        assert thread.native_id is not None
        deadline = time.monotonic() + 5
        while not _asleep(thread.native_id) and time.monotonic() < deadline:
            time.sleep(0.01)
        time.sleep(0.05)
        before = _voluntary_switches(thread.native_id)
        assert os.read(from_environment[0], 65536) == answer  # the host takes the answer
        time.sleep(0.2)
        woken = _voluntary_switches(thread.native_id) - before
        os.write(to_environment[1], frames.encode(frames.INVOKE, {frames.REQUEST_ID: "r2"}, b"{}"))
        thread.join(5)
        assert got == [(frames.INVOKE, f"{frames.REQUEST_ID}\0r2", b"{}")]
        assert woken == 0
    finally:
        for fd in (*to_environment, *from_environment):
            os.close(fd)
