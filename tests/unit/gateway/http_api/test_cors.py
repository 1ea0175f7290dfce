"""CORS of HTTP APIs: preflights answered by the gateway, headers on actual responses."""

from __future__ import annotations

from typing import Any

from portico.gateway.http_api.cors import CorsPolicy, read_question, request_origin
from portico.gateway.http_events import HttpResult

APP = "https://app.example.com"
CONFIGURATION: dict[str, Any] = {
    "AllowOrigins": [APP, "https://other.example.com"],
    "AllowMethods": ["GET", "POST", "DELETE"],
    "AllowHeaders": ["Content-Type", "Authorization"],
    "ExposeHeaders": ["Date", "x-api-id"],
    "MaxAge": 300,
    "AllowCredentials": True,
}


def policy(**changes: Any) -> CorsPolicy:
    compiled = CorsPolicy.compile({**CONFIGURATION, **changes})
    assert compiled is not None
    return compiled


def preflight_headers(
    origin: str = APP, method: str = "POST", requested: str | None = "content-type"
) -> list[tuple[str, str]]:
    headers = [("Origin", origin), ("Access-Control-Request-Method", method)]
    if requested is not None:
        headers.append(("Access-Control-Request-Headers", requested))
    return headers


def test_no_configuration_is_no_policy() -> None:
    assert CorsPolicy.compile(None) is None


def test_allowed_preflight_is_a_204_with_the_configured_headers() -> None:
    result = policy().preflight("OPTIONS", preflight_headers())
    assert result == HttpResult(
        204,
        {
            "access-control-allow-origin": APP,
            "access-control-allow-credentials": "true",
            "access-control-allow-methods": "GET,POST,DELETE",
            "access-control-allow-headers": "Content-Type,Authorization",
            "access-control-max-age": "300",
        },
    )
    assert result.body == b""


def test_only_options_with_origin_and_request_method_is_a_preflight() -> None:
    cors = policy()
    assert cors.preflight("GET", preflight_headers()) is None
    assert cors.preflight("OPTIONS", [("Origin", APP)]) is None
    assert cors.preflight("OPTIONS", [("Access-Control-Request-Method", "GET")]) is None
    assert cors.preflight("options", preflight_headers()) is not None


def test_refused_preflights_are_204_without_cors_headers() -> None:
    cors = policy()
    for headers in (
        preflight_headers(origin="https://evil.example.com"),
        preflight_headers(method="PUT"),
        preflight_headers(requested="content-type, x-custom"),
    ):
        assert cors.preflight("OPTIONS", headers) == HttpResult(204)


def test_header_and_method_comparisons_ignore_case() -> None:
    cors = policy()
    headers = preflight_headers(method="post", requested="CONTENT-TYPE,authorization")
    result = cors.preflight("OPTIONS", headers)
    assert result is not None and "access-control-allow-origin" in result.headers


def test_wildcards_allow_any_method_and_header() -> None:
    cors = policy(AllowMethods=["*"], AllowHeaders=["*"])
    result = cors.preflight("OPTIONS", preflight_headers(method="PATCH", requested="x-anything"))
    assert result is not None
    assert result.headers["access-control-allow-methods"] == "*"
    assert result.headers["access-control-allow-headers"] == "*"


def test_no_allow_headers_refuses_requested_headers_but_not_plain_preflights() -> None:
    cors = policy(AllowHeaders=[])
    assert cors.preflight("OPTIONS", preflight_headers()) == HttpResult(204)
    plain = cors.preflight("OPTIONS", preflight_headers(requested=None))
    assert plain is not None and plain.headers["access-control-allow-origin"] == APP
    assert "access-control-allow-headers" not in plain.headers


def test_any_origin_answers_star_unless_credentials_are_allowed() -> None:
    anyone = policy(AllowOrigins=["*"], AllowCredentials=False)
    result = anyone.preflight("OPTIONS", preflight_headers(origin="https://x.test"))
    assert result is not None and result.headers["access-control-allow-origin"] == "*"
    assert "access-control-allow-credentials" not in result.headers
    with_credentials = policy(AllowOrigins=["*"])
    echoed = with_credentials.preflight("OPTIONS", preflight_headers(origin="https://x.test"))
    assert echoed is not None and echoed.headers["access-control-allow-origin"] == "https://x.test"


def test_scheme_wildcards_match_any_origin_of_that_scheme_only() -> None:
    cors = policy(AllowOrigins=["https://*"])
    assert cors.allows_origin("https://anything.test:8443")
    assert not cors.allows_origin("http://anything.test")
    assert policy(AllowOrigins=["http://*"]).allows_origin("http://localhost:3000")


def test_subdomain_patterns_are_not_wildcards() -> None:
    cors = policy(AllowOrigins=["https://*.example.com"])
    assert not cors.allows_origin("https://app.example.com")
    assert cors.allows_origin("https://*.example.com")


def test_origins_compare_without_case() -> None:
    assert policy().allows_origin("HTTPS://APP.EXAMPLE.COM")


def test_negative_or_missing_max_age_sends_none() -> None:
    for changes in ({"MaxAge": -1}, {"MaxAge": None}):
        result = policy(**changes).preflight("OPTIONS", preflight_headers())
        assert result is not None and "access-control-max-age" not in result.headers
    zero = policy(MaxAge=0).preflight("OPTIONS", preflight_headers())
    assert zero is not None and zero.headers["access-control-max-age"] == "0"


def test_actual_responses_get_origin_credentials_and_exposed_headers() -> None:
    assert policy().response_headers(APP) == [
        ("access-control-allow-origin", APP),
        ("access-control-allow-credentials", "true"),
        ("access-control-expose-headers", "Date,x-api-id"),
    ]
    assert policy().response_headers("https://evil.example.com") == []
    assert policy().response_headers(None) == []


def test_decorate_replaces_the_integrations_cors_headers() -> None:
    integration = HttpResult(
        200,
        {
            "content-type": "text/plain",
            "Access-Control-Allow-Origin": "*",
            "access-control-allow-methods": "PUT",
        },
        ("a=1",),
        b"hi",
    )
    decorated = policy().decorate(integration, APP)
    assert decorated.headers == {
        "content-type": "text/plain",
        "access-control-allow-origin": APP,
        "access-control-allow-credentials": "true",
        "access-control-expose-headers": "Date,x-api-id",
    }
    assert (decorated.status, decorated.cookies, decorated.body) == (200, ("a=1",), b"hi")
    for origin in ("https://evil.example.com", None):
        refused = policy().decorate(integration, origin)
        assert refused.headers == {"content-type": "text/plain"}


def test_decorate_leaves_a_response_without_cors_alone() -> None:
    plain = HttpResult(200, {"content-type": "text/plain"})
    assert policy().decorate(plain, None) is plain


def test_reading_the_request_headers() -> None:
    question = read_question(
        [
            ("ORIGIN", APP),
            ("access-control-request-method", " PUT "),
            ("Access-Control-Request-Headers", "X-A, x-b"),
            ("Access-Control-Request-Headers", "x-c"),
            ("Host", "api.test"),
        ]
    )
    assert (question.origin, question.method, question.headers) == (
        APP,
        "PUT",
        ("x-a", "x-b", "x-c"),
    )
    assert request_origin([("origin", APP)]) == APP
    assert request_origin([("host", "x")]) is None
