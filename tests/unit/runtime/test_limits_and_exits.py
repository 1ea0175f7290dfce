from __future__ import annotations

import signal

import pytest

from portico.runtime.errors import RequestEntityTooLargeException
from portico.runtime.limits import check_request_size
from portico.runtime.processes import ExitStatus


def test_async_payload_limit() -> None:
    check_request_size(b"x" * 1024 * 1024, "Event")
    with pytest.raises(RequestEntityTooLargeException) as raised:
        check_request_size(b"x" * (1024 * 1024 + 1), "Event")
    assert raised.value.message == (
        "1048577 byte payload is too large for the Event invocation type (limit 1048576 bytes)"
    )
    check_request_size(b"x" * (6 * 1024 * 1024))


@pytest.mark.parametrize(
    ("status", "text"),
    [
        (ExitStatus(code=1), "exit status 1"),
        (ExitStatus(signal=signal.SIGKILL), "signal: killed"),
        (ExitStatus(signal=signal.SIGSEGV), "signal: segmentation fault"),
        (ExitStatus(signal=signal.SIGABRT), "signal: aborted"),
        (ExitStatus.from_returncode(-15), "signal: terminated"),
        (ExitStatus.from_wait_status(3 << 8), "exit status 3"),
    ],
)
def test_exit_descriptions(status: ExitStatus, text: str) -> None:
    assert status.describe() == text


def test_ids_have_aws_shapes() -> None:
    import re
    import uuid

    from portico.runtime.ids import IdGenerator

    ids = IdGenerator(seed=b"fixed")
    first = ids.request_id()
    assert uuid.UUID(first).version == 4 and first != ids.request_id()
    assert IdGenerator(seed=b"fixed").request_id() == first
    drawn = [uuid.UUID(ids.request_id()) for _ in range(2000)]
    assert {(u.version, u.variant) for u in drawn} == {(4, uuid.RFC_4122)}
    assert {str(u)[19] for u in drawn} == set("89ab")  # the variant digit takes all four
    assert len({u.int for u in drawn}) == len(drawn)
    assert re.fullmatch(
        r"Root=1-[0-9a-f]{8}-[0-9a-f]{24};Parent=[0-9a-f]{16};Sampled=0", ids.trace_id()
    )


def test_gateway_ids_have_api_gateways_shapes() -> None:
    import base64
    import re

    from portico.runtime.ids import IdGenerator

    ids = IdGenerator(seed=b"fixed")
    request_id = ids.gateway_request_id()
    assert len(request_id) == 16 and len(base64.b64decode(request_id)) == 11
    assert request_id != ids.gateway_request_id()
    assert re.fullmatch(r"Root=1-[0-9a-f]{8}-[0-9a-f]{24}", ids.trace_root())
    assert ids.trace_root() != ids.trace_root()
