"""When an instance starts, sessions nobody can be holding any more end at once, and their jobs
go back to the queue, instead of waiting for the heartbeat timeout."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from jobs.notifications import Outbox
from jobs.scheduler import sessions_end_orphaned
from registry.models import WorkerSession
from tests.scheduler_records import running_job_create, session_create

pytestmark = pytest.mark.django_db(transaction=True)


def live_names() -> set[str]:
    return set(WorkerSession.objects.live().values_list("name", flat=True))


def test_sessions_of_this_instance_from_before_it_started_end(settings):
    settings.CHANNEL_LAYERS = {"default": {"BACKEND": "channels_redis.pubsub.RedisPubSubChannelLayer"}}
    started = timezone.now()
    before = session_create(connected_at=started - timedelta(minutes=5))
    job = running_job_create(before)
    since = session_create()
    elsewhere = session_create(instance="another-instance", connected_at=started - timedelta(minutes=5))

    assert sessions_end_orphaned(started=started, outbox=Outbox()) == 1

    assert live_names() == {since.name, elsewhere.name}, "other instances may be alive (Redis)"
    job.refresh_from_db()
    assert (job.status, job.session) == ("accepted", None)
    assert job.message == "Requeued: worker session ended (server restarted)"


def test_with_the_in_memory_layer_sessions_of_other_instances_end_too(settings):
    settings.CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
    started = timezone.now()
    session_create(instance="a-previous-process")
    mine = session_create()

    assert sessions_end_orphaned(started=started, outbox=Outbox()) == 1

    assert live_names() == {mine.name}
