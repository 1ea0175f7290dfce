"""Payload format version 1.0 of HTTP API Lambda integrations: the event, and the function's
answer as an HTTP response.

The rules followed are those of the developer guide's page on Lambda proxy integrations for
HTTP APIs (its 1.0 event example and "Lambda function response for format 1.0") and of the
REST API page on the proxy integration's input and output formats, which 1.0 shares:

- The event has `version` "1.0", `resource`, `path`, `httpMethod`, `headers`,
  `multiValueHeaders`, `queryStringParameters`, `multiValueQueryStringParameters`,
  `requestContext`, `pathParameters`, `stageVariables`, `body` and `isBase64Encoded`.
  Members with nothing in them are null, not absent: a request without a query string has
  `"queryStringParameters": null`, a route without path parameters `"pathParameters": null`,
  a stage without variables `"stageVariables": null`, an empty body `"body": null`.
- Header names are lower-cased. `multiValueHeaders` and `multiValueQueryStringParameters` keep
  every value in order; `headers` and `queryStringParameters` keep the last one. The `Cookie`
  header stays a header (1.0 has no `cookies`).
- `requestContext.identity` lists every identity member, null unless an AWS_IAM caller signed
  the request; `resourceId` is null; `extendedRequestId` is the request id. With no authorizer,
  `authorizer` is `{"claims": null, "scopes": null}`, as in the guide's example.
- `path` and `requestContext.path` are the path as requested (a named stage included, as HTTP
  APIs send it); `resource` and `resourcePath` are the route's path, or the request's path for
  the `$default` route.
- The response is `{"statusCode", "headers", "multiValueHeaders", "body", "isBase64Encoded"}`:
  `statusCode` is required (1.0 infers nothing, unlike 2.0); `headers` and `multiValueHeaders`
  are merged, and where both name a header, `multiValueHeaders`' values win.
- An answer in any other shape, like a function error, is answered `500` with
  `{"message":"Internal Server Error"}`, as HTTP APIs do.

A response header given several values is sent once, its values joined with ", " (the
`HttpResult` carries one value a header), except `Set-Cookie`, sent once per cookie.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

from portico.gateway import payloads
from portico.gateway.http_api import responses
from portico.gateway.http_events import (
    Event,
    HttpRequest,
    HttpResult,
    IamCaller,
    clf_time,
    encode_body,
    response_headers,
    scalar_text,
    status_code,
)

DEFAULT_ROUTE = "$default"
_NO_AUTHORIZER: Mapping[str, Any] = {"claims": None, "scopes": None}


@dataclass(frozen=True)
class V1Context:
    """What the gateway knows of a request beyond the request itself."""

    api_id: str
    stage: str
    request_id: str
    time_epoch_ms: int
    domain_name: str
    account_id: str
    resource_path: str  # see `resource_path()`
    path_parameters: Mapping[str, str] = field(default_factory=dict)
    stage_variables: Mapping[str, str] = field(default_factory=dict)
    authorizer: Mapping[str, Any] | None = None  # the authorizer's 1.0 context (Granted)
    caller: IamCaller | None = None  # who signed the request, on AWS_IAM routes


def resource_path(route_key: str, path: str) -> str:
    """`resource` for a request to `route_key`: `GET /pets/{id}` gives `/pets/{id}`; the
    `$default` route gives the request's `path`."""
    if route_key == DEFAULT_ROUTE:
        return path
    return route_key.split(" ", 1)[-1]


def build_v1_event(request: HttpRequest, context: V1Context) -> Event:
    headers, multi_headers = _headers(request)
    query, multi_query = _query(request.raw_query)
    path = request.decoded_path
    body, encoded = encode_body(request.body, headers.get("content-type"))
    return {
        "version": "1.0",
        "resource": context.resource_path,
        "path": path,
        "httpMethod": request.method.upper(),
        "headers": headers,
        "multiValueHeaders": multi_headers,
        "queryStringParameters": query,
        "multiValueQueryStringParameters": multi_query,
        "requestContext": _request_context(request, context, path, headers),
        "pathParameters": dict(context.path_parameters) or None,
        "stageVariables": dict(context.stage_variables) or None,
        "body": body,
        "isBase64Encoded": encoded,
    }


def _headers(request: HttpRequest) -> tuple[dict[str, str], dict[str, list[str]]]:
    single: dict[str, str] = {}
    multi: dict[str, list[str]] = {}
    for name, value in request.headers:
        key = name.lower()
        single[key] = value
        multi.setdefault(key, []).append(value)
    return single, multi


def _query(raw_query: str) -> tuple[dict[str, str] | None, dict[str, list[str]] | None]:
    if not raw_query:
        return None, None
    single: dict[str, str] = {}
    multi: dict[str, list[str]] = {}
    for key, value in parse_qsl(raw_query, keep_blank_values=True):
        single[key] = value
        multi.setdefault(key, []).append(value)
    return (single or None), (multi or None)


def _request_context(
    request: HttpRequest, context: V1Context, path: str, headers: Mapping[str, str]
) -> Event:
    authorizer = _NO_AUTHORIZER if context.authorizer is None else context.authorizer
    return {
        "accountId": context.account_id,
        "apiId": context.api_id,
        "authorizer": dict(authorizer),
        "domainName": context.domain_name,
        "domainPrefix": context.domain_name.split(".", 1)[0],
        "extendedRequestId": context.request_id,
        "httpMethod": request.method.upper(),
        "identity": _identity(request, context.caller, headers),
        "path": path,
        "protocol": request.protocol,
        "requestId": context.request_id,
        "requestTime": clf_time(context.time_epoch_ms),
        "requestTimeEpoch": context.time_epoch_ms,
        "resourceId": None,
        "resourcePath": context.resource_path,
        "stage": context.stage,
    }


def _identity(request: HttpRequest, caller: IamCaller | None, headers: Mapping[str, str]) -> Event:
    return {
        "accessKey": caller.access_key if caller else None,
        "accountId": caller.account_id if caller else None,
        "caller": caller.caller_id if caller else None,
        "cognitoAuthenticationProvider": None,
        "cognitoAuthenticationType": None,
        "cognitoIdentityId": None,
        "cognitoIdentityPoolId": None,
        "principalOrgId": None,
        "sourceIp": request.source_ip,
        "user": caller.user_id if caller else None,
        "userAgent": headers.get("user-agent", ""),
        "userArn": caller.user_arn if caller else None,
    }


# -- responses --------------------------------------------------------------------------------


def internal_server_error() -> HttpResult:
    """What the client gets when the function failed or answered something unusable."""
    return responses.INTERNAL_SERVER_ERROR


class _Malformed(Exception):
    """The function's answer is not a 1.0 response."""


def map_v1_result(payload: bytes, failed: bool = False) -> HttpResult:
    """The HTTP response for a function's answer to a 1.0 event."""
    if failed:
        return internal_server_error()
    try:
        document = payloads.decode(payload)
    except ValueError:
        return internal_server_error()
    if not isinstance(document, dict):
        return internal_server_error()
    try:
        return _response(document)
    except _Malformed:
        return internal_server_error()


def _response(document: dict[str, Any]) -> HttpResult:
    status = _status(document.get("statusCode"))
    values = _header_values(document.get("headers"), document.get("multiValueHeaders"))
    cookies = tuple(values.pop("set-cookie", ()))
    headers = {"content-type": "application/json"}
    headers.update((name, ", ".join(items)) for name, items in values.items())
    sendable = response_headers(headers, cookies)
    if sendable is None:
        raise _Malformed
    body = _body(document.get("body"), document.get("isBase64Encoded"))
    return HttpResult(status, sendable, cookies, body)


def _status(value: Any) -> int:
    status = status_code(value)
    if status is None:
        raise _Malformed
    return status


def _header_values(single: Any, multi: Any) -> dict[str, list[str]]:
    """Header values by lower-cased name; a name in `multi` takes only `multi`'s values."""
    values: dict[str, list[str]] = {}
    for name, value in _members(single):
        text = _scalar(value)
        if text is not None:
            values[name.lower()] = [text]
    overridden: set[str] = set()
    for name, items in _members(multi):
        key = name.lower()
        if key not in overridden:
            values[key] = []
            overridden.add(key)
        for item in items if isinstance(items, list) else [items]:
            text = _scalar(item)
            if text is not None:
                values[key].append(text)
    return {name: items for name, items in values.items() if items}


def _members(value: Any) -> list[tuple[str, Any]]:
    if value is None:
        return []
    if not isinstance(value, dict):
        raise _Malformed
    return [(str(name), item) for name, item in value.items()]


def _scalar(value: Any) -> str | None:
    try:
        return scalar_text(value)
    except ValueError:
        raise _Malformed from None


def _body(body: Any, encoded: Any) -> bytes:
    if body is None:
        return b""
    if not isinstance(body, str):
        raise _Malformed
    if encoded is not True:
        return body.encode()
    try:
        return base64.b64decode(body, validate=True)
    except (ValueError, binascii.Error):
        raise _Malformed from None
