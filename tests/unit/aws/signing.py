"""Shared by the SigV4 tests: requests signed by botocore's own signer (`SigV4Auth`,
`SigV4QueryAuth`), handed to `verify` as a server reads them off the wire: raw path and query,
every header (with the Host the HTTP client adds), the body bytes; and the ways to change or
hand-make them.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

import pytest
from botocore.auth import SigV4Auth, SigV4QueryAuth
from botocore.awsrequest import AWSPreparedRequest, AWSRequest
from botocore.credentials import Credentials

from portico.aws.sigv4 import (
    AuthenticationError,
    ExpiredCredentials,
    Identity,
    SignedRequest,
    verify,
)

ACCESS_KEY = "AKIDPORTICOEXAMPLE"
SECRET = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
TOKEN = "FwoGZXIvYXdzEBYaDPorticoSessionToken+/=="
ENDPOINT = "http://127.0.0.1:4566"
EXPIRED_KEY = "ASIAEXPIREDEXAMPLE"  # a session key whose time is up (with TOKEN)

MISMATCH = (
    "The request signature we calculated does not match the signature you provided. "
    "Check your AWS Secret Access Key and signing method. "
    "Consult the service documentation for details."
)
UNKNOWN_KEY = "The security token included in the request is invalid."
EXPIRED = "The security token included in the request is expired"


class Keys:
    """A credential store: access key (and session token, when it has one) -> secret; and
    EXPIRED_KEY, a session that has expired."""

    def __init__(self, secrets: Mapping[tuple[str, str | None], str] | None = None) -> None:
        if secrets is None:
            secrets = {(ACCESS_KEY, None): SECRET, (ACCESS_KEY, TOKEN): SECRET}
        self._secrets = dict(secrets)

    def secret_for(self, access_key_id: str, session_token: str | None) -> str | None:
        if (access_key_id, session_token) == (EXPIRED_KEY, TOKEN):
            raise ExpiredCredentials(access_key_id)
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


def basic(moment: datetime) -> str:
    return moment.strftime("%Y%m%dT%H%M%SZ")


CREDENTIAL = "AKID/20240101/us-east-1/lambda/aws4_request"
SIGNATURE = "0" * 64
NOW = datetime(2024, 1, 1, 0, 5, tzinfo=UTC)


def hand_made(authorization: str | None, **headers: str) -> SignedRequest:
    base = {"Host": "127.0.0.1:4566", "X-Amz-Date": "20240101T000000Z"}
    if authorization is not None:
        base["Authorization"] = authorization
    base.update({name.replace("_", "-"): value for name, value in headers.items()})
    return SignedRequest("GET", "/2015-03-31/functions", "", base, b"")
