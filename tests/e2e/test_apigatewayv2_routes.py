"""Routes, integrations and authorizers of HTTP APIs through the real server with boto3, and
AWS's errors for bad route keys, duplicates, bad integrations and bad authorizers."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.e2e.conftest import Server, error_of, serving

FUNCTION_ARN = "arn:aws:lambda:eu-west-1:000000000000:function:fn"
INVOCATION_URI = (
    f"arn:aws:apigateway:eu-west-1:lambda:path/2015-03-31/functions/{FUNCTION_ARN}/invocations"
)
BAD_PATH = (
    "One or more path parts appear to be invalid. Parts are validated against this regular "
    r"expression: ^(\{[\w.:-]+\+?\}|[a-zA-Z0-9.:_-]+)$"
)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    yield from serving(tmp_path_factory.mktemp("apigatewayv2-routes"))


@pytest.fixture
def client(server: Server) -> Any:
    return server.client("apigatewayv2")


@pytest.fixture
def api_id(client: Any) -> str:
    return str(client.create_api(Name="pets", ProtocolType="HTTP")["ApiId"])


def lambda_integration(client: Any, api_id: str, **members: Any) -> str:
    created = client.create_integration(
        ApiId=api_id,
        IntegrationType="AWS_PROXY",
        IntegrationUri=FUNCTION_ARN,
        PayloadFormatVersion="2.0",
        **members,
    )
    return str(created["IntegrationId"])


# -- routes ------------------------------------------------------------------------------------


def test_route_lifecycle(client: Any, api_id: str) -> None:
    integration_id = lambda_integration(client, api_id)
    created = client.create_route(
        ApiId=api_id,
        RouteKey="GET /pets/{petId}",
        Target=f"integrations/{integration_id}",
        OperationName="getPet",
    )
    assert created["ResponseMetadata"]["HTTPStatusCode"] == 201
    route_id = created["RouteId"]
    assert created["RouteKey"] == "GET /pets/{petId}"
    assert created["AuthorizationType"] == "NONE"
    assert created["ApiKeyRequired"] is False
    assert created["OperationName"] == "getPet"
    assert client.get_route(ApiId=api_id, RouteId=route_id)["Target"] == (
        f"integrations/{integration_id}"
    )

    updated = client.update_route(ApiId=api_id, RouteId=route_id, RouteKey="GET /pets/{id}")
    assert updated["RouteKey"] == "GET /pets/{id}"
    assert updated["Target"] == f"integrations/{integration_id}"
    client.create_route(ApiId=api_id, RouteKey="ANY /{proxy+}")
    client.create_route(ApiId=api_id, RouteKey="$default")
    keys = sorted(item["RouteKey"] for item in client.get_routes(ApiId=api_id)["Items"])
    assert keys == ["$default", "ANY /{proxy+}", "GET /pets/{id}"]

    assert (
        client.delete_route(ApiId=api_id, RouteId=route_id)["ResponseMetadata"]["HTTPStatusCode"]
        == 204
    )
    assert error_of(client.get_route, ApiId=api_id, RouteId=route_id) == (
        404,
        "NotFoundException",
        f"Invalid Route identifier specified {route_id}",
    )


@pytest.mark.parametrize(
    ("route_key", "message"),
    [
        ("GET pets", "The provided route key is not formatted properly"),
        ("FETCH /pets", "The provided route key is not formatted properly"),
        ("get /pets", "The provided route key is not formatted properly"),
        ("GET /pets/", BAD_PATH),
        ("GET /pets//toys", BAD_PATH),
        ("GET /pe ts", BAD_PATH),
        (
            "GET /files/{path+}/meta",
            "The greedy path variable must be at the end of the resource path",
        ),
    ],
)
def test_bad_route_keys(client: Any, api_id: str, route_key: str, message: str) -> None:
    assert error_of(client.create_route, ApiId=api_id, RouteKey=route_key) == (
        400,
        "BadRequestException",
        message,
    )


def test_duplicate_and_conflicting_route_keys(client: Any, api_id: str) -> None:
    client.create_route(ApiId=api_id, RouteKey="GET /pets/{id}")
    assert error_of(client.create_route, ApiId=api_id, RouteKey="GET /pets/{id}") == (
        409,
        "ConflictException",
        "Route with key GET /pets/{id} already exists for this API",
    )
    assert error_of(client.create_route, ApiId=api_id, RouteKey="POST /pets/{petId}/toys") == (
        409,
        "ConflictException",
        'The provided route key "POST /pets/{petId}/toys" has a conflicting variable on the '
        'same hierarchical level as "GET /pets/{id}"',
    )
    other = client.create_route(ApiId=api_id, RouteKey="POST /pets")
    assert error_of(
        client.update_route, ApiId=api_id, RouteId=other["RouteId"], RouteKey="GET /pets/{id}"
    )[:2] == (409, "ConflictException")


def test_route_targets_and_missing_things(client: Any, api_id: str) -> None:
    assert error_of(
        client.create_route, ApiId=api_id, RouteKey="GET /a", Target="integrations/nope123"
    ) == (404, "NotFoundException", "Invalid Integration identifier specified nope123")
    assert error_of(client.create_route, ApiId=api_id, RouteKey="GET /a", Target="lambda")[:2] == (
        400,
        "BadRequestException",
    )
    assert error_of(client.get_routes, ApiId="missing123")[:2] == (404, "NotFoundException")
    assert error_of(client.create_route, ApiId="missing123", RouteKey="GET /a") == (
        404,
        "NotFoundException",
        "Invalid API identifier specified 000000000000:missing123",
    )


def test_routes_page(client: Any, api_id: str) -> None:
    for n in range(5):
        client.create_route(ApiId=api_id, RouteKey=f"GET /r{n}")
    first = client.get_routes(ApiId=api_id, MaxResults="3")
    assert len(first["Items"]) == 3
    rest = client.get_routes(ApiId=api_id, MaxResults="3", NextToken=first["NextToken"])
    assert len(rest["Items"]) == 2
    assert "NextToken" not in rest
    keys = {item["RouteKey"] for item in first["Items"] + rest["Items"]}
    assert keys == {f"GET /r{n}" for n in range(5)}


def test_http_apis_have_no_route_responses(client: Any, api_id: str) -> None:
    route_id = client.create_route(ApiId=api_id, RouteKey="GET /a")["RouteId"]
    status, code, _ = error_of(
        client.create_route_response,
        ApiId=api_id,
        RouteId=route_id,
        RouteResponseKey="$default",
    )
    assert (status, code) == (400, "BadRequestException")
    status, code, _ = error_of(
        client.delete_route_request_parameter,
        ApiId=api_id,
        RouteId=route_id,
        RequestParameterKey="route.request.header.x",
    )
    assert (status, code) == (400, "BadRequestException")


# -- integrations ------------------------------------------------------------------------------


def test_integration_lifecycle(client: Any, api_id: str) -> None:
    created = client.create_integration(
        ApiId=api_id,
        IntegrationType="AWS_PROXY",
        IntegrationUri=INVOCATION_URI,
        PayloadFormatVersion="1.0",
        Description="pets",
    )
    integration_id = created["IntegrationId"]
    assert created["IntegrationMethod"] == "POST"
    assert created["ConnectionType"] == "INTERNET"
    assert created["TimeoutInMillis"] == 30000
    assert created["PayloadFormatVersion"] == "1.0"

    proxy = client.create_integration(
        ApiId=api_id,
        IntegrationType="HTTP_PROXY",
        IntegrationUri="https://backend.example.com/{proxy}",
        IntegrationMethod="ANY",
        TimeoutInMillis=5000,
        RequestParameters={"append:header.x-request": "$context.requestId"},
    )
    assert proxy["PayloadFormatVersion"] == "1.0"
    assert proxy["RequestParameters"] == {"append:header.x-request": "$context.requestId"}

    updated = client.update_integration(
        ApiId=api_id,
        IntegrationId=proxy["IntegrationId"],
        RequestParameters={
            "append:header.x-request": "",
            "overwrite:querystring.v": "${stageVariables.version}",
        },
    )
    assert updated["RequestParameters"] == {"overwrite:querystring.v": "${stageVariables.version}"}
    assert updated["TimeoutInMillis"] == 5000

    ids = {item["IntegrationId"] for item in client.get_integrations(ApiId=api_id)["Items"]}
    assert ids == {integration_id, proxy["IntegrationId"]}
    client.delete_integration(ApiId=api_id, IntegrationId=integration_id)
    assert error_of(client.get_integration, ApiId=api_id, IntegrationId=integration_id) == (
        404,
        "NotFoundException",
        f"Invalid Integration identifier specified {integration_id}",
    )


def test_an_integration_in_use_cannot_be_deleted(client: Any, api_id: str) -> None:
    integration_id = lambda_integration(client, api_id)
    route = client.create_route(
        ApiId=api_id, RouteKey="GET /pets", Target=f"integrations/{integration_id}"
    )
    assert error_of(client.delete_integration, ApiId=api_id, IntegrationId=integration_id) == (
        409,
        "ConflictException",
        "Cannot delete Integration because it is referenced by the following Routes with Ids: "
        f"[{route['RouteId']}]",
    )
    client.update_route(ApiId=api_id, RouteId=route["RouteId"], Target="")
    client.delete_integration(ApiId=api_id, IntegrationId=integration_id)


@pytest.mark.parametrize(
    "members",
    [
        {"IntegrationType": "AWS_PROXY", "IntegrationUri": FUNCTION_ARN},  # no payload version
        {
            "IntegrationType": "AWS_PROXY",
            "IntegrationUri": "https://example.com",
            "PayloadFormatVersion": "2.0",
        },
        {
            "IntegrationType": "AWS_PROXY",
            "IntegrationUri": FUNCTION_ARN,
            "PayloadFormatVersion": "3.0",
        },
        {"IntegrationType": "HTTP_PROXY", "IntegrationUri": "ftp://x", "IntegrationMethod": "GET"},
        {"IntegrationType": "HTTP_PROXY", "IntegrationUri": "https://example.com"},
        {
            "IntegrationType": "HTTP_PROXY",
            "IntegrationUri": "https://example.com",
            "IntegrationMethod": "GET",
            "PayloadFormatVersion": "2.0",
        },
        {"IntegrationType": "MOCK"},
        {"IntegrationType": "AWS_PROXY", "IntegrationUri": FUNCTION_ARN, "TimeoutInMillis": 30001},
        {
            "IntegrationType": "HTTP_PROXY",
            "IntegrationUri": "https://example.com",
            "IntegrationMethod": "GET",
            "RequestParameters": {"append:header.authorization": "x"},
        },
        {
            "IntegrationType": "HTTP_PROXY",
            "IntegrationUri": "https://example.com",
            "IntegrationMethod": "GET",
            "RequestParameters": {"rename:header.x": "y"},
        },
        {
            "IntegrationType": "HTTP_PROXY",
            "IntegrationUri": "https://example.com",
            "IntegrationMethod": "GET",
            "RequestParameters": {"append:header.x": "$request.cookie.y"},
        },
        {
            "IntegrationType": "HTTP_PROXY",
            "IntegrationUri": "https://example.com",
            "IntegrationMethod": "GET",
            "ResponseParameters": {"700": {"overwrite:statuscode": "200"}},
        },
    ],
)
def test_bad_integrations(client: Any, api_id: str, members: dict[str, Any]) -> None:
    assert error_of(client.create_integration, ApiId=api_id, **members)[:2] == (
        400,
        "BadRequestException",
    )


def test_reserved_headers_cannot_be_mapped(client: Any, api_id: str) -> None:
    assert error_of(
        client.create_integration,
        ApiId=api_id,
        IntegrationType="HTTP_PROXY",
        IntegrationUri="https://example.com",
        IntegrationMethod="ANY",
        RequestParameters={"overwrite:header.Content-Length": "1"},
    ) == (
        400,
        "BadRequestException",
        "Invalid mapping expression specified: Validation Result: warnings : [], errors : "
        "[Operations on header content-length are restricted]",
    )


def test_response_parameters(client: Any, api_id: str) -> None:
    created = client.create_integration(
        ApiId=api_id,
        IntegrationType="HTTP_PROXY",
        IntegrationUri="https://example.com",
        IntegrationMethod="ANY",
        ResponseParameters={"500": {"overwrite:statuscode": "403"}},
    )
    assert created["ResponseParameters"] == {"500": {"overwrite:statuscode": "403"}}


# -- authorizers -------------------------------------------------------------------------------


def test_jwt_authorizer_and_routes(client: Any, api_id: str) -> None:
    authorizer = client.create_authorizer(
        ApiId=api_id,
        Name="cognito",
        AuthorizerType="JWT",
        IdentitySource=["$request.header.Authorization"],
        JwtConfiguration={
            "Issuer": "https://cognito-idp.eu-west-1.amazonaws.com/pool",
            "Audience": ["client"],
        },
    )
    authorizer_id = authorizer["AuthorizerId"]
    assert authorizer["JwtConfiguration"]["Audience"] == ["client"]

    route = client.create_route(
        ApiId=api_id,
        RouteKey="GET /me",
        AuthorizationType="JWT",
        AuthorizerId=authorizer_id,
        AuthorizationScopes=["profile"],
    )
    assert route["AuthorizationScopes"] == ["profile"]
    assert error_of(client.delete_authorizer, ApiId=api_id, AuthorizerId=authorizer_id) == (
        409,
        "ConflictException",
        "Cannot delete authorizer 'cognito', is referenced in route: GET /me",
    )
    opened = client.update_route(ApiId=api_id, RouteId=route["RouteId"], AuthorizationType="NONE")
    assert "AuthorizerId" not in opened and "AuthorizationScopes" not in opened
    client.delete_authorizer(ApiId=api_id, AuthorizerId=authorizer_id)
    assert error_of(client.get_authorizer, ApiId=api_id, AuthorizerId=authorizer_id) == (
        404,
        "NotFoundException",
        f"Invalid Authorizer identifier specified {authorizer_id}",
    )


def test_request_authorizer(client: Any, api_id: str) -> None:
    created = client.create_authorizer(
        ApiId=api_id,
        Name="lambda",
        AuthorizerType="REQUEST",
        AuthorizerUri=INVOCATION_URI,
        AuthorizerPayloadFormatVersion="2.0",
        EnableSimpleResponses=True,
        AuthorizerResultTtlInSeconds=300,
        IdentitySource=["$request.header.Authorization", "$context.routeKey"],
    )
    assert created["EnableSimpleResponses"] is True
    assert created["AuthorizerResultTtlInSeconds"] == 300
    updated = client.update_authorizer(
        ApiId=api_id, AuthorizerId=created["AuthorizerId"], AuthorizerResultTtlInSeconds=0
    )
    assert updated["AuthorizerResultTtlInSeconds"] == 0
    assert updated["Name"] == "lambda"
    (listed,) = client.get_authorizers(ApiId=api_id)["Items"]
    assert listed["AuthorizerId"] == created["AuthorizerId"]

    route = client.create_route(
        ApiId=api_id,
        RouteKey="GET /private",
        AuthorizationType="CUSTOM",
        AuthorizerId=created["AuthorizerId"],
    )
    assert route["AuthorizerId"] == created["AuthorizerId"]
    assert error_of(
        client.create_route,
        ApiId=api_id,
        RouteKey="GET /jwt",
        AuthorizationType="JWT",
        AuthorizerId=created["AuthorizerId"],
    )[:2] == (400, "BadRequestException")
    assert error_of(
        client.create_route,
        ApiId=api_id,
        RouteKey="GET /scoped",
        AuthorizationType="CUSTOM",
        AuthorizerId=created["AuthorizerId"],
        AuthorizationScopes=["x"],
    )[:2] == (400, "BadRequestException")


def test_routes_need_a_valid_authorizer(client: Any, api_id: str) -> None:
    invalid = (
        "Invalid authorizer ID specified. Setting the authorization type to CUSTOM or "
        "COGNITO_USER_POOLS requires a valid authorizer."
    )
    assert error_of(
        client.create_route, ApiId=api_id, RouteKey="GET /a", AuthorizationType="CUSTOM"
    ) == (400, "BadRequestException", invalid)
    assert error_of(
        client.create_route,
        ApiId=api_id,
        RouteKey="GET /a",
        AuthorizationType="JWT",
        AuthorizerId="nope12",
    ) == (404, "NotFoundException", "Invalid Authorizer identifier specified nope12")
    assert error_of(client.create_route, ApiId=api_id, RouteKey="GET /a", AuthorizationType="OPEN")[
        :2
    ] == (400, "BadRequestException")


@pytest.mark.parametrize(
    "members",
    [
        {"AuthorizerType": "REQUEST", "IdentitySource": ["$request.header.A"]},  # no URI
        {
            "AuthorizerType": "REQUEST",
            "AuthorizerUri": INVOCATION_URI,
            "IdentitySource": ["$request.header.A"],
        },  # no payload format version
        {
            "AuthorizerType": "REQUEST",
            "AuthorizerUri": INVOCATION_URI,
            "AuthorizerPayloadFormatVersion": "1.0",
            "EnableSimpleResponses": True,
            "IdentitySource": ["$request.header.A"],
        },
        {
            "AuthorizerType": "REQUEST",
            "AuthorizerUri": INVOCATION_URI,
            "AuthorizerPayloadFormatVersion": "2.0",
            "AuthorizerResultTtlInSeconds": 300,
            "IdentitySource": [],
        },
        {
            "AuthorizerType": "REQUEST",
            "AuthorizerUri": INVOCATION_URI,
            "AuthorizerPayloadFormatVersion": "2.0",
            "IdentitySource": ["header.Authorization"],
        },
        {"AuthorizerType": "JWT", "IdentitySource": ["$request.header.Authorization"]},
        {"AuthorizerType": "TOKEN", "IdentitySource": ["$request.header.A"]},
    ],
)
def test_bad_authorizers(client: Any, api_id: str, members: dict[str, Any]) -> None:
    assert error_of(client.create_authorizer, ApiId=api_id, Name="a", **members)[:2] == (
        400,
        "BadRequestException",
    )
