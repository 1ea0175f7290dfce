"""What hangs off a function besides its versions: aliases, resource-based policies and
provisioned-concurrency configurations, each a record beside the function's own.

scope  = "<account>:<region>"  (as repository.py)
lambda.alias                    / <fn>:<alias>       -> Alias
lambda.policy                   / <fn>:<qualifier>   -> Policy             ($LATEST: unqualified)
lambda.provisioned-concurrency  / <fn>:<qualifier>   -> ProvisionedConfig  (a version or an alias)

They go with what they hang off, inside the caller's transaction: `delete_attachments` with the
function, `delete_version_attachments` with one published version, `delete_alias_attachments`
with an alias.

One index spans accounts and regions, so that provisioned concurrency is found again at
start-up (concurrency.py adds entries, and drops those whose function has no config left):

scope  = "lambda"
lambda.provisioned-function     / <account>:<region>:<fn>  -> ProvisionedFunction
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from portico.services.lambda_.names import function_arn
from portico.store import RecordKind, RecordStore


def new_revision() -> str:
    return str(uuid.uuid4())


def attachment_key(function_name: str, qualifier: str) -> str:
    return f"{function_name}:{qualifier}"


@dataclass(frozen=True)
class Alias:
    """A named pointer to a version, optionally sending a share of invocations to a second one.

    `routing` maps the additional version to its weight (0.0-1.0); the primary version gets
    the rest. Lambda accepts at most one additional version.
    """

    function_name: str
    name: str
    function_version: str
    description: str = ""
    routing: Mapping[str, float] = field(default_factory=dict)
    revision_id: str = field(default_factory=new_revision)

    def configuration(self, region: str, account: str) -> dict[str, Any]:
        """The API's AliasConfiguration."""
        document: dict[str, Any] = {
            "AliasArn": function_arn(region, account, self.function_name, self.name),
            "Name": self.name,
            "FunctionVersion": self.function_version,
            "Description": self.description,
            "RevisionId": self.revision_id,
        }
        if self.routing:
            document["RoutingConfig"] = {"AdditionalVersionWeights": dict(self.routing)}
        return document

    def to_json(self) -> dict[str, Any]:
        return {
            "function_name": self.function_name,
            "name": self.name,
            "function_version": self.function_version,
            "description": self.description,
            "routing": dict(self.routing),
            "revision_id": self.revision_id,
        }

    @classmethod
    def from_json(cls, value: dict[str, Any]) -> Alias:
        return cls(
            function_name=value["function_name"],
            name=value["name"],
            function_version=value["function_version"],
            description=value.get("description", ""),
            routing={key: float(weight) for key, weight in value.get("routing", {}).items()},
            revision_id=value["revision_id"],
        )


@dataclass(frozen=True)
class Policy:
    """A resource-based policy: the statements AddPermission added, in the order it added them."""

    statements: tuple[dict[str, Any], ...] = ()

    def document(self) -> dict[str, Any]:
        return {"Version": "2012-10-17", "Id": "default", "Statement": list(self.statements)}

    def statement(self, sid: str) -> dict[str, Any] | None:
        return next((item for item in self.statements if item["Sid"] == sid), None)

    def to_json(self) -> dict[str, Any]:
        return {"statements": list(self.statements)}

    @classmethod
    def from_json(cls, value: dict[str, Any]) -> Policy:
        return cls(tuple(value.get("statements", ())))


IN_PROGRESS, READY, FAILED = "IN_PROGRESS", "READY", "FAILED"


@dataclass(frozen=True)
class ProvisionedConfig:
    """A provisioned-concurrency request for a version or an alias, and how far it got."""

    function_name: str
    qualifier: str
    requested: int
    last_modified: str
    status: str = IN_PROGRESS
    status_reason: str | None = None
    allocated: int = 0
    available: int = 0

    def state(self) -> dict[str, Any]:
        """The members of Get/PutProvisionedConcurrencyConfig's response."""
        document: dict[str, Any] = {
            "RequestedProvisionedConcurrentExecutions": self.requested,
            "AvailableProvisionedConcurrentExecutions": self.available,
            "AllocatedProvisionedConcurrentExecutions": self.allocated,
            "Status": self.status,
            "LastModified": self.last_modified,
        }
        if self.status_reason:
            document["StatusReason"] = self.status_reason
        return document

    def to_json(self) -> dict[str, Any]:
        return {
            "function_name": self.function_name,
            "qualifier": self.qualifier,
            "requested": self.requested,
            "last_modified": self.last_modified,
            "status": self.status,
            "status_reason": self.status_reason,
            "allocated": self.allocated,
            "available": self.available,
        }

    @classmethod
    def from_json(cls, value: dict[str, Any]) -> ProvisionedConfig:
        return cls(**value)


ALIASES = RecordKind("lambda.alias", Alias.to_json, Alias.from_json)
POLICIES = RecordKind("lambda.policy", Policy.to_json, Policy.from_json)
PROVISIONED = RecordKind(
    "lambda.provisioned-concurrency", ProvisionedConfig.to_json, ProvisionedConfig.from_json
)


@dataclass(frozen=True)
class ProvisionedFunction:
    """An index entry: this function (in this account and region) has been given provisioned
    concurrency, so it is to be restored at start-up."""

    account_id: str
    region: str
    function_name: str

    @property
    def key(self) -> str:
        return f"{self.account_id}:{self.region}:{self.function_name}"

    def to_json(self) -> dict[str, Any]:
        return {
            "account_id": self.account_id,
            "region": self.region,
            "function_name": self.function_name,
        }

    @classmethod
    def from_json(cls, value: dict[str, Any]) -> ProvisionedFunction:
        return cls(value["account_id"], value["region"], value["function_name"])


PROVISIONED_FUNCTIONS = RecordKind(
    "lambda.provisioned-function", ProvisionedFunction.to_json, ProvisionedFunction.from_json
)
PROVISIONED_INDEX_SCOPE = "lambda"  # not an "<account>:<region>" scope: the index spans them all


def delete_attachments(records: RecordStore, scope: str, function_name: str) -> None:
    """Everything attached to a function, for DeleteFunction (same transaction)."""
    prefix = f"{function_name}:"
    for alias in ALIASES.list(records, scope, prefix=prefix):
        ALIASES.delete(records, scope, alias.name)
    for policy in POLICIES.list(records, scope, prefix=prefix):
        POLICIES.delete(records, scope, policy.name)
    for config in PROVISIONED.list(records, scope, prefix=prefix):
        PROVISIONED.delete(records, scope, config.name)


def delete_version_attachments(
    records: RecordStore, scope: str, function_name: str, version: str
) -> None:
    """The policy and provisioned concurrency of one published version, deleted with it."""
    key = attachment_key(function_name, version)
    POLICIES.delete(records, scope, key)
    PROVISIONED.delete(records, scope, key)


def delete_alias_attachments(
    records: RecordStore, scope: str, function_name: str, alias: str
) -> None:
    key = attachment_key(function_name, alias)
    POLICIES.delete(records, scope, key)
    PROVISIONED.delete(records, scope, key)
