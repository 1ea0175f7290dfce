"""Route keys of HTTP APIs: their syntax, and the conflicts AWS refuses."""

from __future__ import annotations

import pytest

from portico.errors import AwsError
from portico.services.apigatewayv2.route_keys import (
    BAD_PATH_PART,
    GREEDY_NOT_LAST,
    NOT_FORMATTED,
    RouteKey,
    check_conflicts,
    check_websocket_route_key,
    parse_route_key,
)


@pytest.mark.parametrize(
    ("key", "parsed"),
    [
        ("$default", RouteKey("", ())),
        ("GET /", RouteKey("GET", ())),
        ("ANY /pets", RouteKey("ANY", ("pets",))),
        ("GET /pets/{petId}", RouteKey("GET", ("pets", "{petId}"))),
        ("DELETE /v1.0/items:batch", RouteKey("DELETE", ("v1.0", "items:batch"))),
        ("OPTIONS /{proxy+}", RouteKey("OPTIONS", ("{proxy+}",))),
        ("PATCH /a/{b}/c/{rest+}", RouteKey("PATCH", ("a", "{b}", "c", "{rest+}"))),
    ],
)
def test_valid_route_keys(key: str, parsed: RouteKey) -> None:
    assert parse_route_key(key) == parsed


@pytest.mark.parametrize(
    ("key", "message"),
    [
        ("", NOT_FORMATTED),
        ("GET", NOT_FORMATTED),
        ("GET pets", NOT_FORMATTED),
        ("CONNECT /pets", NOT_FORMATTED),
        ("get /pets", NOT_FORMATTED),
        ("$connect", NOT_FORMATTED),
        ("GET /pets/", BAD_PATH_PART),
        ("GET //pets", BAD_PATH_PART),
        ("GET /pets/{id", BAD_PATH_PART),
        ("GET /pets/x{id}", BAD_PATH_PART),
        ("GET /pets?x=1", BAD_PATH_PART),
        ("GET /{proxy+}/more", GREEDY_NOT_LAST),
    ],
)
def test_invalid_route_keys(key: str, message: str) -> None:
    with pytest.raises(AwsError) as raised:
        parse_route_key(key)
    assert (raised.value.code, raised.value.message) == ("BadRequestException", message)


def test_path_variables_are_named_once() -> None:
    with pytest.raises(AwsError) as raised:
        parse_route_key("GET /a/{id}/b/{id}")
    assert raised.value.code == "BadRequestException"


@pytest.mark.parametrize(
    ("key", "others"),
    [
        ("GET /pets/{petId}", ["GET /pets/{id}"]),
        ("POST /pets/{petId}/toys", ["GET /pets/{id}"]),
        ("GET /a/{x}/b/{y}", ["GET /a/{x}/b/{z}"]),
        ("GET /files/{path+}", ["ANY /files/{rest+}"]),
    ],
)
def test_conflicting_variables(key: str, others: list[str]) -> None:
    with pytest.raises(AwsError) as raised:
        check_conflicts(key, others)
    assert raised.value.code == "ConflictException"
    assert raised.value.message == (
        f'The provided route key "{key}" has a conflicting variable on the same hierarchical '
        f'level as "{others[0]}"'
    )


@pytest.mark.parametrize(
    ("key", "others"),
    [
        ("GET /pets/{id}", ["POST /pets/{id}", "$default", "GET /pets"]),
        ("GET /cats/{catId}", ["GET /pets/{id}"]),
        ("GET /pets/{id}", ["GET /pets/mine", "ANY /{proxy+}"]),
        ("GET /pets/{id}", ["GET /pets/{proxy+}"]),
        ("GET /pets/{id}/toys", ["GET /pets/{id}"]),
    ],
)
def test_routes_that_do_not_conflict(key: str, others: list[str]) -> None:
    check_conflicts(key, others)


@pytest.mark.parametrize("key", ["$connect", "$disconnect", "$default", "sendMessage"])
def test_websocket_route_keys(key: str) -> None:
    check_websocket_route_key(key)


@pytest.mark.parametrize("key", ["", "$custom"])
def test_invalid_websocket_route_keys(key: str) -> None:
    with pytest.raises(AwsError):
        check_websocket_route_key(key)
