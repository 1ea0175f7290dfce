"""What an operation names, found inside a transaction: a function, then `$LATEST`, one of its
published versions or one of its aliases, with Lambda's wording when one is missing.

    ref = requested(params)                         # FunctionName (+ Qualifier), checked
    record = FUNCTIONS.get(records, scope, ref.name)
    target = resolve(records, scope, context, ref.name, record, ref.qualifier or LATEST)
    bump_revision(records, scope, target)           # a policy change is a new RevisionId
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass
from typing import Any

from portico.aws.handler import RequestContext
from portico.services.lambda_.attachments import ALIASES, Alias, attachment_key, new_revision
from portico.services.lambda_.constraints import ALIAS_PATTERN, is_version
from portico.services.lambda_.errors import (
    InvalidParameterValueException,
    ResourceNotFoundException,
)
from portico.services.lambda_.models import LATEST, FunctionRecord, FunctionVersion
from portico.services.lambda_.names import FunctionRef, function_arn, parse_function
from portico.services.lambda_.repository import FUNCTIONS, VERSIONS, scope_of
from portico.store import RecordStore, Versioned


def version_key(function_name: str, number: str) -> str:
    """A published version's record name, as repository.py writes it."""
    return f"{function_name}:{int(number):08d}"


def scope_for(context: RequestContext) -> str:
    return scope_of(context.account_id, context.region)


def requested(params: dict[str, Any]) -> FunctionRef:
    """FunctionName and the Qualifier parameter, which must agree when both qualify."""
    ref = parse_function(params["FunctionName"])
    given = params.get("Qualifier")
    if given is not None and ref.qualifier is not None and given != ref.qualifier:
        raise InvalidParameterValueException(
            "The derived qualifier from the function name does not match the specified qualifier."
        )
    return FunctionRef(ref.name, given if given is not None else ref.qualifier)


def function_not_found(
    context: RequestContext, name: str, qualifier: str | None = None
) -> ResourceNotFoundException:
    arn = function_arn(context.region, context.account_id, name, qualifier)
    return ResourceNotFoundException(f"Function not found: {arn}")


def alias_not_found(context: RequestContext, name: str, alias: str) -> ResourceNotFoundException:
    arn = function_arn(context.region, context.account_id, name, alias)
    return ResourceNotFoundException(f"Cannot find alias arn: {arn}")


@dataclass(frozen=True)
class Target:
    """A function with `$LATEST`, a published version or an alias of it."""

    record: Versioned[FunctionRecord]
    qualifier: str  # "$LATEST", a version number or an alias name
    subject: FunctionVersion | Alias

    @property
    def name(self) -> str:
        return self.record.name

    @property
    def revision_id(self) -> str:
        return self.subject.revision_id

    def arn(self, context: RequestContext) -> str:
        qualifier = None if self.qualifier == LATEST else self.qualifier
        return function_arn(context.region, context.account_id, self.name, qualifier)


def resolve(
    records: RecordStore,
    scope: str,
    context: RequestContext,
    name: str,
    record: Versioned[FunctionRecord] | None,
    qualifier: str,
) -> Target:
    """The target `qualifier` names; a missing function reads as a missing version or alias."""
    if qualifier == LATEST:
        if record is None:
            raise function_not_found(context, name)
        return Target(record, LATEST, record.value.latest)
    if is_version(qualifier):
        version = VERSIONS.get(records, scope, version_key(name, qualifier)) if record else None
        if record is None or version is None:
            raise function_not_found(context, name, qualifier)
        return Target(record, qualifier, version.value)
    if re.fullmatch(ALIAS_PATTERN, qualifier) is None:  # e.g. "$LATEST.PUBLISHED", "a$b"
        raise function_not_found(context, name, qualifier)
    alias = ALIASES.get(records, scope, attachment_key(name, qualifier)) if record else None
    if record is None or alias is None:
        raise alias_not_found(context, name, qualifier)
    return Target(record, qualifier, alias.value)


def version_exists(records: RecordStore, scope: str, name: str, version: str) -> bool:
    if version == LATEST:
        return True
    return (
        is_version(version) and VERSIONS.get(records, scope, version_key(name, version)) is not None
    )


def bump_revision(records: RecordStore, scope: str, target: Target) -> str:
    """Give the target a new RevisionId (as Lambda does when its policy changes)."""
    revision = new_revision()
    subject = target.subject
    if isinstance(subject, Alias):
        alias = dataclasses.replace(subject, revision_id=revision)
        ALIASES.put(records, scope, attachment_key(target.name, alias.name), alias)
    elif target.qualifier == LATEST:
        record = target.record.value
        latest = dataclasses.replace(record.latest, revision_id=revision)
        FUNCTIONS.put(records, scope, target.name, dataclasses.replace(record, latest=latest))
    else:
        version = dataclasses.replace(subject, revision_id=revision)
        VERSIONS.put(records, scope, version_key(target.name, target.qualifier), version)
    return revision
