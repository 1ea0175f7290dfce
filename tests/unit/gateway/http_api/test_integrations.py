from __future__ import annotations

import httpx

from portico.gateway.http_api.integrations import HttpProxy, IntegrationRequest
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
