"""Every backend behind the same fixtures, so one test body checks them all."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from portico.store import Database, DurableQueue, ManualClock
from tests.functional.store.backends import BACKENDS, Backend, Handles


@pytest.fixture(params=sorted(BACKENDS))
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Backend]:
    opened = BACKENDS[request.param](tmp_path)
    try:
        yield opened
    finally:
        opened.close_all()


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def handles(backend: Backend, clock: ManualClock) -> Handles:
    return backend.open(clock)


@pytest.fixture
def db(handles: Handles) -> Database:
    return handles.database


@pytest.fixture
def queue(handles: Handles) -> DurableQueue:
    return handles.queue
