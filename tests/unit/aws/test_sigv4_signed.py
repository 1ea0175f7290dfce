"""SigV4: what botocore signs (and boto3 sends, for every protocol) passes verification."""

from __future__ import annotations

import dataclasses
from datetime import datetime, timedelta
from typing import Any

import boto3
import pytest
from botocore.awsrequest import AWSPreparedRequest

from portico.aws.sigv4 import (
    Identity,
    SignedRequest,
)
from tests.unit.aws.signing import (
    ACCESS_KEY,
    ENDPOINT,
    MISMATCH,
    SECRET,
    TOKEN,
    changed,
    check,
    lambda_invoke,
    on_the_wire,
    rejection,
    sign,
    signed_at,
    with_headers,
)

# -- what botocore signs passes ------------------------------------------------------------

SIGNED = {
    "lambda rest-json, path params": lambda token: sign(
        "POST",
        f"{ENDPOINT}/2015-03-31/functions/my%20fn%20%C3%BC%3A%2F/invocations?Qualifier=live",
        region="eu-west-1",
        body=b'{"key": "value"}',
        headers={"X-Amz-Invocation-Type": "Event", "Content-Type": "application/json"},
        token=token,
    ),
    "lambda query with spaces, unicode, reserved": lambda token: sign(
        "GET",
        f"{ENDPOINT}/2015-03-31/functions?Marker=a%20b%2Bc%2F%C3%BC%3D%26%3F%23&MaxItems=5&t=~x",
        region="ap-southeast-2",
        token=token,
    ),
    "sqs json with X-Amz-Target": lambda token: sign(
        "POST",
        f"{ENDPOINT}/",
        service="sqs",
        region="eu-central-1",
        body=b'{"QueueUrl": "http://127.0.0.1:4566/000000000000/q", "MessageBody": "hi"}',
        headers={
            "X-Amz-Target": "AmazonSQS.SendMessage",
            "Content-Type": "application/x-amz-json-1.0",
        },
        token=token,
    ),
    "sns query, form body": lambda token: sign(
        "POST",
        f"{ENDPOINT}/",
        service="sns",
        region="us-west-2",
        body=b"Action=Publish&Version=2010-03-31&Message=hi%20%26%20%C3%BC"
        b"&TopicArn=arn%3Aaws%3Asns%3Aus-west-2%3A000000000000%3At",
        headers={"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"},
        token=token,
    ),
    "GET with repeated query keys": lambda token: sign(
        "GET",
        f"{ENDPOINT}/things?b=2&a=3&a=1&a=%C3%BC&empty=&flag",
        service="execute-api",
        token=token,
    ),
    "path with dot segments and double slashes": lambda token: sign(
        "GET", f"{ENDPOINT}/a/./b/../c//d/", service="apigateway", token=token
    ),
    "header values with runs of spaces, repeated header": lambda token: sign(
        "PUT",
        f"{ENDPOINT}/2015-03-31/functions/f/concurrency",
        body=b'{"ReservedConcurrentExecutions": 2}',
        headers={"X-Custom": "  a   b  c ", "X-Amz-Meta": "one,two"},
        token=token,
    ),
}


@pytest.mark.parametrize("token", [None, TOKEN], ids=["long-term key", "session token"])
@pytest.mark.parametrize("name", list(SIGNED))
def test_requests_signed_by_botocore_pass(name: str, token: str | None) -> None:
    request = SIGNED[name](token)
    credential = request.headers["Authorization"].split("Credential=")[1].split(",")[0]
    _, _, region, service, _ = credential.split("/")

    identity = check(request)

    assert identity == Identity(ACCESS_KEY, region, service, token)


@pytest.mark.parametrize("token", [None, TOKEN], ids=["long-term key", "session token"])
def test_presigned_urls_pass(token: str | None) -> None:
    request = sign(
        "GET",
        f"{ENDPOINT}/2015-03-31/functions/my%20fn/configuration?Qualifier=v%201",
        region="sa-east-1",
        token=token,
        presign_expires=600,
    )
    assert "Authorization" not in request.headers

    identity = check(request, signed_at(request) + timedelta(seconds=600))

    assert identity == Identity(ACCESS_KEY, "sa-east-1", "lambda", token)


def test_a_date_header_can_stand_for_x_amz_date() -> None:
    request = sign(
        "GET",
        f"{ENDPOINT}/2015-03-31/functions",
        headers={"Date": "Mon, 01 Jan 2024 00:00:00 GMT"},  # botocore rewrites it to now
    )
    assert "X-Amz-Date" not in request.headers
    signed = datetime.strptime(request.headers["Date"], "%a, %d %b %Y %H:%M:%S %z")

    assert check(request, signed).access_key_id == ACCESS_KEY


def test_the_query_is_compared_by_meaning_not_spelling() -> None:
    request = sign("GET", f"{ENDPOINT}/things?b=~&a=%C3%BC%20x&c=1")

    respelled = dataclasses.replace(request, query="c=1&a=%c3%bc%20x&b=%7E")

    assert check(respelled).service == "lambda"


def test_unsigned_headers_may_change() -> None:
    request = lambda_invoke()

    retouched = with_headers(request, User_Agent="curl/8", X_Amzn_Trace_Id="Root=1-abc")

    assert check(retouched).access_key_id == ACCESS_KEY


# -- boto3 end to end ---------------------------------------------------------------------


class Captured(Exception):
    def __init__(self, request: AWSPreparedRequest) -> None:
        super().__init__("captured")
        self.request = request


def capture(request: AWSPreparedRequest, **_: Any) -> None:
    raise Captured(request)  # stop before anything is sent


def sent_by_boto3(service: str, operation: str, region: str, **params: Any) -> SignedRequest:
    client = boto3.client(
        service,
        endpoint_url=ENDPOINT,
        region_name=region,
        aws_access_key_id=ACCESS_KEY,
        aws_secret_access_key=SECRET,
        aws_session_token=TOKEN,
    )
    client.meta.events.register("before-send", capture)
    with pytest.raises(Captured) as caught:
        getattr(client, operation)(**params)
    return on_the_wire(caught.value.request)


BOTO3_CALLS = [
    ("lambda", "list_functions", {"Marker": "a b+c/ü=&?#", "MaxItems": 5}),
    ("lambda", "get_function", {"FunctionName": "my fn ü/?#&=+~", "Qualifier": "v 1/ü"}),
    ("lambda", "invoke", {"FunctionName": "fn", "Payload": '{"k": "ü"}'.encode()}),
    ("lambda", "create_function_url_config", {"FunctionName": "fn", "AuthType": "NONE"}),
    ("sqs", "send_message", {"QueueUrl": f"{ENDPOINT}/000000000000/q", "MessageBody": "hé"}),
    ("sns", "publish", {"TopicArn": "arn:aws:sns:eu-west-1:000000000000:t", "Message": "a&ü"}),
    (
        "logs",
        "put_log_events",
        {
            "logGroupName": "g",
            "logStreamName": "s",
            "logEvents": [{"timestamp": 1, "message": "m"}],
        },
    ),
    ("apigatewayv2", "get_apis", {"MaxResults": "10", "NextToken": "t o/k"}),
]


@pytest.mark.parametrize(("service", "operation", "params"), BOTO3_CALLS)
def test_requests_sent_by_boto3_pass(service: str, operation: str, params: dict[str, Any]) -> None:
    request = sent_by_boto3(service, operation, "eu-west-1", **params)
    signing_name = "apigateway" if service == "apigatewayv2" else service

    identity = check(request, service=signing_name)

    assert identity == Identity(ACCESS_KEY, "eu-west-1", signing_name, TOKEN)
    assert rejection(changed(request, "body" if request.body else "method")).message == MISMATCH
