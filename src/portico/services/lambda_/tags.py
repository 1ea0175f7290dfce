"""Tags on functions: TagResource, UntagResource and ListTags, addressed by function ARN.

Tags live on the function (`FunctionRecord.tags`), not on its versions or aliases; changing
them gives `$LATEST` a new RevisionId, as it does on Lambda.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Callable
from typing import Any

from portico.aws.handler import Operation, RequestContext
from portico.services.lambda_.attachments import new_revision
from portico.services.lambda_.constraints import check_pattern, violation
from portico.services.lambda_.errors import (
    InvalidParameterValueException,
    ResourceNotFoundException,
)
from portico.services.lambda_.models import FunctionRecord
from portico.services.lambda_.names import function_arn
from portico.services.lambda_.repository import FUNCTIONS, scope_of
from portico.store import Database

Params = dict[str, Any]
Result = dict[str, Any]

MAX_TAGS = 50
TAGGABLE_RESOURCE = (
    r"arn:(aws[a-zA-Z-]*):lambda:(eusc-)?[a-z]{2}((-gov)|(-iso([a-z]?)))?-[a-z]+-\d{1}:\d{12}:"
    r"(function:[a-zA-Z0-9-_]+(:(\$LATEST|[a-zA-Z0-9-_]+))?|layer:([a-zA-Z0-9-_]+)"
    r"|code-signing-config:csc-[a-z0-9]{17}|event-source-mapping:[0-9a-fA-F]{8}-[0-9a-fA-F]{4}"
    r"-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}|capacity-provider:[a-zA-Z0-9-_]+)"
)


class Tags:
    def __init__(self, database: Database) -> None:
        self._database = database

    def operations(self) -> dict[str, Operation]:
        return {
            "TagResource": self.tag_resource,
            "UntagResource": self.untag_resource,
            "ListTags": self.list_tags,
        }

    async def tag_resource(self, context: RequestContext, params: Params) -> Result:
        scope, name = _function_of(params["Resource"])
        tags: dict[str, str] = dict(params.get("Tags") or {})
        if not tags:
            raise InvalidParameterValueException(
                "An error occurred and the request cannot be processed."
            )

        def add(record: FunctionRecord) -> FunctionRecord:
            merged = {**record.tags, **tags}
            if len(merged) > MAX_TAGS:
                raise InvalidParameterValueException("Number of tags exceeds resource tag limit.")
            return _retagged(record, merged)

        await asyncio.to_thread(self._change, scope, name, params["Resource"], add)
        return {}

    async def untag_resource(self, context: RequestContext, params: Params) -> Result:
        keys: list[str] = list(params.get("TagKeys") or [])
        if not keys:
            raise violation(None, "tagKeys", "Member must not be null")
        scope, name = _function_of(params["Resource"])

        def remove(record: FunctionRecord) -> FunctionRecord:
            kept = {key: value for key, value in record.tags.items() if key not in keys}
            return _retagged(record, kept)

        await asyncio.to_thread(self._change, scope, name, params["Resource"], remove)
        return {}

    async def list_tags(self, context: RequestContext, params: Params) -> Result:
        scope, name = _function_of(params["Resource"])

        def read() -> dict[str, str]:
            with self._database.snapshot() as tx:
                found = FUNCTIONS.get(tx.records, scope, name)
            if found is None:
                raise _not_found(params["Resource"])
            return dict(found.value.tags)

        return {"Tags": await asyncio.to_thread(read)}

    def _change(
        self,
        scope: str,
        name: str,
        resource: str,
        change: Callable[[FunctionRecord], FunctionRecord],
    ) -> None:
        with self._database.transaction() as tx:
            found = FUNCTIONS.get(tx.records, scope, name)
            if found is None:
                raise _not_found(resource)
            FUNCTIONS.put(tx.records, scope, name, change(found.value))


def _retagged(record: FunctionRecord, tags: dict[str, str]) -> FunctionRecord:
    latest = dataclasses.replace(record.latest, revision_id=new_revision())
    return dataclasses.replace(record, tags=tags, latest=latest)


def _function_of(resource: str) -> tuple[str, str]:
    """The scope and name of the function a taggable-resource ARN names."""
    check_pattern(resource, "resource", TAGGABLE_RESOURCE)
    parts = resource.split(":")
    region, account, kind = parts[3], parts[4], parts[5]
    match kind:
        case "function" if len(parts) > 7:
            raise InvalidParameterValueException(
                "Tags on function aliases and versions are not supported. Please specify a "
                "function ARN."
            )
        case "function":
            return scope_of(account, region), parts[6]
        case "event-source-mapping":
            raise ResourceNotFoundException(f"Event source mapping not found: {resource}")
        case "capacity-provider":
            raise ResourceNotFoundException(f"Capacity provider not found: {resource}")
        case _:  # layers and code-signing configs: none exist on this server
            raise ResourceNotFoundException("The resource you requested does not exist.")


def _not_found(resource: str) -> ResourceNotFoundException:
    parts = resource.split(":")
    arn = function_arn(parts[3], parts[4], parts[6])
    return ResourceNotFoundException(f"Function not found: {arn}")
