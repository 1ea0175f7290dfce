"""Access log lines rendered from a stage's `$context` format."""

from __future__ import annotations

import json
from dataclasses import replace

from portico.gateway.http_api.access_logs import (
    AccessLogFormat,
    AccessRecord,
    ContextVariables,
    variable,
)
from portico.gateway.http_events import IamCaller

RECORD = AccessRecord(
    request_id="Xy7b1gZoIAMEbEQ=",
    api_id="a1b2c3d4",
    account_id="000000000000",
    stage="prod",
    domain_name="a1b2c3d4.execute-api.eu-west-1.localhost",
    http_method="GET",
    path="/prod/pets/7",
    protocol="HTTP/1.1",
    route_key="GET /pets/{id}",
    status=200,
    request_time_epoch_ms=1584039838123,
    response_length=42,
    response_latency_ms=15,
    source_ip="192.0.2.1",
    user_agent="curl/8.0",
    integration_status=200,
    integration_service_status=200,
    integration_latency_ms=12,
    integration_request_id="c0ffee",
)
CLF = (
    "$context.identity.sourceIp - - [$context.requestTime] "
    '"$context.httpMethod $context.routeKey $context.protocol" '
    "$context.status $context.responseLength $context.requestId"
)
JSON = (
    '{ "requestId":"$context.requestId", "ip": "$context.identity.sourceIp", '
    '"requestTime":"$context.requestTime", "httpMethod":"$context.httpMethod",'
    '"routeKey":"$context.routeKey", "status":"$context.status",'
    '"protocol":"$context.protocol", "responseLength":"$context.responseLength" }'
)


def render(log_format: str, record: AccessRecord = RECORD) -> str:
    return AccessLogFormat.compile(log_format).render(record)


def test_common_log_format() -> None:
    assert render(CLF) == (
        '192.0.2.1 - - [12/Mar/2020:19:03:58 +0000] "GET GET /pets/{id} HTTP/1.1" '
        "200 42 Xy7b1gZoIAMEbEQ="
    )


def test_json_format_parses() -> None:
    assert json.loads(render(JSON)) == {
        "requestId": "Xy7b1gZoIAMEbEQ=",
        "ip": "192.0.2.1",
        "requestTime": "12/Mar/2020:19:03:58 +0000",
        "httpMethod": "GET",
        "routeKey": "GET /pets/{id}",
        "status": "200",
        "protocol": "HTTP/1.1",
        "responseLength": "42",
    }


def test_request_and_api_variables() -> None:
    line = render(
        "$context.apiId $context.accountId $context.stage $context.path $context.domainName "
        "$context.domainPrefix $context.extendedRequestId $context.requestTimeEpoch "
        "$context.identity.userAgent $context.responseLatency"
    )
    assert line.split(" ") == [
        "a1b2c3d4",
        "000000000000",
        "prod",
        "/prod/pets/7",
        "a1b2c3d4.execute-api.eu-west-1.localhost",
        "a1b2c3d4",
        "Xy7b1gZoIAMEbEQ=",
        "1584039838",
        "curl/8.0",
        "15",
    ]


def test_integration_variables_and_their_aliases() -> None:
    record = replace(
        RECORD,
        status=500,
        integration_status=None,
        integration_service_status=200,
        integration_error="The response from the Lambda function doesn't match the format",
    )
    line = render(
        "$context.integrationStatus|$context.integration.integrationStatus|"
        "$context.integration.status|$context.integrationLatency|$context.integration.latency|"
        "$context.awsEndpointRequestId|$context.integration.requestId|"
        "$context.integrationErrorMessage|$context.integration.error",
        record,
    )
    assert line.split("|") == [
        "200",
        "200",
        "-",
        "12",
        "12",
        "c0ffee",
        "c0ffee",
        "The response from the Lambda function doesn't match the format",
        "The response from the Lambda function doesn't match the format",
    ]


def test_missing_values_render_a_dash() -> None:
    record = replace(RECORD, route_key=None, response_length=None, source_ip="")
    line = render(
        "$context.routeKey $context.responseLength $context.identity.sourceIp "
        "$context.error.message $context.error.messageString $context.identity.caller "
        "$context.authorizer.claims.sub $context.authorizer.userId "
        "$context.identity.clientCert.subjectDN $context.awsEndpointRequestId2",
        record,
    )
    assert line == "- - - - - - - - - -"


def test_errors() -> None:
    record = replace(
        RECORD, status=429, error_message="Too Many Requests", error_response_type="THROTTLED"
    )
    line = render(
        "$context.error.message|$context.error.messageString|$context.error.responseType", record
    )
    assert line == 'Too Many Requests|"Too Many Requests"|THROTTLED'


def test_authorizer_variables() -> None:
    jwt = replace(
        RECORD, authorizer_claims={"sub": "user-1", "cognito:groups": ["a", "b"], "exp": 17}
    )
    assert render("$context.authorizer.claims.sub,$context.authorizer.claims.exp", jwt) == (
        "user-1,17"
    )
    assert render("${context.authorizer.claims.cognito:groups}", jwt) == '["a","b"]'
    lambda_authorizer = replace(
        RECORD,
        authorizer_principal_id="me",
        authorizer_context={"key": "value", "numKey": 1, "boolKey": True},
        authorizer_error=None,
    )
    line = render(
        "$context.authorizer.principalId $context.authorizer.key $context.authorizer.numKey "
        "$context.authorizer.boolKey $context.authorizer.error",
        lambda_authorizer,
    )
    assert line == "me value 1 true -"


def test_iam_identity() -> None:
    caller = IamCaller(
        "AKIA1", "111111111111", "AIDA1", "arn:aws:iam::111111111111:user/u", "AIDA1"
    )
    line = render(
        "$context.identity.accountId $context.identity.caller $context.identity.user "
        "$context.identity.userArn",
        replace(RECORD, caller=caller),
    )
    assert line == "111111111111 AIDA1 AIDA1 arn:aws:iam::111111111111:user/u"


def test_braces_and_variable_boundaries() -> None:
    assert render("id=${context.requestId};") == "id=Xy7b1gZoIAMEbEQ=;"
    assert render("[$context.status].") == "[200]."
    assert render("$context.status-$context.stage") == "200-prod"
    assert render("no variables, $ sign and $contextual text") == (
        "no variables, $ sign and $contextual text"
    )


def test_unknown_variables_render_a_dash_and_are_listed() -> None:
    compiled = AccessLogFormat.compile("$context.requestId $context.nope $context.error.oops")
    assert compiled.render(RECORD) == "Xy7b1gZoIAMEbEQ= - -"
    assert compiled.unknown == ("nope", "error.oops")
    assert variable("nope") is None
    assert AccessLogFormat.compile("$context.authorizer.claims").render(RECORD) == "-"


def test_values_are_written_unescaped() -> None:
    record = replace(RECORD, user_agent='agent "quoted"')
    assert render('{"ua":"$context.identity.userAgent"}', record) == '{"ua":"agent "quoted""}'


def test_context_variables_view() -> None:
    view = ContextVariables(replace(RECORD, route_key=None))
    assert view["requestId"] == "Xy7b1gZoIAMEbEQ="
    assert view["status"] == "200"
    assert view.get("routeKey") is None and view.get("nope") is None
    assert "stage" in view and "routeKey" not in view
    assert len(view) == len(list(view))
