"""The event a Lambda REQUEST authorizer receives, in payload format 2.0 or 1.0.

    2.0: version, type, routeArn, identitySource [values], routeKey, rawPath, rawQueryString,
         cookies, headers, queryStringParameters, requestContext, pathParameters,
         stageVariables (empty members left out, as in the 2.0 integration event)
    1.0: the REST-style REQUEST event: version, type, methodArn, identitySource and
         authorizationToken (the values joined with ','), resource, path, httpMethod,
         headers, multiValueHeaders, queryStringParameters, multiValueQueryStringParameters,
         pathParameters, stageVariables, requestContext (the 1.0 one, `identity` included)

Neither carries the body.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import Any
from urllib.parse import parse_qsl

from portico.gateway.http_api.authorization import AuthRequest
from portico.gateway.http_events import EventContext, build_event, clf_time

Event = dict[str, Any]

_V2_REQUEST_MEMBERS = (
    "routeKey",
    "rawPath",
    "rawQueryString",
    "cookies",
    "headers",
    "queryStringParameters",
    "requestContext",
)


def event_v2(request: AuthRequest, identity: Sequence[str]) -> Event:
    context = EventContext(
        api_id=request.api_id,
        domain_name=request.domain_name,
        request_id=request.request_id,
        time_epoch_ms=request.time_epoch_ms,
        account_id=request.account_id,
        route_key=request.route_key,
        stage=request.stage,
    )
    proxy = build_event(replace(request.request, body=b""), context)  # no body to encode
    event: Event = {"version": "2.0", "type": "REQUEST", "routeArn": request.route_arn}
    if identity:
        event["identitySource"] = list(identity)
    event.update((name, proxy[name]) for name in _V2_REQUEST_MEMBERS if name in proxy)
    if request.path_parameters:
        event["pathParameters"] = dict(request.path_parameters)
    if request.stage_variables:
        event["stageVariables"] = dict(request.stage_variables)
    return event


def event_v1(request: AuthRequest, identity: Sequence[str]) -> Event:
    http = request.request
    headers, multi_headers = _last_and_all(http.headers, fold_case=True)
    query_items = parse_qsl(http.raw_query, keep_blank_values=True)
    query, multi_query = _last_and_all(query_items, fold_case=False)
    resource = resource_of(request.route_key)
    event: Event = {"version": "1.0", "type": "REQUEST", "methodArn": request.route_arn}
    if identity:
        event["identitySource"] = event["authorizationToken"] = ",".join(identity)
    event.update(
        {
            "resource": resource,
            "path": http.decoded_path,
            "httpMethod": http.method.upper(),
            "headers": headers,
            "multiValueHeaders": multi_headers,
            "queryStringParameters": query or None,
            "multiValueQueryStringParameters": multi_query or None,
            "pathParameters": dict(request.path_parameters) or None,
            "stageVariables": dict(request.stage_variables) or None,
            "requestContext": request_context_v1(request, resource, headers),
        }
    )
    return event


def resource_of(route_key: str) -> str:
    """`GET /pets/{id}` -> `/pets/{id}`; `$default` stays `$default`."""
    _method, space, path = route_key.partition(" ")
    return path if space else route_key


def request_context_v1(request: AuthRequest, resource: str, headers: dict[str, str]) -> Event:
    http = request.request
    user_agent = next((v for k, v in headers.items() if k.lower() == "user-agent"), "")
    return {
        "accountId": request.account_id,
        "apiId": request.api_id,
        "domainName": request.domain_name,
        "domainPrefix": request.domain_name.split(".", 1)[0],
        "extendedRequestId": request.request_id,
        "httpMethod": http.method.upper(),
        "identity": anonymous_identity(http.source_ip, user_agent),
        "path": http.decoded_path,
        "protocol": http.protocol,
        "requestId": request.request_id,
        "requestTime": clf_time(request.time_epoch_ms),
        "requestTimeEpoch": request.time_epoch_ms,
        "resourceId": None,
        "resourcePath": resource,
        "stage": request.stage,
    }


def anonymous_identity(source_ip: str, user_agent: str) -> Event:
    """`requestContext.identity` of a 1.0 event from a caller nobody has identified."""
    return {
        "accessKey": None,
        "accountId": None,
        "caller": None,
        "cognitoAuthenticationProvider": None,
        "cognitoAuthenticationType": None,
        "cognitoIdentityId": None,
        "cognitoIdentityPoolId": None,
        "principalOrgId": None,
        "sourceIp": source_ip,
        "user": None,
        "userAgent": user_agent,
        "userArn": None,
    }


def _last_and_all(
    items: Sequence[tuple[str, str]], *, fold_case: bool
) -> tuple[dict[str, str], dict[str, list[str]]]:
    """Single-value map (the last value of a repeated name) and multi-value map. With
    `fold_case` (headers), a name keeps the case it first arrived in and a repeat in other
    case joins it."""
    names: dict[str, str] = {}
    single: dict[str, str] = {}
    multi: dict[str, list[str]] = {}
    for name, value in items:
        key = names.setdefault(name.lower(), name) if fold_case else name
        single[key] = value
        multi.setdefault(key, []).append(value)
    return single, multi
