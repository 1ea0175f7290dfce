"""An HTTP API's CorsConfiguration, checked as API Gateway checks it.

    {"AllowOrigins": ["https://app.example.com"], "AllowMethods": ["GET", "POST"],
     "AllowHeaders": ["authorization"], "ExposeHeaders": ["x-request-id"],
     "MaxAge": 300, "AllowCredentials": true}

Every member is optional; origins are `*` or `scheme://host[:port]`, methods HTTP methods or
`*`, MaxAge -1 to 86400 seconds, and credentials cannot be allowed to every origin.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

from portico.services.apigatewayv2 import validation
from portico.services.apigatewayv2.errors import BadRequestException

CORS_METHODS = ("*", "DELETE", "GET", "HEAD", "OPTIONS", "PATCH", "POST", "PUT")
_ORIGIN = re.compile(r"^(\*|[a-zA-Z][a-zA-Z0-9+.-]*://[^/\s?#]+)$")
_HEADER = re.compile(r"^(\*|[!#$%&'*+.^_`|~0-9A-Za-z-]+)$")
WILDCARD_CREDENTIALS = "allow-credentials is not supported if 'allow-origin' is *"


def check_cors(configuration: Mapping[str, Any]) -> dict[str, Any]:
    """The configuration as stored: only the members given, each checked."""
    checked: dict[str, Any] = {}
    origins = _checked_list(configuration, "AllowOrigins", _is_origin, "origin")
    methods = _checked_list(configuration, "AllowMethods", _is_method, "method")
    allow_headers = _checked_list(configuration, "AllowHeaders", _is_header, "header")
    expose_headers = _checked_list(configuration, "ExposeHeaders", _is_header, "header")
    for member, value in (
        ("AllowOrigins", origins),
        ("AllowMethods", methods),
        ("AllowHeaders", allow_headers),
        ("ExposeHeaders", expose_headers),
        ("MaxAge", validation.integer(configuration, "MaxAge", -1, 86_400)),
        ("AllowCredentials", validation.boolean(configuration, "AllowCredentials")),
    ):
        if value is not None:
            checked[member] = value
    if checked.get("AllowCredentials") and "*" in (origins or []):
        raise BadRequestException(WILDCARD_CREDENTIALS)
    return checked


def _checked_list(
    configuration: Mapping[str, Any], member: str, valid: Callable[[str], bool], what: str
) -> list[str] | None:
    values = validation.strings(configuration, member)
    for value in values or []:
        if not valid(value):
            raise BadRequestException(f"Invalid {what} specified in {member}: {value}")
    return values


def _is_origin(value: str) -> bool:
    return bool(_ORIGIN.match(value))


def _is_method(value: str) -> bool:
    return value.upper() in CORS_METHODS


def _is_header(value: str) -> bool:
    return bool(_HEADER.match(value))
