"""Concurrency: reserved (Put/Get/DeleteFunctionConcurrency), provisioned
(Put/Get/Delete/ListProvisionedConcurrencyConfigs) and the account's view (GetAccountSettings).

The account's concurrency is shared out like this, and Lambda keeps at least 100 unreserved:

    ConcurrentExecutions (1000)
      - each function's ReservedConcurrentExecutions, or, for a function without, the
        provisioned concurrency of its versions and aliases
      = UnreservedConcurrentExecutions  (>= 100 after any Put)

Provisioned concurrency is asked of the runtime through `apply`, one call per function version
("keep N environments of this version initialized", 0 releases them), in the background: a Put
answers IN_PROGRESS at once, and the config turns READY once `apply` reports the environments
up (FAILED, with Lambda's StatusReason, when fewer came up). Aliases count for the version they
point at; `function_changed` re-applies after an alias moved or a function or version went.

Environments die with the server, configs do not: every function given a config is noted in an
index (one record per function, across accounts and regions), and `restore` applies them all
again at start-up, each IN_PROGRESS until its environments are up again. Index entries whose
function has no config left are dropped then.
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime
import logging
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, ClassVar

from portico.aws.handler import Operation, RequestContext
from portico.errors import AwsError
from portico.services.lambda_.attachments import (
    ALIASES,
    FAILED,
    IN_PROGRESS,
    PROVISIONED,
    PROVISIONED_FUNCTIONS,
    PROVISIONED_INDEX_SCOPE,
    READY,
    Alias,
    ProvisionedConfig,
    ProvisionedFunction,
    attachment_key,
)
from portico.services.lambda_.constraints import (
    check_length,
    check_minimum,
    check_pattern,
    check_range,
    is_version,
)
from portico.services.lambda_.errors import (
    InvalidParameterValueException,
    ResourceConflictException,
)
from portico.services.lambda_.models import LATEST, FunctionRecord, FunctionVersion
from portico.services.lambda_.names import function_arn
from portico.services.lambda_.paging import page
from portico.services.lambda_.references import (
    Target,
    function_not_found,
    requested,
    resolve,
    scope_for,
    version_key,
)
from portico.services.lambda_.repository import FUNCTIONS, VERSIONS, scope_of
from portico.store import Clock, Database, RecordStore

logger = logging.getLogger(__name__)

Params = dict[str, Any]
Result = dict[str, Any]
ApplyProvisionedConcurrency = Callable[
    [RequestContext, FunctionVersion, FunctionRecord, int], Awaitable[int]
]
"""Keep `count` environments of this function version initialized; return how many are."""

MINIMUM_UNRESERVED = 100
TOTAL_CODE_SIZE = 80_530_636_800
CODE_SIZE_UNZIPPED = 262_144_000
CODE_SIZE_ZIPPED = 52_428_800
INIT_FAILURE = "FUNCTION_ERROR_INIT_FAILURE"
MAX_PROVISIONED_PAGE = 50
_QUALIFIER = r"(|[a-zA-Z0-9$_-]+)"


class ProvisionedConcurrencyConfigNotFoundException(AwsError):
    code: ClassVar[str] = "ProvisionedConcurrencyConfigNotFoundException"
    status_code: ClassVar[int] = 404
    sender_fault: ClassVar[bool] = True

    def __init__(self, message: str) -> None:
        super().__init__(message, Type="User")


@dataclass(frozen=True)
class _Applied:
    """What the runtime was last asked for one version, and what to ask it again with."""

    context: RequestContext
    version: FunctionVersion
    record: FunctionRecord
    count: int


@dataclass
class _Plan:
    """Per version: the configs that resolve to it, and what `apply` needs to know of it."""

    record: FunctionRecord | None
    configs: dict[str, list[ProvisionedConfig]] = field(default_factory=dict)
    versions: dict[str, FunctionVersion] = field(default_factory=dict)


class Concurrency:
    def __init__(
        self,
        database: Database,
        clock: Clock,
        apply: ApplyProvisionedConcurrency,
        account_concurrency: int = 1000,
    ) -> None:
        self._database = database
        self._clock = clock
        self._apply = apply
        self._limit = account_concurrency
        self._applied: dict[tuple[str, str], dict[str, _Applied]] = {}
        self._locks: dict[tuple[str, str], asyncio.Lock] = {}
        self._pending: set[asyncio.Task[None]] = set()

    def operations(self) -> dict[str, Operation]:
        return {
            "PutFunctionConcurrency": self.put_function_concurrency,
            "GetFunctionConcurrency": self.get_function_concurrency,
            "DeleteFunctionConcurrency": self.delete_function_concurrency,
            "PutProvisionedConcurrencyConfig": self.put_provisioned_concurrency_config,
            "GetProvisionedConcurrencyConfig": self.get_provisioned_concurrency_config,
            "DeleteProvisionedConcurrencyConfig": self.delete_provisioned_concurrency_config,
            "ListProvisionedConcurrencyConfigs": self.list_provisioned_concurrency_configs,
            "GetAccountSettings": self.get_account_settings,
        }

    # -- reserved concurrency ------------------------------------------------------------

    async def put_function_concurrency(self, context: RequestContext, params: Params) -> Result:
        reserved: int = params["ReservedConcurrentExecutions"]
        check_minimum(reserved, "reservedConcurrentExecutions", 0)
        ref = requested(params)
        if ref.qualifier is not None:
            raise InvalidParameterValueException(
                "This operation is permitted on Lambda functions only. Aliases and versions do "
                "not support this operation. Please specify either a function name or an "
                "unqualified function ARN."
            )

        def put() -> None:
            scope = scope_for(context)
            with self._database.transaction() as tx:
                found = FUNCTIONS.get(tx.records, scope, ref.name)
                if found is None:
                    raise function_not_found(context, ref.name, LATEST)
                claims = _claims(tx.records, scope)
                others = sum(claim for name, claim in claims.items() if name != ref.name)
                if self._limit - others - reserved < MINIMUM_UNRESERVED:
                    raise InvalidParameterValueException(
                        "Specified ReservedConcurrentExecutions for function decreases account's "
                        "UnreservedConcurrentExecution below its minimum value of "
                        f"[{MINIMUM_UNRESERVED}]."
                    )
                provisioned = _provisioned_total(tx.records, scope, ref.name)
                if provisioned > reserved:
                    raise InvalidParameterValueException(
                        f" ReservedConcurrentExecutions  {reserved} should not be lower than "
                        f"function's total provisioned concurrency [{provisioned}]."
                    )
                record = dataclasses.replace(found.value, reserved_concurrency=reserved)
                FUNCTIONS.put(tx.records, scope, ref.name, record)

        await asyncio.to_thread(put)
        return {"ReservedConcurrentExecutions": reserved}

    async def get_function_concurrency(self, context: RequestContext, params: Params) -> Result:
        name = requested(params).name
        record = await asyncio.to_thread(self._function, context, name)
        if record.reserved_concurrency is None:
            return {}
        return {"ReservedConcurrentExecutions": record.reserved_concurrency}

    async def delete_function_concurrency(self, context: RequestContext, params: Params) -> Result:
        name = requested(params).name

        def delete() -> None:
            scope = scope_for(context)
            with self._database.transaction() as tx:
                found = FUNCTIONS.get(tx.records, scope, name)
                if found is None:
                    raise function_not_found(context, name)
                record = dataclasses.replace(found.value, reserved_concurrency=None)
                FUNCTIONS.put(tx.records, scope, name, record)

        await asyncio.to_thread(delete)
        return {}

    def _function(self, context: RequestContext, name: str) -> FunctionRecord:
        with self._database.snapshot() as tx:
            found = FUNCTIONS.get(tx.records, scope_for(context), name)
        if found is None:
            raise function_not_found(context, name)
        return found.value

    # -- provisioned concurrency ---------------------------------------------------------

    async def put_provisioned_concurrency_config(
        self, context: RequestContext, params: Params
    ) -> Result:
        wanted: int = params["ProvisionedConcurrentExecutions"]
        check_minimum(wanted, "provisionedConcurrentExecutions", 1)
        name, qualifier = _provisioned_target(params)
        if qualifier == LATEST:
            raise InvalidParameterValueException(
                "Provisioned Concurrency Configs cannot be applied to unpublished function "
                "versions."
            )

        def put() -> ProvisionedConfig:
            scope = scope_for(context)
            with self._database.transaction() as tx:
                records = tx.records
                record = FUNCTIONS.get(records, scope, name)
                target = resolve(records, scope, context, name, record, qualifier)
                self._check_provisioned_limits(records, scope, target, wanted)
                _check_provisioned_conflicts(records, scope, target)
                config = ProvisionedConfig(name, qualifier, wanted, self._now())
                PROVISIONED.put(records, scope, attachment_key(name, qualifier), config)
                entry = ProvisionedFunction(context.account_id, context.region, name)
                PROVISIONED_FUNCTIONS.put(records, PROVISIONED_INDEX_SCOPE, entry.key, entry)
                return config

        config = await asyncio.to_thread(put)
        await self.function_changed(context, name)
        return config.state()

    def _check_provisioned_limits(
        self, records: RecordStore, scope: str, target: Target, wanted: int
    ) -> None:
        name = target.name
        key = attachment_key(name, target.qualifier)
        others_here = sum(
            item.value.requested
            for item in PROVISIONED.list(records, scope, prefix=f"{name}:")
            if item.name != key
        )
        reserved = target.record.value.reserved_concurrency
        if reserved is not None:
            if others_here + wanted > reserved:
                raise InvalidParameterValueException(
                    "Requested Provisioned Concurrency should not be greater than the "
                    "reservedConcurrentExecution for function"
                )
            return
        claims = _claims(records, scope)
        unreserved = self._limit - sum(c for fn, c in claims.items() if fn != name) - others_here
        if wanted > unreserved:
            raise InvalidParameterValueException(
                "Specified ConcurrentExecutions for function is greater than account's "
                f"unreserved concurrency [{unreserved}]."
            )
        if unreserved - wanted < MINIMUM_UNRESERVED:
            raise InvalidParameterValueException(
                "Specified ConcurrentExecutions for function decreases account's "
                f"UnreservedConcurrentExecution below its minimum value of [{MINIMUM_UNRESERVED}]."
            )

    async def get_provisioned_concurrency_config(
        self, context: RequestContext, params: Params
    ) -> Result:
        name, qualifier = _provisioned_target(params)
        _reject_latest(qualifier)

        def get() -> ProvisionedConfig | None:
            scope = scope_for(context)
            with self._database.snapshot() as tx:
                record = FUNCTIONS.get(tx.records, scope, name)
                resolve(tx.records, scope, context, name, record, qualifier)
                found = PROVISIONED.get(tx.records, scope, attachment_key(name, qualifier))
            return None if found is None else found.value

        config = await asyncio.to_thread(get)
        if config is None:
            raise ProvisionedConcurrencyConfigNotFoundException(
                "No Provisioned Concurrency Config found for this function"
            )
        return config.state()

    async def delete_provisioned_concurrency_config(
        self, context: RequestContext, params: Params
    ) -> Result:
        name, qualifier = _provisioned_target(params)
        _reject_latest(qualifier)

        def delete() -> None:
            scope = scope_for(context)
            with self._database.transaction() as tx:
                record = FUNCTIONS.get(tx.records, scope, name)
                resolve(tx.records, scope, context, name, record, qualifier)
                # Deleting a config that does not exist succeeds, as it does on Lambda.
                PROVISIONED.delete(tx.records, scope, attachment_key(name, qualifier))

        await asyncio.to_thread(delete)
        await self.function_changed(context, name)
        return {}

    async def list_provisioned_concurrency_configs(
        self, context: RequestContext, params: Params
    ) -> Result:
        name = requested(params).name
        limit = params.get("MaxItems") or MAX_PROVISIONED_PAGE
        check_range(limit, "maxItems", 1, MAX_PROVISIONED_PAGE)

        def configs() -> list[ProvisionedConfig]:
            scope = scope_for(context)
            with self._database.snapshot() as tx:
                if FUNCTIONS.get(tx.records, scope, name) is None:
                    raise function_not_found(context, name)
                return [
                    item.value for item in PROVISIONED.list(tx.records, scope, prefix=f"{name}:")
                ]

        chosen, marker = page(
            await asyncio.to_thread(configs), lambda c: c.qualifier, params.get("Marker"), limit
        )
        items = [
            {
                "FunctionArn": function_arn(
                    context.region, context.account_id, config.function_name, config.qualifier
                ),
                **config.state(),
            }
            for config in chosen
        ]
        result: Result = {"ProvisionedConcurrencyConfigs": items}
        if marker:
            result["NextMarker"] = marker
        return result

    def _now(self) -> str:
        moment = datetime.datetime.fromtimestamp(self._clock.now(), datetime.UTC)
        return moment.strftime("%Y-%m-%dT%H:%M:%S+0000")

    # -- the account ---------------------------------------------------------------------

    async def get_account_settings(self, context: RequestContext, params: Params) -> Result:
        def read() -> tuple[list[FunctionRecord], list[FunctionVersion], dict[str, int]]:
            scope = scope_for(context)
            with self._database.snapshot() as tx:
                functions = [item.value for item in FUNCTIONS.list(tx.records, scope)]
                versions = [item.value for item in VERSIONS.list(tx.records, scope)]
                return functions, versions, _claims(tx.records, scope)

        functions, versions, claims = await asyncio.to_thread(read)
        code_size = sum(f.latest.code.size for f in functions) + sum(v.code.size for v in versions)
        return {
            "AccountLimit": {
                "TotalCodeSize": TOTAL_CODE_SIZE,
                "CodeSizeUnzipped": CODE_SIZE_UNZIPPED,
                "CodeSizeZipped": CODE_SIZE_ZIPPED,
                "ConcurrentExecutions": self._limit,
                "UnreservedConcurrentExecutions": max(0, self._limit - sum(claims.values())),
            },
            "AccountUsage": {"TotalCodeSize": code_size, "FunctionCount": len(functions)},
        }

    # -- applying provisioned concurrency ------------------------------------------------

    async def function_changed(self, context: RequestContext, function_name: str) -> None:
        """Re-apply the function's provisioned concurrency in the background (after a Put or
        Delete, an alias moving or going, or the function or one of its versions going)."""
        task = asyncio.get_running_loop().create_task(self._realign(context, function_name))
        self._pending.add(task)
        task.add_done_callback(self._pending.discard)

    async def restore(self) -> None:
        """Apply every stored config again (at start-up: the environments of the last run are
        gone), in the background; each config is IN_PROGRESS until they are up."""
        for entry in await asyncio.to_thread(self._restorable):
            await self.function_changed(_restoring(entry), entry.function_name)

    def _restorable(self) -> list[ProvisionedFunction]:
        restorable = []
        with self._database.transaction() as tx:
            records = tx.records
            for item in PROVISIONED_FUNCTIONS.list(records, PROVISIONED_INDEX_SCOPE):
                entry = item.value
                scope = scope_of(entry.account_id, entry.region)
                configs = PROVISIONED.list(records, scope, prefix=f"{entry.function_name}:")
                if not configs:
                    PROVISIONED_FUNCTIONS.delete(records, PROVISIONED_INDEX_SCOPE, item.name)
                    continue
                for config in configs:
                    pending = dataclasses.replace(
                        config.value,
                        status=IN_PROGRESS,
                        status_reason=None,
                        allocated=0,
                        available=0,
                    )
                    PROVISIONED.put(records, scope, config.name, pending)
                restorable.append(entry)
        return restorable

    async def settle(self) -> None:
        """Wait until every re-application under way has finished (tests, shutdown)."""
        while self._pending:
            await asyncio.gather(*list(self._pending), return_exceptions=True)

    async def _realign(self, context: RequestContext, function_name: str) -> None:
        key = (scope_for(context), function_name)
        lock = self._locks.setdefault(key, asyncio.Lock())
        async with lock:
            try:
                await self._realign_locked(context, key)
            except Exception:
                logger.exception("provisioned concurrency of %s could not be applied", key)

    async def _realign_locked(self, context: RequestContext, key: tuple[str, str]) -> None:
        scope, function_name = key
        plan = await asyncio.to_thread(self._plan, scope, function_name)
        applied = self._applied.setdefault(key, {})
        for version in sorted(set(applied) | set(plan.configs)):
            configs = plan.configs.get(version, [])
            count = sum(config.requested for config in configs)
            previous = applied.get(version)
            if plan.record is not None and version in plan.versions:
                target = _Applied(context, plan.versions[version], plan.record, count)
            elif previous is not None:
                target = dataclasses.replace(previous, count=count)
            else:
                continue
            ready = await self._ask_runtime(target)
            if count:
                applied[version] = target
            else:
                applied.pop(version, None)
            if configs:
                await asyncio.to_thread(self._record_outcome, scope, configs, ready >= count)
        if not applied:
            self._applied.pop(key, None)

    async def _ask_runtime(self, target: _Applied) -> int:
        try:
            return await self._apply(target.context, target.version, target.record, target.count)
        except Exception:
            logger.exception(
                "the runtime could not provision %s:%s", target.version.name, target.version.version
            )
            return 0

    def _plan(self, scope: str, function_name: str) -> _Plan:
        with self._database.snapshot() as tx:
            records = tx.records
            found = FUNCTIONS.get(records, scope, function_name)
            plan = _Plan(None if found is None else found.value)
            if found is None:
                return plan
            for item in PROVISIONED.list(records, scope, prefix=f"{function_name}:"):
                config = item.value
                version = _version_of(records, scope, config)
                stored = None
                if version is not None:
                    stored = VERSIONS.get(records, scope, version_key(function_name, version))
                if version is None or stored is None:
                    continue
                plan.configs.setdefault(version, []).append(config)
                plan.versions[version] = stored.value
            return plan

    def _record_outcome(self, scope: str, configs: list[ProvisionedConfig], ready: bool) -> None:
        with self._database.transaction() as tx:
            for seen in configs:
                key = attachment_key(seen.function_name, seen.qualifier)
                found = PROVISIONED.get(tx.records, scope, key)
                if found is None or found.value != seen:
                    continue  # changed since: the change's own re-application will report
                outcome = dataclasses.replace(
                    seen,
                    status=READY if ready else FAILED,
                    status_reason=None if ready else INIT_FAILURE,
                    allocated=seen.requested if ready else 0,
                    available=seen.requested if ready else 0,
                )
                PROVISIONED.put(tx.records, scope, key, outcome)


def _restoring(entry: ProvisionedFunction) -> RequestContext:
    return RequestContext(
        request_id=str(uuid.uuid4()),
        service="lambda",
        operation="PutProvisionedConcurrencyConfig",
        region=entry.region,
        account_id=entry.account_id,
        caller=None,
    )


def _provisioned_target(params: Params) -> tuple[str, str]:
    ref = requested(params)
    qualifier = ref.qualifier or ""
    check_length(qualifier, "qualifier", 1, 128)
    check_pattern(qualifier, "qualifier", _QUALIFIER)
    return ref.name, qualifier


def _reject_latest(qualifier: str) -> None:
    if qualifier == LATEST:
        raise InvalidParameterValueException(
            "The function resource provided must be an alias or a published version."
        )


def _version_of(records: RecordStore, scope: str, config: ProvisionedConfig) -> str | None:
    """The published version a config provisions: its own, or its alias's primary."""
    if is_version(config.qualifier):
        return config.qualifier
    alias = ALIASES.get(records, scope, attachment_key(config.function_name, config.qualifier))
    if alias is None or alias.value.function_version == LATEST:
        return None
    return alias.value.function_version


def _check_provisioned_conflicts(records: RecordStore, scope: str, target: Target) -> None:
    name = target.name
    subject = target.subject
    if isinstance(subject, Alias):
        if subject.function_version == LATEST:
            raise InvalidParameterValueException(
                "Provisioned Concurrency Configs cannot be applied to unpublished function "
                "versions."
            )
        if PROVISIONED.get(records, scope, attachment_key(name, subject.function_version)):
            raise ResourceConflictException(
                "Alias can't be used for Provisioned Concurrency configuration on an already "
                "Provisioned version"
            )
        return
    for alias in ALIASES.list(records, scope, prefix=f"{name}:"):
        if alias.value.function_version != target.qualifier:
            continue
        if PROVISIONED.get(records, scope, attachment_key(name, alias.value.name)) is not None:
            raise ResourceConflictException("Version is pointed by a Provisioned Concurrency alias")


def _provisioned_total(records: RecordStore, scope: str, function_name: str) -> int:
    return sum(
        item.value.requested
        for item in PROVISIONED.list(records, scope, prefix=f"{function_name}:")
    )


def _claims(records: RecordStore, scope: str) -> dict[str, int]:
    """How much of the account's concurrency each function takes out of the unreserved pool:
    its reserved concurrency, or else the provisioned concurrency of its versions and aliases."""
    provisioned: dict[str, int] = {}
    for item in PROVISIONED.list(records, scope):
        name = item.value.function_name
        provisioned[name] = provisioned.get(name, 0) + item.value.requested
    claims: dict[str, int] = {}
    for function in FUNCTIONS.list(records, scope):
        reserved = function.value.reserved_concurrency
        claims[function.name] = (
            reserved if reserved is not None else provisioned.get(function.name, 0)
        )
    return claims
