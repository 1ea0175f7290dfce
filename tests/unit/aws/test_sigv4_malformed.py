"""SigV4: malformed signatures get AWS's own messages; the credential scope can be held to
a region and service.
"""

from __future__ import annotations

import dataclasses

import pytest

from portico.aws.sigv4 import (
    AuthenticationError,
    IncompleteSignatureException,
    InvalidSignatureException,
    MissingAuthenticationTokenException,
    SignedRequest,
)
from tests.unit.aws.signing import (
    CREDENTIAL,
    NOW,
    SIGNATURE,
    check,
    hand_made,
    lambda_invoke,
    rejection,
)

MALFORMED = [
    (
        hand_made(f"AWS4-HMAC-SHA256 Credential= {CREDENTIAL}, SignedHeaders=host, Signature=0"),
        IncompleteSignatureException,
        f"'{CREDENTIAL}' not a valid key=value pair (missing equal-sign) in Authorization "
        f"header: 'AWS4-HMAC-SHA256 Credential= {CREDENTIAL}, SignedHeaders=host, Signature=0'.",
    ),
    (
        hand_made("Bearer abc.def"),
        IncompleteSignatureException,
        "'abc.def' not a valid key=value pair (missing equal-sign) in Authorization header: "
        "'Bearer abc.def'.",
    ),
    (
        hand_made("AWS4-HMAC-SHA256 Credential=AKID", X_Amz_Date=""),
        IncompleteSignatureException,
        "Authorization header requires 'Signature' parameter. "
        "Authorization header requires 'SignedHeaders' parameter. "
        "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header. "
        "Authorization=AWS4-HMAC-SHA256 Credential=AKID",
    ),
    (
        hand_made("eyJhbGciOiJIUzI1NiJ9.e30.sig"),
        IncompleteSignatureException,
        "Authorization header requires 'Credential' parameter. "
        "Authorization header requires 'Signature' parameter. "
        "Authorization header requires 'SignedHeaders' parameter. "
        "Authorization=eyJhbGciOiJIUzI1NiJ9.e30.sig",
    ),
    (
        hand_made(
            f"AWS4-HMAC-SHA256 Credential={CREDENTIAL}, SignedHeaders=host, Signature={SIGNATURE}",
            X_Amz_Date="2024-01-01T00:00:00Z",
        ),
        IncompleteSignatureException,
        "Date must be in ISO-8601 'basic format'. Got '2024-01-01T00:00:00Z'. "
        "See http://en.wikipedia.org/wiki/ISO_8601",
    ),
    (
        hand_made(
            f"AWS4-HMAC-SHA256 Credential={CREDENTIAL}, SignedHeaders=x-amz-date, "
            f"Signature={SIGNATURE}"
        ),
        InvalidSignatureException,
        "'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization.",
    ),
    (
        hand_made(
            f"AWS4-HMAC-SHA512 Credential={CREDENTIAL}, SignedHeaders=host, Signature={SIGNATURE}"
        ),
        IncompleteSignatureException,
        "Unsupported AWS 'algorithm': 'AWS4-HMAC-SHA512' (only AWS4-HMAC-SHA256 for now). ",
    ),
    (
        hand_made(
            "AWS4-HMAC-SHA256 Credential=AKID/20240101/us-east-1/lambda, SignedHeaders=host, "
            f"Signature={SIGNATURE}"
        ),
        IncompleteSignatureException,
        "Credential must have exactly 5 slash-delimited elements, "
        "e.g. keyid/date/region/service/term, got 'AKID/20240101/us-east-1/lambda'",
    ),
    (
        hand_made(
            "AWS4-HMAC-SHA256 Credential=AKID/20231231/us-east-1/lambda/aws5_request, "
            f"SignedHeaders=host, Signature={SIGNATURE}"
        ),
        InvalidSignatureException,
        "Credential should be scoped with a valid terminator: 'aws4_request', "
        "not 'aws5_request'. Date in Credential scope does not match YYYYMMDD from ISO-8601 "
        "version of date from HTTP: '20231231' != '20240101', from '20240101T000000Z'. ",
    ),
    (
        dataclasses.replace(
            hand_made(
                f"AWS4-HMAC-SHA256 Credential={CREDENTIAL}, SignedHeaders=host, "
                f"Signature={SIGNATURE}"
            ),
            query="X-Amz-Algorithm=AWS4-HMAC-SHA256",
        ),
        InvalidSignatureException,
        "Found both 'X-Amz-Algorithm' as a query-string param and 'Authorization' as HTTP header.",
    ),
    (
        dataclasses.replace(
            hand_made(None),
            query=f"X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential={CREDENTIAL}"
            "&X-Amz-Date=20240101T000000Z&X-Amz-Signature=",
        ),
        IncompleteSignatureException,
        "AWS query-string parameters must include 'X-Amz-Signature'. "
        "AWS query-string parameters must include 'X-Amz-SignedHeaders'. "
        "Re-examine the query-string parameters.",
    ),
    (
        dataclasses.replace(
            hand_made(None),
            query=f"X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential={CREDENTIAL}"
            f"&X-Amz-Date=20240101T000000Z&X-Amz-SignedHeaders=host&X-Amz-Signature={SIGNATURE}"
            "&X-Amz-Expires=soon",
        ),
        IncompleteSignatureException,
        "X-Amz-Expires should be a number",
    ),
    (hand_made(None), MissingAuthenticationTokenException, "Missing Authentication Token"),
]


@pytest.mark.parametrize(("request_", "kind", "message"), MALFORMED)
def test_malformed_signatures_get_aws_messages(
    request_: SignedRequest, kind: type[AuthenticationError], message: str
) -> None:
    error = rejection(request_, NOW)

    assert type(error) is kind
    assert error.message == message
    assert error.status_code == 403


def test_the_credential_scope_can_be_held_to_a_region_and_service() -> None:
    request = lambda_invoke(region="eu-west-1")

    error = rejection(request, region="us-east-1", service="sqs")

    assert type(error) is InvalidSignatureException
    assert error.message == (
        "Credential should be scoped to a valid region, not 'eu-west-1'. "
        "Credential should be scoped to correct service: 'sqs'. "
    )
    assert check(request, region="eu-west-1", service="lambda").region == "eu-west-1"
