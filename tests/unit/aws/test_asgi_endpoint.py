"""The AWS-wire endpoint reads a request whole, or not at all."""

from __future__ import annotations

import asyncio
from typing import Any

from portico.aws.asgi import AwsEndpoint
from portico.aws.messages import AwsRequest, AwsResponse

SCOPE = {"type": "http", "method": "POST", "path": "/", "query_string": b"", "headers": []}


class Recorder:
    """A handler that notes what reached it."""

    def __init__(self) -> None:
        self.requests: list[AwsRequest] = []

    async def handle(self, request: AwsRequest) -> AwsResponse:
        self.requests.append(request)
        return AwsResponse(200, {}, b"{}")


def _serve(messages: list[dict[str, Any]], max_body: int = 100) -> tuple[Recorder, list[Any]]:
    recorder = Recorder()
    endpoint = AwsEndpoint(recorder, max_body)  # type: ignore[arg-type]
    incoming = iter(messages)
    sent: list[Any] = []

    async def receive() -> dict[str, Any]:
        return next(incoming)

    async def send(message: Any) -> None:
        sent.append(message)

    asyncio.run(endpoint(SCOPE, receive, send))
    return recorder, sent


def test_a_request_cut_short_is_not_handled() -> None:
    recorder, sent = _serve(
        [{"type": "http.request", "body": b"1234", "more_body": True}, {"type": "http.disconnect"}]
    )
    assert recorder.requests == [] and sent == []


def test_a_whole_request_in_pieces_is_handled_whole() -> None:
    recorder, sent = _serve(
        [
            {"type": "http.request", "body": b"1234", "more_body": True},
            {"type": "http.request", "body": b"5678", "more_body": False},
        ]
    )
    assert [request.body for request in recorder.requests] == [b"12345678"]
    assert sent[0]["status"] == 200


def test_a_request_over_the_limit_is_refused_unread() -> None:
    recorder, sent = _serve([{"type": "http.request", "body": b"x" * 101}])
    assert recorder.requests == [] and sent[0]["status"] == 413
