"""JWT authorizers against an identity provider served over real HTTP (a local server on port
0): discovery, key caching, key rotation, coalesced fetches, an issuer that fails."""

from __future__ import annotations

import asyncio
import json
import socket
import threading
import time
from collections.abc import AsyncIterator, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import jwt
import pytest
import pytest_asyncio
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

from portico.gateway.http_api.authorization import AuthRequest, Granted
from portico.gateway.http_api.authorizers import JwksCache, compile_authorizer
from portico.gateway.http_events import HttpRequest, HttpResult
from portico.runtime import InvocationResult
from portico.store.clock import ManualClock

AUDIENCE = "portico-tests"
NOW = 1_700_000_000.0
KEYS = {kid: rsa.generate_private_key(public_exponent=65537, key_size=2048) for kid in ("k1", "k2")}


class IdentityProvider:
    """What the local server serves, changed by the tests; it counts every request."""

    def __init__(self) -> None:
        self.issuer = ""
        self.kids = ["k1"]
        self.status = 200
        self.hits: dict[str, int] = {}
        self.lock = threading.Lock()
        self.arrived = threading.Event()
        self.gate: threading.Event | None = None
        self.delay = 0.0  # before the key set's answer
        self.dribble = 0.0  # between the key set's bytes, once its head is sent

    def answer(self, path: str) -> tuple[int, dict[str, Any] | None]:
        with self.lock:
            self.hits[path] = self.hits.get(path, 0) + 1
        self.arrived.set()
        if self.gate is not None:
            self.gate.wait(timeout=5)
        if self.status != 200:
            return self.status, None
        if path == "/.well-known/openid-configuration":
            return 200, {"issuer": self.issuer, "jwks_uri": f"{self.issuer}/keys/jwks.json"}
        if path == "/keys/jwks.json":
            keys = [
                {**RSAAlgorithm.to_jwk(KEYS[kid].public_key(), as_dict=True), "kid": kid}
                for kid in self.kids
            ]
            return 200, {"keys": keys}
        return 404, None

    def count(self, path: str) -> int:
        with self.lock:
            return self.hits.get(path, 0)


@pytest.fixture
def provider() -> Iterator[IdentityProvider]:
    served = IdentityProvider()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            status, document = served.answer(self.path)
            body = json.dumps(document).encode() if document is not None else b""
            keys = self.path == "/keys/jwks.json"
            if keys:
                time.sleep(served.delay)
            self.send_response(status)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(body)))
            self.end_headers()
            if keys and served.dribble:
                for start in range(0, len(body), 64):
                    self.wfile.write(body[start : start + 64])
                    self.wfile.flush()
                    time.sleep(served.dribble)
            else:
                self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    served.issuer = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield served
    finally:
        if served.gate is not None:
            served.gate.set()
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(NOW)


@pytest_asyncio.fixture
async def jwks(clock: ManualClock) -> AsyncIterator[JwksCache]:
    async with httpx.AsyncClient() as client:
        yield JwksCache(client, clock=clock.now, refetch_interval=60, timeout=2)


async def no_invoke(*_args: Any) -> InvocationResult:
    raise AssertionError("JWT authorizers invoke nothing")


def authorizer(issuer: str, jwks: JwksCache, clock: ManualClock) -> Any:
    document = {
        "AuthorizerId": "jwt1",
        "AuthorizerType": "JWT",
        "Name": "idp",
        "IdentitySource": ["$request.header.Authorization"],
        "JwtConfiguration": {"Issuer": issuer, "Audience": [AUDIENCE]},
    }
    return compile_authorizer(document, invoke=no_invoke, jwks=jwks, clock=clock.now)


def token(issuer: str, kid: str) -> str:
    claims = {"iss": issuer, "aud": AUDIENCE, "sub": "u1", "exp": int(NOW) + 3600}
    return jwt.encode(claims, KEYS[kid], algorithm="RS256", headers={"kid": kid})


def request(value: str) -> AuthRequest:
    return AuthRequest(
        request=HttpRequest("GET", "/items", "", [("authorization", f"Bearer {value}")]),
        sent_path="/items",
        path="/items",
        api_id="a1b2c3d4e5",
        account_id="000000000000",
        region="eu-west-1",
        stage="$default",
        route_key="GET /items",
        route_arn="arn:aws:execute-api:eu-west-1:000000000000:a1b2c3d4e5/$default/GET/items",
        request_id="r1",
        time_epoch_ms=int(NOW * 1000),
        domain_name="a1b2c3d4e5.execute-api.localhost",
    )


def refused_because(result: Granted | HttpResult) -> str:
    assert isinstance(result, HttpResult)
    assert (result.status, result.body) == (401, b'{"message":"Unauthorized"}')
    return result.headers["www-authenticate"]


@pytest.mark.asyncio
async def test_keys_are_discovered_fetched_and_cached(
    provider: IdentityProvider, jwks: JwksCache, clock: ManualClock
) -> None:
    checker = authorizer(provider.issuer, jwks, clock)
    for _ in range(3):
        granted = await checker.authorize(request(token(provider.issuer, "k1")))
        assert isinstance(granted, Granted)
        assert granted.context_v2["jwt"]["claims"]["sub"] == "u1"
    assert provider.count("/.well-known/openid-configuration") == 1
    assert provider.count("/keys/jwks.json") == 1


@pytest.mark.asyncio
async def test_key_rotation_is_picked_up_on_an_unknown_kid(
    provider: IdentityProvider, jwks: JwksCache, clock: ManualClock
) -> None:
    checker = authorizer(provider.issuer, jwks, clock)
    assert isinstance(await checker.authorize(request(token(provider.issuer, "k1"))), Granted)
    provider.kids = ["k2"]  # the issuer rotated its key
    clock.advance(30)
    early = await checker.authorize(request(token(provider.issuer, "k2")))
    assert "kid" in refused_because(early)
    assert provider.count("/keys/jwks.json") == 1
    clock.advance(30)
    assert isinstance(await checker.authorize(request(token(provider.issuer, "k2"))), Granted)
    assert provider.count("/keys/jwks.json") == 2
    retired = await checker.authorize(request(token(provider.issuer, "k1")))
    assert "kid" in refused_because(retired)
    assert provider.count("/keys/jwks.json") == 2


@pytest.mark.asyncio
async def test_concurrent_requests_share_one_fetch(
    provider: IdentityProvider, jwks: JwksCache, clock: ManualClock
) -> None:
    checker = authorizer(provider.issuer, jwks, clock)
    provider.gate = threading.Event()
    value = token(provider.issuer, "k1")
    pending = [asyncio.ensure_future(checker.authorize(request(value))) for _ in range(10)]
    assert await asyncio.to_thread(provider.arrived.wait, 5)
    provider.gate.set()
    results = await asyncio.gather(*pending)
    assert all(isinstance(result, Granted) for result in results)
    assert provider.count("/.well-known/openid-configuration") == 1
    assert provider.count("/keys/jwks.json") == 1


@pytest.mark.asyncio
async def test_a_failing_issuer_refuses_requests_until_it_recovers(
    provider: IdentityProvider, jwks: JwksCache, clock: ManualClock
) -> None:
    checker = authorizer(provider.issuer, jwks, clock)
    provider.status = 500
    failed = await checker.authorize(request(token(provider.issuer, "k1")))
    assert "unable to retrieve the issuer's signing keys" in refused_because(failed)
    provider.status = 200
    again = await checker.authorize(request(token(provider.issuer, "k1")))
    assert "unable to retrieve" in refused_because(again)  # not asked again so soon
    assert provider.count("/.well-known/openid-configuration") == 1
    clock.advance(60)
    assert isinstance(await checker.authorize(request(token(provider.issuer, "k1"))), Granted)


@pytest.mark.asyncio
async def test_an_unreachable_or_slow_issuer_is_refused_not_a_crash(
    provider: IdentityProvider, clock: ManualClock
) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed = f"http://127.0.0.1:{probe.getsockname()[1]}"
    async with httpx.AsyncClient() as client:
        cache = JwksCache(client, clock=clock.now, timeout=0.2)
        nobody = await authorizer(closed, cache, clock).authorize(request(token(closed, "k1")))
        assert "unable to retrieve" in refused_because(nobody)
        provider.gate = threading.Event()  # answers only after the client gave up
        slow = authorizer(provider.issuer, cache, clock)
        late = await slow.authorize(request(token(provider.issuer, "k1")))
        assert "unable to retrieve" in refused_because(late)


@pytest.mark.asyncio
async def test_each_document_must_arrive_within_1500_ms_as_on_aws(
    provider: IdentityProvider, clock: ManualClock
) -> None:
    async with httpx.AsyncClient() as client:
        cache = JwksCache(client, clock=clock.now)  # API Gateway's timeout: 1,500 ms
        provider.delay = 1.0
        in_time = await authorizer(provider.issuer, cache, clock).authorize(
            request(token(provider.issuer, "k1"))
        )
        assert isinstance(in_time, Granted)
        provider.delay = 1.8
        late = JwksCache(client, clock=clock.now)
        refused = await authorizer(provider.issuer, late, clock).authorize(
            request(token(provider.issuer, "k1"))
        )
        assert "unable to retrieve" in refused_because(refused)


@pytest.mark.asyncio
async def test_a_key_set_that_trickles_in_is_cut_off_at_the_timeout(
    provider: IdentityProvider, clock: ManualClock
) -> None:
    """Each chunk comes well within the timeout; the whole does not."""
    provider.dribble = 0.05  # a key set of about 450 bytes in 64-byte chunks: about 0.4 s
    async with httpx.AsyncClient() as client:
        cache = JwksCache(client, clock=clock.now, timeout=0.25)
        refused = await authorizer(provider.issuer, cache, clock).authorize(
            request(token(provider.issuer, "k1"))
        )
        assert "unable to retrieve" in refused_because(refused)
        patient = JwksCache(client, clock=clock.now, timeout=2)
        granted = await authorizer(provider.issuer, patient, clock).authorize(
            request(token(provider.issuer, "k1"))
        )
        assert isinstance(granted, Granted)
