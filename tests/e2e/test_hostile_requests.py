"""Requests botocore would never send, to every operation of the services Portico serves:
nulls, wrong JSON types, huge strings, bodies that are not objects. Each must get an
AWS-shaped answer (a 4xx, or 501 for an operation not implemented), never a 500, and the
server must log no traceback."""

from __future__ import annotations

import json
import random
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import botocore.session
import pytest

from tests.e2e.conftest import Server, serving, signed

pytestmark = pytest.mark.slow

VALUES: list[Any] = [None, 0, -1, 10**20, 1.5, True, "", "x" * 5000, "\u0000", [], {}, [1]]
WHOLE_BODIES = ["null", "[]", '"x"', "7", '{"a":']
JSON_TARGETS = {"logs": "Logs_20140328", "secretsmanager": "secretsmanager"}
SIGNING_NAMES = {"apigatewayv2": "apigateway"}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    yield from serving(tmp_path_factory.mktemp("hostile"))


def _bodies(shape: Any, rng: random.Random, wire_names: bool) -> Iterator[bytes]:
    members = shape.members if shape is not None else {}
    in_body = {
        name: member
        for name, member in members.items()
        if member.serialization.get("location") is None
    }
    for _ in range(2):
        body = {
            (member.serialization.get("name", name) if wire_names else name): rng.choice(VALUES)
            for name, member in in_body.items()
            if rng.random() < 0.6
        }
        yield json.dumps(body).encode()
    yield rng.choice(WHOLE_BODIES).encode()


@pytest.mark.parametrize("service", ["apigatewayv2", "lambda", "logs", "secretsmanager"])
def test_no_request_of_any_shape_is_a_500(server: Server, service: str) -> None:
    model = botocore.session.get_session().get_service_model(service)
    rng = random.Random(service)
    failures = []
    for name in model.operation_names:
        operation = model.operation_model(name)
        target = JSON_TARGETS.get(service)
        path = re.sub(r"\{[^}]+\}", "abcdefghij", operation.http["requestUri"].split("?")[0])
        for body in _bodies(operation.input_shape, rng, wire_names=target is None):
            if target is None:
                method, headers = operation.http["method"], {"content-type": "application/json"}
            else:
                method, path = "POST", "/"
                headers = {
                    "content-type": "application/x-amz-json-1.1",
                    "X-Amz-Target": f"{target}.{name}",
                }
            signing = SIGNING_NAMES.get(service, service)
            answer = signed(server, method, path, signing, data=body, headers=headers)
            if answer.status_code >= 500 and answer.status_code != 501:
                failures.append((name, body[:80], answer.status_code, answer.text[:160]))
    assert failures == []
    assert server.log_path is not None
    assert "Traceback" not in Path(server.log_path).read_text()
