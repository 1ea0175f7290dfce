"""Issuers' signing keys, fetched the way API Gateway finds them and cached for the gateway.

    key(issuer, kid)
      cached set fresh (younger than `ttl`) and holds kid        -> the key
      kid unknown, last fetch at least `refetch_interval` ago    -> refetch (keys rotated?)
      nothing cached, or the set is stale                        -> fetch
    fetch: GET {issuer}/.well-known/openid-configuration -> jwks_uri -> GET jwks_uri -> keys

Each document is bounded as API Gateway bounds it (its HTTP API quotas): the discovery
document and the key set must each arrive whole within 1,500 ms, and the key set may not be
larger than 150,000 bytes (a discovery document, for which AWS states no size, 1 MB).

One `JwksCache` serves every JWT authorizer of a gateway. Concurrent requests that need the
same issuer's keys share one fetch. A failed fetch is retried at most every
`refetch_interval`; meanwhile the last good key set (if any) keeps serving, and without one
`JwksUnavailable` is raised, so the request is refused rather than let through.

Only public RSA and EC signing keys are kept: a symmetric (`oct`) key in a key set would let
a token signed with HS256 and the issuer's public material pass as genuine.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx
import jwt
from cryptography.hazmat.primitives.asymmetric import ec, rsa

logger = logging.getLogger(__name__)

DISCOVERY_PATH = "/.well-known/openid-configuration"
DEFAULT_TTL_SECONDS = 2 * 3600.0  # how long API Gateway may cache an issuer's keys
DEFAULT_REFETCH_INTERVAL_SECONDS = 60.0
DEFAULT_TIMEOUT_SECONDS = 1.5  # for each of the two documents, start to end
MAX_KEY_SET_BYTES = 150_000
MAX_DISCOVERY_BYTES = 1024 * 1024

PublicKey = rsa.RSAPublicKey | ec.EllipticCurvePublicKey


@dataclass(frozen=True, slots=True)
class SigningKey:
    kid: str
    key_type: str  # "RSA" | "EC"
    algorithm: str | None  # the JWK's own `alg`, when it names one
    key: PublicKey


class JwksUnavailable(Exception):
    """The issuer's keys could not be fetched, and none are cached."""


@dataclass(slots=True)
class _IssuerKeys:
    keys: dict[str, SigningKey] | None = None  # the last good set
    fetched_at: float = 0.0  # when `keys` arrived
    attempted_at: float | None = None  # when the last fetch (good or not) started
    failure: str = ""  # why the last fetch failed; "" when it did not


class JwksCache:
    def __init__(
        self,
        client: httpx.AsyncClient,
        *,
        clock: Callable[[], float],
        ttl: float = DEFAULT_TTL_SECONDS,
        refetch_interval: float = DEFAULT_REFETCH_INTERVAL_SECONDS,
        timeout: float = DEFAULT_TIMEOUT_SECONDS,
    ) -> None:
        self._client = client
        self._clock = clock
        self._ttl = ttl
        self._refetch_interval = refetch_interval
        self._timeout = timeout
        self._issuers: dict[str, _IssuerKeys] = {}
        self._fetching: dict[str, asyncio.Task[None]] = {}

    async def key(self, issuer: str, kid: str) -> SigningKey | None:
        """The issuer's key named `kid`; None when the issuer has no such key."""
        if issuer in self._fetching or self._should_fetch(self._issuers.get(issuer), kid):
            await self._fetch_once(issuer)
        state = self._issuers.get(issuer)
        if state is None or state.keys is None:
            raise JwksUnavailable(state.failure if state else "no fetch")
        return state.keys.get(kid)

    def _should_fetch(self, state: _IssuerKeys | None, kid: str) -> bool:
        if state is None:
            return True
        now = self._clock()
        if state.attempted_at is not None and now - state.attempted_at < self._refetch_interval:
            return False
        if state.keys is None or now - state.fetched_at >= self._ttl:
            return True
        return kid not in state.keys

    async def _fetch_once(self, issuer: str) -> None:
        task = self._fetching.get(issuer)
        if task is None:
            task = asyncio.ensure_future(self._refresh(issuer))
            self._fetching[issuer] = task
            task.add_done_callback(lambda done: self._forget(issuer, done))
        # shielded: a caller that gives up does not cancel the fetch the others wait for
        await asyncio.shield(task)

    def _forget(self, issuer: str, task: asyncio.Task[None]) -> None:
        if self._fetching.get(issuer) is task:
            del self._fetching[issuer]

    async def _refresh(self, issuer: str) -> None:
        state = self._issuers.setdefault(issuer, _IssuerKeys())
        state.attempted_at = self._clock()
        try:
            keys = await self._fetch(issuer)
        except (
            httpx.HTTPError,
            httpx.InvalidURL,
            ValueError,
            RecursionError,
            TimeoutError,
        ) as error:
            state.failure = f"{type(error).__name__}: {error}"
            logger.warning("JWKS of issuer %s not fetched: %s", issuer, state.failure)
            return
        state.keys, state.fetched_at, state.failure = keys, self._clock(), ""

    async def _fetch(self, issuer: str) -> dict[str, SigningKey]:
        discovery = await self._get_json(issuer.rstrip("/") + DISCOVERY_PATH, MAX_DISCOVERY_BYTES)
        jwks_uri = discovery.get("jwks_uri")
        if not isinstance(jwks_uri, str) or not jwks_uri:
            raise ValueError("the OpenID configuration names no jwks_uri")
        entries = (await self._get_json(jwks_uri, MAX_KEY_SET_BYTES)).get("keys")
        if not isinstance(entries, list):
            raise ValueError("the key set has no `keys` list")
        keys = (signing_key(entry) for entry in entries)
        return {key.kid: key for key in keys if key is not None}

    async def _get_json(self, url: str, limit: int) -> dict[str, Any]:
        """The JSON object at `url`, whole within the timeout and at most `limit` bytes."""
        chunks: list[bytes] = []
        size = 0
        request = self._client.stream("GET", url, timeout=self._timeout, follow_redirects=True)
        # httpx's timeout bounds each network wait; this bounds the whole document
        async with asyncio.timeout(self._timeout), request as response:
            response.raise_for_status()
            async for chunk in response.aiter_bytes():
                size += len(chunk)
                if size > limit:
                    raise ValueError(f"{url} answered more than {limit} bytes")
                chunks.append(chunk)
        document = json.loads(b"".join(chunks))
        if not isinstance(document, dict):
            raise ValueError(f"{url} answered JSON that is not an object")
        return document


def signing_key(entry: Any) -> SigningKey | None:
    """The public signing key a JWK describes; None for anything else (encryption keys,
    symmetric keys, keys without a `kid`, unusable parameters)."""
    if not isinstance(entry, dict):
        return None
    kid, key_type = entry.get("kid"), entry.get("kty")
    if not isinstance(kid, str) or not kid or key_type not in ("RSA", "EC"):
        return None
    if entry.get("use", "sig") != "sig":
        return None
    try:
        key = jwt.PyJWK(entry).key
    except (jwt.PyJWKError, jwt.InvalidKeyError, ValueError, TypeError, KeyError):
        return None
    if isinstance(key, rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey):
        key = key.public_key()
    if not isinstance(key, rsa.RSAPublicKey | ec.EllipticCurvePublicKey):
        return None
    algorithm = entry.get("alg")
    return SigningKey(kid, key_type, algorithm if isinstance(algorithm, str) else None, key)
