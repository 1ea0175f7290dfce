"""Parameter mapping: requests changed before the integration, responses after."""

from __future__ import annotations

import json

import pytest

from portico.gateway.http_api.mapping import (
    InvalidParameterMapping,
    MappableRequest,
    RequestMapping,
    ResponseMapping,
    compile_json_path,
    compile_request_parameters,
    compile_response_parameters,
    select,
)
from portico.gateway.http_events import HttpRequest, HttpResult

BODY = {"user": {"name": "ann", "tags": ["a", "b"], "age": 30}, "items": [{"id": 1}, {"id": 2}]}
REQUEST = MappableRequest.of(
    HttpRequest(
        method="POST",
        raw_path="/prod/pets/7",
        raw_query="q=a%20b&multi=1&multi=2&Case=x",
        headers=[
            ("Header1", "one"),
            ("X-Repeat", "r1"),
            ("x-repeat", "r2"),
            ("Content-Type", "application/json"),
        ],
        body=json.dumps(BODY).encode(),
    ),
    path="/pets/7",
    path_parameters={"id": "7"},
)
CONTEXT = {"requestId": "req-1", "authorizer.claims.sub": "user-1"}
STAGE_VARIABLES = {"env": "prod"}


def request_mapping(parameters: dict[str, str]) -> RequestMapping:
    mapping = compile_request_parameters(parameters)
    assert mapping is not None
    return mapping


def mapped(parameters: dict[str, str], request: MappableRequest = REQUEST) -> MappableRequest:
    return request_mapping(parameters).apply(request, CONTEXT, STAGE_VARIABLES)


def header(request: MappableRequest, name: str) -> list[str]:
    return [value for key, value in request.headers if key.lower() == name]


def test_nothing_to_map_compiles_to_none() -> None:
    assert compile_request_parameters(None) is None
    assert compile_request_parameters({}) is None
    assert compile_response_parameters({"200": {}}) is None


def test_append_header_from_context() -> None:
    result = mapped({"append:header.header1": "$context.requestId"})
    assert header(result, "header1") == ["one", "req-1"]


def test_overwrite_header_replaces_every_value() -> None:
    result = mapped({"overwrite:header.x-repeat": "static"})
    assert header(result, "x-repeat") == ["static"]


def test_rename_a_header() -> None:
    result = mapped(
        {"append:header.header2": "$request.header.header1", "remove:header.header1": "''"}
    )
    assert header(result, "header2") == ["one"] and header(result, "header1") == []


def test_header_values_are_joined_with_commas_and_names_ignore_case() -> None:
    result = mapped({"overwrite:header.out": "$request.header.X-REPEAT"})
    assert header(result, "out") == ["r1,r2"]


def test_query_string_operations() -> None:
    result = mapped(
        {
            "overwrite:querystring.q": "${request.querystring.q}!",
            "append:querystring.multi": "3",
            "remove:querystring.Case": "''",
            "append:querystring.joined": "$request.querystring.multi",
        }
    )
    assert result.query == (
        ("multi", "1"),
        ("multi", "2"),
        ("q", "a b!"),
        ("multi", "3"),
        ("joined", "1,2"),
    )
    assert result.raw_query() == "multi=1&multi=2&q=a%20b%21&multi=3&joined=1%2C2"


def test_query_names_are_case_sensitive() -> None:
    result = mapped({"overwrite:header.h": "$request.querystring.case"})
    assert header(result, "h") == []


def test_multivalue_query_string_repeats_the_parameter() -> None:
    result = mapped({"overwrite:querystring.copy": "$request.multivaluequerystring.multi"})
    assert [pair for pair in result.query if pair[0] == "copy"] == [("copy", "1"), ("copy", "2")]
    as_header = mapped({"overwrite:header.copy": "$request.multivaluequerystring.multi"})
    assert header(as_header, "copy") == ["1,2"]


def test_path_and_path_parameters() -> None:
    result = mapped({"overwrite:path": "/v2$request.path/${request.path.id}/detail"})
    assert result.path == "/v2/pets/7/7/detail"


def test_stage_variables_and_mixtures() -> None:
    result = mapped({"overwrite:header.x-env": "${stageVariables.env} ${context.requestId}"})
    assert header(result, "x-env") == ["prod req-1"]


def test_context_variable_with_dots() -> None:
    result = mapped({"overwrite:header.x-user": "$context.authorizer.claims.sub"})
    assert header(result, "x-user") == ["user-1"]


def test_body_json_paths() -> None:
    result = mapped(
        {
            "overwrite:header.x-name": "$request.body.user.name",
            "overwrite:header.x-tag": "$request.body.user.tags[1]",
            "overwrite:header.x-age": "$request.body.user.age",
            "overwrite:header.x-user": "$request.body.user.tags",
            "overwrite:header.x-ids": "${request.body.items[*].id}",
            "overwrite:header.x-none": "$request.body.user.missing",
        }
    )
    assert header(result, "x-name") == ["ann"] and header(result, "x-tag") == ["b"]
    assert header(result, "x-age") == ["30"] and header(result, "x-user") == ['["a","b"]']
    assert header(result, "x-ids") == ["[1,2]"] and header(result, "x-none") == []


def test_body_json_path_on_an_array() -> None:
    request = MappableRequest("/", (), (), b'[{"id": "first"}]')
    result = mapped({"overwrite:header.i": "$request.body[0].id"}, request)
    assert header(result, "i") == ["first"]


def test_the_whole_body() -> None:
    request = MappableRequest("/", (), (), b"plain text")
    assert header(mapped({"overwrite:header.b": "$request.body"}, request), "b") == ["plain text"]


def test_body_over_100_kb_is_cut_before_a_json_path() -> None:
    big = json.dumps({"name": "x", "pad": "y" * 200_000}).encode()
    request = MappableRequest("/", (), (), big)
    assert header(mapped({"overwrite:header.n": "$request.body.name"}, request), "n") == []


def test_a_value_with_nothing_found_sets_nothing() -> None:
    result = mapped({"overwrite:header.header1": "$request.header.missing"})
    assert header(result, "header1") == ["one"]
    partial = mapped({"overwrite:header.h": "pre-$request.header.missing"})
    assert header(partial, "h") == ["pre-"]


def test_values_are_read_from_the_request_as_it_arrived() -> None:
    result = mapped(
        {"overwrite:header.header1": "changed", "overwrite:header.copy": "$request.header.header1"}
    )
    assert header(result, "copy") == ["one"]


def test_the_original_request_is_not_changed() -> None:
    mapped({"remove:header.header1": "''"})
    assert header(REQUEST, "header1") == ["one"]


@pytest.mark.parametrize(
    "key",
    [
        "overwrite:header.Authorization",
        "append:header.access-control-allow-origin",
        "remove:header.x-amz-date",
        "overwrite:header.X-Forwarded-For",
        "overwrite:header.apigw-requestid",
        "overwrite:header.Content-Length",
        "overwrite:header.host name",
    ],
)
def test_reserved_or_invalid_headers_are_refused(key: str) -> None:
    with pytest.raises(InvalidParameterMapping):
        compile_request_parameters({key: "x"})


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("overwrite:statuscode", "500"),
        ("append:path", "/x"),
        ("rename:header.a", "x"),
        ("overwrite:header.a", "$request.cookie.a"),
        ("overwrite:header.a", "$response.header.a"),
        ("overwrite:header.a", "${request.body..name}"),
        ("overwrite:header.a", "${request.body.items[?(@.id)]}"),
        ("overwrite:header.a", "${context.bad-name}"),
    ],
)
def test_invalid_request_mappings_are_refused(key: str, value: str) -> None:
    with pytest.raises(InvalidParameterMapping):
        compile_request_parameters({key: value})


def test_json_path_steps() -> None:
    document = {"a": {"b c": [10, 20, 30]}}
    assert select(document, compile_json_path("$.a['b c'][-1]")) == 30
    assert select(document, compile_json_path('a["b c"][0]')) == 10
    assert select(document, compile_json_path("a.*")) == [[10, 20, 30]]


# -- responses ---------------------------------------------------------------------------


RESULT = HttpResult(
    500,
    {"content-type": "application/json", "x-origin": "backend"},
    ("s=1",),
    b'{"error": {"code": "E42"}}',
)


def response_mapping(parameters: dict[str, dict[str, str]]) -> ResponseMapping:
    mapping = compile_response_parameters(parameters)
    assert mapping is not None
    return mapping


def test_response_parameters_apply_by_status_code() -> None:
    mapping = response_mapping(
        {
            "500": {"append:header.header1": "$context.requestId", "overwrite:statuscode": "403"},
            "404": {"append:header.error": "$stageVariables.env"},
        }
    )
    result = mapping.apply(RESULT, CONTEXT, STAGE_VARIABLES)
    assert result.status == 403
    assert result.headers == {
        "content-type": "application/json",
        "x-origin": "backend",
        "header1": "req-1",
    }
    assert result.body == RESULT.body and result.cookies == RESULT.cookies
    untouched = HttpResult(200, {"a": "b"})
    assert mapping.apply(untouched, CONTEXT, STAGE_VARIABLES) is untouched


def test_response_headers_and_body_values() -> None:
    mapping = response_mapping(
        {
            "500": {
                "overwrite:header.x-code": "$response.body.error.code",
                "append:header.X-Origin": "$response.header.content-type",
                "remove:header.content-type": "''",
                "append:header.set-cookie": "t=2",
            }
        }
    )
    result = mapping.apply(RESULT, CONTEXT, STAGE_VARIABLES)
    assert result.headers == {"x-code": "E42", "x-origin": "backend,application/json"}
    assert result.cookies == ("s=1", "t=2")


def test_status_code_from_a_value() -> None:
    mapping = response_mapping({"500": {"overwrite:statuscode": "${response.body.error.code}"}})
    assert mapping.apply(RESULT, CONTEXT, STAGE_VARIABLES).status == 500  # not a status code
    numeric = HttpResult(500, {}, (), b'{"status": 418}')
    to_status = response_mapping({"500": {"overwrite:statuscode": "$response.body.status"}})
    assert to_status.apply(numeric, CONTEXT, STAGE_VARIABLES).status == 418


@pytest.mark.parametrize(
    "parameters",
    [
        {"199": {"overwrite:statuscode": "200"}},
        {"2xx": {"overwrite:statuscode": "200"}},
        {"200": {"overwrite:path": "/x"}},
        {"200": {"append:querystring.a": "b"}},
        {"200": {"overwrite:header.a": "$request.header.a"}},
        {"200": {"remove:header.Access-Control-Allow-Origin": "''"}},
    ],
)
def test_invalid_response_mappings_are_refused(parameters: dict[str, dict[str, str]]) -> None:
    with pytest.raises(InvalidParameterMapping):
        compile_response_parameters(parameters)
