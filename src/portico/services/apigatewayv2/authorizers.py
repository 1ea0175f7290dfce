"""Authorizers: Create/Get/GetAuthorizers/Update/DeleteAuthorizer.

    JWT       JwtConfiguration {Issuer, Audience (50 at most)}; one identity source, the
              token's header or query string (`$request.header.Authorization`)
    REQUEST   a Lambda function (AuthorizerUri), AuthorizerPayloadFormatVersion 1.0 or 2.0,
              EnableSimpleResponses (2.0 only), AuthorizerResultTtlInSeconds 0-3600 (caching
              needs identity sources), IdentitySource `$request.header.X`,
              `$request.querystring.X`, `$context.X`, `$stageVariables.X`

JWT authorizers are for HTTP APIs only. An authorizer a route uses cannot be deleted.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from portico.aws.handler import Operation, RequestContext
from portico.services.apigatewayv2 import validation
from portico.services.apigatewayv2.children import get_child, get_children
from portico.services.apigatewayv2.deployments import Effects, redeploy
from portico.services.apigatewayv2.errors import BadRequestException, ConflictException
from portico.services.apigatewayv2.identifiers import AUTHORIZER_ID_LENGTH
from portico.services.apigatewayv2.integrations import check_credentials, is_lambda_uri
from portico.services.apigatewayv2.parameters import check_identity_sources
from portico.services.apigatewayv2.repository import (
    AUTHORIZERS,
    ROUTES,
    ApiRecord,
    Document,
    all_of,
    api_scope,
    find_api,
    find_authorizer,
    find_stage,
    wire,
)
from portico.services.apigatewayv2.service import Params, Result, Service, scope_of
from portico.store import RecordStore

AUTHORIZER_TYPES = ("REQUEST", "JWT")
PAYLOAD_FORMAT_VERSIONS = ("1.0", "2.0")
MAX_TTL = 3600
MAX_AUDIENCES = 50  # an HTTP API quota AWS does not raise
_JWT_IDENTITY = re.compile(r"^\$request\.(header|querystring)\.[^\s,]+$")
_ISSUER = re.compile(r"^https?://[^\s/?#]+[^\s]*$")
REQUEST_ONLY = (
    "AuthorizerUri",
    "AuthorizerPayloadFormatVersion",
    "AuthorizerCredentialsArn",
    "AuthorizerResultTtlInSeconds",
    "EnableSimpleResponses",
)
_MEMBERS = (
    "Name",
    "AuthorizerType",
    "IdentitySource",
    "JwtConfiguration",
    "IdentityValidationExpression",
    *REQUEST_ONLY,
)


def _given(params: Params) -> Document:
    return {member: params[member] for member in _MEMBERS if params.get(member) is not None}


def checked_authorizer(document: Document, *, websocket: bool) -> Document:
    """An authorizer's members, complete and checked, with AWS's defaults."""
    checked = dict(document)
    if not validation.bounded(checked, "Name", 128):
        raise BadRequestException("Name is required.")
    kind = validation.choice(checked, "AuthorizerType", AUTHORIZER_TYPES, "authorizer type")
    if kind is None:
        raise BadRequestException("AuthorizerType is required.")
    sources = validation.strings(checked, "IdentitySource") or []
    validation.string(checked, "IdentityValidationExpression", max_length=1024)
    if kind == "JWT":
        if websocket:
            raise BadRequestException("JWT authorizers are supported only for HTTP APIs.")
        _check_jwt(checked, sources)
    elif websocket:
        _check_websocket_request(checked, sources)
    else:
        _check_request(checked, sources)
    return checked


def _check_jwt(checked: Document, sources: list[str]) -> None:
    for member in REQUEST_ONLY:
        if checked.get(member) is not None:
            raise BadRequestException(f"{member} is supported only for REQUEST authorizers.")
    if len(sources) != 1 or not _JWT_IDENTITY.match(sources[0]):
        raise BadRequestException(
            "A JWT authorizer takes exactly one identity source: the header or query string "
            "that carries the token, for example $request.header.Authorization."
        )
    configuration = validation.structure(checked, "JwtConfiguration")
    if configuration is None:
        raise BadRequestException("JwtConfiguration is required for the JWT authorizer type.")
    issuer = validation.string(configuration, "Issuer", max_length=2048)
    if not issuer or not _ISSUER.match(issuer):
        raise BadRequestException(
            f"Invalid issuer specified: {issuer}. Issuer must be the URL of the identity "
            "provider that issues the tokens."
        )
    audience = validation.strings(configuration, "Audience") or []
    if len(audience) > MAX_AUDIENCES:
        raise BadRequestException(
            f"A JWT authorizer may have at most {MAX_AUDIENCES} audiences, not {len(audience)}."
        )
    checked["JwtConfiguration"] = {"Audience": audience, "Issuer": issuer}


def _check_request(checked: Document, sources: list[str]) -> None:
    if checked.get("JwtConfiguration") is not None:
        raise BadRequestException("JwtConfiguration is supported only for JWT authorizers.")
    uri = validation.bounded(checked, "AuthorizerUri", 2048)
    if uri is None or not is_lambda_uri(uri):
        raise BadRequestException(
            f"Invalid authorizer URI specified: {uri}. A REQUEST authorizer takes the "
            "invocation URI of a Lambda function."
        )
    check_credentials(validation.string(checked, "AuthorizerCredentialsArn", max_length=2048))
    version = validation.choice(
        checked,
        "AuthorizerPayloadFormatVersion",
        PAYLOAD_FORMAT_VERSIONS,
        "authorizer payload format version",
    )
    if version is None:
        raise BadRequestException(
            "AuthorizerPayloadFormatVersion is required for REQUEST authorizers of HTTP APIs. "
            "Supported values are 1.0 and 2.0."
        )
    simple = bool(validation.boolean(checked, "EnableSimpleResponses"))
    if simple and version != "2.0":
        raise BadRequestException(
            "EnableSimpleResponses is supported only for authorizer payload format version 2.0."
        )
    checked["EnableSimpleResponses"] = simple
    ttl = validation.integer(checked, "AuthorizerResultTtlInSeconds", 0, MAX_TTL) or 0
    checked["AuthorizerResultTtlInSeconds"] = ttl
    if ttl > 0 and not sources:
        raise BadRequestException(
            "Identity sources are required when authorizer caching is enabled "
            "(AuthorizerResultTtlInSeconds greater than 0)."
        )
    check_identity_sources(sources)
    checked["IdentitySource"] = sources


def _check_websocket_request(checked: Document, sources: list[str]) -> None:
    uri = validation.bounded(checked, "AuthorizerUri", 2048)
    if uri is None or not is_lambda_uri(uri):
        raise BadRequestException(f"Invalid authorizer URI specified: {uri}")
    check_credentials(validation.string(checked, "AuthorizerCredentialsArn", max_length=2048))
    check_identity_sources(sources, websocket=True)


def _routes_using(records: RecordStore, api_id: str, authorizer_id: str) -> list[Document]:
    return [
        route
        for route in all_of(ROUTES, records, api_id)
        if route.get("AuthorizerId") == authorizer_id
    ]


class AuthorizerOperations:
    def __init__(self, service: Service) -> None:
        self._service = service

    def operations(self) -> Mapping[str, Operation]:
        return {
            "CreateAuthorizer": self.create_authorizer,
            "GetAuthorizer": self.get_authorizer,
            "GetAuthorizers": self.get_authorizers,
            "UpdateAuthorizer": self.update_authorizer,
            "DeleteAuthorizer": self.delete_authorizer,
            "ResetAuthorizersCache": self.reset_authorizers_cache,
        }

    def _redeploy(self, records: RecordStore, api: ApiRecord, effects: Effects) -> None:
        redeploy(records, api, self._service.now(), self._service.new_id, effects)

    async def create_authorizer(self, context: RequestContext, params: Params) -> Result:
        scope = scope_of(context)
        api_id = validation.required(params, "ApiId")
        given = _given(params)

        def work(records: RecordStore, effects: Effects) -> Document:
            api = find_api(records, scope, api_id)
            return self.add(records, api, given, effects)

        return wire(await self._service.write(work))

    def add(
        self, records: RecordStore, api: ApiRecord, given: Document, effects: Effects
    ) -> Document:
        document = checked_authorizer(given, websocket=not api.is_http)
        authorizer_id = self._service.new_id(AUTHORIZER_ID_LENGTH)
        document["AuthorizerId"] = authorizer_id
        AUTHORIZERS.create(records, api_scope(api.api_id), authorizer_id, document)
        self._redeploy(records, api, effects)
        return document

    async def get_authorizer(self, context: RequestContext, params: Params) -> Result:
        return await get_child(self._service, context, params, "AuthorizerId", find_authorizer)

    async def get_authorizers(self, context: RequestContext, params: Params) -> Result:
        return await get_children(self._service, context, params, AUTHORIZERS, "AuthorizerId")

    async def update_authorizer(self, context: RequestContext, params: Params) -> Result:
        scope = scope_of(context)
        api_id = validation.required(params, "ApiId")
        authorizer_id = validation.required(params, "AuthorizerId")
        given = _given(params)

        def work(records: RecordStore, effects: Effects) -> Document:
            api = find_api(records, scope, api_id)
            existing = find_authorizer(records, api_id, authorizer_id)
            if "AuthorizerType" in given and given["AuthorizerType"] != existing["AuthorizerType"]:
                raise BadRequestException("The type of an authorizer cannot be changed.")
            document = checked_authorizer({**existing, **given}, websocket=not api.is_http)
            AUTHORIZERS.put(records, api_scope(api_id), authorizer_id, document)
            self._redeploy(records, api, effects)
            return document

        return wire(await self._service.write(work))

    async def delete_authorizer(self, context: RequestContext, params: Params) -> Result:
        scope = scope_of(context)
        api_id = validation.required(params, "ApiId")
        authorizer_id = validation.required(params, "AuthorizerId")

        def work(records: RecordStore, effects: Effects) -> None:
            api = find_api(records, scope, api_id)
            authorizer = find_authorizer(records, api_id, authorizer_id)
            users = _routes_using(records, api_id, authorizer_id)
            if users:
                raise ConflictException(
                    f"Cannot delete authorizer '{authorizer['Name']}', is referenced in route: "
                    f"{users[0]['RouteKey']}"
                )
            AUTHORIZERS.delete(records, api_scope(api_id), authorizer_id)
            self._redeploy(records, api, effects)

        await self._service.write(work)
        return {}

    async def reset_authorizers_cache(self, context: RequestContext, params: Params) -> Result:
        """Answered once the stage exists: the control plane caches no authorizer results."""
        scope = scope_of(context)
        api_id = validation.required(params, "ApiId")
        stage_name = validation.required(params, "StageName")

        def work(records: RecordStore) -> None:
            find_api(records, scope, api_id)
            find_stage(records, api_id, stage_name)

        await self._service.read(work)
        return {}
