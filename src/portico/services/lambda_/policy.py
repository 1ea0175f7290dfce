"""Resource-based policies: AddPermission, RemovePermission and GetPolicy.

Each of `$LATEST`, a published version and an alias has a policy of its own (statement ids are
unique within one). A policy change gives what it is attached to a new RevisionId, and
GetPolicy reports that RevisionId, as Lambda does.

    AddPermission(Action="lambda:InvokeFunction", Principal="s3.amazonaws.com",
                  SourceArn="arn:aws:s3:::bucket", StatementId="s3")
    -> {"Sid": "s3", "Effect": "Allow", "Principal": {"Service": "s3.amazonaws.com"},
        "Action": "lambda:InvokeFunction", "Resource": "arn:aws:lambda:...:function:fn",
        "Condition": {"ArnLike": {"AWS:SourceArn": "arn:aws:s3:::bucket"}}}
"""

from __future__ import annotations

import asyncio
import json
import re
from typing import Any, ClassVar

from portico.aws.handler import Operation, RequestContext
from portico.errors import AwsError
from portico.services.lambda_.attachments import POLICIES, Policy, attachment_key
from portico.services.lambda_.constraints import check_length, check_pattern, violation
from portico.services.lambda_.errors import (
    InvalidParameterValueException,
    PreconditionFailedException,
    ResourceConflictException,
    ResourceNotFoundException,
)
from portico.services.lambda_.models import LATEST
from portico.services.lambda_.names import function_arn
from portico.services.lambda_.references import (
    Target,
    bump_revision,
    function_not_found,
    requested,
    resolve,
    scope_for,
)
from portico.services.lambda_.repository import FUNCTIONS
from portico.store import Database, RecordStore

Params = dict[str, Any]
Result = dict[str, Any]

MAX_POLICY_SIZE = 20_480
_QUALIFIER = r"\$(LATEST(\.PUBLISHED)?)|[a-zA-Z0-9-_$]+"
_ACCOUNT = re.compile(r"\d{12}")
_IAM_ARN = re.compile(r"arn:aws[a-zA-Z-]*:iam:")
_NO_RESOURCE = "The resource you requested does not exist."


class PolicyLengthExceededException(AwsError):
    code: ClassVar[str] = "PolicyLengthExceededException"
    status_code: ClassVar[int] = 400
    sender_fault: ClassVar[bool] = True

    def __init__(self, message: str) -> None:
        super().__init__(message, Type="User")


class Policies:
    def __init__(self, database: Database) -> None:
        self._database = database

    def operations(self) -> dict[str, Operation]:
        return {
            "AddPermission": self.add_permission,
            "RemovePermission": self.remove_permission,
            "GetPolicy": self.get_policy,
        }

    async def add_permission(self, context: RequestContext, params: Params) -> Result:
        _check_add_permission(params)
        ref = requested(params)
        if ref.qualifier == LATEST:
            raise InvalidParameterValueException(
                "We currently do not support adding policies for $LATEST."
            )
        sid, expected = params["StatementId"], params.get("RevisionId")

        def add() -> dict[str, Any]:
            scope = scope_for(context)
            with self._database.transaction() as tx:
                records = tx.records
                record = FUNCTIONS.get(records, scope, ref.name)
                if record is None:
                    raise function_not_found(context, ref.name)
                target = resolve(records, scope, context, ref.name, record, ref.qualifier or LATEST)
                if expected and expected != target.revision_id:
                    raise PreconditionFailedException(
                        "The Revision Id provided does not match the latest Revision Id. Call "
                        "the GetPolicy API to retrieve the latest Revision Id"
                    )
                statement = _statement(params, target.arn(context))
                key = attachment_key(ref.name, target.qualifier)
                found = POLICIES.get(records, scope, key)
                policy = Policy() if found is None else found.value
                if policy.statement(sid) is not None:
                    raise ResourceConflictException(
                        f"The statement id ({sid}) provided already exists. Please provide a new "
                        "statement id, or remove the existing statement."
                    )
                grown = Policy((*policy.statements, statement))
                size = len(_compact(grown.document()))
                if size > MAX_POLICY_SIZE:
                    raise PolicyLengthExceededException(
                        f"The final policy size ({size}) is bigger than the limit "
                        f"({MAX_POLICY_SIZE})."
                    )
                POLICIES.put(records, scope, key, grown)
                bump_revision(records, scope, target)
                return statement

        statement = await asyncio.to_thread(add)
        return {"Statement": _compact(statement)}

    async def remove_permission(self, context: RequestContext, params: Params) -> Result:
        ref = requested(params)
        if ref.qualifier is not None:
            _check_qualifier(ref.qualifier)
        sid, expected = params["StatementId"], params.get("RevisionId")
        check_length(sid, "statementId", 1, 100)
        check_pattern(sid, "statementId", r"([a-zA-Z0-9-_.]+)")

        def remove() -> None:
            scope = scope_for(context)
            with self._database.transaction() as tx:
                records = tx.records
                record = FUNCTIONS.get(records, scope, ref.name)
                if record is None:
                    arn = function_arn(context.region, context.account_id, ref.name)
                    raise ResourceNotFoundException(f"No policy found for: {arn}")
                target = resolve(records, scope, context, ref.name, record, ref.qualifier or LATEST)
                key = attachment_key(ref.name, target.qualifier)
                found = POLICIES.get(records, scope, key)
                if found is None:
                    raise ResourceNotFoundException(
                        "No policy is associated with the given resource."
                    )
                if found.value.statement(sid) is None:
                    raise ResourceNotFoundException(
                        f"Statement {sid} is not found in resource policy."
                    )
                if expected and expected != target.revision_id:
                    raise PreconditionFailedException(
                        "The Revision Id provided does not match the latest Revision Id. Call "
                        "the GetFunction/GetAlias API to retrieve the latest Revision Id"
                    )
                kept = tuple(item for item in found.value.statements if item["Sid"] != sid)
                if kept:
                    POLICIES.put(records, scope, key, Policy(kept))
                else:
                    POLICIES.delete(records, scope, key)
                bump_revision(records, scope, target)

        await asyncio.to_thread(remove)
        return {}

    async def get_policy(self, context: RequestContext, params: Params) -> Result:
        ref = requested(params)
        if ref.qualifier is not None:
            _check_qualifier(ref.qualifier)

        def get() -> tuple[Policy, str]:
            scope = scope_for(context)
            with self._database.snapshot() as tx:
                target = self._target_or_none(tx.records, scope, context, ref.name, ref.qualifier)
                found = None
                if target is not None:
                    key = attachment_key(ref.name, target.qualifier)
                    found = POLICIES.get(tx.records, scope, key)
            if target is None or found is None:
                raise ResourceNotFoundException(_NO_RESOURCE)
            return found.value, target.revision_id

        policy, revision = await asyncio.to_thread(get)
        return {"Policy": _compact(policy.document()), "RevisionId": revision}

    def statements(
        self, account_id: str, region: str, name: str, qualifier: str
    ) -> tuple[dict[str, Any], ...]:
        """The statements of the policy attached to what `name:qualifier` names (none if the
        function, version or alias is missing)."""
        context = RequestContext("", "lambda", "GetPolicy", region, account_id, None)
        scope = scope_for(context)
        with self._database.snapshot() as tx:
            target = self._target_or_none(tx.records, scope, context, name, qualifier)
            if target is None:
                return ()
            found = POLICIES.get(tx.records, scope, attachment_key(name, target.qualifier))
        return () if found is None else found.value.statements

    @staticmethod
    def _target_or_none(
        records: RecordStore,
        scope: str,
        context: RequestContext,
        name: str,
        qualifier: str | None,
    ) -> Target | None:
        record = FUNCTIONS.get(records, scope, name)
        try:
            return resolve(records, scope, context, name, record, qualifier or LATEST)
        except ResourceNotFoundException:
            return None


def _statement(params: Params, resource: str) -> dict[str, Any]:
    """A policy statement, built the way Lambda builds it from AddPermission's parameters."""
    statement: dict[str, Any] = {
        "Sid": params["StatementId"],
        "Effect": "Allow",
        "Principal": _principal(params["Principal"]),
        "Action": params["Action"],
        "Resource": resource,
    }
    equals = {
        key: params[member]
        for member, key in (
            ("SourceAccount", "AWS:SourceAccount"),
            ("FunctionUrlAuthType", "lambda:FunctionUrlAuthType"),
            ("PrincipalOrgID", "aws:PrincipalOrgID"),
            ("EventSourceToken", "lambda:EventSourceToken"),
        )
        if params.get(member)
    }
    condition: dict[str, Any] = {}
    if equals:
        condition["StringEquals"] = equals
    if params.get("InvokedViaFunctionUrl"):
        condition["Bool"] = {"lambda:InvokedViaFunctionUrl": "true"}
    if params.get("SourceArn"):
        condition["ArnLike"] = {"AWS:SourceArn": params["SourceArn"]}
    if condition:
        statement["Condition"] = condition
    return statement


def _principal(principal: str) -> str | dict[str, str]:
    if principal == "*":
        return "*"
    if principal.endswith(".amazonaws.com"):
        return {"Service": principal}
    if _ACCOUNT.fullmatch(principal):
        return {"AWS": f"arn:aws:iam::{principal}:root"}
    if _IAM_ARN.match(principal):
        return {"AWS": principal}
    raise InvalidParameterValueException(
        "The provided principal was invalid. Please check the principal and try again."
    )


def _check_add_permission(params: Params) -> None:
    """AddPermission's members against the API model's constraints."""
    check_length(params["StatementId"], "statementId", 1, 100)
    check_pattern(params["StatementId"], "statementId", r"([a-zA-Z0-9-_]+)")
    check_pattern(params["Action"], "action", r"(lambda:[*]|lambda:[a-zA-Z]+|[*])")
    check_pattern(params["Principal"], "principal", r"[^\s]+")
    optional = (
        ("SourceAccount", "sourceAccount", r"\d{12}"),
        ("EventSourceToken", "eventSourceToken", r"[a-zA-Z0-9._\-]+"),
        ("PrincipalOrgID", "principalOrgID", r"o-[a-z0-9]{10,32}"),
        (
            "SourceArn",
            "sourceArn",
            r"arn:(aws[a-zA-Z0-9-]*):([a-zA-Z0-9\-])+:((eusc-)?[a-z]{2}((-gov)|(-iso([a-z]?)))?"
            r"-[a-z]+-\d{1})?:(\d{12})?:(.*)",
        ),
    )
    for member, field, pattern in optional:
        if params.get(member) is not None:
            check_pattern(params[member], field, pattern)
    auth_type = params.get("FunctionUrlAuthType")
    if auth_type is not None and auth_type not in ("NONE", "AWS_IAM"):
        raise violation(
            auth_type, "functionUrlAuthType", "Member must satisfy enum value set: [NONE, AWS_IAM]"
        )
    if params.get("Qualifier") is not None:
        _check_qualifier(params["Qualifier"])


def _check_qualifier(qualifier: str) -> None:
    check_length(qualifier, "qualifier", 1, 128)
    check_pattern(qualifier, "qualifier", _QUALIFIER)


def _compact(document: Any) -> str:
    return json.dumps(document, separators=(",", ":"))
