"""Aliases (Create/Get/Update/Delete/ListAliases) and the weighted routing that an invocation
of an alias follows (`choose_version`).

    live ──► version 3 (primary, weight 1 - 0.1)
         └─► version 4 (RoutingConfig.AdditionalVersionWeights {"4": 0.1})
"""

from __future__ import annotations

import asyncio
import random
import re
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from portico.aws.handler import Operation, RequestContext
from portico.services.lambda_.attachments import (
    ALIASES,
    Alias,
    attachment_key,
    delete_alias_attachments,
    new_revision,
)
from portico.services.lambda_.constraints import (
    ALIAS_PATTERN,
    check_length,
    check_pattern,
    check_range,
    java_number,
    violation,
)
from portico.services.lambda_.errors import (
    InvalidParameterValueException,
    PreconditionFailedException,
    ResourceConflictException,
    ResourceNotFoundException,
)
from portico.services.lambda_.models import LATEST
from portico.services.lambda_.names import function_arn
from portico.services.lambda_.paging import page
from portico.services.lambda_.references import (
    alias_not_found,
    function_not_found,
    requested,
    scope_for,
    version_exists,
)
from portico.services.lambda_.repository import FUNCTIONS
from portico.store import Database, RecordStore

Params = dict[str, Any]
Result = dict[str, Any]
AliasChanged = Callable[[RequestContext, str], Awaitable[None]]
"""Told (with the function's name) after an alias moved or went away."""

DEFAULT_PAGE = 50
MAX_PAGE = 10_000
_FUNCTION_VERSION = r"(\$LATEST(\.PUBLISHED)?|[0-9]+)"
_WEIGHTS_FIELD = "routingConfig.additionalVersionWeights"
_WEIGHT_KEYS = (
    "Map keys must satisfy constraint: [Member must have length less than or equal to 1024, "
    "Member must have length greater than or equal to 1, Member must satisfy regular "
    "expression pattern: [0-9]+]"
)
_WEIGHT_VALUES = (
    "Map value must satisfy constraint: [Member must have value less than or equal to 1.0, "
    "Member must have value greater than or equal to 0.0, Member must not be null]"
)
STALE_REVISION = (
    "The Revision Id provided does not match the latest Revision Id. Call the "
    "GetFunction/GetAlias API to retrieve the latest Revision Id"
)


def choose_version(alias: Alias, random: float) -> str:
    """The version one invocation of `alias` runs, for `random` drawn uniformly from [0, 1).

    The additional versions take their weights' share from the bottom of the interval (in
    version order); the primary version takes what is left.
    """
    threshold = 0.0
    for version, weight in sorted(alias.routing.items(), key=lambda item: int(item[0])):
        threshold += weight
        if random < threshold:
            return version
    return alias.function_version


class Aliases:
    """Lambda's alias operations over the alias records (see attachments.py).

    `draw` gives the uniform [0, 1) numbers that weighted routing uses (routing needs no
    cryptographic randomness; tests pass a fixed sequence).
    """

    def __init__(
        self,
        database: Database,
        on_change: AliasChanged | None = None,
        draw: Callable[[], float] = random.random,
    ) -> None:
        self._database = database
        self._on_change = on_change
        self._draw = draw

    def operations(self) -> dict[str, Operation]:
        return {
            "CreateAlias": self.create_alias,
            "GetAlias": self.get_alias,
            "UpdateAlias": self.update_alias,
            "DeleteAlias": self.delete_alias,
            "ListAliases": self.list_aliases,
        }

    async def find(self, context: RequestContext, function_name: str, name: str) -> Alias | None:
        """The alias an Invoke or GetFunction qualifier names, if there is one."""
        return await asyncio.to_thread(self._find, scope_for(context), function_name, name)

    def route(self, alias: Alias) -> str:
        """The version this invocation of `alias` runs (see `choose_version`)."""
        return choose_version(alias, self._draw())

    def _find(self, scope: str, function_name: str, name: str) -> Alias | None:
        with self._database.snapshot() as tx:
            found = ALIASES.get(tx.records, scope, attachment_key(function_name, name))
        return None if found is None else found.value

    # -- operations ----------------------------------------------------------------------

    async def create_alias(self, context: RequestContext, params: Params) -> Result:
        function_name = requested(params).name
        name, version = params["Name"], params["FunctionVersion"]
        _check_name(name)
        _check_function_version(version)
        description = params.get("Description") or ""
        check_length(description, "description", 0, 256)
        weights = _weights(params.get("RoutingConfig"))

        def create() -> Alias:
            scope = scope_for(context)
            with self._database.transaction() as tx:
                records = tx.records
                if FUNCTIONS.get(records, scope, function_name) is None or not version_exists(
                    records, scope, function_name, version
                ):
                    raise function_not_found(context, function_name, version)
                key = attachment_key(function_name, name)
                if ALIASES.get(records, scope, key) is not None:
                    arn = function_arn(context.region, context.account_id, function_name, name)
                    raise ResourceConflictException(f"Alias already exists: {arn}")
                _check_routing(records, scope, context, function_name, version, weights)
                alias = Alias(function_name, name, version, description, weights)
                ALIASES.create(records, scope, key, alias)
                return alias

        alias = await asyncio.to_thread(create)
        return alias.configuration(context.region, context.account_id)

    async def get_alias(self, context: RequestContext, params: Params) -> Result:
        function_name, name = requested(params).name, params["Name"]
        _check_name(name)

        def get() -> Alias:
            scope = scope_for(context)
            with self._database.snapshot() as tx:
                if FUNCTIONS.get(tx.records, scope, function_name) is None:
                    raise function_not_found(context, function_name)
                found = ALIASES.get(tx.records, scope, attachment_key(function_name, name))
            if found is None:
                raise alias_not_found(context, function_name, name)
            return found.value

        alias = await asyncio.to_thread(get)
        return alias.configuration(context.region, context.account_id)

    async def update_alias(self, context: RequestContext, params: Params) -> Result:
        function_name, name = requested(params).name, params["Name"]
        _check_name(name)
        if "FunctionVersion" in params:
            _check_function_version(params["FunctionVersion"])
        if "Description" in params:
            check_length(params["Description"], "description", 0, 256)
        new_weights = _weights(params["RoutingConfig"]) if "RoutingConfig" in params else None
        expected = params.get("RevisionId")

        def update() -> Alias:
            scope = scope_for(context)
            with self._database.transaction() as tx:
                records = tx.records
                if FUNCTIONS.get(records, scope, function_name) is None:
                    raise function_not_found(context, function_name)
                key = attachment_key(function_name, name)
                found = ALIASES.get(records, scope, key)
                if found is None:
                    arn = function_arn(context.region, context.account_id, function_name, name)
                    raise ResourceNotFoundException(f"Alias not found: {arn}")
                current = found.value
                if expected and expected != current.revision_id:
                    raise PreconditionFailedException(STALE_REVISION)
                version = params.get("FunctionVersion", current.function_version)
                if not version_exists(records, scope, function_name, version):
                    raise function_not_found(context, function_name, version)
                weights = current.routing if new_weights is None else new_weights
                _check_routing(records, scope, context, function_name, version, weights)
                alias = Alias(
                    function_name,
                    name,
                    version,
                    params.get("Description", current.description),
                    weights,
                    new_revision(),
                )
                ALIASES.put(records, scope, key, alias)
                return alias

        alias = await asyncio.to_thread(update)
        await self._changed(context, function_name)
        return alias.configuration(context.region, context.account_id)

    async def delete_alias(self, context: RequestContext, params: Params) -> Result:
        function_name, name = requested(params).name, params["Name"]
        _check_name(name)

        def delete() -> None:
            scope = scope_for(context)
            with self._database.transaction() as tx:
                if FUNCTIONS.get(tx.records, scope, function_name) is None:
                    raise function_not_found(context, function_name)
                # Deleting an alias that does not exist succeeds, as it does on Lambda.
                ALIASES.delete(tx.records, scope, attachment_key(function_name, name))
                delete_alias_attachments(tx.records, scope, function_name, name)

        await asyncio.to_thread(delete)
        await self._changed(context, function_name)
        return {}

    async def list_aliases(self, context: RequestContext, params: Params) -> Result:
        function_name = requested(params).name
        limit = params.get("MaxItems") or DEFAULT_PAGE
        check_range(limit, "maxItems", 1, MAX_PAGE)
        wanted = params.get("FunctionVersion")
        if wanted is not None:
            _check_function_version(wanted)

        def aliases() -> list[Alias]:
            scope = scope_for(context)
            with self._database.snapshot() as tx:
                if FUNCTIONS.get(tx.records, scope, function_name) is None:
                    raise function_not_found(context, function_name)
                found = ALIASES.list(tx.records, scope, prefix=f"{function_name}:")
            return [
                item.value
                for item in found
                if wanted is None or item.value.function_version == wanted
            ]

        chosen, marker = page(
            await asyncio.to_thread(aliases), lambda alias: alias.name, params.get("Marker"), limit
        )
        result: Result = {
            "Aliases": [alias.configuration(context.region, context.account_id) for alias in chosen]
        }
        if marker:
            result["NextMarker"] = marker
        return result

    async def _changed(self, context: RequestContext, function_name: str) -> None:
        if self._on_change is not None:
            await self._on_change(context, function_name)


def _check_name(name: str) -> None:
    check_length(name, "name", 1, 128)
    check_pattern(name, "name", ALIAS_PATTERN)


def _check_function_version(version: str) -> None:
    check_length(version, "functionVersion", 1, 1024)
    check_pattern(version, "functionVersion", _FUNCTION_VERSION)


def _weights(routing_config: Mapping[str, Any] | None) -> dict[str, float]:
    """AdditionalVersionWeights, checked against the API model (keys, then weights)."""
    weights: dict[str, Any] = dict((routing_config or {}).get("AdditionalVersionWeights") or {})
    shown = "{" + ", ".join(f"{key}={_shown(value)}" for key, value in weights.items()) + "}"
    if any(re.fullmatch(r"[0-9]{1,1024}", key) is None for key in weights):
        raise violation(shown, _WEIGHTS_FIELD, _WEIGHT_KEYS)
    if not all(_is_weight(value) for value in weights.values()):
        raise violation(shown, _WEIGHTS_FIELD, _WEIGHT_VALUES)
    return {key: float(value) for key, value in weights.items()}


def _is_weight(value: Any) -> bool:
    return isinstance(value, int | float) and 0.0 <= value <= 1.0


def _shown(value: Any) -> str:
    return java_number(value) if isinstance(value, int | float) else "null"


def _check_routing(
    records: RecordStore,
    scope: str,
    context: RequestContext,
    function_name: str,
    primary: str,
    weights: Mapping[str, float],
) -> None:
    """What Lambda checks of a routing configuration beyond the model's constraints."""
    if len(weights) > 1:
        raise InvalidParameterValueException(
            "Number of items in AdditionalVersionWeights cannot be greater than 1"
        )
    for version in weights:
        if version == primary:
            raise InvalidParameterValueException(
                f"Invalid function version {primary}. Function version {primary} is already "
                "included in routing configuration."
            )
        if primary == LATEST:
            raise InvalidParameterValueException(
                "$LATEST is not supported for an alias pointing to more than 1 version"
            )
        if not version_exists(records, scope, function_name, version):
            raise function_not_found(context, function_name, version)
