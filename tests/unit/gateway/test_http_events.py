"""Payload format 2.0 events from HTTP requests, and function results as HTTP responses."""

from __future__ import annotations

import base64
import json

import pytest

from portico.gateway.http_events import (
    EventContext,
    HttpRequest,
    HttpResult,
    IamCaller,
    build_event,
    clf_time,
    map_result,
    response_headers,
)

URL_ID = "a" * 32
DOMAIN = f"{URL_ID}.lambda-url.eu-west-1.localhost"
CONTEXT = EventContext(
    api_id=URL_ID, domain_name=DOMAIN, request_id="req-1", time_epoch_ms=1583348638390
)


def request(**changes: object) -> HttpRequest:
    fields: dict[str, object] = {
        "method": "POST",
        "raw_path": "/my/path",
        "raw_query": "parameter1=value1&parameter1=value2&parameter2=value",
        "headers": [
            ("Header1", "value1"),
            ("header2", "value1"),
            ("Header2", "value2"),
            ("Cookie", "cookie1; cookie2"),
            ("Content-Type", "text/plain"),
            ("User-Agent", "agent"),
        ],
        "body": b"Hello from client!",
        "source_ip": "123.123.123.123",
    }
    fields.update(changes)
    return HttpRequest(**fields)  # type: ignore[arg-type]


def test_event_is_the_documented_shape() -> None:
    assert build_event(request(), CONTEXT) == {
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": "/my/path",
        "rawQueryString": "parameter1=value1&parameter1=value2&parameter2=value",
        "cookies": ["cookie1", "cookie2"],
        "headers": {
            "header1": "value1",
            "header2": "value1,value2",
            "content-type": "text/plain",
            "user-agent": "agent",
        },
        "queryStringParameters": {"parameter1": "value1,value2", "parameter2": "value"},
        "requestContext": {
            "accountId": "anonymous",
            "apiId": URL_ID,
            "domainName": DOMAIN,
            "domainPrefix": URL_ID,
            "http": {
                "method": "POST",
                "path": "/my/path",
                "protocol": "HTTP/1.1",
                "sourceIp": "123.123.123.123",
                "userAgent": "agent",
            },
            "requestId": "req-1",
            "routeKey": "$default",
            "stage": "$default",
            "time": "04/Mar/2020:19:03:58 +0000",
            "timeEpoch": 1583348638390,
        },
        "body": "Hello from client!",
        "isBase64Encoded": False,
    }


def test_empty_members_are_left_out() -> None:
    event = build_event(request(raw_query="", headers=[], body=b""), CONTEXT)
    assert "cookies" not in event and "queryStringParameters" not in event
    assert "body" not in event and event["isBase64Encoded"] is False
    assert event["headers"] == {} and event["requestContext"]["http"]["userAgent"] == ""


def test_binary_and_untyped_bodies_are_base64() -> None:
    for content_type in ("application/octet-stream", "image/png", None):
        headers = [] if content_type is None else [("content-type", content_type)]
        event = build_event(request(headers=headers, body=b"\x00\xffdata"), CONTEXT)
        assert event["isBase64Encoded"] is True
        assert base64.b64decode(event["body"]) == b"\x00\xffdata"


def test_text_types_stay_text() -> None:
    for content_type in ("application/json; charset=utf-8", "application/xml", "text/html"):
        event = build_event(request(headers=[("Content-Type", content_type)], body=b"{}"), CONTEXT)
        assert event["body"] == "{}" and event["isBase64Encoded"] is False
    invalid_utf8 = build_event(request(body=b"\xff"), CONTEXT)
    assert invalid_utf8["isBase64Encoded"] is True


def test_query_values_are_decoded_and_path_is_decoded_in_context() -> None:
    event = build_event(request(raw_path="/a%20b", raw_query="q=a%20b&e="), CONTEXT)
    assert event["queryStringParameters"] == {"q": "a b", "e": ""}
    assert event["rawPath"] == "/a%20b" and event["requestContext"]["http"]["path"] == "/a b"


def test_a_path_the_gateway_decoded_is_not_decoded_again() -> None:
    # Sent as /a%2541: decoded twice already, it holds a literal "%41".
    event = build_event(request(raw_path="/a%41", path_decoded=True), CONTEXT)
    assert event["rawPath"] == "/a%41" and event["requestContext"]["http"]["path"] == "/a%41"


def test_iam_caller_goes_into_the_authorizer() -> None:
    caller = IamCaller("AKIA1", "000000000000", "AKIA1", "arn:aws:iam::000000000000:root", "AKIA1")
    context = EventContext(URL_ID, DOMAIN, "r", 0, account_id="000000000000", caller=caller)
    document = build_event(request(), context)["requestContext"]
    assert document["accountId"] == "000000000000"
    assert document["authorizer"] == {
        "iam": {
            "accessKey": "AKIA1",
            "accountId": "000000000000",
            "callerId": "AKIA1",
            "cognitoIdentity": None,
            "principalOrgId": None,
            "userArn": "arn:aws:iam::000000000000:root",
            "userId": "AKIA1",
        }
    }


def test_clf_time() -> None:
    assert clf_time(1584039838000) == "12/Mar/2020:19:03:58 +0000"


# -- responses ---------------------------------------------------------------------------


def test_structured_result() -> None:
    payload = {
        "statusCode": 201,
        "headers": {"Content-Type": "text/plain", "X-Count": 3},
        "cookies": ["a=1", "b=2; Secure"],
        "body": "created",
    }
    result = map_result(json.dumps(payload).encode())
    assert result.status == 201 and result.body == b"created"
    assert result.headers == {"content-type": "text/plain", "x-count": "3"}
    assert result.header_list()[-2:] == [("set-cookie", "a=1"), ("set-cookie", "b=2; Secure")]


def test_structured_base64_body_and_defaults() -> None:
    encoded = base64.b64encode(b"\x00\x01").decode()
    result = map_result(
        json.dumps({"statusCode": "204", "body": encoded, "isBase64Encoded": True}).encode()
    )
    assert (result.status, result.body) == (204, b"\x00\x01")
    assert result.headers == {"content-type": "application/json"}
    assert map_result(b'{"statusCode": 200}').body == b""


def test_anything_else_is_a_json_200() -> None:
    document = b'{"message": "Hello, world!"}'
    result = map_result(document)
    assert (result.status, result.body) == (200, document)
    assert result.headers == {"content-type": "application/json"}
    assert map_result(b"[1, 2]").body == b"[1, 2]"
    assert map_result(b'"Hello (world!)"').body == b"Hello (world!)"
    assert map_result(b"null").body == b"null"


def test_function_errors_and_bad_results_are_502() -> None:
    for payload, failed in (
        (b'{"errorMessage": "boom"}', True),
        (b'{"statusCode": "abc"}', False),
        (b'{"statusCode": 99}', False),
        (b'{"statusCode": 100}', False),  # a 1xx is no final answer
        (b'{"statusCode": 101}', False),
        (b'{"statusCode": "199"}', False),
        (b'{"statusCode": 200, "body": "%%%", "isBase64Encoded": true}', False),
    ):
        result = map_result(payload, failed=failed)
        assert result.status == 502
        assert json.loads(result.body) == {"Message": "Internal Server Error"}


@pytest.mark.parametrize(
    ("headers", "cookies"),
    [
        ({"x-bad": "a\r\nInjected: 1"}, []),  # a response split in two
        ({"x-bad": "a\nb"}, []),
        ({"x-bad": "a\u0000b"}, []),
        ({"bad name": "v"}, []),
        ({"x:y": "v"}, []),
        ({"": "v"}, []),
        ({}, ["a=1\r\nInjected: 2"]),
    ],
)
def test_headers_no_response_can_carry_make_the_answer_malformed(
    headers: dict[str, str], cookies: list[str]
) -> None:
    payload = {"statusCode": 200, "headers": headers, "cookies": cookies, "body": "ok"}
    result = map_result(json.dumps(payload).encode())
    assert result.status == 502
    assert json.loads(result.body) == {"Message": "Internal Server Error"}


def test_the_gateway_frames_and_dates_the_response_itself() -> None:
    headers = {
        "Content-Length": "999",
        "Transfer-Encoding": "chunked",
        "Connection": "close",
        "Keep-Alive": "timeout=5",
        "Date": "yesterday",
        "X-Kept": "yes\tand tab",
    }
    result = map_result(json.dumps({"statusCode": 200, "headers": headers, "body": "ok"}).encode())
    assert result.headers == {"content-type": "application/json", "x-kept": "yes\tand tab"}
    wire, body = result.wire_headers()
    assert wire[-1] == (b"content-length", b"2") and body == b"ok"


def test_header_values_beyond_latin_1_go_as_utf_8() -> None:
    result = HttpResult(200, {"x-latin": "caf\u00e9", "x-cup": "caf\u00e9 \u2615"}, (), b"")
    wire, _body = result.wire_headers(("x-id", "1"))
    assert wire[:3] == [
        (b"x-latin", b"caf\xe9"),
        (b"x-cup", "caf\u00e9 \u2615".encode()),
        (b"x-id", b"1"),
    ]
    plain, _body = HttpResult(200, {"x-latin": "caf\u00e9"}, (), b"").wire_headers()
    assert plain[0] == (b"x-latin", b"caf\xe9")


def test_no_headers_at_all_can_be_sent() -> None:
    assert response_headers({}, ()) == {}
    assert response_headers({}, ("a=1",)) == {}


@pytest.mark.parametrize(
    "answer",
    [
        {"headers": ["x-a"]},  # headers are an object
        {"headers": {"x-a": {"nested": 1}}},  # of scalars
        {"headers": {"x-a": ["1", "2"]}},
        {"cookies": "a=1"},  # cookies are a list (not a string to split into characters)
        {"cookies": [{"a": 1}]},
    ],
)
def test_headers_and_cookies_of_the_wrong_shape_make_the_answer_malformed(
    answer: dict[str, object],
) -> None:
    result = map_result(json.dumps({"statusCode": 200, "body": "ok", **answer}).encode())
    assert result.status == 502


def test_scalar_header_values_are_text_and_null_sets_nothing() -> None:
    answer = {
        "statusCode": 200,
        "headers": {"x-n": 7, "x-f": 1.5, "x-b": False, "x-null": None},
        "cookies": ["a=1", None, 2],
    }
    result = map_result(json.dumps(answer).encode())
    assert result.headers == {
        "content-type": "application/json",
        "x-n": "7",
        "x-f": "1.5",
        "x-b": "false",
    }
    assert result.cookies == ("a=1", "2")


def test_only_json_true_marks_a_base64_body() -> None:
    for flag in ("false", "true", 1, None):
        answer = {"statusCode": 200, "body": "aGk=", "isBase64Encoded": flag}
        assert map_result(json.dumps(answer).encode()).body == b"aGk="
    answer = {"statusCode": 200, "body": "aGk=", "isBase64Encoded": True}
    assert map_result(json.dumps(answer).encode()).body == b"hi"
