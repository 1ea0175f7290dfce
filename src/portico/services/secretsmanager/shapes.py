"""Secrets as the API's output shapes: which members AWS sends, and which it leaves out."""

from __future__ import annotations

import datetime
from typing import Any

from portico.services.secretsmanager.models import Secret, Version

Result = dict[str, Any]
DEFAULT_KMS_KEY = "DefaultEncryptionKey"


def timestamp(seconds: float) -> datetime.datetime:
    return datetime.datetime.fromtimestamp(seconds, datetime.UTC)


def secret_entry(secret: Secret, versions_member: str = "VersionIdsToStages") -> Result:
    """DescribeSecret's answer, or (with `SecretVersionsToStages`) a ListSecrets entry."""
    entry: Result = {
        "ARN": secret.arn,
        "Name": secret.name,
        "LastChangedDate": timestamp(secret.last_changed),
        "CreatedDate": timestamp(secret.created),
    }
    if secret.description:
        entry["Description"] = secret.description
    if secret.kms_key_id:
        entry["KmsKeyId"] = secret.kms_key_id
    if secret.last_accessed is not None:
        entry["LastAccessedDate"] = timestamp(secret.last_accessed)
    if secret.deletion_date is not None:
        entry["DeletedDate"] = timestamp(secret.deletion_date)
    if secret.tags is not None:
        entry["Tags"] = [{"Key": key, "Value": value} for key, value in secret.tags]
    stage_map = secret.stage_map()
    if stage_map:
        entry[versions_member] = stage_map
    return entry


def version_entry(secret: Secret, version: Version) -> Result:
    entry: Result = {
        "VersionId": version.id,
        "CreatedDate": timestamp(version.created),
        "KmsKeyIds": [secret.kms_key_id or DEFAULT_KMS_KEY],
    }
    if version.stages:
        entry["VersionStages"] = list(version.stages)
    if version.last_accessed is not None:
        entry["LastAccessedDate"] = timestamp(version.last_accessed)
    return entry


def named(secret: Secret, version: Version | None = None) -> Result:
    """ARN and Name, and VersionId when a version was written."""
    result: Result = {"ARN": secret.arn, "Name": secret.name}
    if version is not None:
        result["VersionId"] = version.id
    return result
