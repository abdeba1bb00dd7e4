"""The signal of a job's end carries its status document, through the channel layer's
encoding, so that a status request on another instance can answer it without a read."""

from __future__ import annotations

import msgpack
import pytest

from jobs.models import JobStatus
from jobs.notifications import Outbox, job_from_signal
from ogc.serializers import StatusInfoSerializer
from tests.ogc_factories import job_make, provide

pytestmark = pytest.mark.django_db

BASE = {"base": "http://testserver"}


def _signal(job) -> dict:
    outbox = Outbox()
    outbox.job_changed(job)
    (_, message), *_ = outbox.to_groups
    return msgpack.unpackb(msgpack.packb(message))  # as the Redis layer sends it


@pytest.mark.parametrize("status", [JobStatus.SUCCESSFUL, JobStatus.FAILED, JobStatus.DISMISSED])
def test_an_end_is_answered_from_its_signal_as_from_the_record(status):
    provide()
    job = job_make(status=status, message="the model's own words")
    signalled = job_from_signal(_signal(job))
    assert signalled is not None and signalled.owner_id == job.owner_id
    assert StatusInfoSerializer(signalled, context=BASE).data == StatusInfoSerializer(job, context=BASE).data


def test_a_change_that_is_not_an_end_carries_no_status_document():
    provide()
    assert job_from_signal(_signal(job_make(status=JobStatus.RUNNING))) is None
