"""Secret names, ARNs, and the `SecretId` that may be either.

    arn:aws:secretsmanager:eu-west-1:000000000000:secret:db/password-Ab12Cd
                                                         └── name ──┘ └ suffix: six random
                                                                        letters and digits

A `SecretId` is a name, a full ARN, or a partial ARN (the ARN without its suffix). As AWS
does, an ARN whose resource ends in a hyphen and six characters is taken as a full ARN: a
partial ARN of a secret whose own name ends that way does not find it.
"""

from __future__ import annotations

import re
import secrets
import string
from dataclasses import dataclass

from portico.services.secretsmanager.errors import ValidationException

_NAME = re.compile(r"[A-Za-z0-9/_+=.@-]+")
_SUFFIX = re.compile(r"-[A-Za-z0-9]{6}")
_SUFFIX_ALPHABET = string.ascii_letters + string.digits
INVALID_NAME = (
    "Invalid name. Must be a valid name containing alphanumeric characters, or any of the "
    "following: -/_+=.@!"
)


@dataclass(frozen=True, slots=True)
class SecretRef:
    """What a `SecretId` asks for: a name, and the exact ARN when it gave a full one."""

    name: str
    arn: str | None = None


def partition_of(region: str) -> str:
    if region.startswith("cn-"):
        return "aws-cn"
    if region.startswith("us-gov-"):
        return "aws-us-gov"
    return "aws"


def random_suffix() -> str:
    return "".join(secrets.choice(_SUFFIX_ALPHABET) for _ in range(6))


def secret_arn(region: str, account_id: str, name: str, suffix: str) -> str:
    return f"arn:{partition_of(region)}:secretsmanager:{region}:{account_id}:secret:{name}-{suffix}"


def check_name(name: str) -> str:
    if not _NAME.fullmatch(name):
        raise ValidationException(INVALID_NAME)
    return name


def parse_secret_id(secret_id: str, region: str, account_id: str) -> SecretRef | None:
    """The secret a `SecretId` names in this account and region; None when it cannot name one
    here (an ARN of another service, account or region)."""
    if not secret_id.startswith("arn:"):
        return SecretRef(check_name(secret_id))
    fields = secret_id.split(":", 6)
    if len(fields) != 7 or fields[2:6] != ["secretsmanager", region, account_id, "secret"]:
        return None
    resource = fields[6]
    if fields[1] != partition_of(region) or not _NAME.fullmatch(resource):
        return None
    if len(resource) > 7 and _SUFFIX.fullmatch(resource[-7:]):
        return SecretRef(resource[:-7], secret_id)
    return SecretRef(resource)
