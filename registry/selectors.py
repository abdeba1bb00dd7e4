"""Reads of the registry."""

from __future__ import annotations

from django.db.models import QuerySet

from registry.models import Process


def process_list() -> QuerySet[Process]:
    return Process.objects.listed().order_by("id")


def process_get(process_id: str) -> Process | None:
    return process_list().filter(pk=process_id).first()
