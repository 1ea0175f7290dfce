"""JWT authorizers: token checks against keys made here, served through a fake transport."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import AsyncIterator
from typing import Any

import httpx
import jwt
import pytest
import pytest_asyncio
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from jwt.algorithms import ECAlgorithm, RSAAlgorithm

from portico.gateway.http_api.authorization import AuthRequest, Granted
from portico.gateway.http_api.authorizers import JwksCache, compile_authorizer
from portico.gateway.http_api.authorizers.claims import as_text, flatten, scopes
from portico.gateway.http_api.authorizers.identity import IdentitySource
from portico.gateway.http_api.authorizers.jwt import (
    ACCEPTED_ALGORITHMS,
    JwtAuthorizer,
    JwtSettings,
    bearer_token,
)
from portico.gateway.http_events import HttpRequest, HttpResult
from portico.runtime import InvocationResult
from portico.store.clock import ManualClock

ISSUER = "https://issuer.example.com/pool-1"
AUDIENCE = "api-client"
NOW = 1_700_000_000.0

RSA_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
OTHER_RSA_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
EC_KEY = ec.generate_private_key(ec.SECP256R1())


def jwk(kid: str, key: Any, **extra: str) -> dict[str, Any]:
    public = key.public_key()
    document = (
        RSAAlgorithm.to_jwk(public, as_dict=True)
        if isinstance(public, rsa.RSAPublicKey)
        else ECAlgorithm.to_jwk(public, as_dict=True)
    )
    return {**document, "kid": kid, "use": "sig", **extra}


class Issuer:
    """An identity provider behind a fake transport: discovery, key set, request log."""

    def __init__(self, keys: list[dict[str, Any]]) -> None:
        self.keys = keys
        self.paths: list[str] = []
        self.status = 200

    def handle(self, request: httpx.Request) -> httpx.Response:
        self.paths.append(request.url.path)
        if self.status != 200:
            return httpx.Response(self.status)
        if request.url.path == "/pool-1/.well-known/openid-configuration":
            return httpx.Response(200, json={"issuer": ISSUER, "jwks_uri": f"{ISSUER}/jwks"})
        if request.url.path == "/pool-1/jwks":
            return httpx.Response(200, json={"keys": self.keys})
        return httpx.Response(404)


def token(
    claims: dict[str, Any] | None = None,
    *,
    key: Any = RSA_KEY,
    kid: str = "k1",
    algorithm: str = "RS256",
    drop: tuple[str, ...] = (),
) -> str:
    payload = {
        "iss": ISSUER,
        "aud": AUDIENCE,
        "sub": "user-1",
        "iat": int(NOW) - 10,
        "exp": int(NOW) + 3600,
        **(claims or {}),
    }
    for name in drop:
        payload.pop(name)
    return jwt.encode(payload, key, algorithm=algorithm, headers={"kid": kid})


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def handmade(header: dict[str, Any], payload: dict[str, Any], sign: Any = None) -> str:
    signing_input = f"{b64(json.dumps(header).encode())}.{b64(json.dumps(payload).encode())}"
    signature = sign(signing_input.encode()) if sign else b""
    return f"{signing_input}.{b64(signature)}"


def request(
    authorization: str | None = None, scopes: tuple[str, ...] = (), query: str = ""
) -> AuthRequest:
    headers = [("Host", "a1b2c3d4e5.execute-api.localhost")]
    if authorization is not None:
        headers.append(("Authorization", authorization))
    return AuthRequest(
        request=HttpRequest("GET", "/pets", query, headers),
        sent_path="/pets",
        path="/pets",
        api_id="a1b2c3d4e5",
        account_id="000000000000",
        region="eu-west-1",
        stage="$default",
        route_key="GET /pets",
        route_arn="arn:aws:execute-api:eu-west-1:000000000000:a1b2c3d4e5/$default/GET/pets",
        request_id="req-1",
        time_epoch_ms=int(NOW * 1000),
        domain_name="a1b2c3d4e5.execute-api.localhost",
        authorization_scopes=scopes,
    )


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(NOW)


@pytest.fixture
def issuer() -> Issuer:
    return Issuer([jwk("k1", RSA_KEY), jwk("ec1", EC_KEY)])


@pytest_asyncio.fixture
async def jwks(issuer: Issuer, clock: ManualClock) -> AsyncIterator[JwksCache]:
    async with httpx.AsyncClient(transport=httpx.MockTransport(issuer.handle)) as client:
        yield JwksCache(client, clock=clock.now)


def authorizer(jwks: JwksCache, clock: ManualClock, **settings: Any) -> JwtAuthorizer:
    settings.setdefault("issuer", ISSUER)
    settings.setdefault("audiences", frozenset({AUDIENCE, "other-client"}))
    return JwtAuthorizer(JwtSettings(**settings), jwks, clock.now)


def challenge(result: Granted | HttpResult) -> str:
    assert isinstance(result, HttpResult)
    return result.headers.get("www-authenticate", "")


async def refusal(
    jwks: JwksCache, clock: ManualClock, value: str, scopes: tuple[str, ...] = ()
) -> tuple[int, str, bytes]:
    result = await authorizer(jwks, clock).authorize(request(value, scopes))
    assert isinstance(result, HttpResult)
    return result.status, challenge(result), result.body


@pytest.mark.asyncio
async def test_valid_token_grants_with_claims_as_strings(
    jwks: JwksCache, clock: ManualClock
) -> None:
    value = token({"cognito:groups": ["admin", "ops"], "email_verified": True, "scope": "a b"})
    result = await authorizer(jwks, clock).authorize(request(f"Bearer {value}"))
    assert isinstance(result, Granted)
    claims = result.context_v2["jwt"]["claims"]
    assert claims["iss"] == ISSUER
    assert claims["exp"] == str(int(NOW) + 3600)
    assert claims["cognito:groups"] == "[admin ops]"
    assert claims["email_verified"] == "true"
    # a route without AuthorizationScopes reports no scopes, whatever the token holds
    assert result.context_v2["jwt"]["scopes"] is None
    assert result.context_v1 == {"claims": claims, "scopes": None}


@pytest.mark.asyncio
async def test_token_with_or_without_bearer(jwks: JwksCache, clock: ManualClock) -> None:
    value = token()
    for header in (value, f"Bearer {value}", f"bearer  {value} "):
        assert isinstance(await authorizer(jwks, clock).authorize(request(header)), Granted)
    assert bearer_token("Bearer  abc.def.ghi ") == "abc.def.ghi"
    assert bearer_token("  ") is None
    assert bearer_token(None) is None


@pytest.mark.asyncio
async def test_missing_token_is_401_with_a_bare_challenge(
    jwks: JwksCache, clock: ManualClock
) -> None:
    for absent in (None, "", "   "):
        result = await authorizer(jwks, clock).authorize(request(absent))
        assert isinstance(result, HttpResult)
        assert (result.status, result.body) == (401, b'{"message":"Unauthorized"}')
        assert result.headers == {
            "content-type": "application/json",
            "www-authenticate": "Bearer",
        }


@pytest.mark.asyncio
async def test_token_from_a_query_string_source(jwks: JwksCache, clock: ManualClock) -> None:
    source = IdentitySource.parse("$request.querystring.access_token")
    checker = authorizer(jwks, clock, identity_source=source)
    assert isinstance(await checker.authorize(request(query=f"access_token={token()}")), Granted)
    result = await checker.authorize(request(f"Bearer {token()}"))
    assert isinstance(result, HttpResult) and result.status == 401


@pytest.mark.asyncio
@pytest.mark.parametrize(
    ("value", "description"),
    [
        ("not-a-token", "token contains an invalid number of segments"),
        ("a.b", "token contains an invalid number of segments"),
        ("!!.??.##", "token is malformed"),
    ],
)
async def test_malformed_tokens(
    jwks: JwksCache, clock: ManualClock, value: str, description: str
) -> None:
    status, header, body = await refusal(jwks, clock, value)
    assert (status, body) == (401, b'{"message":"Unauthorized"}')
    assert header == f'Bearer scope="" error="invalid_token" error_description="{description}"'


@pytest.mark.asyncio
async def test_alg_none_is_refused(jwks: JwksCache, clock: ManualClock) -> None:
    value = handmade({"alg": "none", "kid": "k1"}, {"iss": ISSUER, "aud": AUDIENCE})
    status, header, _ = await refusal(jwks, clock, value)
    assert status == 401
    assert 'error_description="signing method none is invalid"' in header


@pytest.mark.asyncio
async def test_hs256_signed_with_the_public_key_is_refused(
    jwks: JwksCache, clock: ManualClock
) -> None:
    """The classic confusion: HMAC keyed with the issuer's public key, which anyone has."""
    public_pem = RSA_KEY.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    payload = {"iss": ISSUER, "aud": AUDIENCE, "exp": NOW + 60}

    def sign(data: bytes) -> bytes:
        return hmac.new(public_pem, data, hashlib.sha256).digest()

    value = handmade({"alg": "HS256", "kid": "k1"}, payload, sign)
    status, header, _ = await refusal(jwks, clock, value)
    assert status == 401
    assert 'error_description="signing method HS256 is invalid"' in header
    # even where HS256 were allowed, no symmetric key is ever taken from the key set
    widened = authorizer(jwks, clock, algorithms=ACCEPTED_ALGORITHMS | {"HS256"})
    assert isinstance(await widened.authorize(request(value)), HttpResult)


@pytest.mark.asyncio
async def test_es256_is_accepted_and_other_ec_algorithms_refused(
    jwks: JwksCache, clock: ManualClock
) -> None:
    value = token(key=EC_KEY, kid="ec1", algorithm="ES256")
    assert isinstance(await authorizer(jwks, clock).authorize(request(value)), Granted)
    narrowed = authorizer(jwks, clock, algorithms=ACCEPTED_ALGORITHMS - {"ES256"})
    refused = await narrowed.authorize(request(value))
    assert isinstance(refused, HttpResult) and refused.status == 401
    # The algorithm is checked before any key: an ES512 header is refused as such.
    header_only = _with_header_alg(value, "ES512")
    status, header, _ = await refusal(jwks, clock, header_only)
    assert status == 401
    assert 'error_description="signing method ES512 is invalid"' in header


def _with_header_alg(value: str, algorithm: str) -> str:
    """`value` with its header's `alg` replaced (the signature no longer matters)."""
    header, payload, signature = value.split(".")
    decoded = json.loads(base64.urlsafe_b64decode(header + "=" * (-len(header) % 4)))
    decoded["alg"] = algorithm
    encoded = base64.urlsafe_b64encode(json.dumps(decoded).encode()).rstrip(b"=").decode()
    return f"{encoded}.{payload}.{signature}"


@pytest.mark.asyncio
async def test_rs384_and_rs512_are_accepted(jwks: JwksCache, clock: ManualClock) -> None:
    for algorithm in ("RS384", "RS512"):
        value = token(algorithm=algorithm)
        assert isinstance(await authorizer(jwks, clock).authorize(request(value)), Granted)


@pytest.mark.asyncio
async def test_algorithm_must_fit_the_key(
    issuer: Issuer, jwks: JwksCache, clock: ManualClock
) -> None:
    # an RS256 token naming the EC key, and a key whose JWK pins another algorithm
    issuer.keys.append(jwk("pinned", RSA_KEY, alg="RS512"))
    for value in (token(kid="ec1"), token(kid="pinned")):
        status, header, _ = await refusal(jwks, clock, value)
        assert status == 401
        assert 'error_description="signing method RS256 is invalid"' in header


@pytest.mark.asyncio
async def test_signature_by_another_key_is_refused(jwks: JwksCache, clock: ManualClock) -> None:
    status, header, _ = await refusal(jwks, clock, token(key=OTHER_RSA_KEY))
    assert status == 401
    assert 'error_description="the token does not have a valid signature"' in header


@pytest.mark.asyncio
async def test_tampered_payload_is_refused(jwks: JwksCache, clock: ManualClock) -> None:
    header, _payload, signature = token().split(".")
    forged = b64(json.dumps({"iss": ISSUER, "aud": AUDIENCE, "sub": "admin"}).encode())
    status, challenge_header, _ = await refusal(jwks, clock, f"{header}.{forged}.{signature}")
    assert status == 401
    assert "valid signature" in challenge_header


@pytest.mark.asyncio
async def test_unknown_or_missing_kid_is_refused(jwks: JwksCache, clock: ManualClock) -> None:
    status, header, _ = await refusal(jwks, clock, token(kid="nobody"))
    assert status == 401
    assert "kid" in header
    no_kid = jwt.encode({"iss": ISSUER, "aud": AUDIENCE}, RSA_KEY, algorithm="RS256")
    status, header, _ = await refusal(jwks, clock, no_kid)
    assert status == 401
    assert "kid" in header


@pytest.mark.asyncio
@pytest.mark.parametrize(
    ("claims", "drop", "description"),
    [
        ({"iss": "https://elsewhere.example.com"}, (), "the token does not have a valid issuer"),
        ({"aud": "someone-else"}, (), "the token does not have a valid audience"),
        ({"aud": ["x", "y"]}, (), "the token does not have a valid audience"),
        ({}, ("aud",), "the token does not have a valid audience"),
        # aud wins over client_id when both are present
        ({"aud": "x", "client_id": AUDIENCE}, (), "the token does not have a valid audience"),
        ({"exp": int(NOW)}, (), "the token has expired"),
        ({"nbf": int(NOW) + 30}, (), "the token is not valid yet"),
        ({"iat": int(NOW) + 30}, (), "the token was issued in the future"),
        ({"exp": "tomorrow"}, (), "the token has an invalid exp claim"),
    ],
)
async def test_claims_are_checked(
    jwks: JwksCache,
    clock: ManualClock,
    claims: dict[str, Any],
    drop: tuple[str, ...],
    description: str,
) -> None:
    status, header, _ = await refusal(jwks, clock, token(claims, drop=drop))
    assert status == 401
    assert f'error_description="{description}"' in header


@pytest.mark.asyncio
async def test_audience_alternatives(jwks: JwksCache, clock: ManualClock) -> None:
    checker = authorizer(jwks, clock)
    accepted = [
        token({"aud": ["x", "other-client"]}),
        token({"client_id": AUDIENCE}, drop=("aud",)),
    ]
    for value in accepted:
        assert isinstance(await checker.authorize(request(value)), Granted)


@pytest.mark.asyncio
async def test_expiry_follows_the_injected_clock(jwks: JwksCache, clock: ManualClock) -> None:
    value = token({"exp": int(NOW) + 60, "nbf": int(NOW) + 5})
    checker = authorizer(jwks, clock)
    assert isinstance(await checker.authorize(request(value)), HttpResult)  # not yet
    clock.advance(5)
    assert isinstance(await checker.authorize(request(value)), Granted)
    clock.advance(55)
    result = await checker.authorize(request(value))
    assert "the token has expired" in challenge(result)


@pytest.mark.asyncio
async def test_route_scopes(jwks: JwksCache, clock: ManualClock) -> None:
    checker = authorizer(jwks, clock)
    route = ("pets/read", "pets/admin")
    granted = await checker.authorize(request(token({"scope": "openid pets/read"}), route))
    assert isinstance(granted, Granted)
    # the token's full scope list, not its intersection with the route's
    assert granted.context_v2["jwt"]["scopes"] == ["openid", "pets/read"]
    assert granted.context_v1["scopes"] == ["openid", "pets/read"]
    by_scp = await checker.authorize(request(token({"scp": ["pets/admin"]}), route))
    assert isinstance(by_scp, Granted)
    for claims in ({"scope": "openid"}, {}):
        result = await checker.authorize(request(token(claims), route))
        assert isinstance(result, HttpResult)
        assert (result.status, result.body) == (403, b'{"message":"Forbidden"}')
        assert challenge(result) == (
            'Bearer scope="pets/read pets/admin" error="insufficient_scope" '
            'error_description="expected scopes: [pets/read pets/admin]"'
        )


@pytest.mark.asyncio
async def test_invalid_token_on_a_scoped_route_names_its_scopes(
    jwks: JwksCache, clock: ManualClock
) -> None:
    _, header, _ = await refusal(jwks, clock, "x", scopes=("read",))
    assert header.startswith('Bearer scope="read" error="invalid_token"')


@pytest.mark.asyncio
async def test_hostile_alg_cannot_break_the_header(jwks: JwksCache, clock: ManualClock) -> None:
    value = handmade({"alg": 'x"\r\nset-cookie: a=b\u00e9', "kid": "k1"}, {})
    status, header, _ = await refusal(jwks, clock, value)
    assert status == 401
    assert "\r" not in header and "\n" not in header
    assert header.isascii()
    assert 'signing method x\\"??set-cookie: a=b? is invalid' in header


@pytest.mark.asyncio
async def test_unreachable_issuer_refuses_the_request(
    issuer: Issuer, jwks: JwksCache, clock: ManualClock
) -> None:
    issuer.status = 503
    status, header, body = await refusal(jwks, clock, token())
    assert (status, body) == (401, b'{"message":"Unauthorized"}')
    assert 'error="invalid_token"' in header


def test_claim_values_as_api_gateway_renders_them() -> None:
    assert as_text("x") == "x"
    assert as_text(1700000000) == "1700000000"
    assert as_text(1700000000.0) == "1700000000"
    assert as_text(1.5) == "1.5"
    assert as_text(False) == "false"
    assert as_text(["a", 1, True]) == "[a 1 true]"
    assert as_text({"country": "JP"}) == '{"country":"JP"}'
    assert flatten({"a": None, "b": "c"}) == {"b": "c"}
    assert scopes({"scope": "a  b", "scp": ["b", "c", 3]}) == ["a", "b", "c"]
    assert scopes({"scp": "x y"}) == ["x", "y"]
    assert scopes({}) == []


@pytest.mark.asyncio
async def test_compiled_from_a_get_authorizer_document(jwks: JwksCache, clock: ManualClock) -> None:
    async def invoke(*_args: Any) -> InvocationResult:
        raise AssertionError("a JWT authorizer invokes nothing")

    document = {
        "AuthorizerId": "abc123",
        "AuthorizerType": "JWT",
        "Name": "cognito",
        "IdentitySource": ["$request.header.Authorization"],
        "JwtConfiguration": {"Issuer": ISSUER, "Audience": [AUDIENCE]},
    }
    compiled = compile_authorizer(document, invoke=invoke, jwks=jwks, clock=clock.now)
    assert isinstance(await compiled.authorize(request(token())), Granted)
    assert isinstance(await compiled.authorize(request(token({"aud": "x"}))), HttpResult)
    without_issuer = {**document, "JwtConfiguration": {"Audience": [AUDIENCE]}}
    broken = compile_authorizer(without_issuer, invoke=invoke, jwks=jwks, clock=clock.now)
    result = await broken.authorize(request(token()))
    assert isinstance(result, HttpResult) and result.status == 500
