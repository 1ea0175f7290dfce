"""IAM policies returned by Lambda authorizers, evaluated for route ARNs."""

from __future__ import annotations

from typing import Any

import pytest

from portico.gateway.http_api.authorizers.policy import parse_policy, wildcard

API = "arn:aws:execute-api:eu-west-1:000000000000:a1b2c3d4e5"
GET_PET = f"{API}/prod/GET/pets/7"
POST_PETS = f"{API}/prod/POST/pets"


def statement(effect: str, resource: Any, action: Any = "execute-api:Invoke") -> dict[str, Any]:
    return {"Effect": effect, "Action": action, "Resource": resource}


def policy(*statements: dict[str, Any]) -> Any:
    parsed = parse_policy({"Version": "2012-10-17", "Statement": list(statements)})
    assert parsed is not None
    return parsed


@pytest.mark.parametrize(
    ("pattern", "allowed", "refused"),
    [
        (GET_PET, [GET_PET], [f"{GET_PET}/x", POST_PETS]),
        (f"{API}/*", [GET_PET, POST_PETS], [f"{API[:-1]}X/prod/GET/pets"]),
        (f"{API}/*/GET/*", [GET_PET], [POST_PETS]),
        (f"{API}/prod/GET/pets/?", [GET_PET], [f"{API}/prod/GET/pets/77"]),
        ("arn:aws:execute-api:*:*:a1b2c3d4e5/*", [GET_PET], []),
        ("*", [GET_PET, POST_PETS], []),
        (f"{API}/PROD/*", [], [GET_PET]),  # resources are case-sensitive
        (f"{API}/prod/GET/pets.7", [], [GET_PET]),  # '.' is no wildcard
    ],
)
def test_resource_wildcards(pattern: str, allowed: list[str], refused: list[str]) -> None:
    evaluated = policy(statement("Allow", pattern))
    assert [arn for arn in allowed if evaluated.allows(arn)] == allowed
    assert [arn for arn in refused if evaluated.allows(arn)] == []


def test_deny_wins_and_nothing_allowed_means_denied() -> None:
    evaluated = policy(statement("Allow", f"{API}/*"), statement("Deny", f"{API}/*/POST/*"))
    assert evaluated.allows(GET_PET)
    assert not evaluated.allows(POST_PETS)
    assert not policy().allows(GET_PET)
    assert not policy(statement("Deny", "*")).allows(GET_PET)


def test_actions() -> None:
    for action in ("execute-api:Invoke", "execute-api:invoke", "execute-api:*", "*"):
        assert policy(statement("Allow", "*", action)).allows(GET_PET), action
    for action in ("execute-api:ManageConnections", "lambda:InvokeFunction", []):
        assert not policy(statement("Allow", "*", action)).allows(GET_PET), action
    assert policy(statement("Allow", "*", ["s3:GetObject", "execute-api:Invoke"])).allows(GET_PET)


def test_not_resource_and_not_action() -> None:
    everything_but_posts = policy({"Effect": "Allow", "Action": "*", "NotResource": POST_PETS})
    assert everything_but_posts.allows(GET_PET)
    assert not everything_but_posts.allows(POST_PETS)
    not_invoke = policy({"Effect": "Allow", "NotAction": "execute-api:Invoke", "Resource": "*"})
    assert not not_invoke.allows(GET_PET)


def test_a_single_statement_object_is_accepted() -> None:
    parsed = parse_policy({"Statement": statement("Allow", [GET_PET, POST_PETS])})
    assert parsed is not None and parsed.allows(POST_PETS)


@pytest.mark.parametrize(
    "document",
    [
        None,
        "Allow",
        {},
        {"Statement": "Allow"},
        {"Statement": [statement("Permit", "*")]},
        {"Statement": [statement("allow", "*")]},
        {"Statement": [{"Effect": "Allow", "Resource": "*"}]},
        {"Statement": [{"Effect": "Allow", "Action": "*"}]},
        {"Statement": [statement("Allow", 42)]},
        {"Statement": [statement("Allow", ["*", 1])]},
        {"Statement": [{**statement("Allow", "*"), "NotResource": "x"}]},
        {"Statement": ["not an object"]},
    ],
)
def test_malformed_policies(document: Any) -> None:
    assert parse_policy(document) is None


def test_wildcard_is_anchored() -> None:
    assert wildcard("a*c").fullmatch("a/b:c")
    assert not wildcard("a*c").fullmatch("xa/b:c")
    assert wildcard("A?", ignore_case=True).fullmatch("ab")
