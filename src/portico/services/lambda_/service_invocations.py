"""Synchronous invocations made for a service or the public: API Gateway's integrations and
function URLs. The function's resource-based policy must allow the caller (the decision kept
until the next write of the Lambda API), and the integration's timeout may be shorter than
the function's. Each comes as a coroutine (`invoke_url`) and, for the gateway's callback path,
without one (`start_invoke_url`)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

from portico.errors import AwsError
from portico.runtime import InvocationResult, Runtime, invoker
from portico.services.lambda_.errors import AccessDeniedException
from portico.services.lambda_.models import LATEST
from portico.services.lambda_.names import function_arn
from portico.services.lambda_.permissions import Invoker, permitted
from portico.services.lambda_.policy import Policies
from portico.services.lambda_.resolver import Resolver

logger = logging.getLogger(__name__)


class ServiceInvocations:
    def __init__(self, resolver: Resolver, runtime: Runtime, policies: Policies) -> None:
        self._resolver = resolver
        self._runtime = runtime
        self._policies = policies
        self._invoking: set[asyncio.Task[InvocationResult]] = set()  # start_invoke_url's

    async def invoke_url(
        self,
        account_id: str,
        region: str,
        function_name: str,
        qualifier: str,
        payload: bytes,
        *,
        within: float | None = None,
        source: Invoker | None = None,
    ) -> InvocationResult:
        """A synchronous invocation for a function URL or an HTTP API request (`payload`: the
        event). With `within`, TimeoutError once that many seconds pass (the function runs
        on); only watched when the function's own timeout is longer. With `source` (a
        service, or the public through a URL), the function's resource-based policy must
        allow it, else AccessDeniedException."""
        config, reported = await self._resolver.invoke_target(
            account_id, region, function_name, qualifier
        )
        if source is not None:
            await self._check_permission(account_id, region, function_name, qualifier, source)
        invocation = self._runtime.invoke(config, payload, qualifier=reported)
        if within is None or config.timeout <= within:
            return await invocation
        return await invoker.within(invocation, within)

    def start_invoke_url(
        self,
        account_id: str,
        region: str,
        function_name: str,
        qualifier: str,
        payload: bytes,
        then: Callable[[InvocationResult | BaseException], None],
        *,
        within: float | None = None,
        source: Invoker | None = None,
    ) -> None:
        """`invoke_url`, its result or what it raised passed to `then`. When the target and
        the permission are known and an environment waits, without a coroutine: the event
        goes out at once."""
        known = self._resolver.known_target(account_id, region, function_name, qualifier)
        if known is not None and (
            source is None
            or self._resolver.known(
                _permission_key(account_id, region, function_name, qualifier, source)
            )
            is True
        ):
            config, reported = known
            if within is None or config.timeout <= within:
                try:
                    if self._runtime.start_invoke(config, payload, then, qualifier=reported):
                        return
                except AwsError as error:
                    then(error)
                    return
        invocation = self.invoke_url(
            account_id, region, function_name, qualifier, payload, within=within, source=source
        )
        task = asyncio.get_running_loop().create_task(invocation)
        self._invoking.add(task)
        task.add_done_callback(lambda done: self._invoked(done, then))

    def _invoked(
        self,
        task: asyncio.Task[InvocationResult],
        then: Callable[[InvocationResult | BaseException], None],
    ) -> None:
        self._invoking.discard(task)
        if not task.cancelled():
            then(task.exception() or task.result())

    async def _check_permission(
        self, account_id: str, region: str, name: str, qualifier: str, source: Invoker
    ) -> None:
        """The decision is kept until the next write of the Lambda API."""
        key = _permission_key(account_id, region, name, qualifier, source)
        if await self._resolver.cached(
            key, lambda: self._permitted(account_id, region, name, qualifier, source)
        ):
            return
        raise AccessDeniedException(
            f"{source.principal} is not authorized to perform: lambda:InvokeFunction on "
            f"resource: {_invoked_arn(account_id, region, name, qualifier)} because no "
            "resource-based policy allows the lambda:InvokeFunction action"
        )

    def _permitted(
        self, account_id: str, region: str, name: str, qualifier: str, source: Invoker
    ) -> bool:
        """Read and decide (in a worker thread); a refusal is logged with how to lift it."""
        allowed = permitted(self._policies.statements(account_id, region, name, qualifier), source)
        if not allowed:
            logger.warning(
                "%s may not invoke %s: no statement of its resource-based policy allows it "
                "(aws lambda add-permission %s)",
                source.principal,
                _invoked_arn(account_id, region, name, qualifier),
                source.grant(),
            )
        return allowed


def _permission_key(
    account_id: str, region: str, name: str, qualifier: str, source: Invoker
) -> tuple[str | Invoker, ...]:
    return ("permitted", account_id, region, name, qualifier, source)


def _invoked_arn(account_id: str, region: str, name: str, qualifier: str) -> str:
    return function_arn(region, account_id, name, None if qualifier in ("", LATEST) else qualifier)
