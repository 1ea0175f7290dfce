"""CloudWatch Logs filter patterns: terms, phrases, OR / NOT, regex, JSON and delimited."""

from __future__ import annotations

import json

import pytest

from portico.services.logs.errors import InvalidParameterException
from portico.services.logs.filter_pattern import compile_filter_pattern

LINES = [
    "[ERROR 400] BAD REQUEST",
    "[ERROR 401] UNAUTHORIZED REQUEST",
    "[ERROR 419] MISSING ARGUMENTS",
    "[ERROR 420] INVALID ARGUMENTS",
    "[WARN 500] INTERNAL SERVER ERROR",
    "[INFO 200] OK healthcheck",
]


def matching(pattern: str, messages: list[str] = LINES) -> list[str]:
    matches = compile_filter_pattern(pattern)
    return [message for message in messages if matches(message)]


@pytest.mark.parametrize("pattern", ["", "   ", None])
def test_an_empty_pattern_matches_everything(pattern: str | None) -> None:
    assert compile_filter_pattern(pattern)("anything") is True


def test_every_plain_term_must_appear() -> None:
    assert matching("ERROR ARGUMENTS") == LINES[2:4]
    assert matching("ARGUMENTS ERROR") == LINES[2:4]


def test_terms_are_case_sensitive() -> None:
    assert matching("error") == []


def test_a_quoted_phrase_matches_as_a_whole() -> None:
    assert matching('"INTERNAL SERVER ERROR"') == [LINES[4]]
    assert matching('"SERVER INTERNAL"') == []


def test_question_mark_terms_are_alternatives() -> None:
    assert matching("?WARN ?INFO") == LINES[4:]
    assert matching('?"BAD REQUEST" ?healthcheck') == [LINES[0], LINES[5]]


def test_minus_terms_exclude() -> None:
    assert matching("ERROR -ARGUMENTS") == [LINES[0], LINES[1], LINES[4]]
    assert matching("-ERROR") == [LINES[5]]
    assert matching('-"MISSING ARGUMENTS" ARGUMENTS') == [LINES[3]]


def test_required_optional_and_excluded_combine() -> None:
    assert matching("ERROR ?400 ?401 -BAD") == [LINES[1]]


def test_regular_expressions_between_percent_signs() -> None:
    assert matching("%4[01]\\d%") == LINES[:3]
    assert matching("%^\\[INFO%") == [LINES[5]]


@pytest.mark.parametrize("pattern", ["?", "-", 'ERROR "unterminated'])
def test_malformed_term_patterns_are_refused(pattern: str) -> None:
    with pytest.raises(InvalidParameterException) as raised:
        compile_filter_pattern(pattern)
    assert raised.value.message.startswith("Invalid filter pattern")


EVENTS = [
    {"level": "ERROR", "latency": 250, "user": {"id": 7, "tags": ["a", "b"]}, "ok": False},
    {"level": "INFO", "latency": 12.5, "user": {"id": 8}, "ok": True, "trace": None},
    {"level": "ERRATIC", "latency": "slow"},
]
DOCUMENTS = [json.dumps(event) for event in EVENTS] + ["not json", "[1, 2]"]


def json_matching(pattern: str) -> list[int]:
    matches = compile_filter_pattern(pattern)
    return [index for index, message in enumerate(DOCUMENTS) if matches(message)]


def test_json_string_equality_and_wildcards() -> None:
    assert json_matching('{ $.level = "ERROR" }') == [0]
    assert json_matching("{$.level=ERROR}") == [0]
    assert json_matching('{ $.level = "ERR*" }') == [0, 2]
    assert json_matching('{ $.level != "ERROR" }') == [1, 2]


def test_json_numeric_comparisons() -> None:
    assert json_matching("{ $.latency > 100 }") == [0]
    assert json_matching("{ $.latency <= 12.5 }") == [1]
    assert json_matching("{ $.latency >= 12.5 }") == [0, 1]
    assert json_matching("{ $.latency = 250 }") == [0]
    assert json_matching("{ $.latency != 250 }") == [1, 2]
    assert json_matching("{ $.user.id < 8 }") == [0]


def test_json_nested_paths_indexes_and_missing_fields() -> None:
    assert json_matching('{ $.user.tags[1] = "b" }') == [0]
    assert json_matching('{ $.user.tags[5] = "b" }') == []
    assert json_matching('{ $.missing != "x" }') == []


def test_json_logic_and_parentheses() -> None:
    assert json_matching('{ $.level = "ERROR" && $.latency > 100 }') == [0]
    assert json_matching('{ $.level = "INFO" || $.latency > 100 }') == [0, 1]
    assert json_matching('{ ($.level = "INFO" || $.level = "ERROR") && $.ok IS FALSE }') == [0]


def test_json_is_and_exists() -> None:
    assert json_matching("{ $.ok IS TRUE }") == [1]
    assert json_matching("{ $.trace IS NULL }") == [1]
    assert json_matching("{ $.user NOT EXISTS }") == [2, 4]


@pytest.mark.parametrize(
    "pattern",
    ['{ $.level = "ERROR"', '{ $.level > "x" }', "{ level = 1 }", "{ $.a = }", "{ $.a IS MAYBE }"],
)
def test_malformed_json_patterns_are_refused(pattern: str) -> None:
    with pytest.raises(InvalidParameterException):
        compile_filter_pattern(pattern)


ACCESS = [
    '127.0.0.1 - frank [10/Oct/2000:13:25:15 -0700] "GET /apache_pb.gif HTTP/1.0" 200 1534',
    '127.0.0.1 - frank [10/Oct/2000:13:35:22 -0700] "GET /apache_pb.gif HTTP/1.0" 500 5734',
    '127.0.0.1 - frank [10/Oct/2000:13:50:35 -0700] "GET /apache_pb.gif HTTP/1.0" 404 0',
]


def test_space_delimited_fields_match_positionally() -> None:
    pattern = "[ip, identity, user, timestamp, request, status_code = 5*, bytes]"
    assert matching(pattern, ACCESS) == [ACCESS[1]]
    assert (
        matching("[ip, identity, user, timestamp, request, status, bytes > 1000]", ACCESS)
        == (ACCESS[:2])
    )


def test_space_delimited_ellipsis_and_alternatives() -> None:
    assert matching("[..., status = 404 || status = 500, bytes]", ACCESS) == ACCESS[1:]
    assert matching('[ip, ..., request = "GET /apache*", ...]', ACCESS) == ACCESS
    assert matching("[ip, user]", ACCESS) == []


def test_space_delimited_requires_closing_bracket() -> None:
    with pytest.raises(InvalidParameterException):
        compile_filter_pattern("[ip, user")
