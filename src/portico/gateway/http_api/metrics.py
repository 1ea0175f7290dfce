"""Per-route request metrics of HTTP APIs — API Gateway's Count, 4xx, 5xx, Latency,
IntegrationLatency and DataProcessed — kept in memory and read in the Prometheus text format.

Latencies are summaries (sum and count, in milliseconds) plus fixed-bucket histograms, so a
scraper can derive averages and percentiles; recording a request is a dict lookup and a few
additions.
"""

from __future__ import annotations

import bisect
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

RouteId = tuple[str, str, str]  # api id, stage, route key
BUCKETS_MS = (1, 2, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000, 30000)


@dataclass(slots=True)
class _Histogram:
    counts: list[int] = field(default_factory=lambda: [0] * (len(BUCKETS_MS) + 1))
    total: float = 0.0
    samples: int = 0

    def observe(self, value: float) -> None:
        self.counts[bisect.bisect_left(BUCKETS_MS, value)] += 1
        self.total += value
        self.samples += 1


@dataclass(slots=True)
class RouteMetrics:
    count: int = 0
    client_errors: int = 0
    server_errors: int = 0
    data_processed: int = 0
    latency: _Histogram = field(default_factory=_Histogram)
    integration_latency: _Histogram = field(default_factory=_Histogram)


class Metrics:
    def __init__(self) -> None:
        self._routes: dict[RouteId, RouteMetrics] = {}

    def record(
        self,
        route: RouteId,
        status: int,
        latency_ms: float,
        integration_latency_ms: float | None,
        data_bytes: int,
    ) -> None:
        metrics = self._routes.get(route)
        if metrics is None:
            metrics = self._routes[route] = RouteMetrics()
        metrics.count += 1
        if 400 <= status < 500:
            metrics.client_errors += 1
        elif status >= 500:
            metrics.server_errors += 1
        metrics.data_processed += data_bytes
        # `_Histogram.observe`, inline: this runs for every request.
        latency = metrics.latency
        latency.counts[bisect.bisect_left(BUCKETS_MS, latency_ms)] += 1
        latency.total += latency_ms
        latency.samples += 1
        if integration_latency_ms is not None:
            metrics.integration_latency.observe(integration_latency_ms)

    def get(self, route: RouteId) -> RouteMetrics | None:
        return self._routes.get(route)

    def exposition(self) -> str:
        """Every route's metrics in the Prometheus text exposition format (0.0.4)."""
        return "".join(self._lines()) + ("" if self._routes else "\n")

    def _lines(self) -> Iterator[str]:
        counters: tuple[tuple[str, str, Callable[[RouteMetrics], int]], ...] = (
            ("count", "Requests", lambda m: m.count),
            ("4xx", "Requests answered with a 4xx status", lambda m: m.client_errors),
            ("5xx", "Requests answered with a 5xx status", lambda m: m.server_errors),
            ("data_processed_bytes", "Request and response bytes", lambda m: m.data_processed),
        )
        for name, text, value_of in counters:
            metric = f"portico_apigateway_{name}_total"
            yield f"# HELP {metric} {text}.\n# TYPE {metric} counter\n"
            for route, metrics in self._routes.items():
                yield f"{metric}{{{_labels(route)}}} {value_of(metrics)}\n"
        histograms: tuple[tuple[str, str, Callable[[RouteMetrics], _Histogram]], ...] = (
            ("latency_ms", "Time from request to response", lambda m: m.latency),
            (
                "integration_latency_ms",
                "Time from relaying the request to the integration's answer",
                lambda m: m.integration_latency,
            ),
        )
        for name, text, histogram_of in histograms:
            metric = f"portico_apigateway_{name}"
            yield f"# HELP {metric} {text}.\n# TYPE {metric} histogram\n"
            for route, metrics in self._routes.items():
                labels = _labels(route)
                histogram = histogram_of(metrics)
                running = 0
                for bound, count in zip((*BUCKETS_MS, "+Inf"), histogram.counts, strict=True):
                    running += count
                    yield f'{metric}_bucket{{{labels},le="{bound}"}} {running}\n'
                yield f"{metric}_sum{{{labels}}} {histogram.total:.3f}\n"
                yield f"{metric}_count{{{labels}}} {histogram.samples}\n"


def _labels(route: RouteId) -> str:
    api_id, stage, route_key = route
    return f'api_id="{_escape(api_id)}",stage="{_escape(stage)}",route="{_escape(route_key)}"'


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
