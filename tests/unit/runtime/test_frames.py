from __future__ import annotations

import socket

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
