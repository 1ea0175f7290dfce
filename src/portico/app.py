"""The composition root: `create_app(settings)` wires everything, once.

Portico (ASGI)
  /_portico/health  -> readiness
  /_portico/metrics -> HTTP API route metrics (Prometheus text)
  HTTP API requests -> HttpApiEndpoint (gateway) -> integrations -> Runtime / HTTP backends
  /_portico/code/   -> CodeDownloads (GetFunction's Code.Location) -> blobs
  everything else   -> AwsEndpoint -> AwsHandler -> service providers -> Runtime
"""

from __future__ import annotations

import dataclasses
import datetime
import json
import logging
import time
from typing import Any

import httpx

from portico import __version__
from portico.aws import sigv4
from portico.aws.asgi import AwsEndpoint, Receive, Scope, Send
from portico.aws.catalog import Service, ServiceCatalog
from portico.aws.handler import AwsHandler, Caller, ServiceProvider
from portico.aws.messages import AwsRequest
from portico.code_downloads import CodeDownloads
from portico.credentials import (
    CredentialChain,
    SessionIssuer,
    StaticCredentials,
    load_or_create,
)
from portico.gateway.function_urls import FunctionUrlEndpoint, sigv4_authenticator
from portico.gateway.http_api.authorizers import IamAuthorizer, JwksCache
from portico.gateway.http_api.compiled import Compiler
from portico.gateway.http_api.endpoint import HttpApiEndpoint
from portico.gateway.http_api.registry import HttpApiRegistry
from portico.gateway.http_api.throttling import Limits
from portico.http_bounds import DirectAnswer
from portico.runtime import FunctionConfig, Runtime, RuntimeSettings
from portico.runtime.limits import SYNC_REQUEST_LIMIT_BYTES
from portico.runtime.logs import LogEvent
from portico.services.apigatewayv2.provider import ApiGatewayV2Provider
from portico.services.context import ServiceContext
from portico.services.lambda_.provider import LambdaProvider
from portico.services.logs.sink import StoreLogSink
from portico.services.logs.writer import ProcessWriter
from portico.services.registry import PROVIDERS, Background
from portico.settings import Settings
from portico.store import Clock, FileBlobStore, SystemClock
from portico.store.sqlite.database import open_database
from portico.store.sqlite.queue import SqliteQueue

logger = logging.getLogger(__name__)

# The services whose models the protocol layer loads: those with providers, and those
# whose requests it must at least recognize to answer with AWS's errors.
SERVICES = ("lambda", "logs", "secretsmanager", "sqs", "sns", "apigatewayv2")
HEALTH_PATH = "/_portico/health"
METRICS_PATH = "/_portico/metrics"
# Room for a 6 MB payload in an Invoke request, plus the protocol's own bytes.
MAX_REQUEST_BYTES = SYNC_REQUEST_LIMIT_BYTES + 64 * 1024


class Portico:
    """The whole server as one ASGI application."""

    def __init__(self, settings: Settings, clock: Clock | None = None) -> None:
        # Absolute, so that environments (which change directory) find their code.
        settings = dataclasses.replace(settings, data_dir=settings.data_dir.resolve())
        self.settings = settings
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        self.clock = clock or SystemClock()
        self.database = open_database(settings.data_dir, clock=self.clock)
        self.admin_key = load_or_create(
            settings.data_dir, settings.access_key_id, settings.secret_access_key
        )
        self.sessions = SessionIssuer(self.clock.now)
        self.credentials = CredentialChain(StaticCredentials(self.admin_key), self.sessions)
        # Where functions reach the server; set once it listens (the port may be chosen then).
        self.endpoint_url = f"http://{_reachable(settings.host)}:{settings.port}"
        self.log_sink = StoreLogSink(
            ProcessWriter(self.database.path),
            self.clock,
            account_id=settings.account_id,
            region=settings.default_region,
        )
        self.runtime = Runtime(
            RuntimeSettings(
                state_dir=settings.data_dir / "runtime",
                idle_timeout=settings.idle_timeout,
                sandbox=settings.sandbox,
            ),
            log_sink=self.log_sink,
            environment_hook=self.function_environment,
        )
        catalog = ServiceCatalog(SERVICES)
        blobs = FileBlobStore(settings.data_dir / "blobs")
        context = ServiceContext(
            settings=settings,
            database=self.database,
            blobs=blobs,
            queue=SqliteQueue(self.database),
            runtime=self.runtime,
            clock=self.clock,
            catalog=catalog,
        )
        providers: dict[str, ServiceProvider] = {}
        for factory in PROVIDERS:
            provider = factory(context)
            providers[provider.service_name] = provider
        self._background = [p for p in providers.values() if isinstance(p, Background)]
        self.aws_handler = AwsHandler(
            catalog,
            providers,
            authenticate=self.authenticate,
            account_id=settings.account_id,
            default_region=settings.default_region,
        )
        self._aws = AwsEndpoint(self.aws_handler, MAX_REQUEST_BYTES)
        lambda_provider = providers["lambda"]
        if not isinstance(lambda_provider, LambdaProvider):
            raise TypeError("the lambda provider must be a LambdaProvider")
        lambda_provider.serve_urls_at(lambda: self.endpoint_url)
        self._function_urls = FunctionUrlEndpoint(
            lambda_provider.urls,
            lambda_provider.for_services.invoke_url,
            sigv4_authenticator(self.credentials, settings.account_id),
        )
        self._code_downloads = CodeDownloads(lambda_provider.downloads, blobs)
        # HTTP APIs: the control plane publishes deployments into the gateway's registry.
        self._http_client = httpx.AsyncClient(follow_redirects=False)
        compiler = Compiler(
            lambda_provider.for_services.invoke_url,
            self._http_client,
            jwks=JwksCache(self._http_client, clock=time.time),
            iam=IamAuthorizer(self.credentials, settings.account_id),
            start_invoke=lambda_provider.for_services.start_invoke_url,
            account_limits=Limits(settings.account_throttle_rate, settings.account_throttle_burst),
        )
        registry = HttpApiRegistry(compiler)
        self.http_apis = HttpApiEndpoint(registry, access_log=self._write_access_log)
        http_apis_provider = providers["apigatewayv2"]
        if not isinstance(http_apis_provider, ApiGatewayV2Provider):
            raise TypeError("the apigatewayv2 provider must be an ApiGatewayV2Provider")
        http_apis_provider.serve_at(lambda: self.endpoint_url)
        http_apis_provider.publish_to(registry)
        self.ready = False

    def authenticate(self, request: AwsRequest, service: Service) -> Caller:
        """Every AWS-wire request is SigV4-verified against the keys the server knows."""
        identity = sigv4.verify(
            request,
            self.credentials,
            datetime.datetime.now(datetime.UTC),
            dialect=sigv4.dialect_for_protocol(service.protocol),
            service=service.signing_name,
        )
        principal = self.credentials.principal_for(identity.access_key_id) or "unknown"
        return Caller(identity.access_key_id, identity.region, principal)

    def function_environment(self, config: FunctionConfig) -> dict[str, str]:
        """What every new execution environment gets to call back: the server's address and
        credentials of its own (never the admin key), which the server accepts."""
        key = self.sessions.issue(principal=config.function_arn)
        return {
            "AWS_ENDPOINT_URL": self.endpoint_url,
            "AWS_ACCESS_KEY_ID": key.access_key_id,
            "AWS_SECRET_ACCESS_KEY": key.secret_access_key,
            "AWS_SESSION_TOKEN": key.session_token,
        }

    def _write_access_log(
        self, account_id: str, region: str, group: str, stream: str, timestamp: int, line: str
    ) -> None:
        self.log_sink.put(
            group, stream, [LogEvent(timestamp, line)], account_id=account_id, region=region
        )

    def listening_on(self, host: str, port: int) -> None:
        self.endpoint_url = f"http://{_reachable(host)}:{port}"

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
        elif scope["type"] == "http" and scope["path"] == HEALTH_PATH:
            await self._health(send)
        elif scope["type"] != "http":
            return
        elif self.http_apis.matches(scope):
            await self.http_apis(scope, receive, send)
        elif scope["path"] == METRICS_PATH:
            await self._metrics(send)
        elif FunctionUrlEndpoint.matches(scope):
            await self._function_urls(scope, receive, send)
        elif CodeDownloads.matches(scope):
            await self._code_downloads(scope, receive, send)
        elif scope["type"] == "http":
            await self._aws(scope, receive, send)

    def direct(self, scope: Scope) -> DirectAnswer | None:
        """How to answer a request without the ASGI cycle, if it can be (`DirectApp`): the
        HTTP APIs' requests to functions, most of them."""
        if scope["path"] == HEALTH_PATH:
            return None
        return self.http_apis.direct(scope)

    async def startup(self) -> None:
        await self.log_sink.start()
        await self.runtime.start()
        for service in self._background:
            await service.start()
        self.ready = True

    async def shutdown(self) -> None:
        self.ready = False
        for service in reversed(self._background):
            await service.close()
        await self.runtime.close()  # environments flush their last lines into the sink
        await self.log_sink.close()
        await self._http_client.aclose()
        self.database.close()

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                try:
                    await self.startup()
                except Exception as exc:
                    logger.exception("start-up failed")
                    await send({"type": "lifespan.startup.failed", "message": str(exc)})
                    return
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await self.shutdown()
                await send({"type": "lifespan.shutdown.complete"})
                return

    async def _metrics(self, send: Send) -> None:
        body = self.http_apis.metrics.exposition().encode()
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [
                    (b"content-type", b"text/plain; version=0.0.4; charset=utf-8"),
                    (b"content-length", str(len(body)).encode()),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})

    async def _health(self, send: Send) -> None:
        status = 200 if self.ready else 503
        document: dict[str, Any] = {
            "status": "ready" if self.ready else "starting",
            "version": __version__,
        }
        body = json.dumps(document).encode()
        await send(
            {
                "type": "http.response.start",
                "status": status,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode()),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})


def _reachable(host: str) -> str:
    """An address a local process can connect to, for a server bound to `host`."""
    return "127.0.0.1" if host in ("0.0.0.0", "", "::") else host  # noqa: S104


def create_app(settings: Settings) -> Portico:
    return Portico(settings)
