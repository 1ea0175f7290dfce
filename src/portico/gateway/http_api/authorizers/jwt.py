"""JWT authorizers: the token checks API Gateway makes, in its order, with its answers.

    identity source (default the Authorization header; with or without "Bearer ")
      missing                                  401, www-authenticate: Bearer
    decode: three segments, header JSON        401 invalid_token
    alg: RS256 / RS384 / RS512 / ES256 only    401 "signing method <alg> is invalid"
    kid -> the issuer's key (JWKS) -> signature 401 invalid_token
    iss, aud (else client_id), exp, nbf, iat   401 invalid_token
    route scopes: `scope` / `scp` holds one    403 insufficient_scope
    -> Granted: claims (every value a string) and, on routes with scopes, the token's scopes

HTTP APIs' guide names RSA-based algorithms only, while API Gateway's newer JWT authorizers
take ES256 too; Portico accepts RS256, RS384, RS512 and ES256 (issuers signing with P-256
keys are common) and refuses the rest as "signing method <alg> is invalid"; `algorithms`
changes that set. HMAC and `none` are never accepted: the key set only ever holds public
RSA and EC keys, and a token's `alg` must fit its key's type.
"""

from __future__ import annotations

import binascii
import json
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from portico.gateway.http_api.authorization import AuthRequest, Granted
from portico.gateway.http_api.authorizers import claims as token_claims
from portico.gateway.http_api.authorizers import refusals
from portico.gateway.http_api.authorizers.identity import IdentitySource
from portico.gateway.http_api.authorizers.jwks import JwksCache, JwksUnavailable, SigningKey
from portico.gateway.http_events import HttpResult

ACCEPTED_ALGORITHMS = frozenset({"RS256", "RS384", "RS512", "ES256"})
DEFAULT_IDENTITY_SOURCE = "$request.header.Authorization"
_KEY_TYPES = {"RS": "RSA", "ES": "EC"}
_CURVES = {"ES256": "secp256r1", "ES384": "secp384r1", "ES512": "secp521r1"}
_BEARER = "bearer "
_AUTHORIZATION_HEADER = IdentitySource("header", "Authorization")
_JWS = jwt.PyJWS()


class TokenRejected(Exception):
    """Why a token is not accepted; `description` goes to `www-authenticate`."""

    def __init__(self, description: str) -> None:
        super().__init__(description)
        self.description = description


@dataclass(frozen=True, slots=True)
class JwtSettings:
    """A JWT authorizer's JwtConfiguration."""

    issuer: str
    audiences: frozenset[str]
    identity_source: IdentitySource = _AUTHORIZATION_HEADER
    algorithms: frozenset[str] = ACCEPTED_ALGORITHMS


class JwtAuthorizer:
    def __init__(self, settings: JwtSettings, jwks: JwksCache, clock: Callable[[], float]) -> None:
        self._settings = settings
        self._jwks = jwks
        self._clock = clock

    async def authorize(self, request: AuthRequest) -> Granted | HttpResult:
        required = request.authorization_scopes
        token = bearer_token(self._settings.identity_source.value(request))
        if token is None:
            return refusals.unauthorized("Bearer")
        try:
            claims = await self.verify(token)
        except TokenRejected as rejected:
            return refusals.invalid_token(rejected.description, required)
        scopes = token_claims.scopes(claims) if required else None
        if scopes is not None and not set(scopes).intersection(required):
            return refusals.insufficient_scope(required)
        flat = token_claims.flatten(claims)
        return Granted(
            context_v2={"jwt": {"claims": flat, "scopes": scopes}},
            context_v1={"claims": flat, "scopes": scopes},
        )

    async def verify(self, token: str) -> dict[str, Any]:
        """The token's claims, once its signature and claims hold; else `TokenRejected`."""
        settings = self._settings
        header = _header(token)
        algorithm = header.get("alg")
        if not isinstance(algorithm, str) or algorithm not in settings.algorithms:
            raise TokenRejected(f"signing method {algorithm} is invalid")
        kid = header.get("kid")
        try:
            key = await self._jwks.key(settings.issuer, kid) if isinstance(kid, str) else None
        except JwksUnavailable:
            raise TokenRejected("unable to retrieve the issuer's signing keys") from None
        if key is None:
            raise TokenRejected("the token has no kid matching a key of the issuer")
        claims = _verified_claims(token, key, algorithm)
        check_claims(claims, settings.issuer, settings.audiences, self._clock())
        return claims


def bearer_token(value: str | None) -> str | None:
    """The token in an identity source's value: as is, or after `Bearer `."""
    if value is None:
        return None
    text = value.strip()
    if text[: len(_BEARER)].lower() == _BEARER:
        text = text[len(_BEARER) :].strip()
    return text or None


def check_claims(
    claims: dict[str, Any], issuer: str, audiences: Collection[str], now: float
) -> None:
    """The registered claims API Gateway checks, in its order; raises `TokenRejected`."""
    if claims.get("iss") != issuer:
        raise TokenRejected("the token does not have a valid issuer")
    if not _audience_matches(claims, audiences):
        raise TokenRejected("the token does not have a valid audience")
    exp, nbf, iat = (_instant(claims, name) for name in ("exp", "nbf", "iat"))
    if exp is not None and now >= exp:
        raise TokenRejected("the token has expired")
    if nbf is not None and now < nbf:
        raise TokenRejected("the token is not valid yet")
    if iat is not None and now < iat:
        raise TokenRejected("the token was issued in the future")


def _audience_matches(claims: dict[str, Any], audiences: Collection[str]) -> bool:
    """`aud` when present (a string or a list), else `client_id`."""
    if "aud" in claims:
        audience = claims["aud"]
        offered: Sequence[Any] = [audience] if isinstance(audience, str) else audience
        if not isinstance(offered, list):
            return False
        return any(isinstance(item, str) and item in audiences for item in offered)
    client_id = claims.get("client_id")
    return isinstance(client_id, str) and client_id in audiences


def _instant(claims: dict[str, Any], name: str) -> float | None:
    value = claims.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise TokenRejected(f"the token has an invalid {name} claim")
    return float(value)


def _header(token: str) -> dict[str, Any]:
    if token.count(".") != 2:
        raise TokenRejected("token contains an invalid number of segments")
    try:
        header = jwt.get_unverified_header(token)
    except jwt.DecodeError:
        raise TokenRejected("token is malformed") from None
    return header


def _verified_claims(token: str, key: SigningKey, algorithm: str) -> dict[str, Any]:
    if not _fits(key, algorithm):
        raise TokenRejected(f"signing method {algorithm} is invalid")
    try:
        verified = _JWS.decode_complete(token, key.key, algorithms=[algorithm])
    except jwt.InvalidSignatureError:
        raise TokenRejected("the token does not have a valid signature") from None
    except (jwt.PyJWTError, binascii.Error, TypeError, ValueError):
        raise TokenRejected("token is malformed") from None
    try:
        claims = json.loads(verified["payload"])
    except (ValueError, RecursionError):
        raise TokenRejected("token is malformed") from None
    if not isinstance(claims, dict):
        raise TokenRejected("token is malformed")
    return claims


def _fits(key: SigningKey, algorithm: str) -> bool:
    """Whether `key` may verify `algorithm`: its type (and curve) and its own `alg`."""
    if key.algorithm is not None and key.algorithm != algorithm:
        return False
    if _KEY_TYPES.get(algorithm[:2]) != key.key_type:
        return False
    if isinstance(key.key, ec.EllipticCurvePublicKey):
        return key.key.curve.name == _CURVES.get(algorithm)
    return isinstance(key.key, rsa.RSAPublicKey)
