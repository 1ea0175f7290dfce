"""API Gateway's (v2) errors, with the codes and messages AWS answers with.

Every one carries its text in the `Message` member, as botocore's model names it.
"""

from __future__ import annotations

from typing import ClassVar

from portico.errors import AwsError


class BadRequestException(AwsError):
    """One of the parameters in the request is invalid (HTTP 400)."""

    code: ClassVar[str] = "BadRequestException"
    status_code: ClassVar[int] = 400
    sender_fault: ClassVar[bool] = True


class NotFoundException(AwsError):
    """The resource the request names does not exist (HTTP 404)."""

    code: ClassVar[str] = "NotFoundException"
    status_code: ClassVar[int] = 404
    sender_fault: ClassVar[bool] = True


class ConflictException(AwsError):
    """The request conflicts with the current state of a resource (HTTP 409)."""

    code: ClassVar[str] = "ConflictException"
    status_code: ClassVar[int] = 409
    sender_fault: ClassVar[bool] = True


class LimitReached(ConflictException):
    """A quota on how many of a resource there may be was reached. AWS answers this with the
    code ConflictException and HTTP 429 (as CreateAuthorizer answers past its quota)."""

    status_code: ClassVar[int] = 429


def limit_reached(resources: str, owner: str) -> LimitReached:
    """`resources` ("Integrations") past their quota for one `owner` ("API")."""
    return LimitReached(f"Maximum number of {resources} for this {owner} has been reached.")


class TooManyRequestsException(AwsError):
    """A limit was reached (HTTP 429); `LimitType` says which."""

    code: ClassVar[str] = "TooManyRequestsException"
    status_code: ClassVar[int] = 429
    sender_fault: ClassVar[bool] = True

    def __init__(self, message: str, limit_type: str) -> None:
        super().__init__(message, LimitType=limit_type)


def api_not_found(account_id: str, api_id: str) -> NotFoundException:
    return NotFoundException(f"Invalid API identifier specified {account_id}:{api_id}")


def route_not_found(route_id: str) -> NotFoundException:
    return NotFoundException(f"Invalid Route identifier specified {route_id}")


def route_response_not_found(route_response_id: str) -> NotFoundException:
    return NotFoundException(f"Invalid RouteResponse identifier specified {route_response_id}")


def integration_not_found(integration_id: str) -> NotFoundException:
    return NotFoundException(f"Invalid Integration identifier specified {integration_id}")


def authorizer_not_found(authorizer_id: str) -> NotFoundException:
    return NotFoundException(f"Invalid Authorizer identifier specified {authorizer_id}")


def deployment_not_found(deployment_id: str) -> NotFoundException:
    return NotFoundException(f"Invalid Deployment identifier specified {deployment_id}")


def vpc_link_not_found(vpc_link_id: str) -> NotFoundException:
    return NotFoundException(f"Invalid VpcLink identifier specified {vpc_link_id}")


STAGE_NOT_FOUND = "Invalid stage identifier specified"
DOMAIN_NOT_FOUND = "The domain name resource specified in the request was not found."
MAPPING_NOT_FOUND = "The api mapping resource specified in the request was not found."
NO_ROUTES = "Unable to deploy API because no routes exist in this API"


def stage_not_found() -> NotFoundException:
    return NotFoundException(STAGE_NOT_FOUND)


def domain_not_found() -> NotFoundException:
    return NotFoundException(DOMAIN_NOT_FOUND)


def mapping_not_found() -> NotFoundException:
    return NotFoundException(MAPPING_NOT_FOUND)
