"""ExportApi for HTTP APIs: an API's routes, integrations and authorizers as the OpenAPI 3.0
document API Gateway exports, extensions and all.

    GetApi, GetRoute*, GetIntegration*, GetAuthorizer* [, GetStage]
        --export_api-->    {"openapi": "3.0.1", "info", "servers", "paths", "components",
                            "x-amazon-apigateway-cors", "x-amazon-apigateway-importexport-version"}
        --render_export--> the bytes ExportApi answers (JSON laid out as AWS lays it out, or YAML)

A route becomes an operation on its path (`ANY` and `$default` become
`x-amazon-apigateway-any-method`, `$default` on the path `/$default`); its integration is
written inline; an integration no route uses goes under
`components.x-amazon-apigateway-integrations`; authorizers become `components.securitySchemes`
and IAM authorization the `sigv4` scheme. Without extensions the document keeps the routes and
security schemes, and drops integrations, authorizer settings and CORS.
"""

from __future__ import annotations

import importlib
import importlib.util
import json
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from portico.services.apigatewayv2.errors import BadRequestException

Document = dict[str, Any]

OPENAPI_VERSION = "3.0.1"
SPECIFICATION = "OAS30"
IMPORT_EXPORT_VERSION = "1.0"

INTEGRATION = "x-amazon-apigateway-integration"
INTEGRATIONS = "x-amazon-apigateway-integrations"
AUTHORIZER = "x-amazon-apigateway-authorizer"
AUTHTYPE = "x-amazon-apigateway-authtype"
ANY_METHOD = "x-amazon-apigateway-any-method"
CORS = "x-amazon-apigateway-cors"
IMPORTEXPORT_VERSION = "x-amazon-apigateway-importexport-version"
ENDPOINT_CONFIGURATION = "x-amazon-apigateway-endpoint-configuration"

SIGV4_SCHEME = "sigv4"
SIGV4_AUTHTYPE = "awsSigv4"
DEFAULT_ROUTE = "$default"
DEFAULT_ROUTE_PATH = "/$default"
DEFAULT_TIMEOUT_MS = 30_000

# (CorsConfiguration member, extension property), in the order AWS writes them.
CORS_MEMBERS = (
    ("AllowMethods", "allowMethods"),
    ("AllowHeaders", "allowHeaders"),
    ("ExposeHeaders", "exposeHeaders"),
    ("MaxAge", "maxAge"),
    ("AllowCredentials", "allowCredentials"),
    ("AllowOrigins", "allowOrigins"),
)
OUTPUT_TYPES = ("JSON", "YAML")


def export_api(
    api: Mapping[str, Any],
    routes: Sequence[Mapping[str, Any]],
    integrations: Sequence[Mapping[str, Any]],
    authorizers: Sequence[Mapping[str, Any]],
    *,
    stage: Mapping[str, Any] | None = None,
    include_extensions: bool = True,
    specification: str = SPECIFICATION,
) -> Document:
    """The OpenAPI 3.0 document of `api` (GetApi) with its routes, integrations and
    authorizers (GetRoute / GetIntegration / GetAuthorizer documents); `stage` (GetStage) sets
    the server's base path."""
    if specification != SPECIFICATION:
        raise BadRequestException(
            f"Invalid specification '{specification}'. Valid values are: {SPECIFICATION}"
        )
    by_id = {str(item.get("IntegrationId")): item for item in integrations}
    authorizers_by_id = {str(item.get("AuthorizerId")): item for item in authorizers}
    document: Document = {"openapi": OPENAPI_VERSION, "info": _info(api)}
    servers = _servers(api, stage)
    if servers:
        document["servers"] = servers
    document["paths"] = _paths(routes, by_id, authorizers_by_id, include_extensions)
    components = _components(
        routes, integrations, authorizers, include_extensions=include_extensions
    )
    if components:
        document["components"] = components
    if include_extensions:
        cors = _cors(api.get("CorsConfiguration"))
        if cors is not None:
            document[CORS] = cors
        document[IMPORTEXPORT_VERSION] = IMPORT_EXPORT_VERSION
    return document


def render_export(document: Mapping[str, Any], output_type: str = "JSON") -> bytes:
    """The exported document as ExportApi's body: JSON in AWS's layout, or YAML."""
    if output_type == "JSON":
        return _pretty(document, 0).encode()
    if output_type != "YAML":
        raise BadRequestException(
            f"Invalid outputType '{output_type}'. Valid values are: {', '.join(OUTPUT_TYPES)}"
        )
    if importlib.util.find_spec("yaml") is None:
        raise BadRequestException(
            "outputType YAML is not available on this server (PyYAML is not installed); "
            "export with outputType JSON"
        )
    yaml = importlib.import_module("yaml")
    rendered: str = yaml.safe_dump(dict(document), sort_keys=False, allow_unicode=True)
    return rendered.encode()


def split_route_key(route_key: str) -> tuple[str, str]:
    """("GET", "/pets/{id}") for "GET /pets/{id}"; ("ANY", "/$default") for "$default"."""
    if route_key == DEFAULT_ROUTE:
        return "ANY", DEFAULT_ROUTE_PATH
    method, _, path = route_key.partition(" ")
    return method.upper(), path


def path_parameter_names(path: str) -> list[str]:
    """The path variables of a route path, as exported: "{id}" -> "id", "{proxy+}" -> "proxy+"."""
    return [
        segment[1:-1]
        for segment in path.split("/")
        if segment.startswith("{") and segment.endswith("}")
    ]


def _info(api: Mapping[str, Any]) -> Document:
    info: Document = {"title": api.get("Name", "")}
    if api.get("Description"):
        info["description"] = api["Description"]
    info["version"] = api.get("Version") or _timestamp(api.get("CreatedDate"))
    return info


def _timestamp(value: object) -> str:
    """A date as AWS writes an API's version when it has none: "2024-02-02 14:22:44UTC"."""
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, int | float) and not isinstance(value, bool):
        moment = datetime.fromtimestamp(value, UTC)
    elif isinstance(value, str):
        try:
            moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return value
    else:
        return ""
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC)
    return moment.strftime("%Y-%m-%d %H:%M:%SUTC")


def _servers(api: Mapping[str, Any], stage: Mapping[str, Any] | None) -> list[Document]:
    endpoint = api.get("ApiEndpoint")
    if not endpoint:
        return []
    stage_name = str(stage.get("StageName", "")) if stage is not None else ""
    server: Document = {
        "url": f"{str(endpoint).rstrip('/')}/{{basePath}}",
        "variables": {"basePath": {"default": "" if stage_name == DEFAULT_ROUTE else stage_name}},
    }
    if api.get("DisableExecuteApiEndpoint"):
        server[ENDPOINT_CONFIGURATION] = {"disableExecuteApiEndpoint": True}
    return [server]


def _paths(
    routes: Sequence[Mapping[str, Any]],
    integrations: Mapping[str, Mapping[str, Any]],
    authorizers: Mapping[str, Mapping[str, Any]],
    include_extensions: bool,
) -> Document:
    paths: Document = {}
    for route in routes:
        route_key = str(route.get("RouteKey", ""))
        method, path = split_route_key(route_key)
        item = paths.setdefault(path, {})
        operation_key = ANY_METHOD if method == "ANY" else method.lower()
        operation = _operation(route, route_key, authorizers)
        integration = integrations.get(_target_id(route))
        if include_extensions and integration is not None:
            operation[INTEGRATION] = integration_extension(integration)
        item[operation_key] = operation
        parameters = path_parameter_names(path)
        if parameters:
            item["parameters"] = [_path_parameter(name) for name in parameters]
    for item in paths.values():
        if "parameters" in item:  # after the operations, where AWS writes them
            item["parameters"] = item.pop("parameters")
    return paths


def _operation(
    route: Mapping[str, Any], route_key: str, authorizers: Mapping[str, Mapping[str, Any]]
) -> Document:
    operation: Document = {}
    if route_key == DEFAULT_ROUTE:
        operation["isDefaultRoute"] = True
    if route.get("OperationName"):
        operation["operationId"] = route["OperationName"]
    described = "ANY /$default" if route_key == DEFAULT_ROUTE else route_key
    operation["responses"] = {"default": {"description": f"Default response for {described}"}}
    security = _security(route, authorizers)
    if security is not None:
        operation["security"] = [security]
    return operation


def _security(
    route: Mapping[str, Any], authorizers: Mapping[str, Mapping[str, Any]]
) -> Document | None:
    authorization = route.get("AuthorizationType", "NONE")
    if authorization == "AWS_IAM":
        return {SIGV4_SCHEME: []}
    authorizer = authorizers.get(str(route.get("AuthorizerId")))
    if authorization not in ("JWT", "CUSTOM") or authorizer is None:
        return None
    scopes = list(route.get("AuthorizationScopes") or []) if authorization == "JWT" else []
    return {str(authorizer.get("Name")): scopes}


def _target_id(route: Mapping[str, Any]) -> str:
    target = str(route.get("Target") or "")
    return target.removeprefix("integrations/") if target.startswith("integrations/") else ""


def _path_parameter(name: str) -> Document:
    return {
        "name": name,
        "in": "path",
        "description": f"Generated path parameter for {name}",
        "required": True,
        "schema": {"type": "string"},
    }


def integration_extension(integration: Mapping[str, Any]) -> Document:
    """`x-amazon-apigateway-integration` for a GetIntegration document."""
    extension: Document = {}
    kind = str(integration.get("IntegrationType", ""))
    optional_first = (
        ("ResponseParameters", "responseParameters"),
        ("RequestParameters", "requestParameters"),
        ("PayloadFormatVersion", "payloadFormatVersion"),
        ("IntegrationSubtype", "integrationSubtype"),
        ("ConnectionId", "connectionId"),
        ("Description", "description"),
    )
    for member, name in optional_first:
        if integration.get(member):
            extension[name] = integration[member]
    extension["type"] = kind.lower()
    for member, name in (
        ("IntegrationMethod", "httpMethod"),
        ("IntegrationUri", "uri"),
        ("ConnectionType", "connectionType"),
        ("CredentialsArn", "credentials"),
    ):
        if integration.get(member):
            extension[name] = integration[member]
    server_name = (integration.get("TlsConfig") or {}).get("ServerNameToVerify")
    if server_name:
        extension["tlsConfig"] = {"serverNameToVerify": server_name}
    timeout = integration.get("TimeoutInMillis")
    if timeout is not None and not (kind == "AWS_PROXY" and timeout == DEFAULT_TIMEOUT_MS):
        extension["timeoutInMillis"] = timeout
    return extension


def _components(
    routes: Sequence[Mapping[str, Any]],
    integrations: Sequence[Mapping[str, Any]],
    authorizers: Sequence[Mapping[str, Any]],
    *,
    include_extensions: bool,
) -> Document:
    schemes: Document = {
        str(authorizer.get("Name")): authorizer_scheme(authorizer, include_extensions)
        for authorizer in authorizers
    }
    if any(route.get("AuthorizationType") == "AWS_IAM" for route in routes):
        schemes[SIGV4_SCHEME] = {"type": "apiKey", "name": "Authorization", "in": "header"}
        if include_extensions:
            schemes[SIGV4_SCHEME][AUTHTYPE] = SIGV4_AUTHTYPE
    components: Document = {}
    if schemes:
        components["securitySchemes"] = schemes
    used = {_target_id(route) for route in routes}
    unused = {
        f"unusedIntegration_{integration.get('IntegrationId')}": integration_extension(integration)
        for integration in integrations
        if str(integration.get("IntegrationId")) not in used
    }
    if include_extensions and unused:
        components[INTEGRATIONS] = unused
    return components


def authorizer_scheme(authorizer: Mapping[str, Any], include_extensions: bool = True) -> Document:
    """The security scheme for a GetAuthorizer document."""
    sources = [str(source) for source in authorizer.get("IdentitySource") or []]
    if authorizer.get("AuthorizerType") == "JWT":
        scheme: Document = {"type": "oauth2", "flows": {}}
        settings: Document = {}
        if sources:
            settings["identitySource"] = ", ".join(sources)
        jwt = authorizer.get("JwtConfiguration") or {}
        settings["jwtConfiguration"] = {
            name: jwt[member]
            for member, name in (("Audience", "audience"), ("Issuer", "issuer"))
            if member in jwt
        }
        settings["type"] = "jwt"
    else:
        location, name = _api_key_location(sources[0] if sources else "")
        scheme = {"type": "apiKey", "name": name, "in": location}
        settings = _lambda_authorizer_settings(authorizer, sources)
    if include_extensions:
        scheme[AUTHORIZER] = settings
    return scheme


def _lambda_authorizer_settings(authorizer: Mapping[str, Any], sources: list[str]) -> Document:
    settings: Document = {}
    if sources:
        settings["identitySource"] = ", ".join(sources)
    for member, name in (
        ("AuthorizerUri", "authorizerUri"),
        ("AuthorizerCredentialsArn", "authorizerCredentials"),
        ("AuthorizerPayloadFormatVersion", "authorizerPayloadFormatVersion"),
        ("AuthorizerResultTtlInSeconds", "authorizerResultTtlInSeconds"),
    ):
        if authorizer.get(member) is not None:
            settings[name] = authorizer[member]
    settings["type"] = "request"
    settings["enableSimpleResponses"] = bool(authorizer.get("EnableSimpleResponses"))
    return settings


def _api_key_location(source: str) -> tuple[str, str]:
    """Where an apiKey scheme says its key is: the first identity source's header or query
    parameter, else the placeholder AWS writes ("Unused", in a header)."""
    for prefix, location in (("$request.header.", "header"), ("$request.querystring.", "query")):
        if source.startswith(prefix):
            return location, source.removeprefix(prefix)
    return "header", "Unused"


def _cors(cors: object) -> Document | None:
    if not isinstance(cors, Mapping) or not cors:
        return None
    return {name: cors[member] for member, name in CORS_MEMBERS if member in cors}


def _pretty(value: object, depth: int) -> str:
    """JSON laid out as AWS's exports are: `"key" : value`, objects one member a line, arrays
    on one line (`[ "a", "b" ]`, `[ {` ... `} ]`), and `{ }` / `[ ]` when empty."""
    pad = "  " * depth
    if isinstance(value, Mapping):
        if not value:
            return "{ }"
        members = ",\n".join(
            f"{pad}  {json.dumps(str(key), ensure_ascii=False)} : {_pretty(item, depth + 1)}"
            for key, item in value.items()
        )
        return "{\n" + members + "\n" + pad + "}"
    if isinstance(value, list | tuple):
        if not value:
            return "[ ]"
        return "[ " + ", ".join(_pretty(item, depth) for item in value) + " ]"
    return json.dumps(value, ensure_ascii=False)
