"""Session credentials (what execution environments get) through the whole server, in-process:
requests signed with them pass while they last, then get AWS's expired-token error in each
protocol's own words. The issuer's clock is the server's, moved by the test."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from functools import cache
from pathlib import Path
from typing import Any

import botocore.session
import httpx
import pytest
import pytest_asyncio
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from botocore.model import ServiceModel
from botocore.parsers import create_parser

from portico.app import Portico
from portico.credentials import SessionKey
from portico.settings import Settings
from portico.store import ManualClock

pytestmark = pytest.mark.asyncio

REGION = "eu-west-1"
LIFETIME = 12 * 3600
EXPIRED = "The security token included in the request is expired"
FUNCTION_ARN = "arn:aws:lambda:eu-west-1:000000000000:function:caller"


@pytest.fixture
def clock() -> ManualClock:
    # SigV4 dates are checked against the real time; only the sessions' clock is moved.
    return ManualClock(time.time())


@pytest_asyncio.fixture
async def app(tmp_path: Path, clock: ManualClock) -> AsyncIterator[Portico]:
    settings = Settings(
        data_dir=tmp_path / "data",
        access_key_id="AKIAPORTICOTESTKEY01",
        secret_access_key="portico-test-secret-access-key-000000000",
    )
    portico = Portico(settings, clock=clock)
    try:
        yield portico
    finally:
        portico.database.close()


@cache
def service_model(service: str) -> ServiceModel:
    return botocore.session.get_session().get_service_model(service)


# (service, operation, method, path, headers, body) of one harmless request per protocol
REQUESTS: dict[str, tuple[str, str, str, str, dict[str, str], bytes]] = {
    "rest-json": ("lambda", "ListFunctions", "GET", "/2015-03-31/functions/", {}, b""),
    "json": (
        "secretsmanager",
        "ListSecrets",
        "POST",
        "/",
        {
            "X-Amz-Target": "secretsmanager.ListSecrets",
            "Content-Type": "application/x-amz-json-1.1",
        },
        b"{}",
    ),
    "query": (
        "sns",
        "ListTopics",
        "POST",
        "/",
        {"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"},
        b"Action=ListTopics&Version=2010-03-31",
    ),
}


async def call(app: Portico, protocol: str, key: SessionKey, token: str | None = None) -> Any:
    """The request of `protocol`, signed with the session key, as boto3 would parse the
    answer: (HTTP status, parsed response)."""
    service, operation, method, path, headers, body = REQUESTS[protocol]
    model = service_model(service)
    request = AWSRequest(method=method, url=f"http://127.0.0.1{path}", headers=headers, data=body)
    credentials = Credentials(key.access_key_id, key.secret_access_key, token or key.session_token)
    SigV4Auth(credentials, model.signing_name or service, REGION).add_auth(request)
    prepared = request.prepare()
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as client:
        response = await client.request(
            method, path, headers=dict(prepared.headers), content=prepared.body or b""
        )
    parser = create_parser(model.metadata["protocol"])
    parsed = parser.parse(
        {
            "status_code": response.status_code,
            "headers": dict(response.headers),
            "body": response.content,
        },
        model.operation_model(operation).output_shape,
    )
    return response.status_code, parsed


def error_of(answer: tuple[int, dict[str, Any]]) -> tuple[int, str, str]:
    status, parsed = answer
    return status, parsed["Error"]["Code"], parsed["Error"]["Message"]


async def test_a_session_key_works_until_it_expires(app: Portico, clock: ManualClock) -> None:
    key = app.sessions.issue(principal=FUNCTION_ARN)

    status, listed = await call(app, "rest-json", key)
    assert (status, listed["Functions"]) == (200, [])

    clock.advance(LIFETIME - 1)
    assert (await call(app, "rest-json", key))[0] == 200

    clock.advance(1)
    assert error_of(await call(app, "rest-json", key)) == (403, "ExpiredTokenException", EXPIRED)


@pytest.mark.parametrize(
    ("protocol", "answer"),
    [
        ("rest-json", (403, "ExpiredTokenException", EXPIRED)),
        ("json", (400, "ExpiredTokenException", EXPIRED)),
        ("query", (403, "ExpiredToken", EXPIRED)),
    ],
)
async def test_each_protocol_answers_an_expired_token_as_aws_does(
    app: Portico, clock: ManualClock, protocol: str, answer: tuple[int, str, str]
) -> None:
    key = app.sessions.issue(principal=FUNCTION_ARN)
    clock.advance(LIFETIME + 60)

    assert error_of(await call(app, protocol, key)) == answer


async def test_a_wrong_token_for_an_expired_key_is_not_told_it_expired(
    app: Portico, clock: ManualClock
) -> None:
    key = app.sessions.issue(principal=FUNCTION_ARN)
    clock.advance(LIFETIME + 60)

    status, code, _ = error_of(await call(app, "rest-json", key, token="not-the-token"))

    assert (status, code) == (403, "UnrecognizedClientException")
