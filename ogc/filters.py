"""The job list's query parameters (OGC job-list conformance class), as a django-filter set.

Every filter becomes a database condition; bad values are collected as form errors and
answered with 400.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import django_filters
from django import forms
from django.db.models import F, Q, QuerySet
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django_filters.widgets import QueryArrayWidget

from jobs.models import JobStatus

OPEN = ".."


class StringsField(forms.Field):
    """A repeatable string parameter (`?processID=a&processID=b`)."""

    widget = QueryArrayWidget

    def to_python(self, value: Any) -> list[str]:
        return [str(item) for item in value or []]


class IntervalField(forms.CharField):
    """An RFC 3339 instant, or an interval `start/end` where either end may be `..` (open)."""

    def to_python(self, value: Any) -> tuple[datetime | None, datetime | None] | None:
        text = super().to_python(value)
        if not text:
            return None
        if "/" not in text:
            instant = _instant(text)
            return instant, instant
        start, end = text.split("/", 1)
        interval = (_instant(start, open_allowed=True), _instant(end, open_allowed=True))
        if interval == (None, None):
            raise forms.ValidationError("an interval needs at least one end")
        if None not in interval and interval[0] > interval[1]:
            raise forms.ValidationError("the interval ends before it starts")
        return interval


def _instant(text: str, *, open_allowed: bool = False) -> datetime | None:
    if open_allowed and text in (OPEN, ""):
        return None
    try:
        instant = parse_datetime(text)
    except ValueError:
        instant = None
    if instant is None:
        raise forms.ValidationError(f"{text!r} is not an RFC 3339 date-time such as 2026-01-31T12:00:00Z")
    return instant if timezone.is_aware(instant) else timezone.make_aware(instant, timezone.UTC)


class StringsFilter(django_filters.Filter):
    field_class = StringsField


class IntervalFilter(django_filters.Filter):
    field_class = IntervalField


class SecondsFilter(django_filters.Filter):
    field_class = forms.IntegerField


class JobFilter(django_filters.FilterSet):
    type = django_filters.MultipleChoiceFilter(
        choices=[("process", "process")], widget=QueryArrayWidget, method="filter_type"
    )
    processID = StringsFilter(field_name="process_id", lookup_expr="in")
    status = django_filters.MultipleChoiceFilter(choices=JobStatus.choices, widget=QueryArrayWidget)
    datetime = IntervalFilter(method="filter_datetime")
    # At most ~30 years: larger spans overflow date arithmetic.
    minDuration = SecondsFilter(min_value=0, max_value=10**9, method="filter_min_duration")
    maxDuration = SecondsFilter(min_value=0, max_value=10**9, method="filter_max_duration")

    def filter_type(self, queryset: QuerySet, name: str, value: list[str]) -> QuerySet:
        return queryset  # every job of this server is a process job

    def filter_datetime(self, queryset: QuerySet, name: str, value) -> QuerySet:
        start, end = value
        if start is not None:
            queryset = queryset.filter(created__gte=start)
        if end is not None:
            queryset = queryset.filter(created__lte=end)
        return queryset

    def filter_min_duration(self, queryset: QuerySet, name: str, value: int) -> QuerySet:
        return _by_duration(queryset, value, at_least=True)

    def filter_max_duration(self, queryset: QuerySet, name: str, value: int) -> QuerySet:
        return _by_duration(queryset, value, at_least=False)


def _by_duration(queryset: QuerySet, seconds: int, *, at_least: bool) -> QuerySet:
    """Jobs that ran at least (or at most) `seconds`: from their start to their end, or to now
    while they run. Jobs that have not started have no duration and match neither."""
    span = timedelta(seconds=seconds)
    longer, shorter = ("gte", "lte") if at_least else ("lte", "gte")
    return queryset.filter(
        Q(finished__isnull=False, **{f"finished__{longer}": F("started") + span})
        | Q(finished__isnull=True, **{f"started__{shorter}": timezone.now() - span}),
        started__isnull=False,
    )
