"""The checks of HTTP API members that need no store: parameter mappings, identity sources,
CORS, stage settings, API mapping keys, paging, integration updates and resource ARNs."""

from __future__ import annotations

from typing import Any

import pytest

from portico.errors import AwsError
from portico.services.apigatewayv2 import paging
from portico.services.apigatewayv2.cors import WILDCARD_CREDENTIALS, check_cors
from portico.services.apigatewayv2.domains import INVALID_MAPPING_KEY, check_mapping_key
from portico.services.apigatewayv2.identifiers import (
    ResourceRef,
    api_endpoint,
    parse_resource_arn,
)
from portico.services.apigatewayv2.integrations import checked_integration, merge_update
from portico.services.apigatewayv2.parameters import (
    check_identity_sources,
    check_request_parameters,
    check_response_parameters,
)
from portico.services.apigatewayv2.stage_settings import (
    EXECUTION_LOGS_HTTP,
    check_access_log_settings,
    check_route_settings,
    check_stage_name,
    check_stage_variables,
)

FUNCTION_ARN = "arn:aws:lambda:eu-west-1:000000000000:function:fn"
LOG_GROUP = "arn:aws:logs:eu-west-1:000000000000:log-group:/aws/http-api/access"


def refused(call: Any, *args: Any, **kwargs: Any) -> AwsError:
    with pytest.raises(AwsError) as raised:
        call(*args, **kwargs)
    return raised.value


# -- parameter mappings -----------------------------------------------------------------------


def test_request_parameter_mappings() -> None:
    check_request_parameters(
        {
            "append:header.x-user": "$context.authorizer.claims.sub",
            "overwrite:header.x-both": "${request.path.id} ${request.header.x-id}",
            "overwrite:querystring.version": "$stageVariables.version",
            "append:querystring.body": "$request.body.items[0].name",
            "remove:header.x-debug": "",
            "overwrite:path": "/v2$request.path",
            "overwrite:header.x-static": "constant",
        }
    )


@pytest.mark.parametrize(
    ("parameters", "error"),
    [
        ({"rename:header.x": "y"}, "Invalid mapping expression specified: rename:header.x"),
        ({"append:body.x": "y"}, "Invalid mapping expression specified: append:body.x"),
        ({"append:path": "/x"}, "Invalid mapping expression specified: append:path"),
        ({"append:header.Authorization": "x"}, "Operations on header authorization are restricted"),
        ({"overwrite:header.x-amz-date": "x"}, "Operations on header x-amz-date are restricted"),
        ({"overwrite:header.x-a": "$request.cookie.c"}, "Invalid selection expression specified"),
        ({"overwrite:header.x-a": "${response.header.y}"}, "Invalid selection expression"),
        ({"overwrite:header.x-a": ""}, "the value of overwrite:header.x-a is empty"),
    ],
)
def test_bad_request_parameter_mappings(parameters: dict[str, str], error: str) -> None:
    failure = refused(check_request_parameters, parameters)
    assert failure.code == "BadRequestException"
    assert failure.message.startswith(
        "Invalid mapping expression specified: Validation Result: warnings : [], errors : ["
    )
    assert error in failure.message


def test_response_parameter_mappings() -> None:
    check_response_parameters(
        {
            "500": {"overwrite:statuscode": "403", "append:header.x-id": "$context.requestId"},
            "404": {"overwrite:header.x-from": "$response.header.server"},
            "200": {"remove:header.x-internal": ""},
        }
    )


@pytest.mark.parametrize(
    "parameters",
    [
        {"199": {"overwrite:statuscode": "200"}},
        {"600": {"overwrite:statuscode": "200"}},
        {"2xx": {"overwrite:statuscode": "200"}},
        {"500": {"overwrite:statuscode": "teapot"}},
        {"500": {"append:querystring.x": "y"}},
        {"500": {"append:header.x": "$request.header.y"}},
        {"500": {"overwrite:header.content-length": "1"}},
    ],
)
def test_bad_response_parameter_mappings(parameters: dict[str, dict[str, str]]) -> None:
    assert refused(check_response_parameters, parameters).code == "BadRequestException"


def test_identity_sources() -> None:
    check_identity_sources(
        [
            "$request.header.Authorization",
            "$request.querystring.token",
            "$context.routeKey",
            "$stageVariables.realm",
        ]
    )
    check_identity_sources(["route.request.header.Auth", "stageVariables.x"], websocket=True)
    for source in ("header.Authorization", "$request.body.token", "$request.header."):
        assert refused(check_identity_sources, [source]).message == (
            f"Invalid identity source specified: {source}"
        )


# -- CORS -------------------------------------------------------------------------------------


def test_cors_keeps_only_what_was_given() -> None:
    assert check_cors({"AllowOrigins": ["https://a.example.com:8443"], "MaxAge": -1}) == {
        "AllowOrigins": ["https://a.example.com:8443"],
        "MaxAge": -1,
    }
    everything = {
        "AllowOrigins": ["*"],
        "AllowMethods": ["get", "*"],
        "AllowHeaders": ["*", "x-api-key"],
        "ExposeHeaders": ["date"],
        "MaxAge": 86400,
        "AllowCredentials": False,
    }
    assert check_cors(everything) == everything


@pytest.mark.parametrize(
    "configuration",
    [
        {"AllowOrigins": ["example.com"]},
        {"AllowOrigins": ["https://a.example.com/path"]},
        {"AllowMethods": ["TRACE"]},
        {"AllowHeaders": ["bad header"]},
        {"MaxAge": -2},
        {"MaxAge": 86401},
        {"MaxAge": "300"},
        {"AllowCredentials": "yes"},
        {"AllowOrigins": "*"},
    ],
)
def test_bad_cors(configuration: dict[str, Any]) -> None:
    assert refused(check_cors, configuration).code == "BadRequestException"


def test_credentials_cannot_be_allowed_to_every_origin() -> None:
    failure = refused(check_cors, {"AllowOrigins": ["*"], "AllowCredentials": True})
    assert failure.message == WILDCARD_CREDENTIALS


# -- stages -----------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["$default", "prod", "v1_beta-2", "a" * 128])
def test_stage_names(name: str) -> None:
    assert check_stage_name(name) == name


@pytest.mark.parametrize("name", ["", "pro d", "$prod", "a/b", "a" * 129])
def test_bad_stage_names(name: str) -> None:
    assert refused(check_stage_name, name).code == "BadRequestException"


def test_stage_variables() -> None:
    check_stage_variables({"url": "https://api.example.com:8443/v1?x=1#a&b=c,d~e", "A_1": "x"})
    assert (
        "Stage variable name 'bad-name'"
        in refused(check_stage_variables, {"bad-name": "x"}).message
    )
    assert "Stage variable value 'a b'" in refused(check_stage_variables, {"x": "a b"}).message
    assert refused(check_stage_variables, {"x": "a" * 2049}).code == "BadRequestException"


def test_route_settings() -> None:
    settings = {"ThrottlingBurstLimit": 5, "ThrottlingRateLimit": 2, "DetailedMetricsEnabled": True}
    assert check_route_settings(settings, http=True) == {
        "ThrottlingBurstLimit": 5,
        "ThrottlingRateLimit": 2.0,
        "DetailedMetricsEnabled": True,
    }
    assert check_route_settings({"LoggingLevel": "INFO"}, http=False) == {"LoggingLevel": "INFO"}
    assert refused(check_route_settings, {"LoggingLevel": "INFO"}, http=True).message == (
        EXECUTION_LOGS_HTTP
    )
    assert refused(check_route_settings, {"DataTraceEnabled": True}, http=True).message == (
        EXECUTION_LOGS_HTTP
    )
    assert refused(check_route_settings, {"ThrottlingRateLimit": -1}, http=True).code == (
        "BadRequestException"
    )
    assert refused(check_route_settings, {"ThrottlingBurstLimit": 1.5}, http=True).code == (
        "BadRequestException"
    )


def test_access_log_settings() -> None:
    settings = {"DestinationArn": LOG_GROUP, "Format": '{"id":"$context.requestId"}'}
    assert check_access_log_settings(settings) == settings
    assert check_access_log_settings({}) == {}
    with_braces = {"DestinationArn": LOG_GROUP, "Format": "${context.extendedRequestId}"}
    assert check_access_log_settings(with_braces) == with_braces
    for bad in (
        {"DestinationArn": "arn:aws:s3:::bucket", "Format": "$context.requestId"},
        {"DestinationArn": LOG_GROUP, "Format": "$context.status"},
        {"DestinationArn": LOG_GROUP},
        {"Format": "$context.requestId"},
    ):
        assert refused(check_access_log_settings, bad).code == "BadRequestException"


# -- API mapping keys --------------------------------------------------------------------------


@pytest.mark.parametrize("key", ["", "v1", "orders/v1/items", "a$-_.+!*'()b"])
def test_mapping_keys(key: str) -> None:
    assert check_mapping_key(key) == key


@pytest.mark.parametrize("key", ["/v1", "v1/", "a//b", "a b", "a?b", "x" * 301])
def test_bad_mapping_keys(key: str) -> None:
    assert refused(check_mapping_key, key).message == INVALID_MAPPING_KEY


# -- paging -----------------------------------------------------------------------------------


def test_paging_walks_every_item_once() -> None:
    items = [f"item-{n:02d}" for n in range(7)]
    seen: list[str] = []
    token: str | None = None
    while True:
        params = {"MaxResults": "3", **({"NextToken": token} if token else {})}
        chosen, token = paging.page(list(reversed(items)), lambda item: item, params)
        seen.extend(chosen)
        if token is None:
            break
    assert seen == items
    assert paging.page(items, lambda item: item, {}) == (items, None)


@pytest.mark.parametrize("value", ["0", "-1", "x", "501"])
def test_bad_max_results(value: str) -> None:
    assert refused(paging.page, [], lambda item: item, {"MaxResults": value}).code == (
        "BadRequestException"
    )


def test_bad_next_token() -> None:
    assert refused(paging.page, [], lambda item: item, {"NextToken": "***"}).message == (
        "Invalid NextToken specified."
    )


# -- integrations -----------------------------------------------------------------------------


def test_integration_defaults() -> None:
    lambda_proxy = checked_integration(
        {
            "IntegrationType": "AWS_PROXY",
            "IntegrationUri": FUNCTION_ARN,
            "PayloadFormatVersion": "2.0",
        },
        websocket=False,
    )
    assert lambda_proxy == {
        "IntegrationType": "AWS_PROXY",
        "IntegrationUri": FUNCTION_ARN,
        "PayloadFormatVersion": "2.0",
        "IntegrationMethod": "POST",
        "ConnectionType": "INTERNET",
        "TimeoutInMillis": 30000,
    }
    http_proxy = checked_integration(
        {
            "IntegrationType": "HTTP_PROXY",
            "IntegrationUri": "http://${stageVariables.host}/api",
            "IntegrationMethod": "GET",
        },
        websocket=False,
    )
    assert http_proxy["PayloadFormatVersion"] == "1.0"
    websocket = checked_integration({"IntegrationType": "MOCK"}, websocket=True)
    assert websocket["TimeoutInMillis"] == 29000


def test_a_vpc_link_is_looked_up() -> None:
    failure = refused(
        checked_integration,
        {
            "IntegrationType": "HTTP_PROXY",
            "IntegrationUri": "arn:aws:elasticloadbalancing:eu-west-1:1:listener/x",
            "IntegrationMethod": "ANY",
            "ConnectionType": "VPC_LINK",
            "ConnectionId": "link12",
        },
        websocket=False,
    )
    assert (failure.code, failure.message) == (
        "NotFoundException",
        "Invalid VpcLink identifier specified link12",
    )


def test_updates_remove_mappings_given_empty() -> None:
    existing = {
        "IntegrationType": "HTTP_PROXY",
        "RequestParameters": {"append:header.a": "1", "append:header.b": "2"},
        "ResponseParameters": {"404": {"overwrite:statuscode": "410"}, "500": {}},
    }
    merged = merge_update(
        existing,
        {
            "RequestParameters": {"append:header.a": "", "remove:header.c": ""},
            "ResponseParameters": {"404": {}, "503": {"overwrite:statuscode": "500"}},
        },
    )
    assert merged["RequestParameters"] == {"append:header.b": "2", "remove:header.c": ""}
    assert merged["ResponseParameters"] == {
        "500": {},
        "503": {"overwrite:statuscode": "500"},
    }


# -- identifiers ------------------------------------------------------------------------------


def test_resource_arns() -> None:
    assert parse_resource_arn("arn:aws:apigateway:eu-west-1::/apis/abc") == ResourceRef(
        "eu-west-1", api_id="abc"
    )
    assert parse_resource_arn("arn:aws:apigateway:eu-west-1::/apis/abc/stages/$default") == (
        ResourceRef("eu-west-1", api_id="abc", stage_name="$default")
    )
    assert parse_resource_arn("arn:aws:apigateway:eu-west-1::/domainnames/a.example.com") == (
        ResourceRef("eu-west-1", domain_name="a.example.com")
    )
    assert parse_resource_arn("arn:aws:apigateway:eu-west-1::/restapis/abc") is None
    assert parse_resource_arn("arn:aws:lambda:eu-west-1:1:function:f") is None


def test_api_endpoints() -> None:
    assert api_endpoint("http://127.0.0.1:4566/", "abc", "HTTP") == (
        "http://127.0.0.1:4566/_aws/execute-api/abc"
    )
    assert api_endpoint("https://portico.internal", "abc", "WEBSOCKET") == (
        "wss://portico.internal/_aws/execute-api/abc"
    )
