"""AWS_IAM routes: requests signed by botocore for `execute-api`, checked in-process."""

from __future__ import annotations

import datetime
from urllib.parse import urlsplit

import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from portico.credentials import AccessKey, StaticCredentials
from portico.gateway.http_api.authorization import AuthRequest, Granted
from portico.gateway.http_api.authorizers import IamAuthorizer, IamGranted
from portico.gateway.http_events import HttpRequest, HttpResult

KEY = AccessKey("AKIAIAMROUTETEST0001", "iam-route-secret")
ACCOUNT = "000000000000"
HOST = "a1b2c3d4e5.execute-api.localhost:8080"
URL = f"http://{HOST}/prod/pets/7?b=2&a=1"


def http_request(headers: list[tuple[str, str]], body: bytes = b"{}") -> HttpRequest:
    parts = urlsplit(URL)
    return HttpRequest("POST", parts.path, parts.query, headers, body=body, source_ip="192.0.2.9")


def signed(
    secret: str = KEY.secret_access_key,
    service: str = "execute-api",
    region: str = "eu-west-1",
    body: bytes = b"{}",
) -> HttpRequest:
    aws = AWSRequest(method="POST", url=URL, data=body, headers={"content-type": "text/plain"})
    SigV4Auth(Credentials(KEY.access_key_id, secret), service, region).add_auth(aws)
    return http_request([("Host", HOST), *aws.headers.items()], body)


def auth_request(http: HttpRequest) -> AuthRequest:
    return AuthRequest(
        request=http,
        sent_path=http.raw_path,
        path="/pets/7",
        api_id="a1b2c3d4e5",
        account_id=ACCOUNT,
        region="eu-west-1",
        stage="prod",
        route_key="POST /pets/{id}",
        route_arn=f"arn:aws:execute-api:eu-west-1:{ACCOUNT}:a1b2c3d4e5/prod/POST/pets/7",
        request_id="req-1",
        time_epoch_ms=1_700_000_000_000,
        domain_name="a1b2c3d4e5.execute-api.localhost",
    )


def iam(principal: str = "admin") -> IamAuthorizer:
    return IamAuthorizer(StaticCredentials(KEY, principal=principal), ACCOUNT)


def refusal(result: Granted | HttpResult) -> tuple[int, bytes, str | None]:
    assert isinstance(result, HttpResult)
    return result.status, result.body, result.headers.get("x-amzn-errortype")


@pytest.mark.asyncio
async def test_unsigned_requests_are_forbidden() -> None:
    result = await iam().authorize(auth_request(http_request([("Host", HOST)])))
    assert refusal(result) == (403, b'{"message":"Forbidden"}', None)


@pytest.mark.asyncio
async def test_signed_requests_are_granted_with_the_caller() -> None:
    result = await iam().authorize(auth_request(signed()))
    assert isinstance(result, IamGranted)
    assert result.context_v2 == {
        "iam": {
            "accessKey": KEY.access_key_id,
            "accountId": ACCOUNT,
            "callerId": KEY.access_key_id,
            "cognitoIdentity": None,
            "principalOrgId": None,
            "userArn": f"arn:aws:iam::{ACCOUNT}:root",
            "userId": KEY.access_key_id,
        }
    }
    identity = result.identity_v1("192.0.2.9", "curl/8")
    assert identity["accessKey"] == KEY.access_key_id
    assert identity["caller"] == identity["user"] == KEY.access_key_id
    assert identity["userArn"] == f"arn:aws:iam::{ACCOUNT}:root"
    assert (identity["sourceIp"], identity["userAgent"]) == ("192.0.2.9", "curl/8")
    assert identity["cognitoIdentityId"] is None


@pytest.mark.asyncio
async def test_a_principal_arn_is_the_user_arn() -> None:
    role = f"arn:aws:sts::{ACCOUNT}:assumed-role/fn-role/fn"
    result = await iam(principal=role).authorize(auth_request(signed()))
    assert isinstance(result, Granted)
    assert result.context_v2["iam"]["userArn"] == role


@pytest.mark.asyncio
async def test_a_wrong_secret_gets_the_signature_message() -> None:
    status, body, error_type = refusal(await iam().authorize(auth_request(signed("wrong"))))
    assert (status, error_type) == (403, "InvalidSignatureException")
    assert body.startswith(b'{"message":"The request signature we calculated does not match')


@pytest.mark.asyncio
async def test_the_scope_must_be_execute_api_in_the_apis_region() -> None:
    status, body, _ = refusal(await iam().authorize(auth_request(signed(service="lambda"))))
    assert status == 403
    assert b"Credential should be scoped to correct service: 'execute-api'." in body
    status, body, _ = refusal(await iam().authorize(auth_request(signed(region="us-east-1"))))
    assert status == 403
    assert b"Credential should be scoped to a valid region, not 'us-east-1'." in body


@pytest.mark.asyncio
async def test_a_tampered_body_or_query_is_refused() -> None:
    good = signed()
    tampered_body = HttpRequest(
        good.method, good.raw_path, good.raw_query, good.headers, body=b'{"admin":true}'
    )
    tampered_query = HttpRequest(
        good.method, good.raw_path, "a=1&b=3", good.headers, body=good.body
    )
    for request in (tampered_body, tampered_query):
        status, _body, _type = refusal(await iam().authorize(auth_request(request)))
        assert status == 403


@pytest.mark.asyncio
async def test_unknown_keys_and_old_signatures_are_refused() -> None:
    stranger = IamAuthorizer(StaticCredentials(AccessKey("AKIAOTHERKEY00000001", "x")), ACCOUNT)
    status, body, error_type = refusal(await stranger.authorize(auth_request(signed())))
    assert (status, error_type) == (403, "UnrecognizedClientException")
    assert body == b'{"message":"The security token included in the request is invalid."}'
    later = datetime.datetime.now(datetime.UTC) + datetime.timedelta(minutes=16)
    late = IamAuthorizer(StaticCredentials(KEY), ACCOUNT, now=lambda: later)
    status, body, _ = refusal(await late.authorize(auth_request(signed())))
    assert status == 403 and b"Signature expired" in body
