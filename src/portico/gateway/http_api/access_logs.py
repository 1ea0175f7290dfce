"""Access logs of HTTP API stages: `AccessLogSettings.Format`, one line a request.

The rules followed are those of the developer guide's pages on logging for HTTP APIs and on
customizing HTTP API access logs:

- The format is free text in which `$context.<variable>` names are replaced by the request's
  values (the guide's CLF, JSON, XML and CSV examples are all such text).
- A variable with no value for the request renders `-`.
- `$context.extendedRequestId` is the request id; `$context.integration.error`,
  `.latency`, `.status`, `.requestId` and `.integrationStatus` equal
  `$context.integrationErrorMessage`, `$context.integrationLatency`,
  `$context.integrationStatus` (as the function answered), `$context.awsEndpointRequestId`
  and the Lambda service's own status; `$context.error.messageString` is the error message
  in double quotes.
- `$context.authorizer.claims.<name>` is a JWT claim, `$context.authorizer.<name>` a key of a
  Lambda authorizer's `context` (booleans render `true` / `false`).
- `$context.requestTime` is in Common Log Format; `$context.requestTimeEpoch` is in seconds
  for HTTP APIs (the 2.0 event's `timeEpoch`, by contrast, is in milliseconds).

Values are written as they are, unescaped, as the gateway does: a double quote in a user agent
makes a JSON-looking format invalid JSON.

`${context.<variable>}` is read too (the braced form parameter mapping accepts), which also
allows names a bare variable cannot hold, such as a `cognito:username` claim. A name that is
no variable renders `-`; `unknown` lists such names for whoever validates the format.

    log_format = AccessLogFormat.compile(stage["AccessLogSettings"]["Format"])  # once
    line = log_format.render(AccessRecord(...))                                 # per request
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from portico.gateway.http_events import IamCaller, clf_time

MISSING = "-"
_VARIABLE = re.compile(
    r"\$\{context\.(?P<braced>[^}]+)\}|\$context\.(?P<bare>[A-Za-z0-9_]+(?:\.[A-Za-z0-9_]+)*)"
)


@dataclass(frozen=True, slots=True)
class AccessRecord:
    """What the gateway knows of one request once it has answered it."""

    request_id: str
    api_id: str
    account_id: str
    stage: str
    domain_name: str
    http_method: str
    path: str  # as requested, stage included: /{stage}/root/child
    protocol: str
    route_key: str | None  # None when no route matched
    status: int
    request_time_epoch_ms: int
    response_length: int | None = None
    response_latency_ms: int | None = None
    source_ip: str | None = None
    user_agent: str | None = None
    integration_status: int | None = None  # what the integration answered (the function's)
    integration_service_status: int | None = None  # the Lambda service's own answer
    integration_latency_ms: int | None = None
    integration_request_id: str | None = None
    integration_error: str | None = None
    error_message: str | None = None
    error_response_type: str | None = None
    authorizer_error: str | None = None
    authorizer_principal_id: str | None = None
    authorizer_claims: Mapping[str, Any] | None = None  # JWT authorizer
    authorizer_context: Mapping[str, Any] | None = None  # Lambda authorizer
    caller: IamCaller | None = None  # AWS_IAM authorization
    base_path_matched: str | None = None  # custom domain API mapping key
    data_processed: int | None = None


Getter = Callable[[AccessRecord], object]


def _caller(read: Callable[[IamCaller], str]) -> Getter:
    return lambda record: None if record.caller is None else read(record.caller)


def _quoted(message: str | None) -> str | None:
    return None if message is None else f'"{message}"'


_VARIABLES: dict[str, Getter] = {
    "accountId": lambda r: r.account_id,
    "apiId": lambda r: r.api_id,
    "authorizer.error": lambda r: r.authorizer_error,
    "authorizer.principalId": lambda r: r.authorizer_principal_id,
    "awsEndpointRequestId": lambda r: r.integration_request_id,
    "customDomain.basePathMatched": lambda r: r.base_path_matched,
    "dataProcessed": lambda r: r.data_processed,
    "domainName": lambda r: r.domain_name,
    "domainPrefix": lambda r: r.domain_name.split(".", 1)[0],
    "error.message": lambda r: r.error_message,
    "error.messageString": lambda r: _quoted(r.error_message),
    "error.responseType": lambda r: r.error_response_type,
    "extendedRequestId": lambda r: r.request_id,
    "httpMethod": lambda r: r.http_method,
    "identity.accountId": _caller(lambda c: c.account_id),
    "identity.caller": _caller(lambda c: c.caller_id),
    "identity.sourceIp": lambda r: r.source_ip,
    "identity.user": _caller(lambda c: c.user_id),
    "identity.userAgent": lambda r: r.user_agent,
    "identity.userArn": _caller(lambda c: c.user_arn),
    "integration.error": lambda r: r.integration_error,
    "integration.integrationStatus": lambda r: r.integration_service_status,
    "integration.latency": lambda r: r.integration_latency_ms,
    "integration.requestId": lambda r: r.integration_request_id,
    "integration.status": lambda r: r.integration_status,
    "integrationErrorMessage": lambda r: r.integration_error,
    "integrationLatency": lambda r: r.integration_latency_ms,
    "integrationStatus": lambda r: r.integration_service_status,
    "path": lambda r: r.path,
    "protocol": lambda r: r.protocol,
    "requestId": lambda r: r.request_id,
    "requestTime": lambda r: clf_time(r.request_time_epoch_ms),
    "requestTimeEpoch": lambda r: r.request_time_epoch_ms // 1000,
    "responseLatency": lambda r: r.response_latency_ms,
    "responseLength": lambda r: r.response_length,
    "routeKey": lambda r: r.route_key,
    "stage": lambda r: r.stage,
    "status": lambda r: r.status,
}
# Documented, but about what Portico never has (Cognito identities, mutual TLS, other AWS
# endpoints' second request id): always `-`.
_ALWAYS_MISSING = frozenset(
    {
        "awsEndpointRequestId2",
        "identity.cognitoAuthenticationProvider",
        "identity.cognitoAuthenticationType",
        "identity.cognitoIdentityId",
        "identity.cognitoIdentityPoolId",
        "identity.principalOrgId",
        "identity.clientCert.clientCertPem",
        "identity.clientCert.subjectDN",
        "identity.clientCert.issuerDN",
        "identity.clientCert.serialNumber",
        "identity.clientCert.validity.notBefore",
        "identity.clientCert.validity.notAfter",
    }
)
_CLAIMS = "authorizer.claims."
_AUTHORIZER = "authorizer."


def _nothing(record: AccessRecord) -> None:
    return None


def variable(name: str) -> Getter | None:
    """How to read `$context.<name>` off a record; None when `name` is no variable."""
    known = _VARIABLES.get(name)
    if known is not None:
        return known
    if name in _ALWAYS_MISSING or name == "authorizer.claims":  # documented to give null
        return _nothing
    if name.startswith(_CLAIMS) and len(name) > len(_CLAIMS):
        claim = name[len(_CLAIMS) :]
        return lambda r: None if r.authorizer_claims is None else r.authorizer_claims.get(claim)
    if name.startswith(_AUTHORIZER):
        key = name[len(_AUTHORIZER) :]
        return lambda r: None if r.authorizer_context is None else r.authorizer_context.get(key)
    return None


def text(value: object) -> str:
    """A variable's value as the log shows it."""
    if value is None or value == "":
        return MISSING
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    return json.dumps(value, separators=(",", ":"), default=str)


class AccessLogFormat:
    """A compiled format: literal text and variable readers, alternating."""

    __slots__ = ("_parts", "_tail", "unknown")

    def __init__(
        self, parts: tuple[tuple[str, Getter], ...], tail: str, unknown: tuple[str, ...]
    ) -> None:
        self._parts = parts
        self._tail = tail
        self.unknown = unknown

    @classmethod
    def compile(cls, log_format: str) -> AccessLogFormat:
        parts: list[tuple[str, Getter]] = []
        unknown: list[str] = []
        position = 0
        for found in _VARIABLE.finditer(log_format):
            name = found.group("braced") or found.group("bare")
            getter = variable(name)
            if getter is None:
                unknown.append(name)
                getter = _nothing
            parts.append((log_format[position : found.start()], getter))
            position = found.end()
        return cls(tuple(parts), log_format[position:], tuple(unknown))

    def render(self, record: AccessRecord) -> str:
        pieces: list[str] = []
        for literal, getter in self._parts:
            pieces.append(literal)
            pieces.append(text(getter(record)))
        pieces.append(self._tail)
        return "".join(pieces)


class ContextVariables(Mapping[str, str]):
    """A record's `$context` variables by name, read when asked for (parameter mapping reads
    `$context.<name>` through this). Variables with no value are absent."""

    __slots__ = ("_record",)

    def __init__(self, record: AccessRecord) -> None:
        self._record = record

    def __getitem__(self, name: str) -> str:
        getter = variable(name)
        value = None if getter is None else getter(self._record)
        if value is None or value == "":
            raise KeyError(name)
        return text(value)

    def __iter__(self) -> Iterator[str]:
        return (name for name in _VARIABLES if name in self)

    def __len__(self) -> int:
        return sum(1 for _ in self)
