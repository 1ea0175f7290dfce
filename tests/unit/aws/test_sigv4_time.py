"""SigV4: the signature's date against the server's clock, and presigned URLs' expiry."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta

import pytest

from portico.aws.sigv4 import (
    InvalidSignatureException,
    verify,
)
from tests.unit.aws.signing import (
    ENDPOINT,
    MISMATCH,
    Keys,
    basic,
    check,
    lambda_invoke,
    rejection,
    sign,
    signed_at,
    with_headers,
)


def test_the_date_may_be_off_by_max_skew_either_way() -> None:
    request = lambda_invoke()
    at = signed_at(request)

    assert check(request, at + timedelta(minutes=15))
    assert check(request, at - timedelta(minutes=15))
    assert check(request, at + timedelta(minutes=15, microseconds=999_999))


def test_an_old_signature_has_expired() -> None:
    request = lambda_invoke()
    stamp = request.headers["X-Amz-Date"]
    now = signed_at(request) + timedelta(minutes=15, seconds=1)

    error = rejection(request, now)

    assert type(error) is InvalidSignatureException
    assert error.message == (
        f"Signature expired: {stamp} is now earlier than {basic(now - timedelta(minutes=15))} "
        f"({basic(now)} - 15 min.)"
    )


def test_a_signature_from_the_future_is_not_yet_current() -> None:
    request = lambda_invoke()
    stamp = request.headers["X-Amz-Date"]
    now = signed_at(request) - timedelta(minutes=5, seconds=1)

    error = rejection(request, now, max_skew=timedelta(minutes=5))

    assert type(error) is InvalidSignatureException
    assert error.message == (
        f"Signature not yet current: {stamp} is still later than "
        f"{basic(now + timedelta(minutes=5))} ({basic(now)} + 5 min.)"
    )


def test_exact_wording_of_the_expiry_message() -> None:
    request = with_headers(
        lambda_invoke(),
        X_Amz_Date="20240101T000000Z",
        Authorization="AWS4-HMAC-SHA256 Credential=AKID/20240101/us-east-1/lambda/aws4_request, "
        "SignedHeaders=host;x-amz-date, Signature=abc",
    )

    error = rejection(request, datetime(2024, 1, 1, 0, 30, tzinfo=UTC))

    assert error.message == (
        "Signature expired: 20240101T000000Z is now earlier than 20240101T001500Z "
        "(20240101T003000Z - 15 min.)"
    )


@pytest.mark.parametrize(
    ("expires", "late_by", "span"),
    [(60, 61, "1 min."), (90, 91, "90 sec."), (3600, 15 * 60 + 1, "15 min.")],
)
def test_a_presigned_url_expires(expires: int, late_by: int, span: str) -> None:
    request = sign("GET", f"{ENDPOINT}/2015-03-31/functions", presign_expires=expires)
    at = signed_at(request)
    assert check(request, at + timedelta(seconds=late_by - 1))
    now = at + timedelta(seconds=late_by)

    error = rejection(request, now)

    assert type(error) is InvalidSignatureException
    earliest = basic(now - timedelta(seconds=min(expires, 900)))
    assert error.message == (
        f"Signature expired: {basic(at)} is now earlier than {earliest} ({basic(now)} - {span})"
    )


def test_a_changed_presigned_url_fails() -> None:
    request = sign(
        "GET", f"{ENDPOINT}/2015-03-31/functions?MaxItems=5", token=None, presign_expires=300
    )

    longer = dataclasses.replace(
        request, query=request.query.replace("X-Amz-Expires=300", "X-Amz-Expires=900")
    )
    other = dataclasses.replace(request, query=request.query.replace("MaxItems=5", "MaxItems=6"))

    assert rejection(longer).message == MISMATCH
    assert rejection(other).message == MISMATCH


def test_now_must_be_timezone_aware() -> None:
    request = lambda_invoke()

    with pytest.raises(ValueError, match="timezone-aware"):
        verify(request, Keys(), signed_at(request).replace(tzinfo=None))
