"""Identity sources: where in a request an authorizer finds what it needs.

    $request.header.Authorization    header, name case-insensitive, repeats joined with ','
    $request.querystring.token       query parameter, name case-sensitive, repeats joined
    $context.requestId               a context variable of the request
    $stageVariables.tenant           a stage variable

A source whose value is absent or empty means the request lacks it (API Gateway then answers
401 without running the authorizer).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Literal

from portico.gateway.http_api.authorization import AuthRequest
from portico.gateway.http_events import clf_time, query_parameters

Location = Literal["header", "querystring", "context", "stageVariables"]

_PREFIXES: tuple[tuple[str, Location], ...] = (
    ("$request.header.", "header"),
    ("$request.querystring.", "querystring"),
    ("$context.", "context"),
    ("$stageVariables.", "stageVariables"),
)


@dataclass(frozen=True, slots=True)
class IdentitySource:
    location: Location
    name: str

    @classmethod
    def parse(cls, expression: str) -> IdentitySource:
        text = expression.strip()
        for prefix, location in _PREFIXES:
            if text.startswith(prefix) and len(text) > len(prefix):
                return cls(location, text[len(prefix) :])
        allowed = ", ".join(f"{prefix}<name>" for prefix, _ in _PREFIXES)
        raise ValueError(f"identity source must be one of {allowed}; got {expression!r}")

    def value(self, request: AuthRequest) -> str | None:
        """This source's value in `request`; None when absent or empty."""
        found = _READERS[self.location](request, self.name)
        return found or None


def parse_sources(expressions: Iterable[str]) -> tuple[IdentitySource, ...]:
    """Sources from `IdentitySource` entries (one per entry, or comma-separated in one)."""
    return tuple(
        IdentitySource.parse(part)
        for expression in expressions
        for part in expression.split(",")
        if part.strip()
    )


def values(sources: Sequence[IdentitySource], request: AuthRequest) -> list[str] | None:
    """Every source's value, in order; None as soon as one is missing."""
    found: list[str] = []
    for source in sources:
        value = source.value(request)
        if value is None:
            return None
        found.append(value)
    return found


def _header(request: AuthRequest, name: str) -> str | None:
    wanted = name.lower()
    matching = [value for key, value in request.request.headers if key.lower() == wanted]
    return ",".join(matching) if matching else None


def _querystring(request: AuthRequest, name: str) -> str | None:
    return query_parameters(request.request.raw_query).get(name)


def _stage_variable(request: AuthRequest, name: str) -> str | None:
    return request.stage_variables.get(name)


def _context(request: AuthRequest, name: str) -> str | None:
    variable = _CONTEXT_VARIABLES.get(name)
    return None if variable is None else variable(request)


def _user_agent(request: AuthRequest) -> str:
    return _header(request, "user-agent") or ""


_CONTEXT_VARIABLES: dict[str, Callable[[AuthRequest], str]] = {
    "accountId": lambda request: request.account_id,
    "apiId": lambda request: request.api_id,
    "domainName": lambda request: request.domain_name,
    "domainPrefix": lambda request: request.domain_name.split(".", 1)[0],
    "extendedRequestId": lambda request: request.request_id,
    "httpMethod": lambda request: request.request.method.upper(),
    "identity.sourceIp": lambda request: request.request.source_ip,
    "identity.userAgent": _user_agent,
    "path": lambda request: request.request.decoded_path,
    "protocol": lambda request: request.request.protocol,
    "requestId": lambda request: request.request_id,
    "requestTime": lambda request: clf_time(request.time_epoch_ms),
    "requestTimeEpoch": lambda request: str(request.time_epoch_ms),
    "routeKey": lambda request: request.route_key,
    "stage": lambda request: request.stage,
}

_READERS: dict[Location, Callable[[AuthRequest, str], str | None]] = {
    "header": _header,
    "querystring": _querystring,
    "context": _context,
    "stageVariables": _stage_variable,
}
