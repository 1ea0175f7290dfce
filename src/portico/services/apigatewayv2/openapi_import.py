"""ImportApi / ReimportApi for HTTP APIs: an OpenAPI 3.0 definition read into a plan of the
CreateApi, CreateAuthorizer, CreateIntegration and CreateRoute calls that build it.

    body --parse--> document --_Planner--> ImportPlan(api, authorizers, integrations, routes,
                                                      warnings, import_info)

Nothing is created here: the service carries the plan out (or, for ReimportApi, replaces the
API's definition with it). What API Gateway reports comes in its three grades:

- errors (a malformed document: not OpenAPI 3, no title, several security requirements on one
  operation) raise BadRequestException "Errors found during import: ...";
- warnings (a part that cannot be built: an integration type HTTP APIs lack, a bad route path,
  an authorizer missing its function) leave that part out, and with `fail_on_warnings` raise
  BadRequestException "Warnings found during import: ...";
- import info (valid OpenAPI that HTTP APIs ignore: request bodies, REST-only integration
  settings) is only reported.
"""

from __future__ import annotations

import importlib
import importlib.util
import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from portico.gateway.http_api.targets import lambda_target
from portico.services.apigatewayv2.errors import BadRequestException
from portico.services.apigatewayv2.openapi_export import (
    ANY_METHOD,
    AUTHORIZER,
    AUTHTYPE,
    CORS,
    CORS_MEMBERS,
    DEFAULT_ROUTE,
    DEFAULT_ROUTE_PATH,
    ENDPOINT_CONFIGURATION,
    IMPORT_EXPORT_VERSION,
    IMPORTEXPORT_VERSION,
    INTEGRATION,
    INTEGRATIONS,
    SIGV4_AUTHTYPE,
)

Document = dict[str, Any]

BASEPATH_MODES = ("ignore", "prepend", "split")
OPERATION_METHODS = ("get", "put", "post", "delete", "options", "head", "patch")
PATH_ITEM_FIELDS = ("summary", "description", "servers", "parameters")
INTEGRATION_TYPES = ("AWS_PROXY", "HTTP_PROXY")
IDENTITY_SOURCES = ("$request.header.", "$request.querystring.", "$context.", "$stageVariables.")
REST_ONLY_INTEGRATION_FIELDS = (
    "cacheKeyParameters",
    "cacheNamespace",
    "contentHandling",
    "passthroughBehavior",
    "requestTemplates",
    "responses",
)
_INTEGRATION_REF = "#/components/" + INTEGRATIONS + "/"
_SEGMENT = re.compile(r"^\{(?P<name>[A-Za-z0-9._-]+)(?P<greedy>\+)?\}$|^[^{}]+$")
_ROUTE_AUTHORIZATION = {"JWT": "JWT", "REQUEST": "CUSTOM"}
_SERVER_VARIABLE = re.compile(r"\{([^{}]+)\}")


@dataclass(frozen=True)
class PlannedAuthorizer:
    name: str  # how routes refer to it: the security scheme's name, also its Name
    request: Document  # CreateAuthorizer members (ApiId left to the caller)


@dataclass(frozen=True)
class PlannedIntegration:
    request: Document  # CreateIntegration members (ApiId left to the caller)
    name: str | None = None  # its key under components.x-amazon-apigateway-integrations


@dataclass(frozen=True)
class PlannedRoute:
    request: Document  # CreateRoute members but Target and AuthorizerId
    integration: int | None = None  # index in ImportPlan.integrations: Target
    authorizer: str | None = None  # PlannedAuthorizer.name: AuthorizerId


@dataclass(frozen=True)
class ImportPlan:
    api: Document  # CreateApi members: Name, ProtocolType, Description, Version, CorsConfiguration
    authorizers: list[PlannedAuthorizer] = field(default_factory=list)
    integrations: list[PlannedIntegration] = field(default_factory=list)
    routes: list[PlannedRoute] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)  # GetApi's Warnings
    import_info: list[str] = field(default_factory=list)  # GetApi's ImportInfo


def plan_import(
    body: str, *, basepath: str | None = None, fail_on_warnings: bool = False
) -> ImportPlan:
    """The plan that builds the HTTP API `body` (an OpenAPI 3.0 definition, JSON or YAML)
    defines; `basepath` is ImportApi's `basepath` (ignore, prepend or split)."""
    mode = (basepath or "ignore").lower()
    if mode not in BASEPATH_MODES:
        raise BadRequestException(
            f"Invalid basepath '{basepath}'. Valid values are: {', '.join(BASEPATH_MODES)}"
        )
    plan = _Planner(parse_definition(body), mode).plan()
    if fail_on_warnings and plan.warnings:
        raise BadRequestException("Warnings found during import:\n\t" + "\n\t".join(plan.warnings))
    return plan


def parse_definition(body: str) -> Document:
    """The definition as a document: JSON, or YAML where PyYAML is installed."""
    if not body.strip():
        raise _errors("The OpenAPI definition is empty")
    try:
        document = json.loads(body)
    except RecursionError:
        raise _errors("The OpenAPI definition is nested too deeply") from None
    except ValueError as problem:
        document = _parse_yaml(body, problem)
    if not isinstance(document, dict):
        raise _errors("The OpenAPI definition must be an object")
    return document


def _parse_yaml(body: str, json_problem: ValueError) -> object:
    looks_like_json = body.lstrip()[:1] in ("{", "[")
    if importlib.util.find_spec("yaml") is None:
        if looks_like_json:
            raise _errors(f"Unable to parse the OpenAPI definition as JSON: {json_problem}")
        raise _errors(
            "The OpenAPI definition is not JSON, and YAML definitions are not supported by this "
            "server (PyYAML is not installed): send the definition as JSON"
        )
    yaml = importlib.import_module("yaml")
    try:
        return yaml.safe_load(body)
    except (yaml.YAMLError, RecursionError) as problem:
        reason = str(problem).replace("\n", " ")
        raise _errors(f"Unable to parse the OpenAPI definition: {reason}") from None


def _errors(*problems: str) -> BadRequestException:
    return BadRequestException("Errors found during import:\n\t" + "\n\t".join(problems))


def _text(value: object) -> str | None:
    """A string member, with numbers taken as written (`payloadFormatVersion: 1.0`)."""
    if isinstance(value, str):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    return None


def _integer(value: object) -> int | None:
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().isdigit():
        return int(value)
    return None


def _boolean(value: object) -> bool | None:
    return value if isinstance(value, bool) else None


def _strings(value: object) -> list[str] | None:
    if isinstance(value, list) and all(isinstance(item, str) for item in value):
        return list(value)
    return None


def _identity_sources(value: object) -> list[str] | None:
    """`identitySource` as a list: AWS writes it as one comma-separated string."""
    if isinstance(value, str):
        return [source.strip() for source in value.split(",") if source.strip()]
    return _strings(value)


def _mapping(value: object) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _route_prefix(document: Mapping[str, Any], basepath_mode: str) -> str:
    """What `basepath` puts before every route path: the first server's path (its variables
    at their defaults), whole for prepend, less its first segment for split."""
    if basepath_mode == "ignore":
        return ""
    servers = document.get("servers")
    server = _mapping(servers[0]) if isinstance(servers, list) and servers else {}
    variables = _mapping(server.get("variables"))
    url = _SERVER_VARIABLE.sub(
        lambda found: str(_mapping(variables.get(found.group(1))).get("default", "")),
        str(server.get("url", "")),
    )
    segments = [segment for segment in urlsplit(url).path.split("/") if segment]
    if basepath_mode == "split":
        segments = segments[1:]
    return "".join(f"/{segment}" for segment in segments)


class _Unbuildable(Exception):
    """Why one authorizer, integration or route cannot be built (becomes a warning)."""


class _Planner:
    def __init__(self, document: Document, basepath_mode: str) -> None:
        self.document = document
        self.prefix = _route_prefix(document, basepath_mode)
        self.errors: list[str] = []
        self.warnings: list[str] = []
        self.info: list[str] = []
        self.authorizers: list[PlannedAuthorizer] = []
        self.integrations: list[PlannedIntegration] = []
        self.routes: list[PlannedRoute] = []
        self.schemes: dict[str, str] = {}  # scheme name -> AWS_IAM / JWT / CUSTOM / "" (unusable)
        self.named_integrations: dict[str, int] = {}
        self.route_keys: set[str] = set()

    def plan(self) -> ImportPlan:
        self._check_version()
        api = self._api()
        if self.errors:
            raise _errors(*self.errors)
        self._plan_authorizers()
        self._plan_named_integrations()
        self._plan_routes()
        if self.errors:
            raise _errors(*self.errors)
        return ImportPlan(
            api, self.authorizers, self.integrations, self.routes, self.warnings, self.info
        )

    def _check_version(self) -> None:
        only_3 = "HTTP APIs can be imported only from OpenAPI 3.0 definitions"
        version = _text(self.document.get("openapi"))
        if "swagger" in self.document:
            self.errors.append(f"Unsupported swagger '{self.document['swagger']}': {only_3}")
        elif version is None:
            self.errors.append("Parse issue: attribute openapi is missing")
        elif not re.fullmatch(r"3\.\d+(\.\d+)?", version):
            self.errors.append(f"Unsupported OpenAPI version '{version}': {only_3}")
        exchange = self.document.get(IMPORTEXPORT_VERSION)
        if exchange is not None and _text(exchange) != IMPORT_EXPORT_VERSION:
            self.errors.append(
                f"Unsupported {IMPORTEXPORT_VERSION} '{exchange}': the only supported value is "
                f"{IMPORT_EXPORT_VERSION}"
            )

    def _api(self) -> Document:
        info = self.document.get("info")
        if not isinstance(info, Mapping):
            self.errors.append("Parse issue: attribute info is missing")
            return {}
        title = _text(info.get("title"))
        if not title:
            self.errors.append("Parse issue: attribute info.title is missing")
        elif len(title) > 128:
            self.errors.append("Invalid info.title: an API's name has at most 128 characters")
        api: Document = {"Name": title, "ProtocolType": "HTTP"}
        description = _text(info.get("description"))
        if description is not None:
            api["Description"] = description[:1024]
        version = _text(info.get("version"))
        if version and len(version) <= 64:
            api["Version"] = version
        elif version:
            self.warnings.append("Invalid info.version: an API's version has at most 64 characters")
        cors = self._cors()
        if cors is not None:
            api["CorsConfiguration"] = cors
        servers = self.document.get("servers")
        if any(
            _mapping(_mapping(server).get(ENDPOINT_CONFIGURATION)).get("disableExecuteApiEndpoint")
            is True
            for server in (servers if isinstance(servers, list) else [])
        ):
            api["DisableExecuteApiEndpoint"] = True
        return api

    def _cors(self) -> Document | None:
        extension = self.document.get(CORS)
        if extension is None:
            return None
        if not isinstance(extension, Mapping):
            self.warnings.append(f"Parse issue: attribute {CORS} must be an object")
            return None
        cors: Document = {}
        members = {name: member for member, name in CORS_MEMBERS}
        for name, value in extension.items():
            member = members.get(name, "")
            read = {"MaxAge": _integer, "AllowCredentials": _boolean}.get(member, _strings)(value)
            if not member or read is None:
                self.warnings.append(f"Parse issue: attribute {CORS}.{name} is not supported")
            else:
                cors[member] = read
        return cors

    def _plan_authorizers(self) -> None:
        schemes = _mapping(_mapping(self.document.get("components")).get("securitySchemes"))
        for name, scheme in schemes.items():
            self.schemes[name] = ""
            if not isinstance(scheme, Mapping):
                continue
            if str(scheme.get(AUTHTYPE, "")).lower() == SIGV4_AUTHTYPE.lower():
                self.schemes[name] = "AWS_IAM"
                continue
            settings = scheme.get(AUTHORIZER)
            if settings is None:
                continue
            try:
                request = _authorizer_request(name, scheme, _mapping(settings))
            except _Unbuildable as reason:
                self.warnings.append(f"Unable to create Authorizer '{name}': {reason}")
                continue
            self.schemes[name] = _ROUTE_AUTHORIZATION[request["AuthorizerType"]]
            self.authorizers.append(PlannedAuthorizer(name, request))
            if "identityValidationExpression" in settings:
                self.info.append(f"Ignoring {name}.identityValidationExpression: REST APIs only")

    def _plan_named_integrations(self) -> None:
        components = _mapping(self.document.get("components"))
        for name, extension in _mapping(components.get(INTEGRATIONS)).items():
            where = f"components.{INTEGRATIONS}.{name}"
            try:
                request = self._integration_request(_mapping(extension), where)
            except _Unbuildable as reason:
                self.warnings.append(f"Unable to create integration '{name}': {reason}")
                continue
            self.named_integrations[name] = len(self.integrations)
            self.integrations.append(PlannedIntegration(request, name))

    def _plan_routes(self) -> None:
        paths = self.document.get("paths")
        if not isinstance(paths, Mapping):
            self.warnings.append("Parse issue: attribute paths is missing")
            return
        for path, item in paths.items():
            if not str(path).startswith("/"):
                self.warnings.append(
                    f"Parse issue: attribute paths. Resource {path} should start with /"
                )
            elif not isinstance(item, Mapping):
                self.warnings.append(f"Parse issue: attribute paths.'{path}' must be an object")
            else:
                self._plan_path(str(path), item)

    def _plan_path(self, path: str, item: Mapping[str, Any]) -> None:
        for key, operation in item.items():
            if key in OPERATION_METHODS or key == ANY_METHOD:
                self._plan_operation(path, key, operation, item)
            elif key not in PATH_ITEM_FIELDS and not str(key).startswith("x-"):
                self.warnings.append(
                    f"Parse issue: attribute paths.'{path}'.{key} is not supported for HTTP APIs"
                )

    def _plan_operation(
        self, path: str, key: str, operation: object, item: Mapping[str, Any]
    ) -> None:
        where = f"paths.'{path}'({key})"
        method = "ANY" if key == ANY_METHOD else key.upper()
        if not isinstance(operation, Mapping):
            self.warnings.append(f"Parse issue: attribute {where} must be an object")
            return
        is_default = path == DEFAULT_ROUTE_PATH or operation.get("isDefaultRoute") is True
        full_path = self.prefix + path if path != "/" else self.prefix or "/"
        route_key = DEFAULT_ROUTE if is_default else f"{method} {full_path}"
        try:
            self._check_route(route_key, method, full_path, is_default)
            self._check_path_parameters(route_key, item, operation)
            auth, authorizer = self._authorization(where, operation)
        except _Unbuildable as reason:
            self.warnings.append(f"Unable to create route '{route_key}': {reason}")
            return
        if auth is None:
            return
        request: Document = {"RouteKey": route_key, **auth}
        operation_id = _text(operation.get("operationId"))
        if operation_id and len(operation_id) <= 64:
            request["OperationName"] = operation_id
        if "requestBody" in operation:
            self.info.append(f"Ignoring {where}.requestBody: HTTP APIs do not validate requests")
        self.route_keys.add(route_key)
        integration = self._route_integration(route_key, where, operation.get(INTEGRATION))
        self.routes.append(PlannedRoute(request, integration, authorizer))

    def _check_route(self, route_key: str, method: str, path: str, is_default: bool) -> None:
        if route_key in self.route_keys:
            raise _Unbuildable("the route is defined more than once")
        if is_default:
            if method != "ANY":
                raise _Unbuildable(f"the {DEFAULT_ROUTE} route takes only {ANY_METHOD}")
            return
        if path == "/":
            return
        names: list[str] = []
        segments = path.split("/")[1:]
        for position, segment in enumerate(segments):
            found = _SEGMENT.match(segment)
            if not segment or found is None:
                raise _Unbuildable(
                    f"invalid path segment '{segment}': a segment is literal text or a whole "
                    "{name} or {name+} variable"
                )
            if found.group("greedy") and position != len(segments) - 1:
                raise _Unbuildable("a greedy path variable {name+} must be the last segment")
            if found.group("name") in names:
                raise _Unbuildable(f"the path variable '{found.group('name')}' appears twice")
            if found.group("name"):
                names.append(found.group("name"))

    def _check_path_parameters(
        self, route_key: str, item: Mapping[str, Any], operation: Mapping[str, Any]
    ) -> None:
        variables = set(re.findall(r"\{([^{}+]+)\+?\}", route_key))
        declared = [*_parameters(item.get("parameters")), *_parameters(operation.get("parameters"))]
        for parameter in declared:
            name = str(parameter.get("name", "")).removesuffix("+")
            if parameter.get("in") == "path" and name not in variables:
                self.warnings.append(
                    f"Parse issue: path parameter '{parameter.get('name')}' of route "
                    f"'{route_key}' is not a variable of its path"
                )

    def _authorization(
        self, where: str, operation: Mapping[str, Any]
    ) -> tuple[Document | None, str | None]:
        """The route's authorization members and authorizer name; (None, None) when the
        document is in error."""
        security = operation.get("security", self.document.get("security"))
        if security is None or security == []:
            return {"AuthorizationType": "NONE"}, None
        if not isinstance(security, list) or not all(isinstance(r, Mapping) for r in security):
            raise _Unbuildable(f"{where}.security must be a list of security requirements")
        if len(security) > 1 or any(len(requirement) > 1 for requirement in security):
            self.errors.append(
                f"Multiple security requirements are not supported for {where}: an operation "
                "can have only one of IAM authorization, a Lambda authorizer or a JWT authorizer"
            )
            return None, None
        if not security[0]:
            return {"AuthorizationType": "NONE"}, None
        ((name, scopes),) = security[0].items()
        kind = self.schemes.get(name)
        if kind is None:
            raise _Unbuildable(
                f"security scheme '{name}' is not defined in components.securitySchemes"
            )
        if not kind:
            raise _Unbuildable(f"security scheme '{name}' is not an authorizer HTTP APIs support")
        auth: Document = {"AuthorizationType": kind}
        if kind == "JWT" and _strings(scopes):
            auth["AuthorizationScopes"] = scopes
        return auth, (None if kind == "AWS_IAM" else name)

    def _route_integration(self, route_key: str, where: str, extension: object) -> int | None:
        if extension is None:
            return None
        reference = _mapping(extension).get("$ref")
        if reference is not None:
            name = str(reference).removeprefix(_INTEGRATION_REF)
            if name == reference or name not in self.named_integrations:
                self.warnings.append(
                    f"Unable to create integration for route '{route_key}': {where}.{INTEGRATION} "
                    f"refers to '{reference}', which is not defined"
                )
                return None
            return self.named_integrations[name]
        try:
            request = self._integration_request(_mapping(extension), f"{where}.{INTEGRATION}")
        except _Unbuildable as reason:
            self.warnings.append(f"Unable to create integration for route '{route_key}': {reason}")
            return None
        self.integrations.append(PlannedIntegration(request))
        return len(self.integrations) - 1

    def _integration_request(self, extension: Mapping[str, Any], where: str) -> Document:
        ignored = [name for name in REST_ONLY_INTEGRATION_FIELDS if name in extension]
        if ignored:
            self.info.append(f"Ignoring {where}.{', '.join(ignored)}: REST API settings")
        return _integration_request(extension)


def _parameters(value: object) -> list[Mapping[str, Any]]:
    return [item for item in value if isinstance(item, Mapping)] if isinstance(value, list) else []


def _string_map(value: object) -> dict[str, str] | None:
    if isinstance(value, Mapping) and all(isinstance(item, str) for item in value.values()):
        return {str(name): item for name, item in value.items()}
    return None


def _response_parameters(value: object) -> dict[str, dict[str, str]] | None:
    mappings = {str(status): _string_map(item) for status, item in _mapping(value).items()}
    valid = {status: item for status, item in mappings.items() if item is not None}
    return valid if isinstance(value, Mapping) and len(valid) == len(mappings) else None


def _tls_config(value: object) -> dict[str, str] | None:
    server_name = _mapping(value).get("serverNameToVerify")
    return {"ServerNameToVerify": server_name} if isinstance(server_name, str) else None


def _between(low: int, high: int) -> Callable[[object], int | None]:
    def read(value: object) -> int | None:
        number = _integer(value)
        return number if number is not None and low <= number <= high else None

    return read


Reader = tuple[str, Callable[[object], object], str]  # (member, read, what a valid value is)

INTEGRATION_READERS: dict[str, Reader] = {
    "uri": ("IntegrationUri", _text, "a string"),
    "httpMethod": ("IntegrationMethod", _text, "a string"),
    "payloadFormatVersion": ("PayloadFormatVersion", _text, "1.0 or 2.0"),
    "integrationSubtype": ("IntegrationSubtype", _text, "a string"),
    "connectionType": ("ConnectionType", _text, "INTERNET or VPC_LINK"),
    "connectionId": ("ConnectionId", _text, "a string"),
    "credentials": ("CredentialsArn", _text, "an IAM role ARN"),
    "description": ("Description", _text, "a string"),
    "timeoutInMillis": ("TimeoutInMillis", _between(50, 30_000), "between 50 and 30000"),
    "requestParameters": ("RequestParameters", _string_map, "a map of strings"),
    "responseParameters": ("ResponseParameters", _response_parameters, "maps of strings"),
    "tlsConfig": ("TlsConfig", _tls_config, "an object with serverNameToVerify"),
}
AUTHORIZER_READERS: dict[str, Reader] = {
    "identitySource": ("IdentitySource", _identity_sources, "a comma-separated string"),
    "authorizerUri": ("AuthorizerUri", _text, "a Lambda function ARN or invocation URI"),
    "authorizerCredentials": ("AuthorizerCredentialsArn", _text, "an IAM role ARN"),
    "authorizerPayloadFormatVersion": ("AuthorizerPayloadFormatVersion", _text, "1.0 or 2.0"),
    "authorizerResultTtlInSeconds": ("AuthorizerResultTtlInSeconds", _between(0, 3600), "0-3600"),
    "enableSimpleResponses": ("EnableSimpleResponses", _boolean, "a boolean"),
}


def _read(extension: Mapping[str, Any], readers: Mapping[str, Reader]) -> Document:
    """The request members `extension` sets, each read by its reader."""
    members: Document = {}
    for name, (member, read, valid) in readers.items():
        if extension.get(name) is not None:
            value = read(extension[name])
            if value is None:
                raise _Unbuildable(f"{name} must be {valid}")
            members[member] = value
    return members


def _integration_request(extension: Mapping[str, Any]) -> Document:
    kind = (_text(extension.get("type")) or "").upper()
    if kind not in INTEGRATION_TYPES:
        raise _Unbuildable(
            f"integration type '{extension.get('type')}' is not supported for HTTP APIs; "
            f"supported types are {', '.join(INTEGRATION_TYPES)}"
        )
    request: Document = {"IntegrationType": kind, **_read(extension, INTEGRATION_READERS)}
    uri, version = request.get("IntegrationUri"), request.get("PayloadFormatVersion")
    if kind == "AWS_PROXY" and "IntegrationSubtype" not in request:
        if uri is None or lambda_target(uri) is None:
            raise _Unbuildable(f"uri '{uri}' is not a Lambda function ARN or invocation URI")
        if version not in ("1.0", "2.0"):
            raise _Unbuildable("payloadFormatVersion must be 1.0 or 2.0 for AWS_PROXY integrations")
    if kind == "HTTP_PROXY" and (not uri or "IntegrationMethod" not in request):
        raise _Unbuildable("uri and httpMethod are required for HTTP_PROXY integrations")
    if kind == "HTTP_PROXY" and version not in (None, "1.0"):
        raise _Unbuildable("payloadFormatVersion must be 1.0 for HTTP_PROXY integrations")
    request.setdefault("PayloadFormatVersion", "1.0")
    connection = request["ConnectionType"] = request.get("ConnectionType", "INTERNET").upper()
    if connection not in ("INTERNET", "VPC_LINK"):
        raise _Unbuildable(f"connectionType '{connection}' is not INTERNET or VPC_LINK")
    if connection == "VPC_LINK" and "ConnectionId" not in request:
        raise _Unbuildable("connectionId is required for VPC_LINK integrations")
    return request


def _authorizer_request(
    name: str, scheme: Mapping[str, Any], settings: Mapping[str, Any]
) -> Document:
    if not 1 <= len(name) <= 128:
        raise _Unbuildable("an authorizer's name has 1 to 128 characters")
    kind = (_text(settings.get("type")) or "").lower()
    kind = kind or ("jwt" if "jwtConfiguration" in settings else "request")
    if kind not in ("jwt", "request"):
        raise _Unbuildable(f"authorizer type '{kind}' is not supported for HTTP APIs")
    request: Document = {"Name": name, "IdentitySource": []}
    request.update(_read(settings, AUTHORIZER_READERS))
    for source in request["IdentitySource"]:
        if not source.startswith(IDENTITY_SOURCES):
            raise _Unbuildable(
                f"identitySource '{source}' is not one of $request.header.name, "
                "$request.querystring.name, $context.name or $stageVariables.name"
            )
    if kind == "jwt":
        return _jwt_authorizer(scheme, settings, request)
    return _lambda_authorizer(request)


def _jwt_authorizer(
    scheme: Mapping[str, Any], settings: Mapping[str, Any], request: Document
) -> Document:
    if not request["IdentitySource"]:
        raise _Unbuildable("identitySource is required for JWT authorizers")
    configuration = _mapping(settings.get("jwtConfiguration"))
    issuer = _text(configuration.get("issuer"))
    discovery = _text(scheme.get("openIdConnectUrl"))
    if not issuer and discovery:
        issuer = discovery.removesuffix("/.well-known/openid-configuration")
    if not issuer:
        raise _Unbuildable("jwtConfiguration.issuer (or the scheme's openIdConnectUrl) is required")
    jwt: Document = {"Issuer": issuer}
    if "audience" in configuration:
        audience = _strings(configuration["audience"])
        if audience is None:
            raise _Unbuildable("jwtConfiguration.audience must be a list of strings")
        jwt["Audience"] = audience
    named = {member: request[member] for member in ("Name", "IdentitySource")}
    return {"AuthorizerType": "JWT", **named, "JwtConfiguration": jwt}


def _lambda_authorizer(request: Document) -> Document:
    uri = request.get("AuthorizerUri")
    if uri is None or lambda_target(uri) is None:
        raise _Unbuildable(f"authorizerUri '{uri}' is not a Lambda function ARN or invocation URI")
    version = request.get("AuthorizerPayloadFormatVersion")
    if version not in ("1.0", "2.0"):
        raise _Unbuildable("authorizerPayloadFormatVersion must be 1.0 or 2.0")
    simple = request.setdefault("EnableSimpleResponses", False)
    if simple and version != "2.0":
        raise _Unbuildable("enableSimpleResponses is supported only with payload format 2.0")
    if request.get("AuthorizerResultTtlInSeconds") and not request["IdentitySource"]:
        raise _Unbuildable("identitySource is required when authorizer results are cached")
    return {"AuthorizerType": "REQUEST", **request}
