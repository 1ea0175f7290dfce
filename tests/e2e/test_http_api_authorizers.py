"""Route authorization through the real server: JWT (keys served by a local issuer), Lambda
REQUEST authorizers and AWS_IAM (SigV4)."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import jwt
import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from jwt.algorithms import ECAlgorithm, RSAAlgorithm

from tests.e2e.conftest import ACCESS_KEY_ID, SECRET_ACCESS_KEY, Server
from tests.e2e.http_apis import REGION, allow_api, function, shared_server

__all__ = ["shared_server"]

AUTHORIZER_SOURCE = """
import time

def handler(event, context):
    token = event["headers"].get("authorization", "")
    if token.startswith("sleep "):
        time.sleep(float(token.split()[1]))
        return {"isAuthorized": True}
    if event.get("version") == "2.0" and token.startswith("simple "):
        return {"isAuthorized": token == "simple yes", "context": {"user": "ann", "n": 7}}
    effect = "Allow" if token == "policy yes" else "Deny"
    return {
        "principalId": "user-42",
        "policyDocument": {
            "Version": "2012-10-17",
            "Statement": [{"Action": "execute-api:Invoke", "Effect": effect,
                           "Resource": event.get("routeArn") or event.get("methodArn")}],
        },
        "context": {"tier": "gold"},
    }
"""


class Issuer:
    """An OpenID issuer on loopback: its discovery document and its key set."""

    def __init__(self) -> None:
        self.key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.ec_key = ec.generate_private_key(ec.SECP256R1())
        public = json.loads(RSAAlgorithm.to_jwk(self.key.public_key()))
        ec_public = json.loads(ECAlgorithm.to_jwk(self.ec_key.public_key()))
        self.jwks = {
            "keys": [
                {**public, "kid": "k1", "use": "sig", "alg": "RS256"},
                {**ec_public, "kid": "k2", "use": "sig", "alg": "ES256"},
            ]
        }
        self.fetches = 0
        issuer = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                if self.path == "/.well-known/openid-configuration":
                    body = {"issuer": issuer.url, "jwks_uri": f"{issuer.url}/jwks.json"}
                elif self.path == "/jwks.json":
                    issuer.fetches += 1
                    body = issuer.jwks
                else:
                    self.send_error(404)
                    return
                data = json.dumps(body).encode()
                self.send_response(200)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def token(self, elliptic: bool = False, **claims: Any) -> str:
        now = int(time.time())
        body = {"iss": self.url, "aud": "my-app", "sub": "ann", "iat": now, "exp": now + 300}
        if elliptic:
            return jwt.encode(
                {**body, **claims}, self.ec_key, algorithm="ES256", headers={"kid": "k2"}
            )
        return jwt.encode({**body, **claims}, self.key, algorithm="RS256", headers={"kid": "k1"})


@pytest.fixture(scope="module")
def issuer() -> Iterator[Issuer]:
    running = Issuer()
    yield running
    running.server.shutdown()
    running.server.server_close()


def _api_with_route(
    server: Server,
    name: str,
    route: dict[str, Any],
    *,
    permit_authorizer: bool = True,
    **authorizer: Any,
) -> tuple[str, str]:
    """An API with one route `GET /secret` to an echo function; (endpoint, authorizer id)."""
    gateway = server.client("apigatewayv2")
    api = gateway.create_api(Name=name, ProtocolType="HTTP")
    api_id = api["ApiId"]
    echo = function(server, f"{name}-echo")
    allow_api(server, echo, api_id, "*/GET/secret")
    integration = gateway.create_integration(
        ApiId=api_id, IntegrationType="AWS_PROXY", IntegrationUri=echo, PayloadFormatVersion="2.0"
    )
    authorizer_id = ""
    if authorizer:
        authorizer_id = gateway.create_authorizer(ApiId=api_id, Name=name, **authorizer)[
            "AuthorizerId"
        ]
        route = {**route, "AuthorizerId": authorizer_id}
        uri = str(authorizer.get("AuthorizerUri", ""))
        if permit_authorizer and uri.endswith("/invocations"):  # for this authorizer only
            authorizer_arn = uri.split("/functions/", 1)[1].removesuffix("/invocations")
            allow_api(server, authorizer_arn, api_id, f"authorizers/{authorizer_id}")
    gateway.create_route(
        ApiId=api_id,
        RouteKey="GET /secret",
        Target=f"integrations/{integration['IntegrationId']}",
        **route,
    )
    gateway.create_stage(ApiId=api_id, StageName="$default", AutoDeploy=True)
    return f"{api['ApiEndpoint']}/secret", authorizer_id


def lambda_authorizer(arn: str, version: str = "2.0", **settings: Any) -> dict[str, Any]:
    """CreateAuthorizer's members for a REQUEST authorizer on `arn` that reads the
    Authorization header."""
    return {
        "AuthorizerType": "REQUEST",
        "AuthorizerUri": (
            f"arn:aws:apigateway:{REGION}:lambda:path/2015-03-31/functions/{arn}/invocations"
        ),
        "AuthorizerPayloadFormatVersion": version,
        "IdentitySource": ["$request.header.Authorization"],
        **settings,
    }


def test_jwt_authorizer(shared_server: Server, issuer: Issuer) -> None:
    url, _ = _api_with_route(
        shared_server,
        "jwt",
        {"AuthorizationType": "JWT", "AuthorizationScopes": ["orders:read"]},
        AuthorizerType="JWT",
        IdentitySource=["$request.header.Authorization"],
        JwtConfiguration={"Issuer": issuer.url, "Audience": ["my-app"]},
    )
    missing = httpx.get(url)
    assert (missing.status_code, missing.json()) == (401, {"message": "Unauthorized"})
    good = issuer.token(scope="orders:read orders:write")
    answer = httpx.get(url, headers={"authorization": f"Bearer {good}"})
    assert answer.status_code == 200, answer.text
    claims = answer.json()["requestContext"]["authorizer"]["jwt"]
    assert claims["claims"]["sub"] == "ann"
    assert claims["scopes"] == ["orders:read", "orders:write"]
    elliptic = issuer.token(elliptic=True, scope="orders:read")
    assert httpx.get(url, headers={"authorization": f"Bearer {elliptic}"}).status_code == 200
    narrow = issuer.token(scope="orders:write")
    refused = httpx.get(url, headers={"authorization": f"Bearer {narrow}"})
    assert (refused.status_code, refused.json()) == (403, {"message": "Forbidden"})
    for bad in (
        issuer.token(aud="someone-else"),
        issuer.token(exp=int(time.time()) - 60),
        jwt.encode({"iss": issuer.url, "aud": "my-app"}, "s" * 32, algorithm="HS256"),
        good[:-4] + "AAAA",
    ):
        answer = httpx.get(url, headers={"authorization": f"Bearer {bad}"})
        assert (answer.status_code, answer.json()) == (401, {"message": "Unauthorized"})
    assert issuer.fetches == 1  # the key set is cached


def test_lambda_authorizer_with_simple_responses(shared_server: Server) -> None:
    authorizer_arn = function(shared_server, "simple-authorizer", source=AUTHORIZER_SOURCE)
    url, _ = _api_with_route(
        shared_server,
        "simple",
        {"AuthorizationType": "CUSTOM"},
        **lambda_authorizer(
            authorizer_arn, EnableSimpleResponses=True, AuthorizerResultTtlInSeconds=0
        ),
    )
    assert httpx.get(url).status_code == 401  # no identity: the function is not asked
    allowed = httpx.get(url, headers={"authorization": "simple yes"})
    assert allowed.status_code == 200, allowed.text
    assert allowed.json()["requestContext"]["authorizer"]["lambda"] == {"user": "ann", "n": 7}
    denied = httpx.get(url, headers={"authorization": "simple no"})
    assert (denied.status_code, denied.json()) == (403, {"message": "Forbidden"})


def test_a_lambda_authorizer_its_function_does_not_permit_is_a_500(
    shared_server: Server,
) -> None:
    authorizer_arn = function(shared_server, "unpermitted-authorizer", source=AUTHORIZER_SOURCE)
    url, _ = _api_with_route(
        shared_server,
        "unpermitted",
        {"AuthorizationType": "CUSTOM"},
        permit_authorizer=False,
        **lambda_authorizer(authorizer_arn, EnableSimpleResponses=True),
    )
    refused = httpx.get(url, headers={"authorization": "simple yes"})
    assert (refused.status_code, refused.json()) == (500, {"message": "Internal Server Error"})


@pytest.mark.slow
def test_a_lambda_authorizer_that_answers_after_10_s_is_a_500(shared_server: Server) -> None:
    """The HTTP API quota on a Lambda authorizer's response: 10 s, even when the function's
    own timeout is longer."""
    authorizer_arn = function(
        shared_server, "sleepy-authorizer", source=AUTHORIZER_SOURCE, Timeout=30
    )
    url, _ = _api_with_route(
        shared_server,
        "sleepy",
        {"AuthorizationType": "CUSTOM"},
        **lambda_authorizer(
            authorizer_arn, EnableSimpleResponses=True, AuthorizerResultTtlInSeconds=0
        ),
    )
    assert httpx.get(url, headers={"authorization": "sleep 0.5"}).status_code == 200
    started = time.monotonic()
    late = httpx.get(url, headers={"authorization": "sleep 12"}, timeout=30)
    waited = time.monotonic() - started
    assert (late.status_code, late.json()) == (500, {"message": "Internal Server Error"})
    assert 10 <= waited < 11.5


def test_lambda_authorizer_with_an_iam_policy(shared_server: Server) -> None:
    authorizer_arn = function(shared_server, "policy-authorizer", source=AUTHORIZER_SOURCE)
    url, _ = _api_with_route(
        shared_server,
        "policy",
        {"AuthorizationType": "CUSTOM"},
        **lambda_authorizer(authorizer_arn, "1.0", AuthorizerResultTtlInSeconds=300),
    )
    allowed = httpx.get(url, headers={"authorization": "policy yes"})
    assert allowed.status_code == 200, allowed.text
    context = allowed.json()["requestContext"]["authorizer"]["lambda"]
    assert context["tier"] == "gold"
    denied = httpx.get(url, headers={"authorization": "policy no"})
    assert (denied.status_code, denied.json()) == (403, {"message": "Forbidden"})


def test_aws_iam_routes_need_a_sigv4_signature(shared_server: Server) -> None:
    url, _ = _api_with_route(shared_server, "iam", {"AuthorizationType": "AWS_IAM"})
    unsigned = httpx.get(url)
    assert (unsigned.status_code, unsigned.json()["message"]) == (403, "Forbidden")
    request = AWSRequest(method="GET", url=url)
    SigV4Auth(Credentials(ACCESS_KEY_ID, SECRET_ACCESS_KEY), "execute-api", REGION).add_auth(
        request
    )
    prepared = request.prepare()
    signed = httpx.get(url, headers=dict(prepared.headers))
    assert signed.status_code == 200, signed.text
    iam = signed.json()["requestContext"]["authorizer"]["iam"]
    assert iam["accessKey"] == ACCESS_KEY_ID
    wrong = AWSRequest(method="GET", url=url)
    SigV4Auth(Credentials(ACCESS_KEY_ID, "not-the-secret"), "execute-api", REGION).add_auth(wrong)
    assert httpx.get(url, headers=dict(wrong.prepare().headers)).status_code == 403
