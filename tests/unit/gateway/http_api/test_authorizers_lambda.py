"""Lambda REQUEST authorizers: events, identity sources, answers, result caching (fake
function, fake clock)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import pytest
from aws_lambda_powertools.utilities.parser.models import (
    ApiGatewayAuthorizerRequest,
    ApiGatewayAuthorizerRequestV2,
)

from portico.gateway.http_api.authorization import Authorizer, AuthRequest, Granted
from portico.gateway.http_api.authorizers import JwksCache, Misconfigured, compile_authorizer
from portico.gateway.http_api.authorizers.identity import IdentitySource, parse_sources
from portico.gateway.http_api.authorizers.lambda_events import event_v1, event_v2
from portico.gateway.http_api.authorizers.lambda_request import (
    LambdaRequestAuthorizer,
    LambdaSettings,
)
from portico.gateway.http_api.targets import lambda_target
from portico.gateway.http_events import HttpRequest, HttpResult
from portico.runtime import InvocationResult
from portico.services.lambda_.errors import ResourceNotFoundException
from portico.services.lambda_.permissions import ServiceSource
from portico.store.clock import ManualClock

ACCOUNT = "000000000000"
API = f"arn:aws:execute-api:eu-west-1:{ACCOUNT}:a1b2c3d4e5"
FUNCTION_ARN = f"arn:aws:lambda:eu-west-1:{ACCOUNT}:function:auth:live"
URI = f"arn:aws:apigateway:eu-west-1:lambda:path/2015-03-31/functions/{FUNCTION_ARN}/invocations"
NOW = 1_700_000_000.0


class Function:
    """The authorizer function: answers `answer` (or fails), records each event."""

    def __init__(self, answer: Any = None, error: str | None = None) -> None:
        self.answer = answer
        self.error = error
        self.raises: Exception | None = None
        self.calls: list[tuple[str, str, str, str]] = []
        self.events: list[dict[str, Any]] = []
        self.sources: list[ServiceSource | None] = []
        self.within: list[float | None] = []

    async def __call__(
        self,
        account: str,
        region: str,
        name: str,
        qualifier: str,
        payload: bytes,
        *,
        within: float | None = None,
        source: ServiceSource | None = None,
    ) -> InvocationResult:
        self.calls.append((account, region, name, qualifier))
        self.sources.append(source)
        self.within.append(within)
        self.events.append(json.loads(payload))
        if self.raises is not None:
            raise self.raises
        body = self.answer if isinstance(self.answer, bytes) else json.dumps(self.answer).encode()
        return InvocationResult("inv-1", body, "1", function_error=self.error)


def allow(resource: Any, effect: str = "Allow", **extra: Any) -> dict[str, Any]:
    return {
        "principalId": "user-7",
        "policyDocument": {
            "Version": "2012-10-17",
            "Statement": [{"Action": "execute-api:Invoke", "Effect": effect, "Resource": resource}],
        },
        **extra,
    }


def request(
    route_key: str = "GET /pets/{id}",
    path: str = "/prod/pets/7",
    headers: list[tuple[str, str]] | None = None,
    query: str = "",
    stage_variables: Mapping[str, str] | None = None,
) -> AuthRequest:
    method, space, route_path = route_key.partition(" ")
    method = method if space else "GET"
    arn_path = path.removeprefix("/prod")
    return AuthRequest(
        request=HttpRequest(
            method,
            path,
            query,
            headers if headers is not None else [("Authorization", "token-1")],
            body=b"ignored",
            source_ip="192.0.2.7",
        ),
        sent_path=path,
        path=arn_path,
        api_id="a1b2c3d4e5",
        account_id=ACCOUNT,
        region="eu-west-1",
        stage="prod",
        route_key=route_key,
        route_arn=f"{API}/prod/{method}{arn_path}",
        request_id="req-1",
        time_epoch_ms=int(NOW * 1000),
        domain_name="a1b2c3d4e5.execute-api.localhost",
        path_parameters={"id": "7"} if "{id}" in route_path else {},
        stage_variables=stage_variables if stage_variables is not None else {"tier": "gold"},
    )


def authorizer(
    function: Function,
    clock: ManualClock | None = None,
    *,
    sources: tuple[str, ...] = ("$request.header.Authorization",),
    **settings: Any,
) -> LambdaRequestAuthorizer:
    settings.setdefault("target", lambda_target(URI))
    return LambdaRequestAuthorizer(
        LambdaSettings(name="auth", identity_sources=parse_sources(sources), **settings),
        function,
        (clock or ManualClock(NOW)).now,
    )


def status(result: Granted | HttpResult) -> tuple[int, bytes]:
    assert isinstance(result, HttpResult)
    return result.status, result.body


UNAUTHORIZED = (401, b'{"message":"Unauthorized"}')
FORBIDDEN = (403, b'{"message":"Forbidden"}')
INTERNAL = (500, b'{"message":"Internal Server Error"}')


# -- events -------------------------------------------------------------------------------


def test_event_v2_shape_parses_as_powertools_model() -> None:
    auth = request(
        headers=[
            ("Authorization", "token-1"),
            ("X-Tag", "a"),
            ("x-tag", "b"),
            ("Cookie", "c1=1; c2=2"),
            ("User-Agent", "curl/8"),
        ],
        query="q=1&q=2&Q=3",
    )
    event = event_v2(auth, ["token-1"])
    assert event["version"] == "2.0" and event["type"] == "REQUEST"
    assert event["routeArn"] == f"{API}/prod/GET/pets/7"
    assert event["identitySource"] == ["token-1"]
    assert event["routeKey"] == "GET /pets/{id}"
    assert (event["rawPath"], event["rawQueryString"]) == ("/prod/pets/7", "q=1&q=2&Q=3")
    assert event["cookies"] == ["c1=1", "c2=2"]
    assert event["headers"]["x-tag"] == "a,b"
    assert event["queryStringParameters"] == {"q": "1,2", "Q": "3"}
    assert event["pathParameters"] == {"id": "7"}
    assert event["stageVariables"] == {"tier": "gold"}
    context = event["requestContext"]
    assert context["http"] == {
        "method": "GET",
        "path": "/prod/pets/7",
        "protocol": "HTTP/1.1",
        "sourceIp": "192.0.2.7",
        "userAgent": "curl/8",
    }
    assert (context["routeKey"], context["stage"], context["requestId"]) == (
        "GET /pets/{id}",
        "prod",
        "req-1",
    )
    assert "authorizer" not in context
    assert "body" not in event and "isBase64Encoded" not in event
    ApiGatewayAuthorizerRequestV2.model_validate(event)


def test_event_v2_leaves_out_empty_members() -> None:
    event = event_v2(request("$default", "/", headers=[], stage_variables={}), [])
    for absent in ("identitySource", "cookies", "queryStringParameters", "pathParameters"):
        assert absent not in event
    assert "stageVariables" not in event
    ApiGatewayAuthorizerRequestV2.model_validate(event)


def test_event_v1_shape_parses_as_powertools_model() -> None:
    auth = request(
        headers=[("Authorization", "token-1"), ("X-Tag", "a"), ("x-tag", "b")],
        query="q=1&q=2",
    )
    event = event_v1(auth, ["token-1", "gold"])
    assert event["version"] == "1.0" and event["type"] == "REQUEST"
    assert event["methodArn"] == f"{API}/prod/GET/pets/7"
    assert event["identitySource"] == event["authorizationToken"] == "token-1,gold"
    assert (event["resource"], event["path"], event["httpMethod"]) == (
        "/pets/{id}",
        "/prod/pets/7",
        "GET",
    )
    assert event["headers"] == {"Authorization": "token-1", "X-Tag": "b"}
    assert event["multiValueHeaders"]["X-Tag"] == ["a", "b"]
    assert event["queryStringParameters"] == {"q": "2"}
    assert event["multiValueQueryStringParameters"] == {"q": ["1", "2"]}
    assert event["pathParameters"] == {"id": "7"}
    assert event["stageVariables"] == {"tier": "gold"}
    context = event["requestContext"]
    assert context["resourcePath"] == "/pets/{id}"
    assert context["identity"]["sourceIp"] == "192.0.2.7"
    assert context["identity"]["userArn"] is None
    assert context["requestTime"] == "14/Nov/2023:22:13:20 +0000"
    ApiGatewayAuthorizerRequest.model_validate(event)
    bare = event_v1(request("$default", "/", headers=[], stage_variables={}), [])
    assert bare["resource"] == "$default" and "authorizationToken" not in bare
    assert bare["queryStringParameters"] is None and bare["pathParameters"] is None
    ApiGatewayAuthorizerRequest.model_validate(bare)


# -- identity sources ---------------------------------------------------------------------


def test_identity_sources_read_every_location() -> None:
    auth = request(
        headers=[("X-Api-Key", "k"), ("x-api-key", "k2")],
        query="token=t&Token=T",
        stage_variables={"tenant": "acme"},
    )
    expected = {
        "$request.header.x-API-key": "k,k2",
        "$request.querystring.token": "t",
        "$request.querystring.Token": "T",
        "$stageVariables.tenant": "acme",
        "$context.requestId": "req-1",
        "$context.routeKey": "GET /pets/{id}",
        "$context.identity.sourceIp": "192.0.2.7",
        "$context.httpMethod": "GET",
        "$context.stage": "prod",
    }
    for expression, value in expected.items():
        assert IdentitySource.parse(expression).value(auth) == value, expression
    for missing in ("$request.querystring.TOKEN", "$stageVariables.none", "$context.nothing"):
        assert IdentitySource.parse(missing).value(auth) is None, missing
    assert parse_sources(["$request.header.A, $request.querystring.b"]) == (
        IdentitySource("header", "A"),
        IdentitySource("querystring", "b"),
    )
    with pytest.raises(ValueError, match=r"\$request\.header\.<name>"):
        IdentitySource.parse("$request.body.token")


@pytest.mark.asyncio
async def test_missing_identity_source_is_401_without_invoking() -> None:
    function = Function({"isAuthorized": True})
    checker = authorizer(
        function,
        sources=("$request.header.Authorization", "$request.querystring.k"),
        simple_responses=True,
    )
    assert status(await checker.authorize(request(query="x=1"))) == UNAUTHORIZED
    empty = request(headers=[("Authorization", "")], query="k=1")
    assert status(await checker.authorize(empty)) == UNAUTHORIZED
    assert function.calls == []
    assert isinstance(await checker.authorize(request(query="k=1")), Granted)
    assert function.events[0]["identitySource"] == ["token-1", "1"]


@pytest.mark.asyncio
async def test_no_identity_sources_means_every_request_invokes() -> None:
    function = Function({"isAuthorized": True})
    checker = authorizer(function, sources=(), simple_responses=True, ttl_seconds=300)
    for _ in range(2):
        assert isinstance(await checker.authorize(request(headers=[])), Granted)
    assert len(function.calls) == 2


# -- answers ------------------------------------------------------------------------------


@pytest.mark.asyncio
async def test_simple_responses() -> None:
    context = {"user": "ann", "n": 1, "ok": True, "tags": ["a", "b"], "m": {"k": "v"}}
    function = Function({"isAuthorized": True, "context": context})
    granted = await authorizer(function, simple_responses=True).authorize(request())
    assert isinstance(granted, Granted)
    assert granted.context_v2 == {"lambda": context}
    assert granted.context_v1 == {
        "user": "ann",
        "n": "1",
        "ok": "true",
        "tags": "[a b]",
        "m": '{"k":"v"}',
        "integrationLatency": 0,
    }
    assert function.calls == [(ACCOUNT, "eu-west-1", "auth", "live")]
    assert function.events[0]["version"] == "2.0"
    denied = Function({"isAuthorized": False, "context": context})
    assert status(await authorizer(denied, simple_responses=True).authorize(request())) == FORBIDDEN
    bare = Function({"isAuthorized": True})
    granted = await authorizer(bare, simple_responses=True).authorize(request())
    assert isinstance(granted, Granted) and granted.context_v2 == {"lambda": None}


@pytest.mark.asyncio
async def test_policy_responses() -> None:
    own_route = f"{API}/prod/GET/pets/7"
    function = Function(allow(own_route, context={"plan": "pro"}))
    granted = await authorizer(function).authorize(request())
    assert isinstance(granted, Granted)
    assert granted.principal_id == "user-7"
    assert granted.context_v2 == {"lambda": {"plan": "pro"}}
    assert granted.context_v1 == {"plan": "pro", "principalId": "user-7", "integrationLatency": 0}
    elsewhere = Function(allow(f"{API}/prod/POST/*"))
    assert status(await authorizer(elsewhere).authorize(request())) == FORBIDDEN
    denied = Function(allow(f"{API}/*", effect="Deny"))
    assert status(await authorizer(denied).authorize(request())) == FORBIDDEN


@pytest.mark.asyncio
async def test_format_1_0_sends_the_1_0_event_and_wants_a_policy() -> None:
    function = Function(allow(f"{API}/*/GET/pets/*"))
    checker = authorizer(function, payload_version="1.0", simple_responses=True)
    assert isinstance(await checker.authorize(request()), Granted)
    assert function.events[0]["methodArn"] == f"{API}/prod/GET/pets/7"
    simple = Function({"isAuthorized": True})
    checker = authorizer(simple, payload_version="1.0", simple_responses=True)
    assert status(await checker.authorize(request())) == INTERNAL


@pytest.mark.asyncio
@pytest.mark.parametrize(
    ("answer", "simple"),
    [
        (b"not json", True),
        (["isAuthorized", True], True),
        ({"isAuthorized": "true"}, True),
        ({"isAuthorized": True, "context": "x"}, True),
        (allow("*"), True),  # a policy where a simple answer is expected
        ({"isAuthorized": True}, False),  # and the other way round
        ({"principalId": "p", "policyDocument": {"Statement": "nope"}}, False),
        (allow("*", principalId={"id": 1}), False),
    ],
)
async def test_unusable_answers_are_500(answer: Any, simple: bool) -> None:
    result = await authorizer(Function(answer), simple_responses=simple).authorize(request())
    assert status(result) == INTERNAL


@pytest.mark.asyncio
async def test_function_failures_are_500() -> None:
    failed = Function({"errorMessage": "boom"}, error="Unhandled")
    assert status(await authorizer(failed, simple_responses=True).authorize(request())) == INTERNAL
    missing = Function({"isAuthorized": True})
    missing.raises = ResourceNotFoundException("Function not found: " + FUNCTION_ARN)
    assert status(await authorizer(missing, simple_responses=True).authorize(request())) == INTERNAL
    nowhere = Function({"isAuthorized": True})
    checker = authorizer(nowhere, simple_responses=True, target=None)
    assert status(await checker.authorize(request())) == INTERNAL
    assert nowhere.calls == []


@pytest.mark.asyncio
async def test_an_answer_later_than_10_s_is_500_and_not_cached() -> None:
    slow = Function({"isAuthorized": True})
    slow.raises = TimeoutError()  # what the invoke raises once `within` seconds pass
    checker = authorizer(slow, simple_responses=True, ttl_seconds=300)
    assert status(await checker.authorize(request())) == INTERNAL
    assert slow.within == [10.0]  # the HTTP API quota on a Lambda authorizer's response
    slow.raises = None
    assert isinstance(await checker.authorize(request()), Granted)
    assert len(slow.calls) == 2


# -- caching ------------------------------------------------------------------------------


@pytest.mark.asyncio
async def test_results_are_cached_by_identity_values_for_the_ttl() -> None:
    clock = ManualClock(NOW)
    function = Function({"isAuthorized": True, "context": {"n": 1}})
    checker = authorizer(function, clock, simple_responses=True, ttl_seconds=300)
    first = await checker.authorize(request())
    assert isinstance(first, Granted)
    clock.advance(299)
    # a simple answer covers every route of the authorizer
    assert await checker.authorize(request("POST /orders", "/prod/orders")) == first
    assert len(function.calls) == 1
    other = request(headers=[("authorization", "token-2")])
    assert isinstance(await checker.authorize(other), Granted)
    assert len(function.calls) == 2
    clock.advance(1)
    await checker.authorize(request())
    assert len(function.calls) == 3


@pytest.mark.asyncio
async def test_denials_are_cached_too_and_ttl_zero_caches_nothing() -> None:
    clock = ManualClock(NOW)
    function = Function({"isAuthorized": False})
    cached = authorizer(function, clock, simple_responses=True, ttl_seconds=60)
    for _ in range(3):
        assert status(await cached.authorize(request())) == FORBIDDEN
    assert len(function.calls) == 1
    uncached = authorizer(function, clock, simple_responses=True, ttl_seconds=0)
    for _ in range(3):
        await uncached.authorize(request())
    assert len(function.calls) == 4


@pytest.mark.asyncio
async def test_a_cached_policy_applies_to_other_routes_only_where_it_matches() -> None:
    function = Function(allow([f"{API}/prod/GET/pets/*", f"{API}/prod/GET/owners"]))
    checker = authorizer(function, ttl_seconds=300)
    assert isinstance(await checker.authorize(request()), Granted)
    assert isinstance(await checker.authorize(request("GET /owners", "/prod/owners")), Granted)
    refused = await checker.authorize(request("DELETE /pets/{id}", "/prod/pets/7"))
    assert status(refused) == FORBIDDEN
    assert len(function.calls) == 1


@pytest.mark.asyncio
async def test_route_key_in_the_identity_sources_caches_per_route() -> None:
    function = Function({"isAuthorized": True})
    checker = authorizer(
        function,
        sources=("$request.header.Authorization", "$context.routeKey"),
        simple_responses=True,
        ttl_seconds=300,
    )
    await checker.authorize(request())
    await checker.authorize(request("POST /orders", "/prod/orders"))
    await checker.authorize(request())
    assert len(function.calls) == 2


@pytest.mark.asyncio
async def test_failures_are_not_cached() -> None:
    function = Function({"errorMessage": "cold"}, error="Unhandled")
    checker = authorizer(function, simple_responses=True, ttl_seconds=300)
    assert status(await checker.authorize(request())) == INTERNAL
    function.answer, function.error = {"isAuthorized": True}, None
    assert isinstance(await checker.authorize(request()), Granted)


# -- compiled from documents --------------------------------------------------------------


def compiled(function: Function, clock: ManualClock, **document: Any) -> Authorizer:
    base: dict[str, Any] = {
        "AuthorizerId": "au1",
        "AuthorizerType": "REQUEST",
        "Name": "auth",
        "AuthorizerUri": URI,
        "AuthorizerPayloadFormatVersion": "2.0",
        "IdentitySource": ["$request.header.Authorization"],
    }
    jwks: JwksCache = None  # type: ignore[assignment]  # REQUEST authorizers fetch no keys
    return compile_authorizer({**base, **document}, invoke=function, jwks=jwks, clock=clock.now)


@pytest.mark.asyncio
async def test_compiled_request_authorizer() -> None:
    clock = ManualClock(NOW)
    function = Function({"isAuthorized": True})
    checker = compiled(
        function, clock, EnableSimpleResponses=True, AuthorizerResultTtlInSeconds=300
    )
    for _ in range(2):
        assert isinstance(await checker.authorize(request()), Granted)
    assert len(function.calls) == 1
    # API Gateway invokes an authorizer for the authorizer, not for the route.
    assert function.sources == [
        ServiceSource(
            "apigateway.amazonaws.com",
            f"arn:aws:execute-api:eu-west-1:{ACCOUNT}:a1b2c3d4e5/authorizers/au1",
            ACCOUNT,
        )
    ]
    with_role = compiled(
        function, clock, AuthorizerCredentialsArn="arn:aws:iam::000000000000:role/authorizers"
    )
    await with_role.authorize(request())
    assert function.sources[-1] is None  # invoked as the role: the policy does not apply
    policy = compiled(Function(allow("*")), clock, AuthorizerPayloadFormatVersion="1.0")
    assert isinstance(await policy.authorize(request()), Granted)


@pytest.mark.asyncio
@pytest.mark.parametrize(
    "document",
    [
        {"AuthorizerType": "COGNITO_USER_POOLS"},
        {"AuthorizerPayloadFormatVersion": "3.0"},
        {"IdentitySource": ["$request.body.token"]},
    ],
)
async def test_unusable_documents_compile_to_500(document: dict[str, Any]) -> None:
    function = Function({"isAuthorized": True})
    checker = compiled(function, ManualClock(NOW), **document)
    assert isinstance(checker, Misconfigured)
    assert status(await checker.authorize(request())) == INTERNAL
    assert function.calls == []
