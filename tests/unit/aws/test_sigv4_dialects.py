"""SigV4: each protocol's front end names each fault with its own code and status."""

from __future__ import annotations

import pytest

from portico.aws.sigv4 import (
    ExpiredToken,
    ExpiredTokenException,
    IncompleteSignature,
    IncompleteSignatureException,
    InvalidClientTokenId,
    InvalidSignatureException,
    MissingAuthenticationToken,
    MissingAuthenticationTokenException,
    SignatureDoesNotMatch,
    UnrecognizedClientException,
    dialect_for_protocol,
)
from tests.unit.aws.signing import (
    ACCESS_KEY,
    CREDENTIAL,
    EXPIRED,
    EXPIRED_KEY,
    MISMATCH,
    NOW,
    SIGNATURE,
    TOKEN,
    UNKNOWN_KEY,
    hand_made,
    rejection,
)

FAULTS = {
    "missing": hand_made(None),
    "incomplete": hand_made("AWS4-HMAC-SHA256 Credential=AKID"),
    "unrecognized": hand_made(
        f"AWS4-HMAC-SHA256 Credential={CREDENTIAL}, SignedHeaders=host, Signature={SIGNATURE}"
    ),
    "mismatch": hand_made(
        f"AWS4-HMAC-SHA256 Credential={ACCESS_KEY}/20240101/us-east-1/lambda/aws4_request, "
        f"SignedHeaders=host, Signature={SIGNATURE}"
    ),
    # Told before the signature is checked: a stale key's requests are not worth verifying.
    "expired": hand_made(
        f"AWS4-HMAC-SHA256 Credential={EXPIRED_KEY}/20240101/us-east-1/lambda/aws4_request, "
        f"SignedHeaders=host;x-amz-security-token, Signature={SIGNATURE}",
        X_Amz_Security_Token=TOKEN,
    ),
}
ANSWERS = {
    "rest-json": {
        "missing": (MissingAuthenticationTokenException, 403, "Missing Authentication Token"),
        "incomplete": (IncompleteSignatureException, 403, None),
        "unrecognized": (UnrecognizedClientException, 403, UNKNOWN_KEY),
        "mismatch": (InvalidSignatureException, 403, MISMATCH),
        "expired": (ExpiredTokenException, 403, EXPIRED),
    },
    "json": {
        "missing": (
            MissingAuthenticationTokenException,
            400,
            "Request is missing Authentication Token",
        ),
        "incomplete": (IncompleteSignatureException, 400, None),
        "unrecognized": (UnrecognizedClientException, 400, UNKNOWN_KEY),
        "mismatch": (InvalidSignatureException, 400, MISMATCH),
        "expired": (ExpiredTokenException, 400, EXPIRED),
    },
    "query": {
        "missing": (MissingAuthenticationToken, 403, "Request is missing Authentication Token"),
        "incomplete": (IncompleteSignature, 400, None),
        "unrecognized": (InvalidClientTokenId, 403, UNKNOWN_KEY),
        "mismatch": (SignatureDoesNotMatch, 403, MISMATCH),
        "expired": (ExpiredToken, 403, EXPIRED),
    },
}


@pytest.mark.parametrize("fault", list(FAULTS))
@pytest.mark.parametrize("dialect", list(ANSWERS))
def test_each_dialect_names_each_fault_as_aws_does(dialect: str, fault: str) -> None:
    kind, status, message = ANSWERS[dialect][fault]

    error = rejection(FAULTS[fault], NOW, dialect=dialect)

    assert isinstance(error, kind)
    assert (error.code, error.status_code, error.sender_fault) == (kind.code, status, True)
    if message is not None:
        assert error.message == message


def test_json_front_ends_take_other_schemes_for_no_signature() -> None:
    error = rejection(hand_made("Bearer abc.def"), NOW, dialect="json")

    assert isinstance(error, MissingAuthenticationTokenException)
    assert (error.status_code, error.message) == (400, "Request is missing Authentication Token")


def test_dialects_follow_botocore_protocol_names() -> None:
    assert [dialect_for_protocol(p) for p in ("rest-json", "json", "query", "ec2")] == [
        "rest-json",
        "json",
        "query",
        "query",
    ]
    with pytest.raises(ValueError, match="rest-xml"):
        dialect_for_protocol("rest-xml")
