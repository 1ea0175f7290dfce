"""The authorizers of HTTP API routes: JWT, Lambda REQUEST and AWS_IAM.

compile_authorizer(GetAuthorizer document, invoke=..., jwks=..., clock=...) -> Authorizer
IamAuthorizer(credentials, account_id, now)  for routes with AuthorizationType AWS_IAM
JwksCache(client, clock=...)                 issuers' keys, one cache per gateway
"""

from __future__ import annotations

from portico.gateway.http_api.authorizers.factory import Misconfigured, compile_authorizer
from portico.gateway.http_api.authorizers.iam import IamAuthorizer, IamGranted
from portico.gateway.http_api.authorizers.jwks import JwksCache, JwksUnavailable
from portico.gateway.http_api.authorizers.jwt import JwtAuthorizer
from portico.gateway.http_api.authorizers.lambda_request import LambdaRequestAuthorizer

__all__ = [
    "IamAuthorizer",
    "IamGranted",
    "JwksCache",
    "JwksUnavailable",
    "JwtAuthorizer",
    "LambdaRequestAuthorizer",
    "Misconfigured",
    "compile_authorizer",
]
