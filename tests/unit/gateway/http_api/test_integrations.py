from __future__ import annotations

import httpx

from portico.gateway.http_api.integrations import HttpProxy, IntegrationRequest, forwarded
from portico.gateway.http_events import EventContext, HttpRequest

CONTEXT = EventContext(api_id="a1b2c3d4e5", domain_name="d", request_id="r", time_epoch_ms=0)


def _url(uri: str, path: str, resource_path: str = "$default", query: str = "") -> str:
    request = HttpRequest("GET", path, query, [], path_decoded=True)
    proxy = HttpProxy(uri, "ANY", httpx.AsyncClient())
    return proxy.url_for(IntegrationRequest(request, CONTEXT, resource_path, None, None))


def test_the_default_route_forwards_the_decoded_path_encoded_again() -> None:
    assert _url("http://backend.test", "/a b/c#d?e", query="q=1") == (
        "http://backend.test/a%20b/c%23d%3Fe?q=1"
    )
    assert _url("http://backend.test/", "/x@y:z") == "http://backend.test/x@y:z"


def test_a_uri_with_a_path_is_used_as_it_is() -> None:
    assert _url("http://backend.test/fixed", "/a b") == "http://backend.test/fixed"


def _request(headers: list[tuple[str, str]], source_ip: str = "203.0.113.7") -> HttpRequest:
    return HttpRequest("GET", "/", "", headers, source_ip=source_ip, path_decoded=True)


def test_forwarded_names_the_client_its_host_and_protocol() -> None:
    # What the gateway adds for the function's event (x-forwarded-*) turns into one header.
    seen = _request(
        [
            ("host", "api.example.com"),
            ("x-forwarded-for", "203.0.113.7"),
            ("x-forwarded-proto", "https"),
        ]
    )
    assert forwarded(seen, "d") == "for=203.0.113.7;host=api.example.com;proto=https"


def test_forwarded_keeps_the_proxies_the_client_came_through() -> None:
    seen = _request([("X-Forwarded-For", "198.51.100.1, 2001:db8::1"), ("Host", "h:8080")])
    assert forwarded(seen, "d") == (
        'for=198.51.100.1, for="[2001:db8::1]", for=203.0.113.7;host="h:8080";proto=http'
    )


def test_forwarded_quotes_what_is_not_an_address() -> None:
    seen = _request([("x-forwarded-for", 'unknown, a"b')], source_ip="::1")
    assert forwarded(seen, "api.test") == (
        'for=unknown, for="a\\"b", for="[::1]";host=api.test;proto=http'
    )
