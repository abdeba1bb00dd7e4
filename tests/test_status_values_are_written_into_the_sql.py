"""A job's status is compared as an SQL literal, so that plans prepared for any parameter values
are still made for the status (ums_site/literals.py); a value that is not a plain word, which
no status is, stays a bound parameter."""

from __future__ import annotations

import pytest

from jobs.models import ACTIVE_STATUSES, Job, JobStatus
from tests.scheduler_records import echo_process
from ums_site.literals import Literal

pytestmark = pytest.mark.django_db


def test_it_writes_a_status_into_the_sql():
    sql, params = Job.objects.filter(status=JobStatus.RUNNING).query.sql_with_params()
    assert "= 'running'" in sql
    assert params == ()


def test_it_writes_a_list_of_statuses_into_the_sql():
    sql, params = Job.objects.filter(status__in=ACTIVE_STATUSES).query.sql_with_params()
    assert "IN ('accepted', 'running')" in sql
    assert params == ()


def test_it_binds_a_value_that_is_not_a_plain_word():
    odd = "running' OR '1'='1"
    Job.objects.create(process=echo_process(), status=JobStatus.RUNNING)
    sql, params = Job.objects.filter(status=odd).query.sql_with_params()
    assert odd not in sql
    assert params == (odd,)
    assert not Job.objects.filter(status=odd).exists()
    assert not Job.objects.filter(status__in=[odd, "dismissed"]).exists()
    assert Job.objects.filter(status__in=["running", "dismissed"]).count() == 1


def test_a_literal_refuses_a_value_that_is_not_a_plain_word():
    with pytest.raises(ValueError, match="not a plain literal"):
        Literal("x'y")
