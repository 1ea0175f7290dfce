"""SigV4 verification against botocore's own signer: what it signs passes, any change fails.

Requests are signed by botocore (`SigV4Auth`, `SigV4QueryAuth`, and boto3 clients caught
just before sending), then handed to `verify` as a server reads them off the wire: raw path
and query, every header (with the Host the HTTP client adds), the body bytes.
"""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import boto3
import pytest
from botocore.auth import SigV4Auth, SigV4QueryAuth
from botocore.awsrequest import AWSPreparedRequest, AWSRequest
from botocore.credentials import Credentials

from portico.aws.sigv4 import (
    AuthenticationError,
    Identity,
    IncompleteSignature,
    IncompleteSignatureException,
    InvalidClientTokenId,
    InvalidSignatureException,
    MissingAuthenticationToken,
    MissingAuthenticationTokenException,
    SignatureDoesNotMatch,
    SignedRequest,
    UnrecognizedClientException,
    XAmzContentSHA256Mismatch,
    dialect_for_protocol,
    verify,
)

ACCESS_KEY = "AKIDPORTICOEXAMPLE"
SECRET = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
TOKEN = "FwoGZXIvYXdzEBYaDPorticoSessionToken+/=="
ENDPOINT = "http://127.0.0.1:4566"

MISMATCH = (
    "The request signature we calculated does not match the signature you provided. "
    "Check your AWS Secret Access Key and signing method. "
    "Consult the service documentation for details."
)
UNKNOWN_KEY = "The security token included in the request is invalid."


class Keys:
    """A credential store: access key (and session token, when it has one) -> secret."""

    def __init__(self, secrets: Mapping[tuple[str, str | None], str] | None = None) -> None:
        if secrets is None:
            secrets = {(ACCESS_KEY, None): SECRET, (ACCESS_KEY, TOKEN): SECRET}
        self._secrets = dict(secrets)

    def secret_for(self, access_key_id: str, session_token: str | None) -> str | None:
        return self._secrets.get((access_key_id, session_token))


def on_the_wire(prepared: AWSPreparedRequest) -> SignedRequest:
    """The request as the server reads it: raw path and query, all headers, body bytes."""
    url = urlsplit(prepared.url)
    headers: dict[str, str] = {}
    for name, raw in prepared.headers.items():
        value = raw.decode("latin-1") if isinstance(raw, bytes) else raw
        headers[name] = f"{headers[name]},{value}" if name in headers else value
    headers.setdefault("Host", url.netloc)  # added by the HTTP client, signed by botocore
    body = prepared.body or b""
    return SignedRequest(
        method=prepared.method,
        path=url.path,
        query=url.query,
        headers=headers,
        body=body.encode() if isinstance(body, str) else body,
    )


def sign(
    method: str,
    url: str,
    *,
    service: str = "lambda",
    region: str = "us-east-1",
    body: bytes = b"",
    headers: dict[str, str] | None = None,
    token: str | None = TOKEN,
    presign_expires: int | None = None,
) -> SignedRequest:
    request = AWSRequest(method=method, url=url, data=body, headers=headers or {})
    credentials = Credentials(ACCESS_KEY, SECRET, token)
    if presign_expires is None:
        SigV4Auth(credentials, service, region).add_auth(request)
    else:
        SigV4QueryAuth(credentials, service, region, expires=presign_expires).add_auth(request)
    return on_the_wire(request.prepare())


def signed_at(request: SignedRequest) -> datetime:
    stamp = request.headers.get("X-Amz-Date")
    if stamp is None:
        stamp = next(
            part.partition("=")[2]
            for part in request.query.split("&")
            if part.startswith("X-Amz-Date=")
        )
    return datetime.strptime(stamp, "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)


def check(request: SignedRequest, now: datetime | None = None, **options: Any) -> Identity:
    return verify(request, Keys(), now or signed_at(request), **options)


def rejection(
    request: SignedRequest, now: datetime | None = None, **options: Any
) -> AuthenticationError:
    with pytest.raises(AuthenticationError) as caught:
        check(request, now, **options)
    return caught.value


def with_headers(request: SignedRequest, **changes: str | None) -> SignedRequest:
    """The request with headers set (or, for None, removed), named as Python identifiers."""
    headers = dict(request.headers)
    for name, value in changes.items():
        wire_name = name.replace("_", "-")
        headers = {k: v for k, v in headers.items() if k.lower() != wire_name.lower()}
        if value is not None:
            headers[wire_name] = value
    return dataclasses.replace(request, headers=headers)


def lambda_invoke(token: str | None = TOKEN, region: str = "us-east-1") -> SignedRequest:
    return sign(
        "POST",
        f"{ENDPOINT}/2015-03-31/functions/my%20fn%20%C3%BC%3A%2F/invocations?Qualifier=live",
        region=region,
        body=b'{"key": "value \xc3\xbc & more"}',
        headers={"X-Amz-Invocation-Type": "Event", "Content-Type": "application/json"},
        token=token,
    )


# -- what botocore signs passes ------------------------------------------------------------

SIGNED = {
    "lambda rest-json, path params": lambda token: sign(
        "POST",
        f"{ENDPOINT}/2015-03-31/functions/my%20fn%20%C3%BC%3A%2F/invocations?Qualifier=live",
        region="eu-west-1",
        body=b'{"key": "value"}',
        headers={"X-Amz-Invocation-Type": "Event", "Content-Type": "application/json"},
        token=token,
    ),
    "lambda query with spaces, unicode, reserved": lambda token: sign(
        "GET",
        f"{ENDPOINT}/2015-03-31/functions?Marker=a%20b%2Bc%2F%C3%BC%3D%26%3F%23&MaxItems=5&t=~x",
        region="ap-southeast-2",
        token=token,
    ),
    "sqs json with X-Amz-Target": lambda token: sign(
        "POST",
        f"{ENDPOINT}/",
        service="sqs",
        region="eu-central-1",
        body=b'{"QueueUrl": "http://127.0.0.1:4566/000000000000/q", "MessageBody": "hi"}',
        headers={
            "X-Amz-Target": "AmazonSQS.SendMessage",
            "Content-Type": "application/x-amz-json-1.0",
        },
        token=token,
    ),
    "sns query, form body": lambda token: sign(
        "POST",
        f"{ENDPOINT}/",
        service="sns",
        region="us-west-2",
        body=b"Action=Publish&Version=2010-03-31&Message=hi%20%26%20%C3%BC"
        b"&TopicArn=arn%3Aaws%3Asns%3Aus-west-2%3A000000000000%3At",
        headers={"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"},
        token=token,
    ),
    "GET with repeated query keys": lambda token: sign(
        "GET",
        f"{ENDPOINT}/things?b=2&a=3&a=1&a=%C3%BC&empty=&flag",
        service="execute-api",
        token=token,
    ),
    "path with dot segments and double slashes": lambda token: sign(
        "GET", f"{ENDPOINT}/a/./b/../c//d/", service="apigateway", token=token
    ),
    "header values with runs of spaces, repeated header": lambda token: sign(
        "PUT",
        f"{ENDPOINT}/2015-03-31/functions/f/concurrency",
        body=b'{"ReservedConcurrentExecutions": 2}',
        headers={"X-Custom": "  a   b  c ", "X-Amz-Meta": "one,two"},
        token=token,
    ),
}


@pytest.mark.parametrize("token", [None, TOKEN], ids=["long-term key", "session token"])
@pytest.mark.parametrize("name", list(SIGNED))
def test_requests_signed_by_botocore_pass(name: str, token: str | None) -> None:
    request = SIGNED[name](token)
    credential = request.headers["Authorization"].split("Credential=")[1].split(",")[0]
    _, _, region, service, _ = credential.split("/")

    identity = check(request)

    assert identity == Identity(ACCESS_KEY, region, service, token)


@pytest.mark.parametrize("token", [None, TOKEN], ids=["long-term key", "session token"])
def test_presigned_urls_pass(token: str | None) -> None:
    request = sign(
        "GET",
        f"{ENDPOINT}/2015-03-31/functions/my%20fn/configuration?Qualifier=v%201",
        region="sa-east-1",
        token=token,
        presign_expires=600,
    )
    assert "Authorization" not in request.headers

    identity = check(request, signed_at(request) + timedelta(seconds=600))

    assert identity == Identity(ACCESS_KEY, "sa-east-1", "lambda", token)


def test_a_date_header_can_stand_for_x_amz_date() -> None:
    request = sign(
        "GET",
        f"{ENDPOINT}/2015-03-31/functions",
        headers={"Date": "Mon, 01 Jan 2024 00:00:00 GMT"},  # botocore rewrites it to now
    )
    assert "X-Amz-Date" not in request.headers
    signed = datetime.strptime(request.headers["Date"], "%a, %d %b %Y %H:%M:%S %z")

    assert check(request, signed).access_key_id == ACCESS_KEY


def test_the_query_is_compared_by_meaning_not_spelling() -> None:
    request = sign("GET", f"{ENDPOINT}/things?b=~&a=%C3%BC%20x&c=1")

    respelled = dataclasses.replace(request, query="c=1&a=%c3%bc%20x&b=%7E")

    assert check(respelled).service == "lambda"


def test_unsigned_headers_may_change() -> None:
    request = lambda_invoke()

    retouched = with_headers(request, User_Agent="curl/8", X_Amzn_Trace_Id="Root=1-abc")

    assert check(retouched).access_key_id == ACCESS_KEY


# -- any change to what was signed fails -----------------------------------------------


def changed(request: SignedRequest, part: str) -> SignedRequest:
    match part:
        case "method":
            return dataclasses.replace(request, method="PUT")
        case "path":
            return dataclasses.replace(request, path=request.path.replace("my%20fn", "my%20fo"))
        case "path encoding":
            return dataclasses.replace(request, path=request.path.replace("%20", "+"))
        case "query value":
            return dataclasses.replace(request, query="Qualifier=prod")
        case "query added":
            return dataclasses.replace(request, query=request.query + "&extra=1")
        case "signed header":
            return with_headers(request, X_Amz_Invocation_Type="RequestResponse")
        case "signed header removed":
            return with_headers(request, Content_Type=None)
        case "host":
            return with_headers(request, Host="127.0.0.1:4567")
        case "body":
            return dataclasses.replace(request, body=request.body + b" ")
        case "session token":
            return with_headers(request, X_Amz_Security_Token="other")
        case "signature":
            authorization = request.headers["Authorization"]
            flipped = "1" if authorization.endswith("0") else "0"
            return with_headers(request, Authorization=authorization[:-1] + flipped)
    raise AssertionError(part)


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


# -- time --------------------------------------------------------------------------------


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


def basic(moment: datetime) -> str:
    return moment.strftime("%Y%m%dT%H%M%SZ")


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


# -- malformed signatures -----------------------------------------------------------------

CREDENTIAL = "AKID/20240101/us-east-1/lambda/aws4_request"
SIGNATURE = "0" * 64
NOW = datetime(2024, 1, 1, 0, 5, tzinfo=UTC)


def hand_made(authorization: str | None, **headers: str) -> SignedRequest:
    base = {"Host": "127.0.0.1:4566", "X-Amz-Date": "20240101T000000Z"}
    if authorization is not None:
        base["Authorization"] = authorization
    base.update({name.replace("_", "-"): value for name, value in headers.items()})
    return SignedRequest("GET", "/2015-03-31/functions", "", base, b"")


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


# -- dialects -----------------------------------------------------------------------------

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
}
ANSWERS = {
    "rest-json": {
        "missing": (MissingAuthenticationTokenException, 403, "Missing Authentication Token"),
        "incomplete": (IncompleteSignatureException, 403, None),
        "unrecognized": (UnrecognizedClientException, 403, UNKNOWN_KEY),
        "mismatch": (InvalidSignatureException, 403, MISMATCH),
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
    },
    "query": {
        "missing": (MissingAuthenticationToken, 403, "Request is missing Authentication Token"),
        "incomplete": (IncompleteSignature, 400, None),
        "unrecognized": (InvalidClientTokenId, 403, UNKNOWN_KEY),
        "mismatch": (SignatureDoesNotMatch, 403, MISMATCH),
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


# -- boto3 end to end ---------------------------------------------------------------------


class Captured(Exception):
    def __init__(self, request: AWSPreparedRequest) -> None:
        super().__init__("captured")
        self.request = request


def capture(request: AWSPreparedRequest, **_: Any) -> None:
    raise Captured(request)  # stop before anything is sent


def sent_by_boto3(service: str, operation: str, region: str, **params: Any) -> SignedRequest:
    client = boto3.client(
        service,
        endpoint_url=ENDPOINT,
        region_name=region,
        aws_access_key_id=ACCESS_KEY,
        aws_secret_access_key=SECRET,
        aws_session_token=TOKEN,
    )
    client.meta.events.register("before-send", capture)
    with pytest.raises(Captured) as caught:
        getattr(client, operation)(**params)
    return on_the_wire(caught.value.request)


BOTO3_CALLS = [
    ("lambda", "list_functions", {"Marker": "a b+c/ü=&?#", "MaxItems": 5}),
    ("lambda", "get_function", {"FunctionName": "my fn ü/?#&=+~", "Qualifier": "v 1/ü"}),
    ("lambda", "invoke", {"FunctionName": "fn", "Payload": '{"k": "ü"}'.encode()}),
    ("lambda", "create_function_url_config", {"FunctionName": "fn", "AuthType": "NONE"}),
    ("sqs", "send_message", {"QueueUrl": f"{ENDPOINT}/000000000000/q", "MessageBody": "hé"}),
    ("sns", "publish", {"TopicArn": "arn:aws:sns:eu-west-1:000000000000:t", "Message": "a&ü"}),
    (
        "logs",
        "put_log_events",
        {
            "logGroupName": "g",
            "logStreamName": "s",
            "logEvents": [{"timestamp": 1, "message": "m"}],
        },
    ),
    ("apigatewayv2", "get_apis", {"MaxResults": "10", "NextToken": "t o/k"}),
]


@pytest.mark.parametrize(("service", "operation", "params"), BOTO3_CALLS)
def test_requests_sent_by_boto3_pass(service: str, operation: str, params: dict[str, Any]) -> None:
    request = sent_by_boto3(service, operation, "eu-west-1", **params)
    signing_name = "apigateway" if service == "apigatewayv2" else service

    identity = check(request, service=signing_name)

    assert identity == Identity(ACCESS_KEY, "eu-west-1", signing_name, TOKEN)
    assert rejection(changed(request, "body" if request.body else "method")).message == MISMATCH
