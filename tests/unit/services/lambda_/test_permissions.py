"""Resource-based policies deciding whether a service may invoke a function."""

from __future__ import annotations

from typing import Any

import pytest

from portico.services.lambda_.permissions import PublicUrl, ServiceSource, permitted

ACCOUNT = "123456789012"
API = f"arn:aws:execute-api:eu-west-1:{ACCOUNT}:a1b2c3d4e5"
GATEWAY = ServiceSource("apigateway.amazonaws.com", f"{API}/$default/GET/pets/{{id}}", ACCOUNT)


def statement(**overrides: Any) -> dict[str, Any]:
    """As AddPermission writes it for API Gateway."""
    base: dict[str, Any] = {
        "Sid": "apigateway",
        "Effect": "Allow",
        "Principal": {"Service": "apigateway.amazonaws.com"},
        "Action": "lambda:InvokeFunction",
        "Resource": f"arn:aws:lambda:eu-west-1:{ACCOUNT}:function:fn",
    }
    return {**base, **overrides}


def test_no_policy_permits_nothing() -> None:
    assert not permitted([], GATEWAY)


def test_a_statement_without_conditions_allows_the_service() -> None:
    assert permitted([statement()], GATEWAY)


@pytest.mark.parametrize(
    "pattern",
    [
        f"{API}/*",
        f"{API}/*/*",
        f"{API}/*/*/pets/{{id}}",
        f"{API}/$default/GET/pets/{{id}}",
        f"{API}/*/GET/*",
        "arn:aws:execute-api:*:*:a1b2c3d4e5/*",
        "arn:aws:execute-api:eu-west-?:123456789012:a1b2c3d4e5/*",
    ],
)
def test_source_arn_patterns_that_match(pattern: str) -> None:
    assert permitted([statement(Condition={"ArnLike": {"AWS:SourceArn": pattern}})], GATEWAY)


@pytest.mark.parametrize(
    "pattern",
    [
        f"{API}/*/POST/*",
        f"{API}/prod/*",
        "arn:aws:execute-api:eu-west-1:123456789012:otherapi0/*",
        f"{API}/*/*/pets/7",  # the route's path, not the request's
        "arn:aws:execute-api:eu-west-1:*",  # a wildcard does not cross a colon
    ],
)
def test_source_arn_patterns_that_do_not_match(pattern: str) -> None:
    assert not permitted([statement(Condition={"ArnLike": {"AWS:SourceArn": pattern}})], GATEWAY)


def test_condition_keys_are_case_insensitive_and_all_must_hold() -> None:
    both = {
        "ArnLike": {"aws:sourcearn": f"{API}/*"},
        "StringEquals": {"AWS:SourceAccount": ACCOUNT},
    }
    assert permitted([statement(Condition=both)], GATEWAY)
    other_account = {**both, "StringEquals": {"AWS:SourceAccount": "999999999999"}}
    assert not permitted([statement(Condition=other_account)], GATEWAY)


def test_a_condition_on_a_key_the_invocation_lacks_fails() -> None:
    url_only = {"StringEquals": {"lambda:FunctionUrlAuthType": "NONE"}}
    assert not permitted([statement(Condition=url_only)], GATEWAY)


def test_an_operator_portico_does_not_evaluate_makes_the_statement_not_apply() -> None:
    unknown = {"DateGreaterThan": {"aws:CurrentTime": "2020-01-01T00:00:00Z"}}
    assert not permitted([statement(Condition=unknown)], GATEWAY)


@pytest.mark.parametrize(
    ("principal", "expected"),
    [
        ("*", True),
        ({"AWS": "*"}, True),
        ({"Service": ["s3.amazonaws.com", "apigateway.amazonaws.com"]}, True),
        ({"Service": "s3.amazonaws.com"}, False),
        ({"AWS": f"arn:aws:iam::{ACCOUNT}:root"}, False),
    ],
)
def test_principals(principal: Any, expected: bool) -> None:
    assert permitted([statement(Principal=principal)], GATEWAY) is expected


@pytest.mark.parametrize(
    ("action", "expected"),
    [
        ("lambda:InvokeFunction", True),
        ("lambda:invokefunction", True),
        ("lambda:*", True),
        ("*", True),
        (["lambda:GetFunction", "lambda:Invoke*"], True),
        ("lambda:InvokeFunctionUrl", False),
        ("lambda:GetFunction", False),
    ],
)
def test_actions(action: Any, expected: bool) -> None:
    assert permitted([statement(Action=action)], GATEWAY) is expected


def test_a_deny_wins_over_an_allow() -> None:
    deny = statement(Sid="deny", Effect="Deny")
    assert not permitted([statement(), deny], GATEWAY)
    assert permitted(
        [statement(), statement(Sid="other", Effect="Deny", Action="lambda:Get*")], GATEWAY
    )


def public(action: str, condition: dict[str, Any] | None = None, **extra: Any) -> dict[str, Any]:
    """As AddPermission writes it for principal `*`."""
    document = statement(Principal="*", Action=action, **extra)
    if condition is not None:
        document["Condition"] = condition
    return document


URL_ACCESS = public(
    "lambda:InvokeFunctionUrl", {"StringEquals": {"lambda:FunctionUrlAuthType": "NONE"}}
)
URL_INVOKE = public("lambda:InvokeFunction", {"Bool": {"lambda:InvokedViaFunctionUrl": "true"}})


def test_a_public_url_needs_both_statements() -> None:
    assert permitted([URL_ACCESS, URL_INVOKE], PublicUrl())
    assert not permitted([URL_ACCESS], PublicUrl())  # URLs made since October 2025
    assert not permitted([URL_INVOKE], PublicUrl())
    assert not permitted([statement()], PublicUrl())  # API Gateway's grant is not the public's


def test_a_public_url_grant_does_not_let_services_in() -> None:
    assert not permitted([URL_ACCESS, URL_INVOKE], GATEWAY)


def test_a_url_grant_for_iam_auth_does_not_open_the_url() -> None:
    iam_only = public(
        "lambda:InvokeFunctionUrl", {"StringEquals": {"lambda:FunctionUrlAuthType": "AWS_IAM"}}
    )
    assert not permitted([iam_only, URL_INVOKE], PublicUrl())
