from __future__ import annotations

from portico.gateway.http_api.metrics import Metrics

ROUTE = ("a1b2c3d4e5", "$default", "GET /pets")


def test_requests_are_counted_by_route_and_status_class() -> None:
    metrics = Metrics()
    metrics.record(ROUTE, 200, 3.0, 2.0, 100)
    metrics.record(ROUTE, 404, 1.0, None, 10)
    metrics.record(ROUTE, 502, 30.0, 29.0, 20)
    found = metrics.get(ROUTE)
    assert found is not None
    assert (found.count, found.client_errors, found.server_errors) == (3, 1, 1)
    assert found.data_processed == 130
    assert (found.latency.samples, found.latency.total) == (3, 34.0)
    assert found.integration_latency.samples == 2


def test_the_exposition_is_prometheus_text() -> None:
    metrics = Metrics()
    metrics.record(ROUTE, 200, 3.0, 2.0, 100)
    text = metrics.exposition()
    labels = 'api_id="a1b2c3d4e5",stage="$default",route="GET /pets"'
    assert f"portico_apigateway_count_total{{{labels}}} 1\n" in text
    assert f"portico_apigateway_5xx_total{{{labels}}} 0\n" in text
    assert f'portico_apigateway_latency_ms_bucket{{{labels},le="2"}} 0\n' in text
    assert f'portico_apigateway_latency_ms_bucket{{{labels},le="5"}} 1\n' in text
    assert f'portico_apigateway_latency_ms_bucket{{{labels},le="+Inf"}} 1\n' in text
    assert f"portico_apigateway_latency_ms_count{{{labels}}} 1\n" in text
    assert "# TYPE portico_apigateway_integration_latency_ms histogram\n" in text


def test_label_values_are_escaped() -> None:
    metrics = Metrics()
    metrics.record(("a", "s", 'GET /"q"'), 200, 1.0, 1.0, 0)
    assert 'route="GET /\\"q\\""' in metrics.exposition()
