"""Several statements sent to PostgreSQL at once and run as one transaction, in one round trip.

psycopg's pipeline mode sends the statements, then one `Sync`, which ends the transaction they
ran in: it commits if all succeeded, and rolls back otherwise. Each statement still sees what
was committed before it began (READ COMMITTED), so a row lock the first one waited for is held,
with the other transaction's work visible, by the time the next one looks. A round trip to a
database woken from idle is the dearest part of a short statement (docs/performance.md).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.db import DEFAULT_DB_ALIAS, NotSupportedError, connections
from django.db.transaction import TransactionManagementError


@dataclass(frozen=True)
class Ran:
    """What one statement gave: its rows (None if it returns none) and its row count."""

    rows: list[tuple] | None
    rowcount: int


def in_one_round_trip(
    statements: Sequence[tuple[str, Sequence[Any]]], *, using: str = DEFAULT_DB_ALIAS
) -> list[Ran]:
    """Runs the (SQL, parameters) statements in order, as one transaction, in one round trip to
    PostgreSQL; outside a transaction (it commits its own). Database errors are Django's, raised
    once all have run or the first failed, with nothing written."""
    connection = connections[using]
    if connection.vendor != "postgresql":
        raise NotSupportedError("in_one_round_trip needs PostgreSQL (psycopg's pipeline mode)")
    if not connection.get_autocommit():
        raise TransactionManagementError("in_one_round_trip runs outside a transaction: it commits its own")
    cursors = [connection.cursor() for _ in statements]
    try:
        with connection.wrap_database_errors, connection.connection.pipeline():
            for cursor, (sql, params) in zip(cursors, statements, strict=True):
                cursor.execute(sql, params)
        return [Ran(cursor.fetchall() if cursor.description else None, cursor.rowcount) for cursor in cursors]
    finally:
        for cursor in cursors:
            cursor.close()
