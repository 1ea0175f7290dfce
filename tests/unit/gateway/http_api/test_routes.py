from __future__ import annotations

import pytest

from portico.gateway.http_api.routes import RouteTable, delivered_path, split_path

ROUTES = [
    "GET /pets/dog/1",
    "GET /pets/dog/{id}",
    "GET /pets/{proxy+}",
    "ANY /{proxy+}",
    "$default",
    "GET /",
    "POST /pets",
    "ANY /pets",
    "PUT /owners/{owner}/pets/{pet}",
    "ANY /files/{name}",
    "GET /{first}/static",
]


@pytest.fixture
def table() -> RouteTable[str]:
    return RouteTable((key, key) for key in ROUTES)


@pytest.mark.parametrize(
    ("method", "path", "route"),
    [
        ("GET", "/pets/dog/1", "GET /pets/dog/1"),  # full match
        ("GET", "/pets/dog/2", "GET /pets/dog/{id}"),  # a variable beats greedy
        ("GET", "/pets/cat/1", "GET /pets/{proxy+}"),  # greedy with the method
        ("POST", "/pets/cat/1", "ANY /{proxy+}"),  # then greedy with ANY
        ("GET", "/", "GET /"),
        ("DELETE", "/", "$default"),  # ANY /{proxy+} needs one segment at least
        ("POST", "/pets", "POST /pets"),  # a named method beats ANY
        ("PATCH", "/pets", "ANY /pets"),
        ("PUT", "/owners/7/pets/9", "PUT /owners/{owner}/pets/{pet}"),
        ("GET", "/owners/7/pets/9", "ANY /{proxy+}"),
        ("HEAD", "/files/a.txt", "ANY /files/{name}"),
        ("GET", "/x/static", "GET /{first}/static"),
        ("GET", "/pets/", "ANY /{proxy+}"),  # an empty greedy variable matches nothing
    ],
)
def test_the_most_specific_route_wins(
    table: RouteTable[str], method: str, path: str, route: str
) -> None:
    found = table.match(method, path)
    assert found is not None
    assert found.route_key == route


def test_path_parameters_are_decoded(table: RouteTable[str]) -> None:
    found = table.match("PUT", "/owners/a%20b/pets/%E2%9C%93")
    assert found is not None
    assert found.path_parameters == {"owner": "a b", "pet": "✓"}
    assert found.resource_path == "/owners/{owner}/pets/{pet}"


def test_a_greedy_variable_takes_the_rest_of_the_path(table: RouteTable[str]) -> None:
    found = table.match("GET", "/pets/cat/1/toys")
    assert found is not None
    assert found.path_parameters == {"proxy": "cat/1/toys"}


def test_literal_segments_beat_variables_segment_by_segment() -> None:
    table = RouteTable((key, key) for key in ["GET /{a}/b", "GET /a/{b}"])
    found = table.match("GET", "/a/b")
    assert found is not None
    assert found.route_key == "GET /a/{b}"


def test_nothing_matches_without_a_default_route() -> None:
    table = RouteTable([("GET /pets", "pets")])
    assert table.match("POST", "/pets") is None
    assert table.match("GET", "/pets/1") is None
    assert table.match("GET", "/") is None


def test_an_empty_segment_does_not_fill_a_variable() -> None:
    table = RouteTable([("GET /pets/{id}", "pet")])
    assert table.match("GET", "/pets/") is None
    found = table.match("GET", "/pets/1")
    assert found is not None
    assert found.path_parameters == {"id": "1"}


def test_the_default_route_reports_its_key() -> None:
    table = RouteTable([("$default", "any")])
    found = table.match("GET", "/anything/at/all")
    assert found is not None
    assert (found.route_key, found.resource_path, found.path_parameters) == (
        "$default",
        "$default",
        {},
    )


def test_split_path() -> None:
    assert split_path("/") == []
    assert split_path("/a/b") == ["a", "b"]
    assert split_path("/a%2Fb/c") == ["a/b", "c"]


@pytest.mark.parametrize(
    ("sent", "routed", "given"),
    [
        ("/plain", "/plain", "/plain"),
        ("/space%20value", "/space value", "/space value"),
        ("/unicode-%CE%BB-%E4%B8%96%E7%95%8C", "/unicode-λ-世界", "/unicode-λ-世界"),
        ("/slash%2Fvalue", "/slash/value", "/slash/value"),
        ("/hash%23value", "/hash#value", "/hash#value"),
        ("/question%3Fvalue", "/question", "/question"),  # a decoded '?' ends the path
        # Escapes of escapes: routed as one segment, decoded again for the function.
        ("/literal%252Fvalue", "/literal%2Fvalue", "/literal/value"),
        ("/literal%253Fvalue", "/literal%3Fvalue", "/literal?value"),
        ("/literal%2525value", "/literal%25value", "/literal%value"),
    ],
)
def test_paths_are_delivered_decoded_as_http_apis_deliver_them(
    sent: str, routed: str, given: str
) -> None:
    assert delivered_path(sent) == (routed, given)


@pytest.mark.parametrize("sent", ["/percent%25done", "/bad%zz", "/trailing%", "/half%4"])
def test_a_percent_that_decodes_to_no_escape_is_no_valid_path(sent: str) -> None:
    assert delivered_path(sent) is None


def test_an_escaped_slash_is_routed_as_a_slash_and_an_escaped_escape_as_one_segment() -> None:
    table = RouteTable([(key, key) for key in ["GET /items/{id}", "GET /items/a/b"]])
    split = table.match("GET", delivered_path("/items/a%2Fb")[0])  # type: ignore[index]
    assert split is not None and split.route_key == "GET /items/a/b"
    whole = table.match("GET", delivered_path("/items/a%252Fb")[0])  # type: ignore[index]
    assert whole is not None
    assert (whole.route_key, whole.path_parameters) == ("GET /items/{id}", {"id": "a/b"})
