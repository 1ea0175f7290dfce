"""From a name, ARN or qualifier to the function version and the runtime configuration an
invocation needs, through a read cache that every write of the Lambda API clears."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from portico.aws.handler import RequestContext
from portico.runtime import FunctionConfig
from portico.services.lambda_.aliases import Aliases
from portico.services.lambda_.code import CodeStore
from portico.services.lambda_.errors import ResourceNotFoundException
from portico.services.lambda_.models import LATEST, FunctionRecord, FunctionVersion
from portico.services.lambda_.names import function_arn, parse_function
from portico.services.lambda_.repository import Functions, scope_of


class Resolver:
    """Reads of records, versions and runtime configurations, forgotten after any write
    (every write goes through the Lambda provider: one server process owns the data)."""

    def __init__(self, functions: Functions, code: CodeStore, aliases: Aliases) -> None:
        self._functions = functions
        self._code = code
        self._aliases = aliases
        self._cache: dict[tuple[Any, ...], Any] = {}
        self._generation = 0

    def forget(self) -> None:
        self._cache.clear()
        self._generation += 1

    async def cached(self, key: tuple[Any, ...], load: Any) -> Any:
        """A read through the cache. A write that lands while the read runs wins: the value
        read is then not kept."""
        if key in self._cache:
            return self._cache[key]
        generation = self._generation
        value = await asyncio.to_thread(load)
        if value is not None and generation == self._generation:
            self._cache[key] = value
        return value

    def not_found(
        self, context: RequestContext, name: str, qualifier: str | None = None
    ) -> ResourceNotFoundException:
        arn = function_arn(context.region, context.account_id, name, qualifier)
        return ResourceNotFoundException(f"Function not found: {arn}")

    async def record(self, context: RequestContext, name: str) -> FunctionRecord:
        scope = scope_of(context.account_id, context.region)
        record: FunctionRecord | None = await self.cached(
            ("record", scope, name), lambda: self._functions.get(scope, name)
        )
        if record is None:
            raise self.not_found(context, name)
        return record

    async def version(
        self,
        context: RequestContext,
        identifier: str,
        qualifier: str | None,
        *,
        route: bool = False,
    ) -> FunctionVersion:
        ref = parse_function(identifier)
        qualifier = qualifier or ref.qualifier
        record = await self.record(context, ref.name)
        if qualifier in (None, LATEST):
            return record.latest
        if not qualifier.isdigit():
            alias = await self._aliases.find(context, ref.name, qualifier)
            if alias is None:
                raise self.not_found(context, ref.name, qualifier)
            qualifier = self._aliases.route(alias) if route else alias.function_version
            if qualifier == LATEST:
                return record.latest
        scope = scope_of(context.account_id, context.region)
        number = int(qualifier)
        version: FunctionVersion | None = await self.cached(
            ("version", scope, ref.name, number),
            lambda: self._functions.version(scope, ref.name, number),
        )
        if version is None:
            raise self.not_found(context, ref.name, qualifier)
        return version

    def known(self, key: tuple[Any, ...]) -> Any:
        """What `cached` keeps for `key`, without reading: None when it keeps nothing."""
        return self._cache.get(key)

    def known_target(
        self, account_id: str, region: str, name: str, qualifier: str
    ) -> tuple[FunctionConfig, str | None] | None:
        """What `invoke_target` keeps for `name:qualifier`, without reading."""
        found: tuple[FunctionConfig, str | None] | None = self._cache.get(
            ("target", account_id, region, name, qualifier)
        )
        return found

    async def invoke_target(
        self, account_id: str, region: str, name: str, qualifier: str
    ) -> tuple[FunctionConfig, str | None]:
        """What a synchronous invocation of `name:qualifier` runs: the configuration, and the
        qualifier the invocation reports. Kept while the qualifier always names the same
        version (not for an alias that shifts traffic by weight)."""
        key = ("target", account_id, region, name, qualifier)
        found: tuple[FunctionConfig, str | None] | None = self._cache.get(key)
        if found is not None:
            return found
        generation = self._generation
        context = RequestContext("", "lambda", "Invoke", region, account_id, None)
        version = await self.version(context, name, qualifier, route=True)
        record = await self.record(context, version.name)
        config = await self.function_config(context, version, record)
        target = (config, None if qualifier == LATEST else version.version)
        if generation == self._generation and await self._fixed(context, name, qualifier):
            self._cache[key] = target
        return target

    async def _fixed(self, context: RequestContext, name: str, qualifier: str) -> bool:
        if not qualifier or qualifier == LATEST or qualifier.isdigit():
            return True
        alias = await self._aliases.find(context, parse_function(name).name, qualifier)
        return alias is not None and not alias.routing

    async def function_config(
        self, context: RequestContext, version: FunctionVersion, record: FunctionRecord
    ) -> FunctionConfig:
        key = (
            "config", context.account_id, context.region, version.name, version.version,
            version.revision_id, record.reserved_concurrency,
        )  # fmt: skip
        config = self._cache.get(key)
        if config is None:
            generation = self._generation
            config = await self._build(context, version, record)
            if generation == self._generation:
                self._cache[key] = config
        assert isinstance(config, FunctionConfig)
        return config

    async def _build(
        self, context: RequestContext, version: FunctionVersion, record: FunctionRecord
    ) -> FunctionConfig:
        folder: Path = await self._code.folder(version.code)
        layer_folders = tuple([await self._code.folder(layer.code) for layer in version.layers])
        return FunctionConfig(
            function_name=version.name,
            handler=version.handler,
            code_dir=folder,
            runtime=version.runtime,
            version=version.version,
            memory_size=version.memory_size,
            timeout=float(version.timeout),
            environment=version.environment,
            layers=layer_folders,
            region=context.region,
            account_id=context.account_id,
            log_format=version.log_format,
            application_log_level=version.application_log_level,
            system_log_level=version.system_log_level,
            log_group=version.log_group,
            reserved_concurrency=record.reserved_concurrency,
            code_sha256=version.code.sha256,
        )
