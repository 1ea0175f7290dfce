"""Layers: versioned zip archives unpacked beside a function's code (`/opt` semantics).

scope "<account>:<region>", kind lambda.layer, name "<layer>"          -> counter
                            kind lambda.layer-version, "<layer>:<n>"   -> LayerVersion
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from portico.aws.handler import Operation, RequestContext
from portico.services.lambda_.code import CodeStore
from portico.services.lambda_.errors import (
    InvalidParameterValueException,
    ResourceNotFoundException,
)
from portico.services.lambda_.models import Code
from portico.services.lambda_.repository import scope_of
from portico.store import Database, RecordKind

_LAYER_ARN = re.compile(
    r"^arn:aws[a-zA-Z-]*:lambda:(?P<region>[a-z]{2}(?:-gov)?-[a-z]+-\d):(?P<account>\d{12}):"
    r"layer:(?P<name>[a-zA-Z0-9_-]+)(?::(?P<version>\d+))?$"
)
_NAME = re.compile(r"^[a-zA-Z0-9_-]{1,140}$")


@dataclass
class LayerVersion:
    name: str
    number: int
    code: Code
    description: str = ""
    compatible_runtimes: list[str] = field(default_factory=list)
    compatible_architectures: list[str] = field(default_factory=list)
    license_info: str | None = None
    created: str = ""

    def arn(self, region: str, account: str) -> str:
        return f"arn:aws:lambda:{region}:{account}:layer:{self.name}:{self.number}"

    def describe(self, region: str, account: str) -> dict[str, Any]:
        document: dict[str, Any] = {
            "LayerArn": f"arn:aws:lambda:{region}:{account}:layer:{self.name}",
            "LayerVersionArn": self.arn(region, account),
            "Description": self.description,
            "CreatedDate": self.created,
            "Version": self.number,
            "CompatibleRuntimes": list(self.compatible_runtimes),
            "CompatibleArchitectures": list(self.compatible_architectures),
        }
        if self.license_info:
            document["LicenseInfo"] = self.license_info
        return document


def _decode(value: Mapping[str, Any]) -> LayerVersion:
    values = dict(value)
    values["code"] = Code(**values["code"])
    return LayerVersion(**values)


VERSIONS = RecordKind("lambda.layer-version", dataclasses.asdict, _decode)
COUNTERS = RecordKind("lambda.layer", dict, dict)


def _key(name: str, number: int) -> str:
    return f"{name}:{number:08d}"


def parse_layer_arn(arn: str) -> tuple[str, str, str, int | None]:
    """(region, account, name, version) of a layer (version) ARN."""
    found = _LAYER_ARN.match(arn)
    if found is None:
        raise InvalidParameterValueException(f"Layer version arn {arn} is not valid.")
    version = found.group("version")
    return (
        found.group("region"),
        found.group("account"),
        found.group("name"),
        int(version) if version else None,
    )


class Layers:
    def __init__(self, database: Database, code: CodeStore) -> None:
        self._database = database
        self._code = code

    def publish(self, scope: str, layer: LayerVersion) -> LayerVersion:
        with self._database.transaction() as tx:
            counter = COUNTERS.get(tx.records, scope, layer.name)
            number = int(counter.value["last"]) + 1 if counter else 1
            COUNTERS.put(tx.records, scope, layer.name, {"last": number})
            published = dataclasses.replace(layer, number=number)
            VERSIONS.create(tx.records, scope, _key(layer.name, number), published)
            return published

    def get(self, scope: str, name: str, number: int) -> LayerVersion | None:
        with self._database.snapshot() as tx:
            found = VERSIONS.get(tx.records, scope, _key(name, number))
        return None if found is None else found.value

    def versions(self, scope: str, name: str | None = None) -> list[LayerVersion]:
        with self._database.snapshot() as tx:
            prefix = f"{name}:" if name else ""
            return [v.value for v in VERSIONS.list(tx.records, scope, prefix=prefix)]

    def delete(self, scope: str, name: str, number: int) -> None:
        with self._database.transaction() as tx:
            VERSIONS.delete(tx.records, scope, _key(name, number))

    def resolve(self, region: str, account: str, arns: list[str]) -> list[tuple[str, Code]]:
        """The layer versions a function names, in order, for its configuration."""
        resolved = []
        for arn in arns:
            layer_region, layer_account, name, number = parse_layer_arn(arn)
            if number is None:
                raise InvalidParameterValueException(f"Layer version arn {arn} is not valid.")
            found = self.get(scope_of(layer_account, layer_region), name, number)
            if found is None:
                raise InvalidParameterValueException(f"Layer version {arn} does not exist.")
            resolved.append((arn, found.code))
        return resolved


class LayerOperations:
    def __init__(self, layers: Layers, code: CodeStore, locate: Callable[[Code], str]) -> None:
        self._layers = layers
        self._code = code
        self._locate = locate  # a download link for a layer's zip (Content.Location)

    def operations(self) -> dict[str, Operation]:
        return {
            "PublishLayerVersion": self.publish_layer_version,
            "GetLayerVersion": self.get_layer_version,
            "GetLayerVersionByArn": self.get_layer_version_by_arn,
            "ListLayerVersions": self.list_layer_versions,
            "ListLayers": self.list_layers,
            "DeleteLayerVersion": self.delete_layer_version,
        }

    async def publish_layer_version(
        self, context: RequestContext, params: dict[str, Any]
    ) -> dict[str, Any]:
        name = params["LayerName"]
        if not _NAME.match(name):
            raise InvalidParameterValueException(f"Layer name {name} is not valid.")
        code = await asyncio.to_thread(self._code.ingest, params["Content"])
        now = datetime.datetime.now(datetime.UTC)
        layer = LayerVersion(
            name=name,
            number=0,
            code=code,
            description=params.get("Description", ""),
            compatible_runtimes=list(params.get("CompatibleRuntimes") or []),
            compatible_architectures=list(params.get("CompatibleArchitectures") or []),
            license_info=params.get("LicenseInfo"),
            created=now.strftime("%Y-%m-%dT%H:%M:%S.") + f"{now.microsecond // 1000:03d}+0000",
        )
        scope = scope_of(context.account_id, context.region)
        published = await asyncio.to_thread(self._layers.publish, scope, layer)
        return self._full(published, context.region, context.account_id)

    def _full(self, layer: LayerVersion, region: str, account: str) -> dict[str, Any]:
        return {
            **layer.describe(region, account),
            "Content": {
                "Location": self._locate(layer.code),
                "CodeSha256": layer.code.sha256,
                "CodeSize": layer.code.size,
            },
        }

    async def _find(
        self, context: RequestContext, region: str, account: str, name: str, number: int
    ) -> LayerVersion:
        found = await asyncio.to_thread(self._layers.get, scope_of(account, region), name, number)
        if found is None:
            raise ResourceNotFoundException("The resource you requested does not exist.")
        return found

    async def get_layer_version(
        self, context: RequestContext, params: dict[str, Any]
    ) -> dict[str, Any]:
        name = params["LayerName"]
        region, account = context.region, context.account_id
        if name.startswith("arn:"):
            region, account, name, _ = parse_layer_arn(name)
        found = await self._find(context, region, account, name, int(params["VersionNumber"]))
        return self._full(found, region, account)

    async def get_layer_version_by_arn(
        self, context: RequestContext, params: dict[str, Any]
    ) -> dict[str, Any]:
        region, account, name, number = parse_layer_arn(params["Arn"])
        if number is None:
            raise InvalidParameterValueException(f"Layer version arn {params['Arn']} is not valid.")
        found = await self._find(context, region, account, name, number)
        return self._full(found, region, account)

    async def list_layer_versions(
        self, context: RequestContext, params: dict[str, Any]
    ) -> dict[str, Any]:
        scope = scope_of(context.account_id, context.region)
        versions = await asyncio.to_thread(self._layers.versions, scope, params["LayerName"])
        runtime = params.get("CompatibleRuntime")
        chosen = [v for v in versions if runtime is None or runtime in v.compatible_runtimes]
        newest_first = sorted(chosen, key=lambda v: v.number, reverse=True)
        return {
            "LayerVersions": [v.describe(context.region, context.account_id) for v in newest_first]
        }

    async def list_layers(self, context: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        scope = scope_of(context.account_id, context.region)
        versions = await asyncio.to_thread(self._layers.versions, scope)
        runtime = params.get("CompatibleRuntime")
        latest: dict[str, LayerVersion] = {}
        for version in versions:
            if runtime is not None and runtime not in version.compatible_runtimes:
                continue
            if version.name not in latest or version.number > latest[version.name].number:
                latest[version.name] = version
        layers = []
        for name in sorted(latest):
            description = latest[name].describe(context.region, context.account_id)
            layers.append(
                {
                    "LayerName": name,
                    "LayerArn": description.pop("LayerArn"),
                    "LatestMatchingVersion": description,
                }
            )
        return {"Layers": layers}

    async def delete_layer_version(
        self, context: RequestContext, params: dict[str, Any]
    ) -> dict[str, Any]:
        scope = scope_of(context.account_id, context.region)
        await asyncio.to_thread(
            self._layers.delete, scope, params["LayerName"], int(params["VersionNumber"])
        )
        return {}
