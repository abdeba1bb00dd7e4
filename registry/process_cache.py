"""The processes execute requests named, as last read, to check the next request with.

An execute request is checked against its process's description before its job is written.
Reading the process first was a round trip of its own on every request, the first after
the database connection idled (the dearest). A cached process may be out of date: its job
is only written if the process is still as read (`process_unchanged_condition`), and
otherwise the request is checked again against the process read anew.
"""

from __future__ import annotations

from django.db import connection

from registry.models import Process

# Enough for any deployment's processes; past it the cache starts over (it is only a hint).
MAX_PROCESSES = 1024

# By process id. Database threads share it: reads and writes of one key are atomic.
_processes: dict[str, Process] = {}


def process_cached(process_id: str) -> Process | None:
    """The process as last read for an execute request, if it was; possibly out of date."""
    return _processes.get(process_id)


def process_remember(process: Process) -> None:
    if len(_processes) >= MAX_PROCESSES:
        _processes.clear()
    _processes[process.pk] = process


def process_forget(process_id: str) -> None:
    _processes.pop(process_id, None)


def process_unchanged_condition(process: Process) -> tuple[str, list]:
    """SQL that holds while `process` is stored as read (its description saved no later),
    with its parameters: a condition of the write of a job checked against it."""
    q, meta = connection.ops.quote_name, Process._meta
    table, key, updated = q(meta.db_table), q(meta.pk.column), q(meta.get_field("updated_at").column)
    updated_at = meta.get_field("updated_at").get_db_prep_value(process.updated_at, connection)
    return f"EXISTS (SELECT 1 FROM {table} WHERE {key} = %s AND {updated} = %s)", [process.pk, updated_at]
