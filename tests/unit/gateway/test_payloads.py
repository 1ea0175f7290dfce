import json
import math

import pytest

from portico.gateway import payloads


def test_events_encode_as_compact_utf8_json() -> None:
    event = {"rawPath": "/caf\u00e9", "headers": {"a": "1"}, "isBase64Encoded": False}

    encoded = payloads.encode(event)

    assert json.loads(encoded) == event
    assert b" " not in encoded
    assert "caf\u00e9".encode() in encoded


@pytest.mark.parametrize(
    "document",
    [
        {"big": 2**70},  # past 64 bits
        {"text": "\udc80"},  # a lone surrogate
        {1: "a key that is not a string"},
    ],
)
def test_what_only_the_standard_library_encodes_still_encodes(document: object) -> None:
    assert payloads.encode(document) == json.dumps(document, separators=(",", ":")).encode()


@pytest.mark.parametrize(
    "payload",
    [
        b'{"statusCode": 200, "body": "hello"}',
        b'{"n": 123456789012345678901234567890}',
        b"\xef\xbb\xbf{}",  # a UTF-8 byte-order mark
        '{"a": "\u00e9"}'.encode("utf-16"),
        b'"\\ud800"',
        b"[1e400]",
        b'{"a": 1, "a": 2}',  # the last one wins
        b"[-9223372036854775809, 18446744073709551616, 0.1234567890123456789]",
        b"[4.9406564584124654e-324, 2.2250738585072011e-308, 1e-400, -0.0]",
        b' {"\\u00e9": ["\\n", true, null]}\n',
    ],
)
def test_answers_decode_as_the_standard_library_decodes_them(payload: bytes) -> None:
    assert payloads.decode(payload) == json.loads(payload)


def test_floats_decode_as_the_standard_library_reads_them() -> None:
    numbers = [f"{n / 7 ** (n % 23):.17g}" for n in range(1, 3000)]
    numbers += [f"{n * 1.1e-300:.12e}" for n in range(1, 300)]
    payload = ("[" + ",".join(numbers) + "]").encode()
    assert payloads.decode(payload) == json.loads(payload)


def test_large_integers_keep_every_digit() -> None:
    assert payloads.decode(b"123456789012345678901234567890") == 123456789012345678901234567890


def test_nan_decodes() -> None:
    assert math.isnan(payloads.decode(b"NaN"))


@pytest.mark.parametrize("payload", [b"", b"not json", b"\xff\xfe\xfa", b'{"a": 1'])
def test_what_is_not_json_raises_value_error(payload: bytes) -> None:
    with pytest.raises(ValueError):
        payloads.decode(payload)
