"""Status documents render their times without DRF's field, exactly as it would."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from rest_framework.fields import DateTimeField

from ogc.serializers import iso_datetime

MOMENTS = [
    datetime(2026, 12, 1, 22, 15, 3, 123456, tzinfo=UTC),
    datetime(2026, 12, 1, 22, 15, 3, tzinfo=UTC),
    datetime(2026, 3, 29, 1, 30, tzinfo=timezone(timedelta(hours=2))),  # another zone: to UTC
    datetime(1999, 12, 31, 23, 59, 59, 999999, tzinfo=timezone(timedelta(hours=-5, minutes=-30))),
]


@pytest.mark.parametrize("moment", MOMENTS, ids=str)
def test_a_time_renders_as_drfs_field_renders_it(moment):
    assert iso_datetime(moment) == DateTimeField().to_representation(moment)
