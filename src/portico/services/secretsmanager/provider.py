"""The Secrets Manager API's operations: request members checked, domain calls made off the
event loop, results shaped as botocore's model says."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Any, ClassVar

from portico.aws.handler import Operation, RequestContext
from portico.services.context import ServiceContext
from portico.services.secretsmanager import paging, validation
from portico.services.secretsmanager.crypto import KEY_FILENAME, SecretCipher
from portico.services.secretsmanager.errors import InvalidRequestException, ValidationException
from portico.services.secretsmanager.identifiers import check_name
from portico.services.secretsmanager.service import Scope, SecretsService
from portico.services.secretsmanager.shapes import (
    Result,
    named,
    secret_entry,
    timestamp,
    version_entry,
)

Params = dict[str, Any]

_SORT_KEYS = {
    "created-date": lambda secret: [secret.created, secret.name],
    "last-accessed-date": lambda secret: [secret.last_accessed or 0.0, secret.name],
    "last-changed-date": lambda secret: [secret.last_changed, secret.name],
    "name": lambda secret: [secret.name],
}
_SORT_ORDERS = ("asc", "desc")


def _scope(context: RequestContext) -> Scope:
    return Scope(context.account_id, context.region)


class SecretsManagerProvider:
    service_name: ClassVar[str] = "secretsmanager"

    def __init__(self, service: SecretsService) -> None:
        self._service = service

    def operations(self) -> Mapping[str, Operation]:
        return {
            "CreateSecret": self.create_secret,
            "GetSecretValue": self.get_secret_value,
            "PutSecretValue": self.put_secret_value,
            "UpdateSecret": self.update_secret,
            "DescribeSecret": self.describe_secret,
            "ListSecrets": self.list_secrets,
            "ListSecretVersionIds": self.list_secret_version_ids,
            "DeleteSecret": self.delete_secret,
            "RestoreSecret": self.restore_secret,
            "TagResource": self.tag_resource,
            "UntagResource": self.untag_resource,
        }

    async def create_secret(self, context: RequestContext, params: Params) -> Result:
        name = validation.string(params, "Name", min_length=1, max_length=512, required=True)
        token = validation.client_request_token(params)
        value = validation.secret_value(params, token)
        written = await asyncio.to_thread(
            self._service.create,
            _scope(context),
            check_name(name or ""),
            value=value,
            token=token,
            description=validation.string(params, "Description", max_length=2048),
            kms_key_id=validation.string(params, "KmsKeyId", max_length=2048),
            tags=validation.tags(params),
        )
        return named(written.secret, written.version)

    async def get_secret_value(self, context: RequestContext, params: Params) -> Result:
        revealed = await asyncio.to_thread(
            self._service.reveal,
            _scope(context),
            validation.secret_id(params),
            validation.string(params, "VersionId", min_length=32, max_length=64),
            validation.string(params, "VersionStage", min_length=1, max_length=256),
        )
        version = revealed.version
        return {
            **named(revealed.secret, version),
            "SecretString": revealed.value.text,
            "SecretBinary": revealed.value.binary,
            "VersionStages": list(version.stages),
            "CreatedDate": timestamp(version.created),
        }

    async def put_secret_value(self, context: RequestContext, params: Params) -> Result:
        secret_id = validation.secret_id(params)
        token = validation.client_request_token(params)
        value = validation.secret_value(params, token)
        if value is None:
            raise InvalidRequestException("You must provide either SecretString or SecretBinary.")
        written = await asyncio.to_thread(
            self._service.put_value,
            _scope(context),
            secret_id,
            value,
            token,
            validation.version_stages(params),
        )
        version = written.version
        stages = [] if version is None else list(version.stages)
        return {**named(written.secret, version), "VersionStages": stages}

    async def update_secret(self, context: RequestContext, params: Params) -> Result:
        secret_id = validation.secret_id(params)
        token = validation.client_request_token(params)
        written = await asyncio.to_thread(
            self._service.update,
            _scope(context),
            secret_id,
            value=validation.secret_value(params, token),
            token=token,
            description=validation.string(params, "Description", max_length=2048),
            kms_key_id=validation.string(params, "KmsKeyId", max_length=2048),
        )
        return named(written.secret, written.version)

    async def describe_secret(self, context: RequestContext, params: Params) -> Result:
        secret_id = validation.secret_id(params)
        secret = await asyncio.to_thread(self._service.describe, _scope(context), secret_id)
        return secret_entry(secret)

    async def list_secrets(self, context: RequestContext, params: Params) -> Result:
        sort_by = params.get("SortBy") or "created-date"
        sort_order = params.get("SortOrder") or "asc"
        if sort_by not in _SORT_KEYS or sort_order not in _SORT_ORDERS:
            raise ValidationException(
                "1 validation error detected: Value at 'sortBy' or 'sortOrder' failed to "
                f"satisfy constraint: Member must satisfy enum value set: "
                f"[{', '.join(_SORT_KEYS)}] and [{', '.join(_SORT_ORDERS)}]"
            )
        limit = validation.max_results(params)
        token = validation.string(params, "NextToken", min_length=1, max_length=4096)
        secrets = await asyncio.to_thread(
            self._service.list_secrets,
            _scope(context),
            validation.filters(params),
            include_deleted=validation.boolean(params, "IncludePlannedDeletion"),
        )
        position = _SORT_KEYS[sort_by]
        descending = sort_order == "desc"
        secrets.sort(key=position, reverse=descending)
        listing = f"secrets/{sort_by}/{sort_order}"
        chosen, next_token = paging.page(
            secrets, listing, position, token, limit, descending=descending
        )
        return {
            "SecretList": [secret_entry(s, "SecretVersionsToStages") for s in chosen],
            "NextToken": next_token,
        }

    async def list_secret_version_ids(self, context: RequestContext, params: Params) -> Result:
        secret_id = validation.secret_id(params)
        limit = validation.max_results(params)
        token = validation.string(params, "NextToken", min_length=1, max_length=4096)
        include_deprecated = validation.boolean(params, "IncludeDeprecated")
        secret = await asyncio.to_thread(self._service.list_versions, _scope(context), secret_id)
        versions = [
            (index, version)
            for index, version in enumerate(secret.versions)
            if include_deprecated or not version.deprecated
        ]
        chosen, next_token = paging.page(
            versions, f"versions/{secret.arn}", lambda pair: [pair[0]], token, limit
        )
        return {
            **named(secret),
            "Versions": [version_entry(secret, version) for _, version in chosen],
            "NextToken": next_token,
        }

    async def delete_secret(self, context: RequestContext, params: Params) -> Result:
        secret_id = validation.secret_id(params)
        recovery_days = validation.recovery_window(params)
        deleted = await asyncio.to_thread(
            self._service.delete, _scope(context), secret_id, recovery_days
        )
        return {
            "ARN": deleted.arn,
            "Name": deleted.name,
            "DeletionDate": timestamp(deleted.deletion_date),
        }

    async def restore_secret(self, context: RequestContext, params: Params) -> Result:
        secret_id = validation.secret_id(params)
        secret = await asyncio.to_thread(self._service.restore, _scope(context), secret_id)
        return named(secret)

    async def tag_resource(self, context: RequestContext, params: Params) -> Result:
        secret_id = validation.secret_id(params)
        tags = validation.tags(params, required=True) or []
        await asyncio.to_thread(self._service.tag, _scope(context), secret_id, tags)
        return {}

    async def untag_resource(self, context: RequestContext, params: Params) -> Result:
        secret_id = validation.secret_id(params)
        keys = validation.tag_keys(params)
        await asyncio.to_thread(self._service.untag, _scope(context), secret_id, keys)
        return {}


def create_provider(context: ServiceContext) -> SecretsManagerProvider:
    cipher = SecretCipher(context.settings.data_dir / KEY_FILENAME)
    return SecretsManagerProvider(SecretsService(context.database, cipher, context.clock))
