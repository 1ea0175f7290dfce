"""The function-URL endpoint in-process: routing by Host and by path, auth, limits, mapping."""

from __future__ import annotations

import datetime
import json
from dataclasses import dataclass, field
from typing import Any

import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from portico.credentials import AccessKey, StaticCredentials
from portico.gateway.function_urls import FunctionUrlEndpoint, addressed, sigv4_authenticator
from portico.runtime import InvocationResult
from portico.services.lambda_.errors import AccessDeniedException
from portico.services.lambda_.permissions import Invoker, PublicUrl

URL_ID = "0123456789abcdef0123456789abcdef"
HOST = f"{URL_ID}.lambda-url.eu-west-1.localhost:8080"
KEY = AccessKey("AKIAURLTEST000000001", "url-test-secret")


@dataclass(frozen=True)
class Target:
    url_id: str
    account_id: str
    region: str
    function_name: str
    qualifier: str
    auth_type: str
    cors: dict[str, Any] = field(default_factory=dict)


class Urls:
    def __init__(self, auth_type: str = "NONE", cors: dict[str, Any] | None = None) -> None:
        self.auth_type = auth_type
        self.cors = cors or {}

    async def resolve(self, url_id: str) -> Target | None:
        if url_id != URL_ID:
            return None
        return Target(
            URL_ID, "000000000000", "eu-west-1", "fn", "$LATEST", self.auth_type, self.cors
        )


class Function:
    """Echoes the event back (or answers `result` / fails, when told to)."""

    def __init__(self, result: bytes | None = None, error: str | None = None) -> None:
        self.result, self.error = result, error
        self.calls: list[tuple[str, str, str, str, dict[str, Any]]] = []
        self.sources: list[Invoker | None] = []

    async def __call__(
        self,
        account: str,
        region: str,
        name: str,
        qualifier: str,
        payload: bytes,
        *,
        within: float | None = None,
        source: Invoker | None = None,
    ) -> InvocationResult:
        self.calls.append((account, region, name, qualifier, json.loads(payload)))
        self.sources.append(source)
        body = self.result if self.result is not None else payload
        return InvocationResult("id", body, "$LATEST", function_error=self.error)


def endpoint(
    function: Function, auth_type: str = "NONE", max_body: int = 64 * 1024
) -> FunctionUrlEndpoint:
    authenticate = sigv4_authenticator(StaticCredentials(KEY), "000000000000")
    return FunctionUrlEndpoint(
        Urls(auth_type), function, authenticate, clock=lambda: 1_700_000_000.0, max_body=max_body
    )


def scope(
    path: str = "/hello", query: bytes = b"", headers: list[tuple[str, str]] | None = None
) -> dict[str, Any]:
    items = headers if headers is not None else [("host", HOST)]
    return {
        "type": "http",
        "method": "POST",
        "path": path,
        "raw_path": path.encode(),
        "query_string": query,
        "headers": [(name.lower().encode(), value.encode()) for name, value in items],
        "client": ("127.0.0.1", 5555),
        "server": ("127.0.0.1", 8080),
        "scheme": "http",
        "http_version": "1.1",
    }


async def call(
    app: FunctionUrlEndpoint, asgi_scope: dict[str, Any], body: bytes = b""
) -> tuple[int, dict[str, str], bytes]:
    messages = [{"type": "http.request", "body": body, "more_body": False}]
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return messages.pop(0) if messages else {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    await app(asgi_scope, receive, send)
    headers = {name.decode(): value.decode() for name, value in sent[0]["headers"]}
    return sent[0]["status"], headers, sent[1]["body"]


def test_addressing() -> None:
    by_host = addressed(scope("/a/b"))
    assert by_host is not None and (by_host.url_id, by_host.raw_path) == (URL_ID, "/a/b")
    assert by_host.domain_name == f"{URL_ID}.lambda-url.eu-west-1.localhost"
    by_path = addressed(
        scope(f"/_portico/lambda-url/{URL_ID}/x/y", headers=[("host", "127.0.0.1")])
    )
    assert by_path is not None and (by_path.url_id, by_path.raw_path) == (URL_ID, "/x/y")
    bare = addressed(scope(f"/_portico/lambda-url/{URL_ID}", headers=[]))
    assert bare is not None and bare.raw_path == "/"
    assert addressed(scope("/2015-03-31/functions", headers=[("host", "127.0.0.1:8080")])) is None
    assert not FunctionUrlEndpoint.matches(scope(headers=[("host", "localhost")]))


@pytest.mark.asyncio
async def test_event_reaches_the_function_and_result_is_mapped() -> None:
    function = Function()
    status, headers, body = await call(
        endpoint(function),
        scope(query=b"a=1&a=2", headers=[("host", HOST), ("content-type", "application/json")]),
        b'{"x": 1}',
    )
    assert status == 200 and headers["content-type"] == "application/json"
    account, region, name, qualifier, event = function.calls[0]
    assert (account, region, name, qualifier) == ("000000000000", "eu-west-1", "fn", "$LATEST")
    assert json.loads(body) == event  # no statusCode: the whole value is the body
    assert event["rawPath"] == "/hello" and event["body"] == '{"x": 1}'
    assert event["queryStringParameters"] == {"a": "1,2"}
    assert event["headers"]["x-forwarded-for"] == "127.0.0.1"
    assert event["requestContext"]["apiId"] == URL_ID
    assert event["requestContext"]["requestId"] == headers["x-amzn-requestid"]
    assert event["requestContext"]["timeEpoch"] == 1_700_000_000_000


@pytest.mark.asyncio
async def test_unknown_url_is_refused_as_lambda_does() -> None:
    other = scope(headers=[("host", f"{'f' * 32}.lambda-url.eu-west-1.localhost")])
    status, headers, body = await call(endpoint(Function()), other)
    assert (status, body) == (403, b'{"Message":null}')
    assert headers["x-amzn-errortype"] == "AccessDeniedException"


@pytest.mark.asyncio
async def test_function_error_is_502() -> None:
    status, _headers, body = await call(
        endpoint(Function(b'{"errorMessage":"x"}', "Unhandled")), scope()
    )
    assert (status, json.loads(body)) == (502, {"Message": "Internal Server Error"})


@pytest.mark.asyncio
async def test_structured_response_with_cookies() -> None:
    result = json.dumps({"statusCode": 418, "cookies": ["a=1", "b=2"], "body": "tea"}).encode()
    app = endpoint(Function(result))
    messages: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b""}

    async def send(message: dict[str, Any]) -> None:
        messages.append(message)

    await app(scope(), receive, send)
    assert messages[0]["status"] == 418 and messages[1]["body"] == b"tea"
    cookies = [value for name, value in messages[0]["headers"] if name == b"set-cookie"]
    assert cookies == [b"a=1", b"b=2"]


@pytest.mark.asyncio
async def test_oversized_body_is_413() -> None:
    status, _headers, _body = await call(endpoint(Function(), max_body=10), scope(), b"x" * 11)
    assert status == 413


def signed_scope(secret: str = KEY.secret_access_key) -> tuple[dict[str, Any], bytes]:
    body = b'{"signed": true}'
    request = AWSRequest(method="POST", url=f"http://{HOST}/hello?q=1", data=body)
    request.context["timestamp"] = datetime.datetime.now(datetime.UTC).strftime("%Y%m%dT%H%M%SZ")
    SigV4Auth(Credentials(KEY.access_key_id, secret), "lambda", "eu-west-1").add_auth(request)
    headers = [("host", HOST), *((name, value) for name, value in request.headers.items())]
    return scope(query=b"q=1", headers=headers), body


@pytest.mark.asyncio
async def test_aws_iam_needs_a_good_signature() -> None:
    function = Function()
    app = endpoint(function, auth_type="AWS_IAM")
    status, _headers, body = await call(app, scope())
    assert (status, body) == (403, b'{"Message":"Forbidden"}')
    status, _headers, body = await call(app, *signed_scope(secret="wrong"))
    assert (status, body) == (403, b'{"Message":"Forbidden"}')
    assert function.calls == []
    status, _headers, body = await call(app, *signed_scope())
    assert status == 200
    context = json.loads(body)["requestContext"]
    assert context["accountId"] == "000000000000"
    assert context["authorizer"]["iam"]["accessKey"] == KEY.access_key_id
    assert context["authorizer"]["iam"]["userArn"] == "arn:aws:iam::000000000000:root"
    assert function.sources == [None]  # a signed caller: no public access asked for


@pytest.mark.asyncio
async def test_auth_none_asks_for_public_access_and_a_refusal_is_403() -> None:
    function = Function()
    app = endpoint(function)
    assert (await call(app, scope()))[0] == 200
    assert function.sources == [PublicUrl()]

    async def refuse(*args: Any, **kwargs: Any) -> InvocationResult:
        raise AccessDeniedException("anonymous is not authorized")

    denied = FunctionUrlEndpoint(Urls(), refuse, sigv4_authenticator(StaticCredentials(KEY), ""))
    status, headers, body = await call(denied, scope())
    assert (status, body) == (403, b'{"Message":"Forbidden"}')
    assert headers["x-amzn-errortype"] == "AccessDeniedException"


CORS = {"AllowOrigins": ["https://app.example.com"], "AllowMethods": ["POST"], "MaxAge": 60}


@pytest.mark.asyncio
async def test_cors_preflights_are_answered_without_the_function() -> None:
    function = Function()
    authenticate = sigv4_authenticator(StaticCredentials(KEY), "000000000000")
    app = FunctionUrlEndpoint(Urls("AWS_IAM", CORS), function, authenticate)
    preflight = scope(
        headers=[
            ("host", HOST),
            ("origin", "https://app.example.com"),
            ("access-control-request-method", "POST"),
        ]
    )
    preflight["method"] = "OPTIONS"
    status, headers, body = await call(app, preflight)
    assert (status, body) == (204, b"")
    assert headers["access-control-allow-origin"] == "https://app.example.com"
    assert headers["access-control-max-age"] == "60"
    assert not function.calls


@pytest.mark.asyncio
async def test_cors_headers_are_set_on_answers() -> None:
    authenticate = sigv4_authenticator(StaticCredentials(KEY), "000000000000")
    app = FunctionUrlEndpoint(Urls("NONE", CORS), Function(), authenticate)
    asked = scope(headers=[("host", HOST), ("origin", "https://app.example.com")])
    status, headers, _body = await call(app, asked)
    assert status == 200
    assert headers["access-control-allow-origin"] == "https://app.example.com"
    stranger = scope(headers=[("host", HOST), ("origin", "https://evil.example.com")])
    _status, headers, _body = await call(app, stranger)
    assert "access-control-allow-origin" not in headers


@pytest.mark.asyncio
async def test_a_request_cut_short_invokes_nothing() -> None:
    function = Function()
    messages = [
        {"type": "http.request", "body": b'{"half":', "more_body": True},
        {"type": "http.disconnect"},
    ]
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return messages.pop(0)

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    await endpoint(function)(scope(), receive, send)
    assert (function.calls, sent) == ([], [])
