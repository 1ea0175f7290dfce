"""Throttling of HTTP API requests: token buckets per route and per account."""

from __future__ import annotations

import json
from typing import Any

from portico.gateway.http_api.throttling import (
    ACCOUNT_BURST_LIMIT,
    Limits,
    StageThrottle,
    TokenBucket,
    account_bucket,
    too_many_requests,
)
from portico.store.clock import ManualClock


def admitted(check: Any, times: int) -> int:
    return sum(1 for _ in range(times) if check())


def test_bucket_starts_full_and_refills_at_its_rate() -> None:
    clock = ManualClock()
    bucket = TokenBucket(rate_per_second=2, burst=3, now=clock.now)
    assert admitted(bucket.take, 5) == 3
    clock.advance(0.5)
    assert admitted(bucket.take, 5) == 1
    clock.advance(10)
    assert admitted(bucket.take, 5) == 3  # never more than the burst


def test_has_token_takes_nothing() -> None:
    bucket = TokenBucket(1, 1, ManualClock().now)
    assert bucket.has_token() and bucket.has_token()
    assert bucket.take() and not bucket.has_token()


def test_zero_rate_or_zero_burst_refuses_everything() -> None:
    clock = ManualClock()
    for rate, burst in ((0, 0), (0, 100), (100, 0)):
        bucket = TokenBucket(rate, burst, clock.now)
        assert bucket.closed and not bucket.take()
        clock.advance(60)
        assert not bucket.take()


def test_account_bucket_defaults() -> None:
    clock = ManualClock()
    bucket = account_bucket(clock.now)
    assert admitted(bucket.take, ACCOUNT_BURST_LIMIT + 10) == ACCOUNT_BURST_LIMIT
    clock.advance(0.25)
    assert admitted(bucket.take, 5_000) == 2_500  # 10,000 a second


def stage(default: dict[str, Any] | None = None, routes: dict[str, Any] | None = None) -> Any:
    document: dict[str, Any] = {"StageName": "prod"}
    if default is not None:
        document["DefaultRouteSettings"] = default
    if routes is not None:
        document["RouteSettings"] = routes
    return document


def test_stage_default_limits_each_route_separately() -> None:
    clock = ManualClock()
    throttle = StageThrottle.compile(
        stage({"ThrottlingRateLimit": 1.0, "ThrottlingBurstLimit": 2}), None, clock.now
    )
    assert admitted(lambda: throttle.admit("GET /a"), 5) == 2
    assert admitted(lambda: throttle.admit("GET /b"), 5) == 2
    clock.advance(1)
    assert admitted(lambda: throttle.admit("GET /a"), 5) == 1


def test_route_settings_replace_the_stage_default() -> None:
    clock = ManualClock()
    throttle = StageThrottle.compile(
        stage(
            {"ThrottlingRateLimit": 1.0, "ThrottlingBurstLimit": 1},
            {"GET /pets": {"ThrottlingRateLimit": 100.0, "ThrottlingBurstLimit": 10}},
        ),
        None,
        clock.now,
    )
    assert admitted(lambda: throttle.admit("GET /pets"), 20) == 10
    assert admitted(lambda: throttle.admit("GET /other"), 20) == 1


def test_a_route_setting_left_out_falls_back_to_the_stage_default() -> None:
    throttle = StageThrottle.compile(
        stage(
            {"ThrottlingRateLimit": 1.0, "ThrottlingBurstLimit": 3},
            {"GET /pets": {"ThrottlingRateLimit": 5.0, "DetailedMetricsEnabled": True}},
        ),
        None,
        ManualClock().now,
    )
    assert admitted(lambda: throttle.admit("GET /pets"), 10) == 3


def test_no_settings_means_no_route_limit() -> None:
    throttle = StageThrottle.compile(
        stage({"DetailedMetricsEnabled": True}), None, ManualClock().now
    )
    assert admitted(lambda: throttle.admit("$default"), 10_000) == 10_000


def test_zero_settings_throttle_every_request() -> None:
    throttle = StageThrottle.compile(
        stage({"ThrottlingRateLimit": 0.0, "ThrottlingBurstLimit": 0}), None, ManualClock().now
    )
    assert not throttle.admit("$default")


def test_only_a_rate_keeps_the_account_burst() -> None:
    throttle = StageThrottle.compile(stage({"ThrottlingRateLimit": 1.0}), None, ManualClock().now)
    assert admitted(lambda: throttle.admit("$default"), 6_000) == ACCOUNT_BURST_LIMIT


def test_the_account_bucket_is_shared_by_stages() -> None:
    clock = ManualClock()
    account = TokenBucket(1, 3, clock.now)
    first = StageThrottle.compile(stage(), account, clock.now)
    second = StageThrottle.compile(stage(), account, clock.now)
    assert admitted(lambda: first.admit("$default"), 2) == 2
    assert admitted(lambda: second.admit("$default"), 5) == 1


def test_a_refusal_by_the_account_takes_no_route_token() -> None:
    clock = ManualClock()
    account = TokenBucket(1, 1, clock.now)
    throttle = StageThrottle.compile(
        stage({"ThrottlingRateLimit": 1.0, "ThrottlingBurstLimit": 1}), account, clock.now
    )
    other = StageThrottle.compile(stage(), account, clock.now)
    assert other.admit("$default")  # the account's only token
    assert not throttle.admit("GET /x")
    clock.advance(1)
    assert throttle.admit("GET /x")  # its route token was kept


def test_limits_read_ignores_non_numbers() -> None:
    limits = Limits.read({"ThrottlingRateLimit": True, "ThrottlingBurstLimit": "5"})
    assert limits.unset


def test_too_many_requests_answer() -> None:
    result = too_many_requests()
    assert result.status == 429
    assert result.headers == {"content-type": "application/json"}
    assert json.loads(result.body) == {"message": "Too Many Requests"}
