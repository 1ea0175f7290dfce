"""CORS for HTTP APIs, answered by the gateway from the API's `CorsConfiguration`.

The rules followed are those of the developer guide's page on configuring CORS for HTTP APIs:

- With CORS configured, the gateway itself answers a preflight (an `OPTIONS` request carrying
  `Origin` and `Access-Control-Request-Method`), whether or not an `OPTIONS` route exists; the
  integration is not called.
- CORS headers are returned only to requests that carry an `Origin` header.
- The gateway adds the configured CORS headers to an integration's response and ignores the
  CORS headers the integration returned.
- `AllowOrigins` holds exact origins, `*` (any origin), or `https://*` / `http://*` (any origin
  of that scheme) — the only wildcards the guide documents. Any other entry is compared
  literally, so `https://*.example.com` matches no origin.
- `*` in `AllowMethods` or `AllowHeaders` allows any method or header.

A preflight is answered `204 No Content` with an empty body. When the origin, the requested
method or one of the requested headers is not allowed, the answer is still a 204, without any
`Access-Control-*` header, so that the browser refuses the cross-origin call.

`MaxAge` -1 (the lowest value the API accepts) sends no `Access-Control-Max-Age`.

    policy = CorsPolicy.compile(api["CorsConfiguration"])   # once per deployed stage
    policy.preflight(method, headers) -> HttpResult | None   # None: not a preflight, route it
    policy.decorate(result, origin)   -> HttpResult          # every other response
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from portico.gateway.http_events import HttpResult

WILDCARD = "*"
_SCHEME_WILDCARDS = {"https://*": "https://", "http://*": "http://"}
_CORS_HEADER_PREFIX = "access-control-"


@dataclass(frozen=True, slots=True)
class PreflightQuestion:
    """What a request asks of CORS: its `Origin`, and for a preflight the method and headers
    it announces (`Access-Control-Request-Method`, `Access-Control-Request-Headers`)."""

    origin: str | None
    method: str | None
    headers: tuple[str, ...]


def read_question(headers: Sequence[tuple[str, str]]) -> PreflightQuestion:
    """The CORS request headers, found in one pass over the request's headers."""
    origin: str | None = None
    method: str | None = None
    requested: list[str] = []
    for name, value in headers:
        key = name.lower()
        if not key.startswith(("origin", "access-control-request-")):
            continue
        if key == "origin":
            origin = value
        elif key == "access-control-request-method":
            method = value.strip()
        elif key == "access-control-request-headers":
            requested.extend(part.strip().lower() for part in value.split(",") if part.strip())
    return PreflightQuestion(origin, method, tuple(requested))


@dataclass(frozen=True)
class CorsPolicy:
    """An API's `CorsConfiguration`, compiled: membership tests are set look-ups and every
    response header value is built once."""

    any_origin: bool
    origins: frozenset[str]  # lower-cased exact origins
    origin_prefixes: tuple[str, ...]  # "https://", "http://"
    any_method: bool
    methods: frozenset[str]  # upper-cased
    any_header: bool
    headers: frozenset[str]  # lower-cased
    allow_credentials: bool
    allow_methods_value: str | None
    allow_headers_value: str | None
    expose_headers_value: str | None
    max_age_value: str | None

    @classmethod
    def compile(cls, configuration: Mapping[str, Any] | None) -> CorsPolicy | None:
        """The policy for a `GetApi` `CorsConfiguration` document; None when CORS is not
        configured (the API then leaves CORS to its integrations)."""
        if configuration is None:
            return None
        origins = _strings(configuration.get("AllowOrigins"))
        methods = _strings(configuration.get("AllowMethods"))
        headers = _strings(configuration.get("AllowHeaders"))
        expose = _strings(configuration.get("ExposeHeaders"))
        max_age = configuration.get("MaxAge")
        return cls(
            any_origin=WILDCARD in origins,
            origins=frozenset(origin.lower() for origin in origins),
            origin_prefixes=tuple(
                _SCHEME_WILDCARDS[origin.lower()]
                for origin in origins
                if origin.lower() in _SCHEME_WILDCARDS
            ),
            any_method=WILDCARD in methods,
            methods=frozenset(method.upper() for method in methods),
            any_header=WILDCARD in headers,
            headers=frozenset(header.lower() for header in headers),
            allow_credentials=configuration.get("AllowCredentials") is True,
            allow_methods_value=",".join(methods) or None,
            allow_headers_value=",".join(headers) or None,
            expose_headers_value=",".join(expose) or None,
            max_age_value=(str(max_age) if isinstance(max_age, int) and max_age >= 0 else None),
        )

    # -- preflight ------------------------------------------------------------------------

    def preflight(self, method: str, headers: Sequence[tuple[str, str]]) -> HttpResult | None:
        """The gateway's answer to a CORS preflight, or None when the request is not one (it
        is then routed like any other request)."""
        if method.upper() != "OPTIONS":
            return None
        question = read_question(headers)
        origin, requested_method = question.origin, question.method
        if origin is None or requested_method is None:
            return None
        if not self._allows(origin, requested_method, question.headers):
            return HttpResult(204)
        answer = {"access-control-allow-origin": self._allowed_origin_value(origin)}
        if self.allow_credentials:
            answer["access-control-allow-credentials"] = "true"
        if self.allow_methods_value is not None:
            answer["access-control-allow-methods"] = self.allow_methods_value
        if self.allow_headers_value is not None:
            answer["access-control-allow-headers"] = self.allow_headers_value
        if self.max_age_value is not None:
            answer["access-control-max-age"] = self.max_age_value
        return HttpResult(204, answer)

    def _allows(self, origin: str, method: str, headers: tuple[str, ...]) -> bool:
        return (
            self.allows_origin(origin)
            and (self.any_method or method.upper() in self.methods)
            and (self.any_header or all(name in self.headers for name in headers))
        )

    # -- actual responses -----------------------------------------------------------------

    def allows_origin(self, origin: str) -> bool:
        if self.any_origin:
            return True
        folded = origin.lower()
        return folded in self.origins or folded.startswith(self.origin_prefixes)

    def response_headers(self, origin: str | None) -> list[tuple[str, str]]:
        """The CORS headers an actual (non-preflight) response carries for a request from
        `origin`: none when the request has no `Origin` or the origin is not allowed."""
        if origin is None or not self.allows_origin(origin):
            return []
        headers = [("access-control-allow-origin", self._allowed_origin_value(origin))]
        if self.allow_credentials:
            headers.append(("access-control-allow-credentials", "true"))
        if self.expose_headers_value is not None:
            headers.append(("access-control-expose-headers", self.expose_headers_value))
        return headers

    def decorate(self, result: HttpResult, origin: str | None) -> HttpResult:
        """`result` as the client gets it: the integration's CORS headers dropped, the
        configured ones added."""
        added = self.response_headers(origin)
        if not added and not _has_cors_header(result.headers):
            return result
        headers = {
            name: value
            for name, value in result.headers.items()
            if not name.lower().startswith(_CORS_HEADER_PREFIX)
        }
        headers.update(added)
        return replace(result, headers=headers)

    def _allowed_origin_value(self, origin: str) -> str:
        # With credentials a browser refuses "*", so the origin itself is echoed then.
        if self.any_origin and not self.allow_credentials:
            return WILDCARD
        return origin


def request_origin(headers: Sequence[tuple[str, str]]) -> str | None:
    """The request's `Origin` header, if it has one."""
    for name, value in headers:
        if name.lower() == "origin":
            return value
    return None


def _strings(value: Any) -> list[str]:
    if not isinstance(value, Iterable) or isinstance(value, str | bytes):
        return []
    return [item.strip() for item in value if isinstance(item, str) and item.strip()]


def _has_cors_header(headers: Mapping[str, str]) -> bool:
    return any(name.lower().startswith(_CORS_HEADER_PREFIX) for name in headers)
