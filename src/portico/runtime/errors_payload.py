"""Error documents the platform itself returns as a function's response.

The platform writes compact JSON (no spaces), unlike the Python runtime's own documents.
"""

from __future__ import annotations

import json

from portico.runtime.limits import RESPONSE_LIMIT_BYTES


def platform_error(error_type: str, message: str, request_id: str | None = None) -> bytes:
    if request_id:
        message = f"RequestId: {request_id} Error: {message}"
    document = {"errorType": error_type, "errorMessage": message}
    return json.dumps(document, separators=(",", ":")).encode()


def timed_out(request_id: str, timeout: float) -> bytes:
    return platform_error(
        "Sandbox.Timedout", f"Task timed out after {timeout:.2f} seconds", request_id
    )


def response_too_large() -> bytes:
    message = (
        "Response payload size exceeded maximum allowed payload size "
        f"({RESPONSE_LIMIT_BYTES} bytes)."
    )
    return json.dumps(
        {"errorMessage": message, "errorType": "Function.ResponseSizeTooLarge"}
    ).encode()
