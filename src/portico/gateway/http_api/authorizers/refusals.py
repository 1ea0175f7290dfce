"""What an HTTP API answers when an authorizer refuses a request: AWS's bodies and headers.

no token / identity source missing   401 {"message":"Unauthorized"}
JWT rejected                         401 + www-authenticate: Bearer ... error="invalid_token"
JWT lacks the route's scopes         403 {"message":"Forbidden"} + error="insufficient_scope"
Lambda authorizer denies, IAM fails  403 {"message":"Forbidden"} (or the SigV4 message)
Lambda authorizer fails              500 {"message":"Internal Server Error"}
"""

from __future__ import annotations

import json
from collections.abc import Sequence

from portico.gateway.http_events import HttpResult

_JSON = "application/json"
_DESCRIPTION_LIMIT = 200


def message(status: int, text: str, headers: dict[str, str] | None = None) -> HttpResult:
    body = json.dumps({"message": text}, separators=(",", ":")).encode()
    return HttpResult(status, {"content-type": _JSON, **(headers or {})}, (), body)


def unauthorized(challenge: str | None = None) -> HttpResult:
    return message(401, "Unauthorized", {"www-authenticate": challenge} if challenge else None)


def forbidden(headers: dict[str, str] | None = None) -> HttpResult:
    return message(403, "Forbidden", headers)


def internal_server_error() -> HttpResult:
    return message(500, "Internal Server Error")


def invalid_token(description: str, scopes: Sequence[str]) -> HttpResult:
    """A JWT that failed validation: 401 with the reason in `www-authenticate`."""
    return unauthorized(_bearer(scopes, "invalid_token", description))


def insufficient_scope(scopes: Sequence[str]) -> HttpResult:
    """A valid JWT carrying none of the route's scopes: 403."""
    listed = " ".join(scopes)
    challenge = _bearer(scopes, "insufficient_scope", f"expected scopes: [{listed}]")
    return forbidden({"www-authenticate": challenge})


def _bearer(scopes: Sequence[str], error: str, description: str) -> str:
    return (
        f'Bearer scope="{_quoted(" ".join(scopes))}" error="{error}" '
        f'error_description="{_quoted(description)}"'
    )


def _quoted(text: str) -> str:
    """`text` safe inside a quoted header parameter: printable ASCII, quotes escaped. Token
    contents (an `alg`, say) reach descriptions, so nothing a client sent may break the
    header."""
    printable = "".join(char if " " <= char <= "~" else "?" for char in text)
    return printable[:_DESCRIPTION_LIMIT].replace("\\", "\\\\").replace('"', '\\"')
