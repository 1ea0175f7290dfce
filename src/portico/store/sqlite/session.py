"""One transaction on one SQLite connection, and the rule that no `sqlite3` error escapes."""

from __future__ import annotations

import functools
import sqlite3
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import ParamSpec, TypeVar

from portico.store.errors import StoreError

P = ParamSpec("P")
R = TypeVar("R")


def translate_errors(function: Callable[P, R]) -> Callable[P, R]:
    """Let no `sqlite3` exception out of `function`: each becomes a `StoreError`."""

    @functools.wraps(function)
    def translated(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return function(*args, **kwargs)
        except sqlite3.Error as exc:
            raise StoreError(f"database error: {exc}") from exc

    return translated


class Session:
    """A connection lent for one transaction. Unusable once the transaction ends, so a
    leaked handle cannot write outside the write lock."""

    def __init__(self, connection: sqlite3.Connection) -> None:
        self._connection: sqlite3.Connection | None = connection

    @property
    def connection(self) -> sqlite3.Connection:
        if self._connection is None:
            raise StoreError("the transaction has ended")
        return self._connection

    def end(self) -> None:
        self._connection = None


@contextmanager
def transaction_on(connection: sqlite3.Connection, begin: str) -> Iterator[Session]:
    """Commit when the block ends, roll back when it raises; the block's own exception goes
    on unchanged (a stray `sqlite3.Error` as a `StoreError`)."""
    session = Session(connection)
    try:
        _begin(connection, begin)
        try:
            yield session
        except sqlite3.Error as exc:
            _rollback(connection)
            raise StoreError(f"database error: {exc}") from exc
        except BaseException:
            _rollback(connection)
            raise
        _commit(connection)
    finally:
        session.end()


@translate_errors
def _begin(connection: sqlite3.Connection, begin: str) -> None:
    if connection.in_transaction:  # a rollback that failed earlier
        connection.execute("ROLLBACK")
    connection.execute(begin)


@translate_errors
def _commit(connection: sqlite3.Connection) -> None:
    try:
        connection.execute("COMMIT")
    except sqlite3.Error:
        _rollback(connection)
        raise


def _rollback(connection: sqlite3.Connection) -> None:
    # Failing to roll back must not hide why we roll back; `_begin` retries it next time.
    try:
        if connection.in_transaction:
            connection.execute("ROLLBACK")
    except sqlite3.Error:
        pass
