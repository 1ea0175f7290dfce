"""Identifiers, ARNs and endpoints of HTTP API resources.

api          a1b2c3d4e5       10 lower-case letters and digits
route        x7k2m9q           7
integration  p3n8w1z           7
authorizer   k4t9bz            6
deployment   d82ktq            6
api mapping  m2x9tc            6

arn:aws:apigateway:eu-west-1::/apis/a1b2c3d4e5
arn:aws:apigateway:eu-west-1::/apis/a1b2c3d4e5/stages/prod
arn:aws:apigateway:eu-west-1::/domainnames/api.example.com
"""

from __future__ import annotations

import datetime
import re
import secrets
import string
from collections.abc import Callable
from dataclasses import dataclass

NewId = Callable[[int], str]
"""(length) -> a fresh identifier of that many lower-case letters and digits."""

ALPHABET = string.ascii_lowercase + string.digits
API_ID_LENGTH = 10
ROUTE_ID_LENGTH = 7
INTEGRATION_ID_LENGTH = 7
AUTHORIZER_ID_LENGTH = 6
DEPLOYMENT_ID_LENGTH = 6
MAPPING_ID_LENGTH = 6
ROUTE_RESPONSE_ID_LENGTH = 6
EXECUTE_API_PATH = "/_aws/execute-api"

_RESOURCE_ARN = re.compile(
    r"^arn:aws[a-z-]*:apigateway:(?P<region>[a-z0-9-]+)::/"
    r"(?:apis/(?P<api>[^/]+)(?:/stages/(?P<stage>[^/]+))?|domainnames/(?P<domain>[^/]+))$"
)


def random_id(length: int) -> str:
    return "".join(secrets.choice(ALPHABET) for _ in range(length))


def partition_of(region: str) -> str:
    if region.startswith("cn-"):
        return "aws-cn"
    if region.startswith("us-gov-"):
        return "aws-us-gov"
    return "aws"


def domain_arn(region: str, domain_name: str) -> str:
    return f"arn:{partition_of(region)}:apigateway:{region}::/domainnames/{domain_name}"


@dataclass(frozen=True, slots=True)
class ResourceRef:
    """What a taggable resource ARN names: an API, one of its stages, or a domain name."""

    region: str
    api_id: str | None = None
    stage_name: str | None = None
    domain_name: str | None = None


def parse_resource_arn(arn: str) -> ResourceRef | None:
    found = _RESOURCE_ARN.match(arn)
    if found is None:
        return None
    return ResourceRef(
        region=found.group("region"),
        api_id=found.group("api"),
        stage_name=found.group("stage"),
        domain_name=found.group("domain"),
    )


def api_endpoint(base_url: str, api_id: str, protocol_type: str) -> str:
    """`{base}/_aws/execute-api/{apiId}`: reachable from this machine without any DNS;
    `ws://` or `wss://` for WebSocket APIs."""
    base = base_url.rstrip("/")
    if protocol_type == "WEBSOCKET":
        base = "ws" + base.removeprefix("http")
    return f"{base}{EXECUTE_API_PATH}/{api_id}"


def timestamp(seconds: float) -> datetime.datetime:
    return datetime.datetime.fromtimestamp(seconds, datetime.UTC)
