"""Parameter mappings of HTTP API integrations, and authorizers' identity sources.

    RequestParameters   {"append:header.x-user": "$context.authorizer.user",
                         "overwrite:querystring.v": "${stageVariables.version}",
                         "remove:header.x-debug": "", "overwrite:path": "/v2$request.path"}
    ResponseParameters  {"404": {"overwrite:statuscode": "410",
                                 "append:header.x-request": "$context.requestId"}}

A value is static text with any number of `$source.name` / `${source.name}` references; the
sources a request mapping may read differ from a response mapping's. Reserved headers
(Authorization, Content-Length, x-amz-*, ...) cannot be mapped at all.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from portico.services.apigatewayv2.errors import BadRequestException

_REQUEST_KEY = re.compile(r"^(append|overwrite|remove):(header|querystring)\.(?P<name>.+)$")
_RESPONSE_KEY = re.compile(r"^(append|overwrite|remove):header\.(?P<name>.+)$")
_HEADER_NAME = re.compile(r"^[!#$%&'*+.^_`|~0-9A-Za-z-]+$")
_REFERENCE = re.compile(r"\$\{(?P<braced>[^}]*)\}|\$(?P<bare>[A-Za-z][\w.-]*)")
_REQUEST_SOURCES = re.compile(
    r"^(request\.(header|querystring)\.[^.\s][^\s]*|request\.body(\..+|\[.+)?|"
    r"request\.path(\.[\w-]+)?|context\.[\w.]+|stageVariables\.\w+)$"
)
_RESPONSE_SOURCES = re.compile(
    r"^(response\.header\.[^\s]+|response\.body(\..+|\[.+)?|context\.[\w.]+|stageVariables\.\w+)$"
)
_IDENTITY_SOURCE = re.compile(
    r"^\$(request\.(header|querystring)\.[^\s,]+|context\.[\w.]+|stageVariables\.\w+)$"
)
_WEBSOCKET_IDENTITY_SOURCE = re.compile(
    r"^(route\.request\.(header|querystring)\.[^\s,]+|context\.[\w.]+|stageVariables\.\w+)$"
)
_STATUS_CODE = re.compile(r"^[2-5]\d\d$")
RESERVED_HEADERS = frozenset(
    {
        "authorization", "connection", "content-encoding", "content-length",
        "content-location", "forwarded", "keep-alive", "origin", "proxy-authenticate",
        "proxy-authorization", "te", "trailers", "transfer-encoding", "upgrade",
        "x-forwarded-for", "x-forwarded-host", "x-forwarded-proto", "via",
    }
)  # fmt: skip
RESERVED_HEADER_PREFIXES = ("access-control-", "apigw-", "x-amz-", "x-amzn-")


def _invalid(error: str) -> BadRequestException:
    return BadRequestException(
        f"Invalid mapping expression specified: Validation Result: warnings : [], "
        f"errors : [{error}]"
    )


def check_request_parameters(parameters: Mapping[str, str]) -> None:
    for key, value in parameters.items():
        if key == "overwrite:path":
            _check_value(key, value, _REQUEST_SOURCES)
            continue
        found = _REQUEST_KEY.match(key)
        if found is None:
            raise _invalid(f"Invalid mapping expression specified: {key}")
        if found.group(2) == "header":
            _check_header(found.group("name"))
        if not key.startswith("remove:"):
            _check_value(key, value, _REQUEST_SOURCES)


def check_response_parameters(parameters: Mapping[str, Mapping[str, str]]) -> None:
    for status, mappings in parameters.items():
        if not _STATUS_CODE.match(status) or int(status) > 599:
            raise BadRequestException(
                f"Invalid ResponseParameters key {status}: it must be an HTTP status code "
                "between 200 and 599"
            )
        for key, value in mappings.items():
            if key == "overwrite:statuscode":
                if not _STATUS_CODE.match(value) and not _REFERENCE.search(value):
                    raise _invalid(f"Invalid status code specified: {value}")
                continue
            found = _RESPONSE_KEY.match(key)
            if found is None:
                raise _invalid(f"Invalid mapping expression specified: {key}")
            _check_header(found.group("name"))
            if not key.startswith("remove:"):
                _check_value(key, value, _RESPONSE_SOURCES)


def _check_header(name: str) -> None:
    lowered = name.lower()
    if not _HEADER_NAME.match(name):
        raise _invalid(f"Invalid header name specified: {name}")
    if lowered in RESERVED_HEADERS or lowered.startswith(RESERVED_HEADER_PREFIXES):
        raise _invalid(f"Operations on header {lowered} are restricted")


def _check_value(key: str, value: str, sources: re.Pattern[str]) -> None:
    if value == "":
        raise _invalid(f"Invalid mapping expression specified: the value of {key} is empty")
    for reference in _REFERENCE.finditer(value):
        source = reference.group("braced") or reference.group("bare") or ""
        if not sources.match(source):
            raise _invalid(f"Invalid selection expression specified: ${source}")


def check_identity_sources(sources: list[str], *, websocket: bool = False) -> None:
    pattern = _WEBSOCKET_IDENTITY_SOURCE if websocket else _IDENTITY_SOURCE
    for source in sources:
        if not pattern.match(source.strip()):
            raise BadRequestException(f"Invalid identity source specified: {source}")
