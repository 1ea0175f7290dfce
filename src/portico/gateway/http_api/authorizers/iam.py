"""AWS_IAM routes: the request must be SigV4-signed (service `execute-api`, the API's region)
with keys the server knows.

    unsigned                      403 {"message":"Forbidden"}
    signed, but wrongly           403 {"message":"<SigV4's reason>"}, x-amzn-errortype
    signed                        Granted: 2.0 `authorizer.iam`; 1.0 events name the caller in
                                  `requestContext.identity` instead (`IamGranted.identity_v1`)
"""

from __future__ import annotations

import datetime
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from portico.aws import sigv4
from portico.gateway.http_api.authorization import AuthRequest, Granted
from portico.gateway.http_api.authorizers import refusals
from portico.gateway.http_api.authorizers.lambda_events import anonymous_identity
from portico.gateway.http_events import HttpRequest, HttpResult, IamCaller

SERVICE = "execute-api"


class Credentials(sigv4.CredentialStore, Protocol):
    def principal_for(self, access_key_id: str) -> str | None: ...


@dataclass(frozen=True)
class IamGranted(Granted):
    """Granted to a signed caller; a 1.0 event puts `identity_v1` in `requestContext.identity`."""

    caller: IamCaller | None = None

    def identity_v1(self, source_ip: str, user_agent: str) -> dict[str, Any]:
        identity = anonymous_identity(source_ip, user_agent)
        if self.caller is not None:
            identity.update(
                accessKey=self.caller.access_key,
                accountId=self.caller.account_id,
                caller=self.caller.caller_id,
                user=self.caller.user_id,
                userArn=self.caller.user_arn,
            )
        return identity


def _utc_now() -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC)


class IamAuthorizer:
    def __init__(
        self,
        credentials: Credentials,
        account_id: str,
        now: Callable[[], datetime.datetime] = _utc_now,
    ) -> None:
        self._credentials = credentials
        self._account_id = account_id
        self._now = now

    async def authorize(self, request: AuthRequest) -> Granted | HttpResult:
        try:
            signer = sigv4.verify(
                signed_request(request.request, request.sent_path),
                self._credentials,
                self._now(),
                region=request.region,
                service=SERVICE,
            )
        except sigv4.MissingAuthenticationTokenException:
            return refusals.forbidden()
        except sigv4.AuthenticationError as error:
            return refusals.message(403, error.message, {"x-amzn-errortype": error.code})
        caller = self._caller(signer.access_key_id)
        return IamGranted(context_v2={"iam": caller.document()}, context_v1={}, caller=caller)

    def _caller(self, access_key_id: str) -> IamCaller:
        principal = self._credentials.principal_for(access_key_id) or ""
        user_arn = (
            principal if principal.startswith("arn:") else f"arn:aws:iam::{self._account_id}:root"
        )
        return IamCaller(
            access_key=access_key_id,
            account_id=self._account_id,
            caller_id=access_key_id,
            user_arn=user_arn,
            user_id=access_key_id,
        )


def signed_request(request: HttpRequest, sent_path: str) -> sigv4.SignedRequest:
    """The request as the client signed it: the path and query it sent, every header."""
    headers: dict[str, str] = {}
    for name, value in request.headers:
        key = name.lower()
        headers[key] = f"{headers[key]},{value}" if key in headers else value
    return sigv4.SignedRequest(
        method=request.method,
        path=sent_path,
        query=request.raw_query,
        headers=headers,
        body=request.body,
    )
