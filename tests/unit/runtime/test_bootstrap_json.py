"""The built-in bootstrap's JSON: events decoded and answers encoded exactly as `json.loads`
and `json.dumps` with the runtime's encoder do, errors included, on its faster paths."""

from __future__ import annotations

import decimal
import json
from typing import Any

import pytest

from portico.runtime.shim import bootstrap

EVENTS = [
    b'{"a": 1}',
    b' {"a": [1, 2.5, "x", null, true]} ',
    b'\n{"nested": {"k": "\\u00e9\\ud83d\\ude00"}}\r\n',
    b'"text"',
    b"3",
    b"-0.5e3",
    b"[]",
    '{"é": "ü"}'.encode(),
]
BAD_EVENTS = [b'{"a": 1} x', b'{"a": ', b"nope", b"  ", b'{"a": 1}{"b": 2}', b"[1,]", b"NaNa"]


@pytest.mark.parametrize("body", EVENTS)
def test_events_decode_as_json_loads(body: bytes) -> None:
    assert bootstrap._decode_event(body) == json.loads(body.decode())


@pytest.mark.parametrize("body", BAD_EVENTS)
def test_bad_events_fail_as_json_loads(body: bytes) -> None:
    with pytest.raises(json.JSONDecodeError) as expected:
        json.loads(body.decode())
    with pytest.raises(json.JSONDecodeError) as got:
        bootstrap._decode_event(body)
    assert str(got.value) == str(expected.value)


ANSWERS: list[Any] = [
    {"statusCode": 200, "body": "hello"},
    {"é": "ü ✓", "n": float("nan"), "i": float("-inf"), "d": decimal.Decimal("1.50")},
    {"nan": decimal.Decimal("NaN"), "t": (1, 2), "nested": [{"a": None}, True, 1e300]},
    "text é",
    1,
    None,
    [],
]


@pytest.mark.parametrize("runtime", ["python3.11", "python3.12", "python3.13"])
def test_answers_encode_as_json_dumps(runtime: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_EXECUTION_ENV", f"AWS_Lambda_{runtime}")
    encode = bootstrap._response_encoder()
    ascii_only = runtime < "python3.12"
    for answer in ANSWERS:
        expected = json.dumps(
            answer, cls=bootstrap._Encoder, ensure_ascii=ascii_only, allow_nan=True
        )
        assert encode(answer) == expected


def test_a_failed_answer_leaves_nothing_behind(monkeypatch: pytest.MonkeyPatch) -> None:
    """A container being encoded when encoding failed is no circular reference later."""
    monkeypatch.setenv("AWS_EXECUTION_ENV", "AWS_Lambda_python3.12")
    encode = bootstrap._response_encoder()
    inner = {"a": [1, 2]}
    answer = [inner, {"bad": object()}]
    with pytest.raises(TypeError, match="Object of type object is not JSON serializable"):
        encode(answer)
    answer.pop()
    assert encode(answer) == '[{"a": [1, 2]}]'
    circular: list[Any] = []
    circular.append(circular)
    for _ in range(2):
        with pytest.raises(ValueError, match="Circular reference detected"):
            encode(circular)
    assert encode(answer) == '[{"a": [1, 2]}]'
