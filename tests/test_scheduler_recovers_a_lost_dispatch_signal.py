"""A `job.execute` the channel layer lost delays the job, never loses it: the acknowledgement
timeout brings it back and it is dispatched again."""

from __future__ import annotations

import pytest

from jobs import services
from jobs.notifications import Outbox
from registry.models import Process
from tests.factories import receive
from tests.jobs_in_process import job_get
from ums_site.db import db_sync_to_async

pytestmark = pytest.mark.django_db(transaction=True)


@db_sync_to_async
def job_create_signal_lost() -> str:
    """Queues and dispatches a job, then drops the signals, as a full channel layer would."""
    process = Process.objects.get(pk="echo")
    return str(services.job_create(process=process, inputs={"message": "x"}, outbox=Outbox()).pk)


async def test_an_unsignalled_dispatch_is_sent_again_after_the_ack_timeout(connect_worker, settings):
    settings.UMS_ACK_TIMEOUT = 0.3
    settings.UMS_SWEEP_INTERVAL = 0.1
    settings.UMS_RETRY_DELAY = 0
    ws, _ = await connect_worker()
    job_id = await job_create_signal_lost()
    assert (await job_get(job_id)).attempts == 1

    assert await receive(ws) == {"type": "job.cancel", "job": job_id}
    frame = await receive(ws)
    assert (frame["type"], frame["job"], frame["attempt"]) == ("job.execute", job_id, 2)
