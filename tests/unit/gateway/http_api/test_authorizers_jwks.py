"""The JWKS cache: discovery, TTL, refetch on unknown kid, coalescing, failures (fake transport,
fake clock)."""

from __future__ import annotations

import asyncio
import base64
import json
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from jwt.algorithms import RSAAlgorithm

from portico.gateway.http_api.authorizers.jwks import (
    MAX_KEY_SET_BYTES,
    JwksCache,
    JwksUnavailable,
    signing_key,
)
from portico.store.clock import ManualClock

ISSUER = "https://idp.example.com/"
KEY_1 = rsa.generate_private_key(public_exponent=65537, key_size=2048)
KEY_2 = rsa.generate_private_key(public_exponent=65537, key_size=2048)


def jwk(kid: str, key: rsa.RSAPrivateKey, **extra: Any) -> dict[str, Any]:
    return {**RSAAlgorithm.to_jwk(key.public_key(), as_dict=True), "kid": kid, **extra}


class Provider:
    """Discovery at the issuer, keys elsewhere; what it serves can change, and it can fail."""

    def __init__(self) -> None:
        self.keys: list[dict[str, Any]] = [jwk("k1", KEY_1)]
        self.hits: list[str] = []
        self.failure: int | None = None
        self.gate: asyncio.Event | None = None
        self.arrived = asyncio.Event()
        self.padding = 0

    async def handle(self, request: httpx.Request) -> httpx.Response:
        self.hits.append(request.url.path)
        self.arrived.set()
        if self.gate is not None:
            await self.gate.wait()
        if self.failure is not None:
            return httpx.Response(self.failure)
        if request.url.path == "/.well-known/openid-configuration":
            return httpx.Response(200, json={"jwks_uri": "https://keys.example.com/v1/jwks"})
        if request.url.host == "keys.example.com" and request.url.path == "/v1/jwks":
            document = json.dumps({"keys": self.keys}).encode()
            return httpx.Response(200, content=document + b" " * self.padding)
        return httpx.Response(404)

    def fetches(self) -> int:
        return self.hits.count("/v1/jwks")


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def provider() -> Provider:
    return Provider()


async def with_cache(
    provider: Provider, clock: ManualClock, body: Callable[[JwksCache], Awaitable[None]]
) -> None:
    async with httpx.AsyncClient(transport=httpx.MockTransport(provider.handle)) as client:
        await body(JwksCache(client, clock=clock.now, ttl=7200, refetch_interval=60))


@pytest.mark.asyncio
async def test_discovers_fetches_and_caches(provider: Provider, clock: ManualClock) -> None:
    async def body(cache: JwksCache) -> None:
        first = await cache.key(ISSUER, "k1")
        assert first is not None and first.key_type == "RSA"
        assert first.key.public_numbers() == KEY_1.public_key().public_numbers()
        clock.advance(7199)
        assert await cache.key(ISSUER, "k1") is first
        # the issuer's trailing slash is not doubled
        assert provider.hits == ["/.well-known/openid-configuration", "/v1/jwks"]

    await with_cache(provider, clock, body)


@pytest.mark.asyncio
async def test_keys_are_refetched_after_the_ttl(provider: Provider, clock: ManualClock) -> None:
    async def body(cache: JwksCache) -> None:
        assert await cache.key(ISSUER, "k1") is not None
        provider.keys = [jwk("k2", KEY_2)]
        clock.advance(7200)
        assert await cache.key(ISSUER, "k1") is None
        assert await cache.key(ISSUER, "k2") is not None
        assert provider.fetches() == 2

    await with_cache(provider, clock, body)


@pytest.mark.asyncio
async def test_unknown_kid_refetches_at_most_every_interval(
    provider: Provider, clock: ManualClock
) -> None:
    async def body(cache: JwksCache) -> None:
        assert await cache.key(ISSUER, "k1") is not None
        provider.keys = [jwk("k1", KEY_1), jwk("k2", KEY_2)]  # rotation begins
        clock.advance(30)
        assert await cache.key(ISSUER, "k2") is None  # too soon to ask again
        assert await cache.key(ISSUER, "forged") is None
        assert provider.fetches() == 1
        clock.advance(30)
        assert await cache.key(ISSUER, "k2") is not None
        assert provider.fetches() == 2
        assert await cache.key(ISSUER, "forged") is None  # a refetch a minute at most
        assert provider.fetches() == 2

    await with_cache(provider, clock, body)


@pytest.mark.asyncio
async def test_concurrent_lookups_share_one_fetch(provider: Provider, clock: ManualClock) -> None:
    async def body(cache: JwksCache) -> None:
        provider.gate = asyncio.Event()
        lookups = [asyncio.ensure_future(cache.key(ISSUER, "k1")) for _ in range(8)]
        await provider.arrived.wait()
        provider.gate.set()
        found = await asyncio.gather(*lookups)
        assert all(key is found[0] and key is not None for key in found)
        assert provider.hits == ["/.well-known/openid-configuration", "/v1/jwks"]

    await with_cache(provider, clock, body)


@pytest.mark.asyncio
async def test_a_cancelled_lookup_does_not_cancel_the_shared_fetch(
    provider: Provider, clock: ManualClock
) -> None:
    async def body(cache: JwksCache) -> None:
        provider.gate = asyncio.Event()
        impatient = asyncio.ensure_future(cache.key(ISSUER, "k1"))
        patient = asyncio.ensure_future(cache.key(ISSUER, "k1"))
        await provider.arrived.wait()
        impatient.cancel()
        provider.gate.set()
        assert await patient is not None
        assert impatient.cancelled()

    await with_cache(provider, clock, body)


@pytest.mark.asyncio
async def test_failures_refuse_and_are_not_retried_in_a_loop(
    provider: Provider, clock: ManualClock
) -> None:
    async def body(cache: JwksCache) -> None:
        provider.failure = 500
        with pytest.raises(JwksUnavailable):
            await cache.key(ISSUER, "k1")
        provider.failure = None
        clock.advance(59)
        with pytest.raises(JwksUnavailable):
            await cache.key(ISSUER, "k1")
        assert len(provider.hits) == 1  # the down issuer was not asked again
        clock.advance(1)
        assert await cache.key(ISSUER, "k1") is not None

    await with_cache(provider, clock, body)


@pytest.mark.asyncio
async def test_stale_keys_serve_while_the_issuer_is_down(
    provider: Provider, clock: ManualClock
) -> None:
    async def body(cache: JwksCache) -> None:
        assert await cache.key(ISSUER, "k1") is not None
        provider.failure = 503
        clock.advance(7200)
        assert await cache.key(ISSUER, "k1") is not None
        assert provider.fetches() == 1

    await with_cache(provider, clock, body)


@pytest.mark.asyncio
async def test_key_sets_past_the_quota_of_150000_bytes_are_failures(
    provider: Provider, clock: ManualClock
) -> None:
    unpadded = len(json.dumps({"keys": provider.keys}).encode())

    async def body(cache: JwksCache) -> None:
        provider.padding = MAX_KEY_SET_BYTES - unpadded + 1
        with pytest.raises(JwksUnavailable):
            await cache.key(ISSUER, "k1")
        provider.padding = MAX_KEY_SET_BYTES - unpadded  # exactly at the quota
        clock.advance(60)
        assert await cache.key(ISSUER, "k1") is not None

    assert MAX_KEY_SET_BYTES == 150_000

    await with_cache(provider, clock, body)


@pytest.mark.asyncio
@pytest.mark.parametrize(
    "answer",
    [
        httpx.Response(200, text="not json"),
        httpx.Response(200, json=["a list"]),
        httpx.Response(200, json={"issuer": ISSUER}),  # no jwks_uri
        httpx.Response(404),
        httpx.Response(200, content=b"[" * 100_000 + b"]" * 100_000),
        httpx.Response(200, content=b'{"jwks_uri": "\xff"}'),
    ],
)
async def test_bad_discovery_documents_are_failures(
    clock: ManualClock, answer: httpx.Response
) -> None:
    async with httpx.AsyncClient(transport=httpx.MockTransport(lambda _r: answer)) as client:
        cache = JwksCache(client, clock=clock.now)
        with pytest.raises(JwksUnavailable):
            await cache.key(ISSUER, "k1")


@pytest.mark.asyncio
async def test_transport_errors_are_failures(clock: ManualClock) -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    async with httpx.AsyncClient(transport=httpx.MockTransport(refuse)) as client:
        cache = JwksCache(client, clock=clock.now)
        with pytest.raises(JwksUnavailable):
            await cache.key(ISSUER, "k1")
        with pytest.raises(JwksUnavailable):
            await cache.key("not a url", "k1")


@pytest.mark.asyncio
async def test_an_issuer_that_never_answers_is_a_failure(clock: ManualClock) -> None:
    async def hang(request: httpx.Request) -> httpx.Response:
        await asyncio.Event().wait()
        raise AssertionError("unreachable")

    async with httpx.AsyncClient(transport=httpx.MockTransport(hang)) as client:
        cache = JwksCache(client, clock=clock.now, timeout=0.01)
        with pytest.raises(JwksUnavailable):
            await cache.key(ISSUER, "k1")


def test_only_public_signing_keys_are_kept() -> None:
    rsa_key = signing_key(jwk("r", KEY_1, alg="RS256", use="sig"))
    assert rsa_key is not None and rsa_key.algorithm == "RS256"
    private = signing_key(
        {**RSAAlgorithm.to_jwk(KEY_1, as_dict=True), "kid": "p"}  # a private JWK, by mistake
    )
    assert private is not None and isinstance(private.key, rsa.RSAPublicKey)
    ec_key = ec.generate_private_key(ec.SECP256R1()).public_key()
    ec_numbers = ec_key.public_numbers()
    ec_jwk = {
        "kty": "EC",
        "kid": "e",
        "crv": "P-256",
        "x": _b64int(ec_numbers.x),
        "y": _b64int(ec_numbers.y),
    }
    found = signing_key(ec_jwk)
    assert found is not None and found.key_type == "EC"
    ignored = [
        {"kty": "oct", "kid": "s", "k": "c2VjcmV0"},  # symmetric: never
        jwk("enc", KEY_1, use="enc"),
        {k: v for k, v in jwk("x", KEY_1).items() if k != "kid"},
        jwk("oaep", KEY_1, alg="RSA-OAEP"),
        {"kty": "RSA", "kid": "broken", "n": "!!", "e": "AQAB"},
        "not an object",
    ]
    assert [signing_key(entry) for entry in ignored] == [None] * len(ignored)


def _b64int(value: int) -> str:
    raw = value.to_bytes(32, "big")
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()
