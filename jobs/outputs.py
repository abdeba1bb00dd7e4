"""Stored output files: named by the server, deleted only once the database agrees."""

from __future__ import annotations

import uuid
from typing import IO

from django.core.files import File
from django.core.files.storage import default_storage
from django.db import transaction
from django.db.models import QuerySet

from jobs.models import JobOutput

OUTPUTS = "outputs"


def output_file_store(*, job_id: uuid.UUID, content: IO[bytes]) -> str:
    """Saves an uploaded output; the name comes from the server alone, never from the request."""
    return default_storage.save(f"{OUTPUTS}/{job_id}/{uuid.uuid4().hex}", File(content))


def output_files_by_job() -> dict[uuid.UUID, list[str]]:
    """Every stored output file, by the job it was uploaded for (its directory's name)."""
    try:
        directories, _ = default_storage.listdir(OUTPUTS)
    except FileNotFoundError:
        return {}
    files = {}
    for directory in directories:
        try:
            job_id = uuid.UUID(directory)
        except ValueError:
            continue  # not ours
        names = default_storage.listdir(f"{OUTPUTS}/{directory}")[1]
        files[job_id] = [f"{OUTPUTS}/{directory}/{name}" for name in names]
    return files


def output_files_delete(names: list[str]) -> None:
    """Deletes stored files after the transaction commits (at once outside one).

    A rolled-back transaction still refers to its files, so they must outlive it.
    """
    names = [name for name in names if name]
    if names:
        transaction.on_commit(lambda: _delete(names))


def _delete(names: list[str]) -> None:
    for name in names:
        default_storage.delete(name)


def outputs_delete(outputs: QuerySet[JobOutput]) -> int:
    """Deletes output rows and, once that is committed, their files."""
    output_files_delete(
        list(outputs.exclude(file="").exclude(file__isnull=True).values_list("file", flat=True))
    )
    deleted, _ = outputs.delete()
    return deleted
