"""Request throttling for HTTP APIs: token buckets at the account and at the route.

The rules followed are those of the developer guide's page on throttling HTTP API requests and
of the API Gateway quotas page:

- Throttling uses the token bucket algorithm, one token a request: the rate limit is the
  steady refill rate (tokens a second), the burst limit the bucket's capacity.
- Every API of an account in a Region shares one account-level bucket: 10,000 requests a
  second with a burst of 5,000 by default.
- A stage's `DefaultRouteSettings` (`ThrottlingRateLimit`, `ThrottlingBurstLimit`) sets the
  limits of each of its routes; an entry of `RouteSettings`, keyed by route key, replaces them
  for that route. Each route has a bucket of its own.
- A request over a limit is answered `429` with `{"message":"Too Many Requests"}`.
- A rate or burst limit of 0 throttles every request (stages created with zero-valued
  throttling settings answer every request with that 429).

A setting left out at the route level falls back to the stage default; left out there too,
to the account's limit, so that a level with no throttling settings adds no limit of its own.

    account = account_bucket(clock)                              # one per account and Region
    throttle = StageThrottle.compile(stage, account, clock)      # once per deployed stage
    if not throttle.admit(route_key): return too_many_requests()
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from portico.gateway.http_api import responses
from portico.gateway.http_events import HttpResult

Now = Callable[[], float]
"""Seconds on a clock that never goes backwards (`time.monotonic`, or a test's clock)."""

ACCOUNT_RATE_LIMIT = 10_000.0
ACCOUNT_BURST_LIMIT = 5_000


class TokenBucket:
    """`burst` tokens at most, refilled at `rate_per_second`; starts full.

    A bucket with no capacity or no refill (`burst` < 1 or `rate_per_second` <= 0) is closed:
    it refuses every request."""

    __slots__ = ("_burst", "_now", "_rate", "_tokens", "_updated", "closed")

    def __init__(self, rate_per_second: float, burst: float, now: Now) -> None:
        self._rate = float(rate_per_second)
        self._burst = float(burst)
        self._now = now
        self._tokens = self._burst
        self._updated = now()
        self.closed = self._burst < 1 or self._rate <= 0

    def has_token(self) -> bool:
        """Whether a request could be admitted now (nothing is taken)."""
        if self.closed:
            return False
        self._refill()
        return self._tokens >= 1

    def take(self) -> bool:
        """Take a token if there is one: whether the request is admitted."""
        if self.closed:
            return False
        # `_refill`, inline: every request takes from the account's bucket.
        moment = self._now()
        elapsed = moment - self._updated
        tokens = self._tokens
        if elapsed > 0:
            tokens = min(self._burst, tokens + elapsed * self._rate)
            self._updated = moment
        if tokens < 1:
            self._tokens = tokens
            return False
        self._tokens = tokens - 1
        return True

    def _refill(self) -> None:
        moment = self._now()
        elapsed = moment - self._updated
        if elapsed > 0:
            self._tokens = min(self._burst, self._tokens + elapsed * self._rate)
            self._updated = moment


def account_bucket(
    now: Now, rate_per_second: float = ACCOUNT_RATE_LIMIT, burst: int = ACCOUNT_BURST_LIMIT
) -> TokenBucket:
    """The bucket every stage of one account (and Region) draws from."""
    return TokenBucket(rate_per_second, burst, now)


@dataclass(frozen=True, slots=True)
class Limits:
    """A rate and burst limit pair; None where the level sets nothing."""

    rate: float | None = None
    burst: int | None = None

    @classmethod
    def read(cls, settings: Mapping[str, Any] | None) -> Limits:
        """The throttling members of a `RouteSettings` document."""
        if not settings:
            return cls()
        rate = _number(settings.get("ThrottlingRateLimit"))
        burst = _number(settings.get("ThrottlingBurstLimit"))
        return cls(rate, None if burst is None else int(burst))

    def over(self, fallback: Limits) -> Limits:
        """These limits, with `fallback`'s where these set none."""
        return Limits(
            self.rate if self.rate is not None else fallback.rate,
            self.burst if self.burst is not None else fallback.burst,
        )

    @property
    def unset(self) -> bool:
        return self.rate is None and self.burst is None


_UNLIMITED = Limits()
ACCOUNT_LIMITS = Limits(ACCOUNT_RATE_LIMIT, ACCOUNT_BURST_LIMIT)


class StageThrottle:
    """The route-level buckets of one deployed stage, in front of the account's bucket."""

    __slots__ = ("_account", "_buckets", "_default", "_now", "_per_route")

    def __init__(
        self,
        default: Limits,
        per_route: Mapping[str, Limits],
        account: TokenBucket | None,
        now: Now,
    ) -> None:
        self._default = default
        self._per_route = dict(per_route)
        self._account = account
        self._now = now
        self._buckets: dict[str, TokenBucket | None] = {}

    @classmethod
    def compile(
        cls,
        stage: Mapping[str, Any],
        account: TokenBucket | None,
        now: Now,
        account_limits: Limits = ACCOUNT_LIMITS,
    ) -> StageThrottle:
        """The throttle of a `GetStage` document (`DefaultRouteSettings`, `RouteSettings`)."""
        default = Limits.read(stage.get("DefaultRouteSettings"))
        routes = stage.get("RouteSettings") or {}
        per_route = {
            str(route_key): _resolved(Limits.read(settings).over(default), account_limits)
            for route_key, settings in routes.items()
            if isinstance(settings, Mapping)
        }
        return cls(_resolved(default, account_limits), per_route, account, now)

    def admit(self, route_key: str) -> bool:
        """Whether a request to `route_key` may go on; it then counts against the account's
        bucket and its route's. A refused request takes no token."""
        buckets = self._buckets
        route = buckets[route_key] if route_key in buckets else self._bucket(route_key)
        if route is not None and not route.has_token():
            return False
        if self._account is not None and not self._account.take():
            return False
        if route is not None:
            route.take()
        return True

    def _bucket(self, route_key: str) -> TokenBucket | None:
        try:
            return self._buckets[route_key]
        except KeyError:
            limits = self._per_route.get(route_key, self._default)
            bucket = None if limits.unset else _bucket_for(limits, self._now)
            self._buckets[route_key] = bucket
            return bucket


def too_many_requests() -> HttpResult:
    """What a throttled request is answered."""
    return responses.TOO_MANY_REQUESTS


def _resolved(limits: Limits, account_limits: Limits) -> Limits:
    if limits.unset:
        return _UNLIMITED
    return limits.over(account_limits)


def _bucket_for(limits: Limits, now: Now) -> TokenBucket:
    rate = limits.rate if limits.rate is not None else ACCOUNT_RATE_LIMIT
    burst = limits.burst if limits.burst is not None else ACCOUNT_BURST_LIMIT
    return TokenBucket(rate, burst, now)


def _number(value: object) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)
