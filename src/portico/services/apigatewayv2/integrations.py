"""Integrations: Create/Get/GetIntegrations/Update/DeleteIntegration.

HTTP APIs take two kinds, checked as AWS checks them:

    AWS_PROXY   IntegrationUri a Lambda function ARN or the apigateway invocation URI,
                PayloadFormatVersion 1.0 or 2.0 (required), IntegrationMethod POST
    HTTP_PROXY  IntegrationUri an http(s) URL, IntegrationMethod required,
                PayloadFormatVersion 1.0

WebSocket APIs keep what they are given. An API has at most 300 integrations (a quota AWS
does not raise). An integration that a route targets cannot be deleted; every change
redeploys the API's AutoDeploy stages.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from portico.aws.handler import Operation, RequestContext
from portico.gateway.http_api.targets import lambda_target
from portico.services.apigatewayv2 import validation
from portico.services.apigatewayv2.children import get_child, get_children
from portico.services.apigatewayv2.deployments import Effects, redeploy
from portico.services.apigatewayv2.errors import (
    BadRequestException,
    ConflictException,
    limit_reached,
    vpc_link_not_found,
)
from portico.services.apigatewayv2.identifiers import INTEGRATION_ID_LENGTH
from portico.services.apigatewayv2.parameters import (
    check_request_parameters,
    check_response_parameters,
)
from portico.services.apigatewayv2.repository import (
    INTEGRATIONS,
    ROUTES,
    ApiRecord,
    Document,
    all_of,
    api_scope,
    find_api,
    find_integration,
    wire,
)
from portico.services.apigatewayv2.route_keys import METHODS
from portico.services.apigatewayv2.service import Params, Result, Service, scope_of
from portico.store import RecordStore

INTEGRATION_TYPES = ("AWS", "AWS_PROXY", "HTTP", "HTTP_PROXY", "MOCK")
HTTP_INTEGRATION_TYPES = ("AWS_PROXY", "HTTP_PROXY")
CONNECTION_TYPES = ("INTERNET", "VPC_LINK")
PAYLOAD_FORMAT_VERSIONS = ("1.0", "2.0")
CONTENT_HANDLING = ("CONVERT_TO_BINARY", "CONVERT_TO_TEXT")
PASSTHROUGH = ("WHEN_NO_MATCH", "NEVER", "WHEN_NO_TEMPLATES")
HTTP_TIMEOUT_MS = 30_000
WEBSOCKET_TIMEOUT_MS = 29_000
MIN_TIMEOUT_MS = 50
TARGET_PREFIX = "integrations/"
MAX_INTEGRATIONS = 300  # per API

_HTTP_URI = re.compile(r"^https?://[^\s/?#]+[^\s]*$")
_STAGE_VARIABLE = "${stageVariables."
_CREDENTIALS = re.compile(r"^arn:aws[a-z-]*:iam::(\d{12}|\*):(role|user)/.+$")
INVALID_HTTP_URI = "Invalid HTTP endpoint specified for URI"
INVALID_ARN = "Invalid ARN specified in the request"
_COMMON = ("Description", "CredentialsArn", "IntegrationSubtype", "TlsConfig")
_WEBSOCKET_ONLY = (
    "ContentHandlingStrategy",
    "PassthroughBehavior",
    "RequestTemplates",
    "TemplateSelectionExpression",
)


def target_of(integration_id: str) -> str:
    return f"{TARGET_PREFIX}{integration_id}"


def integration_id_of(target: str | None) -> str | None:
    if target is None or not target.startswith(TARGET_PREFIX):
        return None
    return target[len(TARGET_PREFIX) :]


def is_lambda_uri(uri: str) -> bool:
    """A function ARN or invocation URI; stage variables may stand for parts of it."""
    if lambda_target(uri) is not None:
        return True
    return _STAGE_VARIABLE in uri and uri.startswith(("arn:aws:lambda:", "arn:aws:apigateway:"))


def is_http_uri(uri: str) -> bool:
    return bool(_HTTP_URI.match(uri)) or (
        _STAGE_VARIABLE in uri and uri.startswith(("http://", "https://"))
    )


def check_credentials(arn: str | None) -> None:
    if arn is not None and not _CREDENTIALS.match(arn):
        raise BadRequestException(INVALID_ARN)


def quick_integration(target: str, credentials: str | None) -> Document:
    """The integration quick create makes of `Target`: AWS_PROXY (2.0) for a function,
    HTTP_PROXY (ANY) for a URL."""
    check_credentials(credentials)
    if is_lambda_uri(target):
        document: Document = {
            "IntegrationType": "AWS_PROXY",
            "IntegrationMethod": "POST",
            "PayloadFormatVersion": "2.0",
        }
    elif is_http_uri(target):
        document = {
            "IntegrationType": "HTTP_PROXY",
            "IntegrationMethod": "ANY",
            "PayloadFormatVersion": "1.0",
        }
    else:
        raise BadRequestException(f"Invalid target specified: {target}")
    document.update(
        ConnectionType="INTERNET",
        IntegrationUri=target,
        TimeoutInMillis=HTTP_TIMEOUT_MS,
        ApiGatewayManaged=True,
    )
    if credentials is not None:
        document["CredentialsArn"] = credentials
    return document


def checked_integration(document: Document, *, websocket: bool) -> Document:
    """`document` (the members of a Create or Update, merged onto the integration) complete
    and valid, with AWS's defaults filled in."""
    kind = validation.choice(document, "IntegrationType", INTEGRATION_TYPES, "integration type")
    if kind is None:
        raise BadRequestException("IntegrationType is required.")
    checked = dict(document)
    validation.string(document, "Description", max_length=1024)
    check_credentials(validation.string(document, "CredentialsArn", max_length=2048))
    connection = validation.choice(document, "ConnectionType", CONNECTION_TYPES, "connection type")
    checked["ConnectionType"] = connection or "INTERNET"
    if connection != "VPC_LINK":
        checked.pop("ConnectionId", None)
    else:
        link = validation.string(document, "ConnectionId", max_length=1024)
        if not link:
            raise BadRequestException("ConnectionId is required for the VPC_LINK connection type.")
        raise vpc_link_not_found(link)
    if websocket:
        _check_websocket(checked, kind)
    else:
        _check_http(checked, kind)
    return checked


def _check_http(checked: Document, kind: str) -> None:
    if kind not in HTTP_INTEGRATION_TYPES:
        raise BadRequestException(
            f"Unsupported integration type {kind} for HTTP APIs. Must be one of "
            f"[{', '.join(HTTP_INTEGRATION_TYPES)}]"
        )
    for member in _WEBSOCKET_ONLY:
        if checked.get(member) is not None:
            raise BadRequestException(f"{member} is supported only for WebSocket APIs.")
    timeout = validation.integer(checked, "TimeoutInMillis", MIN_TIMEOUT_MS, HTTP_TIMEOUT_MS)
    checked["TimeoutInMillis"] = HTTP_TIMEOUT_MS if timeout is None else timeout
    version = validation.choice(
        checked, "PayloadFormatVersion", PAYLOAD_FORMAT_VERSIONS, "payload format version"
    )
    method = validation.choice(checked, "IntegrationMethod", METHODS, "integration method")
    uri = validation.bounded(checked, "IntegrationUri", 2048)
    subtype = validation.bounded(checked, "IntegrationSubtype", 128)
    if kind == "AWS_PROXY":
        if subtype is None and (uri is None or not is_lambda_uri(uri)):
            raise BadRequestException(
                f"Invalid integration URI specified: {uri}. An AWS_PROXY integration takes "
                "the ARN of a Lambda function or its invocation URI."
            )
        if version is None:
            raise BadRequestException(
                "PayloadFormatVersion is required for AWS_PROXY integrations. Supported "
                "values are 1.0 and 2.0."
            )
        checked["IntegrationMethod"] = method or "POST"
    else:
        if subtype is not None:
            raise BadRequestException("IntegrationSubtype is supported only for AWS_PROXY.")
        if uri is None or not is_http_uri(uri):
            raise BadRequestException(INVALID_HTTP_URI)
        if method is None:
            raise BadRequestException("IntegrationMethod is required for HTTP_PROXY.")
        if version == "2.0":
            raise BadRequestException(
                "PayloadFormatVersion 2.0 is supported only for AWS_PROXY integrations with "
                "Lambda. The only supported value is 1.0."
            )
        checked["PayloadFormatVersion"] = "1.0"
    _check_mappings(checked, subtype is not None)


def _check_mappings(checked: Document, service_integration: bool) -> None:
    request = validation.string_map(checked, "RequestParameters")
    if request and not service_integration:
        check_request_parameters(request)
    response = validation.structure(checked, "ResponseParameters")
    if response:
        if not all(isinstance(value, dict) for value in response.values()):
            raise BadRequestException("Invalid input: ResponseParameters must map to objects.")
        for mappings in response.values():
            validation.string_map({"ResponseParameters": mappings}, "ResponseParameters")
        check_response_parameters(response)


def _check_websocket(checked: Document, kind: str) -> None:
    if checked.get("ResponseParameters"):
        raise BadRequestException("ResponseParameters are supported only for HTTP APIs.")
    timeout = validation.integer(checked, "TimeoutInMillis", MIN_TIMEOUT_MS, WEBSOCKET_TIMEOUT_MS)
    checked["TimeoutInMillis"] = WEBSOCKET_TIMEOUT_MS if timeout is None else timeout
    validation.choice(checked, "ContentHandlingStrategy", CONTENT_HANDLING, "content handling")
    validation.choice(checked, "PassthroughBehavior", PASSTHROUGH, "passthrough behavior")
    uri = validation.bounded(checked, "IntegrationUri", 2048)
    if kind != "MOCK" and uri is None:
        raise BadRequestException(f"IntegrationUri is required for {kind} integrations.")
    if kind == "AWS_PROXY" and uri is not None and not is_lambda_uri(uri):
        raise BadRequestException(f"Invalid integration URI specified: {uri}")
    if kind in ("HTTP", "HTTP_PROXY") and uri is not None and not is_http_uri(uri):
        raise BadRequestException(INVALID_HTTP_URI)
    checked.setdefault("PayloadFormatVersion", "1.0")


def _given(params: Params) -> Document:
    members = (
        "IntegrationType",
        "IntegrationUri",
        "IntegrationMethod",
        "PayloadFormatVersion",
        "ConnectionType",
        "ConnectionId",
        "TimeoutInMillis",
        "RequestParameters",
        "ResponseParameters",
        *_COMMON,
        *_WEBSOCKET_ONLY,
    )
    return {member: params[member] for member in members if params.get(member) is not None}


def merge_update(existing: Document, given: Document) -> Document:
    """UpdateIntegration's members onto the integration: a request parameter given as "" and
    a status code given no mappings are removed, the other members replaced."""
    merged = {**existing, **given}
    if "RequestParameters" in given:
        parameters = {**existing.get("RequestParameters", {})}
        for key, value in given["RequestParameters"].items():
            if value == "" and not key.startswith("remove:"):
                parameters.pop(key, None)
            else:
                parameters[key] = value
        merged["RequestParameters"] = parameters
    if "ResponseParameters" in given and isinstance(given["ResponseParameters"], dict):
        responses = {**existing.get("ResponseParameters", {})}
        for status, mappings in given["ResponseParameters"].items():
            if mappings:
                responses[status] = mappings
            else:
                responses.pop(status, None)
        merged["ResponseParameters"] = responses
    return {key: value for key, value in merged.items() if value not in ({}, None)}


def routes_targeting(records: RecordStore, api_id: str, integration_id: str) -> list[Document]:
    target = target_of(integration_id)
    return [route for route in all_of(ROUTES, records, api_id) if route.get("Target") == target]


class IntegrationOperations:
    def __init__(self, service: Service) -> None:
        self._service = service

    def operations(self) -> Mapping[str, Operation]:
        return {
            "CreateIntegration": self.create_integration,
            "GetIntegration": self.get_integration,
            "GetIntegrations": self.get_integrations,
            "UpdateIntegration": self.update_integration,
            "DeleteIntegration": self.delete_integration,
        }

    async def create_integration(self, context: RequestContext, params: Params) -> Result:
        scope = scope_of(context)
        api_id = validation.required(params, "ApiId")
        given = _given(params)

        def work(records: RecordStore, effects: Effects) -> Document:
            api = find_api(records, scope, api_id)
            document = checked_integration(given, websocket=not api.is_http)
            return self.add(records, api, document, effects)

        return wire(await self._service.write(work))

    def add(
        self, records: RecordStore, api: ApiRecord, document: Document, effects: Effects
    ) -> Document:
        """Store a checked integration under a new id and redeploy."""
        check_integration_count(records.count(api_scope(api.api_id), INTEGRATIONS.kind) + 1)
        integration_id = self._service.new_id(INTEGRATION_ID_LENGTH)
        stored = {**document, "IntegrationId": integration_id}
        INTEGRATIONS.create(records, api_scope(api.api_id), integration_id, stored)
        redeploy(records, api, self._service.now(), self._service.new_id, effects)
        return stored

    async def get_integration(self, context: RequestContext, params: Params) -> Result:
        return await get_child(self._service, context, params, "IntegrationId", find_integration)

    async def get_integrations(self, context: RequestContext, params: Params) -> Result:
        return await get_children(self._service, context, params, INTEGRATIONS, "IntegrationId")

    async def update_integration(self, context: RequestContext, params: Params) -> Result:
        scope = scope_of(context)
        api_id = validation.required(params, "ApiId")
        integration_id = validation.required(params, "IntegrationId")
        given = _given(params)

        def work(records: RecordStore, effects: Effects) -> Document:
            api = find_api(records, scope, api_id)
            existing = find_integration(records, api_id, integration_id)
            merged = merge_update(existing, given)
            document = checked_integration(merged, websocket=not api.is_http)
            INTEGRATIONS.put(records, api_scope(api_id), integration_id, document)
            redeploy(records, api, self._service.now(), self._service.new_id, effects)
            return document

        return wire(await self._service.write(work))

    async def delete_integration(self, context: RequestContext, params: Params) -> Result:
        scope = scope_of(context)
        api_id = validation.required(params, "ApiId")
        integration_id = validation.required(params, "IntegrationId")

        def work(records: RecordStore, effects: Effects) -> None:
            api = find_api(records, scope, api_id)
            find_integration(records, api_id, integration_id)
            users = routes_targeting(records, api_id, integration_id)
            if users:
                ids = ", ".join(str(route["RouteId"]) for route in users)
                raise ConflictException(
                    "Cannot delete Integration because it is referenced by the following "
                    f"Routes with Ids: [{ids}]"
                )
            INTEGRATIONS.delete(records, api_scope(api_id), integration_id)
            redeploy(records, api, self._service.now(), self._service.new_id, effects)

        await self._service.write(work)
        return {}


def check_integration_count(count: int) -> None:
    """An API may have `count` integrations (its quota: MAX_INTEGRATIONS)."""
    if count > MAX_INTEGRATIONS:
        raise limit_reached("Integrations", "API")
