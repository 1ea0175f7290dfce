"""Payload format 1.0: the event HTTP APIs send, and how a function's answer is mapped."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest
from aws_lambda_powertools.event_handler import APIGatewayRestResolver
from aws_lambda_powertools.utilities.data_classes import APIGatewayProxyEvent
from aws_lambda_powertools.utilities.parser.models import APIGatewayProxyEventModel

from portico.gateway.http_api.v1_events import (
    V1Context,
    build_v1_event,
    map_v1_result,
    resource_path,
)
from portico.gateway.http_events import HttpRequest, IamCaller

DOMAIN = "a1b2c3d4.execute-api.eu-west-1.localhost"
CONTEXT = V1Context(
    api_id="a1b2c3d4",
    stage="$default",
    request_id="JKJaXmPLvHcESHA=",
    time_epoch_ms=1583349317135,
    domain_name=DOMAIN,
    account_id="000000000000",
    resource_path="/my/path",
)


def request(**changes: Any) -> HttpRequest:
    fields: dict[str, Any] = {
        "method": "GET",
        "raw_path": "/my/path",
        "raw_query": "parameter1=value1&parameter1=value2&parameter2=value",
        "headers": [
            ("Header1", "value1"),
            ("header2", "value1"),
            ("Header2", "value2"),
            ("Cookie", "a=1; b=2"),
            ("Content-Type", "text/plain"),
            ("User-Agent", "user-agent"),
        ],
        "body": b"Hello from client!",
        "source_ip": "192.0.2.1",
    }
    fields.update(changes)
    return HttpRequest(**fields)


def test_event_is_the_documented_shape() -> None:
    assert build_v1_event(request(), CONTEXT) == {
        "version": "1.0",
        "resource": "/my/path",
        "path": "/my/path",
        "httpMethod": "GET",
        "headers": {
            "header1": "value1",
            "header2": "value2",
            "cookie": "a=1; b=2",
            "content-type": "text/plain",
            "user-agent": "user-agent",
        },
        "multiValueHeaders": {
            "header1": ["value1"],
            "header2": ["value1", "value2"],
            "cookie": ["a=1; b=2"],
            "content-type": ["text/plain"],
            "user-agent": ["user-agent"],
        },
        "queryStringParameters": {"parameter1": "value2", "parameter2": "value"},
        "multiValueQueryStringParameters": {
            "parameter1": ["value1", "value2"],
            "parameter2": ["value"],
        },
        "requestContext": {
            "accountId": "000000000000",
            "apiId": "a1b2c3d4",
            "authorizer": {"claims": None, "scopes": None},
            "domainName": DOMAIN,
            "domainPrefix": "a1b2c3d4",
            "extendedRequestId": "JKJaXmPLvHcESHA=",
            "httpMethod": "GET",
            "identity": {
                "accessKey": None,
                "accountId": None,
                "caller": None,
                "cognitoAuthenticationProvider": None,
                "cognitoAuthenticationType": None,
                "cognitoIdentityId": None,
                "cognitoIdentityPoolId": None,
                "principalOrgId": None,
                "sourceIp": "192.0.2.1",
                "user": None,
                "userAgent": "user-agent",
                "userArn": None,
            },
            "path": "/my/path",
            "protocol": "HTTP/1.1",
            "requestId": "JKJaXmPLvHcESHA=",
            "requestTime": "04/Mar/2020:19:15:17 +0000",
            "requestTimeEpoch": 1583349317135,
            "resourceId": None,
            "resourcePath": "/my/path",
            "stage": "$default",
        },
        "pathParameters": None,
        "stageVariables": None,
        "body": "Hello from client!",
        "isBase64Encoded": False,
    }


def test_empty_members_are_null_not_absent() -> None:
    event = build_v1_event(request(raw_query="", headers=[], body=b""), CONTEXT)
    for member in (
        "queryStringParameters",
        "multiValueQueryStringParameters",
        "pathParameters",
        "stageVariables",
        "body",
    ):
        assert member in event and event[member] is None
    assert event["headers"] == {} and event["multiValueHeaders"] == {}
    assert event["isBase64Encoded"] is False
    assert event["requestContext"]["identity"]["userAgent"] == ""


def test_named_stage_route_parameters_and_variables() -> None:
    context = V1Context(
        api_id="a1b2c3d4",
        stage="prod",
        request_id="r",
        time_epoch_ms=0,
        domain_name=DOMAIN,
        account_id="000000000000",
        resource_path=resource_path("GET /pets/{id}", "/pets/a b"),
        path_parameters={"id": "a b"},
        stage_variables={"env": "prod"},
        authorizer={"principalId": "me", "tenant": "t1", "integrationLatency": 0},
    )
    event = build_v1_event(request(raw_path="/prod/pets/a%20b", raw_query="q=%2F"), context)
    assert (event["resource"], event["path"]) == ("/pets/{id}", "/prod/pets/a b")
    assert event["requestContext"]["path"] == "/prod/pets/a b"
    assert event["requestContext"]["resourcePath"] == "/pets/{id}"
    assert event["requestContext"]["stage"] == "prod"
    assert event["pathParameters"] == {"id": "a b"}
    assert event["stageVariables"] == {"env": "prod"}
    assert event["queryStringParameters"] == {"q": "/"}
    assert event["requestContext"]["authorizer"] == {
        "principalId": "me",
        "tenant": "t1",
        "integrationLatency": 0,
    }


def test_resource_path_of_the_default_route_is_the_request_path() -> None:
    assert resource_path("$default", "/any/thing") == "/any/thing"
    assert resource_path("ANY /{proxy+}", "/any/thing") == "/{proxy+}"


def test_binary_bodies_are_base64() -> None:
    event = build_v1_event(
        request(headers=[("content-type", "image/png")], body=b"\x89PNG\x00"), CONTEXT
    )
    assert event["isBase64Encoded"] is True
    assert base64.b64decode(event["body"]) == b"\x89PNG\x00"


def test_iam_caller_fills_the_identity() -> None:
    caller = IamCaller(
        "AKIA1", "111111111111", "AIDA1", "arn:aws:iam::111111111111:user/u", "AIDA2"
    )
    context = V1Context(**{**CONTEXT.__dict__, "caller": caller})
    identity = build_v1_event(request(), context)["requestContext"]["identity"]
    assert identity["accessKey"] == "AKIA1" and identity["accountId"] == "111111111111"
    assert identity["caller"] == "AIDA1" and identity["user"] == "AIDA2"
    assert identity["userArn"] == "arn:aws:iam::111111111111:user/u"


# -- aws-lambda-powertools reads it ---------------------------------------------------------


def test_powertools_model_parses_the_event() -> None:
    event = build_v1_event(request(method="POST"), CONTEXT)
    model = APIGatewayProxyEventModel(**event)
    assert model.httpMethod == "POST" and model.path == "/my/path"
    assert model.multiValueQueryStringParameters == {
        "parameter1": ["value1", "value2"],
        "parameter2": ["value"],
    }
    assert model.requestContext.requestTimeEpoch.year == 2020
    empty = build_v1_event(request(raw_query="", body=b""), CONTEXT)
    assert APIGatewayProxyEventModel(**empty).queryStringParameters is None


def test_powertools_data_class_reads_the_event() -> None:
    event = APIGatewayProxyEvent(build_v1_event(request(), CONTEXT))
    assert event.query_string_parameters["parameter1"] == "value2"
    assert event.multi_value_query_string_parameters["parameter1"] == ["value1", "value2"]
    assert event.headers.get("HEADER2") == "value2"
    assert event.multi_value_headers["Header2"] == ["value1", "value2"]
    assert event.request_context.identity.source_ip == "192.0.2.1"
    assert event.decoded_body == "Hello from client!"


def test_powertools_rest_resolver_routes_the_event() -> None:
    app = APIGatewayRestResolver()

    @app.get("/pets/<pet_id>")
    def get_pet(pet_id: str) -> dict[str, str]:
        return {"id": pet_id, "q": app.current_event.get_query_string_value("q", "")}

    context = V1Context(**{**CONTEXT.__dict__, "resource_path": "/pets/{id}"})
    event = build_v1_event(request(raw_path="/pets/7", raw_query="q=x"), context)
    response = app.resolve(event, None)  # type: ignore[arg-type]
    assert response["statusCode"] == 200
    assert json.loads(response["body"]) == {"id": "7", "q": "x"}


# -- responses ---------------------------------------------------------------------------


def result_of(document: Any) -> Any:
    return map_v1_result(json.dumps(document).encode())


def test_response_with_headers_and_multi_value_headers() -> None:
    result = result_of(
        {
            "statusCode": 201,
            "headers": {"Content-Type": "text/plain", "X-Single": "s", "X-Both": "from-headers"},
            "multiValueHeaders": {
                "X-Both": ["m1", "m2"],
                "Set-Cookie": ["a=1", "b=2"],
                "X-Count": [3],
            },
            "body": "created",
            "isBase64Encoded": False,
        }
    )
    assert (result.status, result.body) == (201, b"created")
    assert result.headers == {
        "content-type": "text/plain",
        "x-single": "s",
        "x-both": "m1, m2",
        "x-count": "3",
    }
    assert result.cookies == ("a=1", "b=2")


def test_response_defaults() -> None:
    result = result_of({"statusCode": "204"})
    assert (result.status, result.body, result.cookies) == (204, b"", ())
    assert result.headers == {"content-type": "application/json"}


def test_base64_body() -> None:
    encoded = base64.b64encode(b"\x00\x01").decode()
    assert result_of({"statusCode": 200, "body": encoded, "isBase64Encoded": True}).body == (
        b"\x00\x01"
    )


def test_single_set_cookie_header_is_a_cookie() -> None:
    result = result_of({"statusCode": 200, "headers": {"Set-Cookie": "s=1; Secure"}})
    assert result.cookies == ("s=1; Secure",) and "set-cookie" not in result.headers


@pytest.mark.parametrize(
    "payload",
    [
        b"not json",
        b'"Hello from Lambda!"',
        b'{"message": "no status code"}',
        b'{"statusCode": "abc"}',
        b'{"statusCode": 99}',
        b'{"statusCode": 101}',
        b'{"statusCode": 100}',
        b'{"statusCode": true}',
        b'{"statusCode": 200, "body": {"json": "object"}}',
        b'{"statusCode": 200, "body": "%%%", "isBase64Encoded": true}',
        b'{"statusCode": 200, "headers": ["x"]}',
        b'{"statusCode": 200, "headers": {"x": {"nested": 1}}}',
        b'{"statusCode": 200, "headers": {"x-bad": "a\\r\\nInjected: 1"}}',
        b'{"statusCode": 200, "multiValueHeaders": {"x-bad": ["ok", "a\\nb"]}}',
        b'{"statusCode": 200, "headers": {"bad name": "v"}}',
        b'{"statusCode": 200, "multiValueHeaders": {"set-cookie": ["a=1\\r\\nX: 2"]}}',
    ],
)
def test_malformed_answers_are_500(payload: bytes) -> None:
    result = map_v1_result(payload)
    assert result.status == 500
    assert json.loads(result.body) == {"message": "Internal Server Error"}
    assert result.headers == {"content-type": "application/json"}


def test_function_errors_are_500() -> None:
    result = map_v1_result(b'{"errorMessage": "boom"}', failed=True)
    assert result.status == 500
    assert json.loads(result.body) == {"message": "Internal Server Error"}


def test_the_gateway_frames_the_response_itself() -> None:
    answer = {
        "statusCode": 200,
        "headers": {"Content-Length": "999", "Date": "yesterday", "X-Kept": "yes"},
        "multiValueHeaders": {"Transfer-Encoding": ["chunked"], "Connection": ["close"]},
        "body": "ok",
    }
    result = map_v1_result(json.dumps(answer).encode())
    assert result.headers == {"content-type": "application/json", "x-kept": "yes"}
