"""SigV4: any change to what was signed fails, as does a wrong or unknown key; a declared
payload hash must match the body.
"""

from __future__ import annotations

import dataclasses
import hashlib

import pytest

from portico.aws.sigv4 import (
    InvalidSignatureException,
    UnrecognizedClientException,
    XAmzContentSHA256Mismatch,
    verify,
)
from tests.unit.aws.signing import (
    ACCESS_KEY,
    ENDPOINT,
    MISMATCH,
    SECRET,
    UNKNOWN_KEY,
    Keys,
    changed,
    check,
    lambda_invoke,
    rejection,
    sign,
    signed_at,
    with_headers,
)

# -- any change to what was signed fails -----------------------------------------------


@pytest.mark.parametrize(
    "part",
    [
        "method",
        "path",
        "path encoding",
        "query value",
        "query added",
        "signed header",
        "signed header removed",
        "host",
        "body",
        "signature",
    ],
)
def test_changing_a_signed_part_fails(part: str) -> None:
    original = lambda_invoke()
    assert check(original)

    error = rejection(changed(original, part))

    assert type(error) is InvalidSignatureException
    assert (error.code, error.status_code, error.message) == (
        "InvalidSignatureException",
        403,
        MISMATCH,
    )


def test_a_mismatch_keeps_the_canonical_request_for_the_servers_log() -> None:
    error = rejection(changed(lambda_invoke(), "method"))

    assert error.canonical_request is not None
    assert error.canonical_request.startswith(
        "PUT\n/2015-03-31/functions/my%2520fn%2520%25C3%25BC%253A%252F/invocations\n"
        "Qualifier=live\ncontent-type:application/json\nhost:127.0.0.1:4566\n"
    )
    assert error.string_to_sign is not None
    assert error.string_to_sign.startswith("AWS4-HMAC-SHA256\n")
    assert str(error) == f"InvalidSignatureException: {MISMATCH}"


def test_a_wrong_secret_fails() -> None:
    request = lambda_invoke(token=None)
    store = Keys({(ACCESS_KEY, None): SECRET[:-1] + "L"})

    with pytest.raises(InvalidSignatureException) as caught:
        verify(request, store, signed_at(request))

    assert caught.value.message == MISMATCH


def test_an_unknown_access_key_or_session_token_is_unrecognized() -> None:
    request = lambda_invoke()

    for store in (Keys({}), Keys({(ACCESS_KEY, None): SECRET})):
        with pytest.raises(UnrecognizedClientException) as caught:
            verify(request, store, signed_at(request))
        error = caught.value
        assert (error.code, error.status_code, error.message) == (
            "UnrecognizedClientException",
            403,
            UNKNOWN_KEY,
        )

    assert type(rejection(changed(request, "session token"))) is UnrecognizedClientException


# -- the payload hash ---------------------------------------------------------------------


def test_a_declared_payload_hash_must_match_the_body() -> None:
    body = b'{"ReservedConcurrentExecutions": 2}'
    request = sign(
        "PUT",
        f"{ENDPOINT}/2015-03-31/functions/f/concurrency",
        body=body,
        headers={"X-Amz-Content-SHA256": hashlib.sha256(body).hexdigest()},
    )
    assert check(request)

    error = rejection(dataclasses.replace(request, body=b'{"ReservedConcurrentExecutions": 9}'))

    assert type(error) is XAmzContentSHA256Mismatch
    assert (error.code, error.status_code, error.message) == (
        "XAmzContentSHA256Mismatch",
        400,
        "The provided 'x-amz-content-sha256' header does not match what was computed.",
    )


@pytest.mark.parametrize("declared", ["UNSIGNED-PAYLOAD", "STREAMING-UNSIGNED-PAYLOAD-TRAILER"])
def test_an_unsigned_payload_is_not_checked_but_its_declaration_is_signed(declared: str) -> None:
    request = sign(
        "POST",
        f"{ENDPOINT}/2015-03-31/functions/f/invocations",
        body=b"{}",
        headers={"X-Amz-Content-SHA256": declared},
    )

    assert check(dataclasses.replace(request, body=b'{"other": "body"}'))
    undeclared = with_headers(request, X_Amz_Content_SHA256=hashlib.sha256(b"{}").hexdigest())
    assert rejection(undeclared).message == MISMATCH
