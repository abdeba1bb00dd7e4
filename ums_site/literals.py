"""Values of a few kinds, such as a job's status, written into a query's SQL text instead of
being bound as parameters.

PostgreSQL plans a prepared statement for any parameter values once it has run a few times
(a generic plan: psycopg prepares a statement at its fifth run, settings.py). For a status
given as a parameter that plan knows neither which rows the value selects nor whether a
partial index's condition holds: it read the whole status index for the queue's waiting jobs
(not `job_queue`, whose condition is `status = 'accepted'`), and all of a session's jobs to
count its active ones. With the status written in, each plan is made for it, as it is
without prepared statements. A handful of statuses gives a handful of statements.
"""

from __future__ import annotations

import re
from typing import Any

from django.db.models import BooleanField, CharField, Value
from django.db.models.lookups import Exact, In

# Only such values are written in; anything else (a caller's mistake) stays a parameter.
_PLAIN = re.compile(r"[A-Za-z0-9_]+")


def is_plain(value: Any) -> bool:
    return isinstance(value, bool) or (isinstance(value, str) and _PLAIN.fullmatch(value) is not None)


def sql_literal(value: str | bool, vendor: str) -> str:
    """A plain value as SQL, spelled as the database spells it in an index's condition."""
    if isinstance(value, bool):
        return str(value).lower() if vendor == "postgresql" else str(int(value))
    if not is_plain(value):
        raise ValueError(f"not a plain literal: {value!r}")
    return f"'{value}'"


class Literal(Value):
    """A plain string or a boolean written into the SQL (`filter(pending=Literal(True))`)."""

    def __init__(self, value: str | bool) -> None:
        if not is_plain(value):
            raise ValueError(f"not a plain literal: {value!r}")
        super().__init__(value, BooleanField() if isinstance(value, bool) else CharField())

    def as_sql(self, compiler: Any, connection: Any) -> tuple[str, list]:
        return sql_literal(self.value, connection.vendor), []


class _LiteralExact(Exact):
    def process_rhs(self, compiler: Any, connection: Any) -> tuple[str, list]:
        if self.rhs_is_direct_value() and is_plain(self.rhs):
            return sql_literal(self.rhs, connection.vendor), []
        return super().process_rhs(compiler, connection)


class _LiteralIn(In):
    def batch_process_rhs(self, compiler: Any, connection: Any, rhs: Any = None) -> tuple[list, list]:
        values = self.rhs if rhs is None else rhs
        if all(is_plain(value) for value in values):
            return [sql_literal(value, connection.vendor) for value in values], []
        return super().batch_process_rhs(compiler, connection, rhs)


class LiteralCharField(CharField):
    """A CharField of a few word-like values (choices) compared as literals (`=` and `in`).

    It stores and migrates as a plain CharField: only the SQL of its lookups differs.
    """

    def deconstruct(self) -> Any:
        name, _, args, kwargs = super().deconstruct()
        return name, "django.db.models.CharField", args, kwargs


LiteralCharField.register_lookup(_LiteralExact)
LiteralCharField.register_lookup(_LiteralIn)
