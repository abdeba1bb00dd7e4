"""Staff change jobs only through the admin's actions, which keep the job state machine.

Dismiss stops the worker; requeue takes a job back from its worker (as after a fault); retry
makes a failed job's request a new job; purge deletes final jobs only. No form writes a job.
"""

from __future__ import annotations

import pytest
from asgiref.sync import sync_to_async
from django.contrib.auth.models import Permission, User
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage

from jobs.models import Job, JobOutput
from registry.models import Process
from tests.factories import ECHO, receive
from tests.jobs_in_process import echo_job_create, job_get, take

pytestmark = pytest.mark.django_db(transaction=True)

CHANGELIST = "/admin/jobs/job/"


def act(client, action: str, *job_ids: str) -> list[str]:
    """Runs an admin action on these jobs as the changelist's form does; the messages shown."""
    response = client.post(CHANGELIST, {"action": action, "_selected_action": list(job_ids)}, follow=True)
    assert response.status_code == 200
    return [str(message) for message in response.context["messages"]]


async def act_async(client, action: str, *job_ids: str) -> list[str]:
    return await sync_to_async(act)(client, action, *job_ids)


def finished_job(status: str, **fields) -> Job:
    return Job.objects.create(process=Process.objects.get(pk="echo"), status=status, **fields)


async def test_dismiss_tells_the_worker_to_stop_and_frees_its_slot(connect_worker, admin_client):
    ws, _ = await connect_worker(capacity=1)
    first = await echo_job_create("first")
    second = await echo_job_create("second")
    assert await take(ws) == first

    messages = await act_async(admin_client, "dismiss", first)

    assert messages == ["Dismissed 1 job(s)."]
    assert await receive(ws) == {"type": "job.cancel", "job": first}
    assert await take(ws) == second
    assert (await job_get(first)).status == "dismissed"


async def test_requeue_takes_a_running_job_back_and_another_worker_runs_it(connect_worker, admin_client):
    ws, _ = await connect_worker(capacity=1)
    job_id = await echo_job_create()
    await take(ws)
    other, _ = await connect_worker(capacity=1)

    messages = await act_async(admin_client, "requeue", job_id)

    assert messages[0].startswith("Requeued 1 job(s); 0 failed, out of attempts; 0 skipped")
    assert await receive(ws) == {"type": "job.cancel", "job": job_id}
    frame = await receive(other)
    assert frame["type"] == "job.execute" and frame["job"] == job_id and frame["attempt"] == 2
    job = await job_get(job_id)
    assert job.status == "accepted" and job.message == "Requeued: taken back by staff"


async def test_requeue_fails_a_job_that_used_up_its_attempts(connect_worker, admin_client, settings):
    settings.UMS_JOB_MAX_ATTEMPTS = 1
    ws, _ = await connect_worker()
    job_id = await echo_job_create()
    await take(ws)

    messages = await act_async(admin_client, "requeue", job_id)

    assert messages[0].startswith("Requeued 0 job(s); 1 failed, out of attempts")
    assert await receive(ws) == {"type": "job.cancel", "job": job_id}
    job = await job_get(job_id)
    assert job.status == "failed" and job.message.startswith("Gave up after 1 attempt(s)")


async def test_requeue_and_retry_leave_jobs_alone_where_they_do_not_apply(connect_worker, admin_client):
    ws, _ = await connect_worker(capacity=1)
    await echo_job_create("busy")
    await take(ws)
    queued = await echo_job_create("queued")
    successful = await sync_to_async(finished_job)("successful", progress=100)
    before = {job.pk: (job.status, job.updated) for job in await _jobs()}

    requeued = await act_async(admin_client, "requeue", queued, str(successful.pk))
    retried = await act_async(admin_client, "retry", queued, str(successful.pk))

    assert requeued[0].startswith("Requeued 0 job(s); 0 failed, out of attempts; 2 skipped")
    assert retried[0].startswith("Created 0 new job(s); 2 skipped")
    assert {job.pk: (job.status, job.updated) for job in await _jobs()} == before


@sync_to_async
def _jobs() -> list[Job]:
    return list(Job.objects.all())


@pytest.fixture
def echo(transactional_db) -> Process:
    return Process.objects.create(pk="echo", version="1.0.0", description=ECHO)


def test_retry_queues_a_new_job_with_the_request_of_the_failed_one(echo, admin_client, admin_user):
    failed = finished_job(
        "failed", inputs={"message": "again"}, owner=admin_user, response="document", error={"title": "x"}
    )

    messages = act(admin_client, "retry", str(failed.pk))

    assert messages[0].startswith("Created 1 new job(s); 0 skipped")
    retry = Job.objects.exclude(pk=failed.pk).get()
    assert (retry.status, retry.inputs, retry.owner, retry.response, retry.attempts) == (
        "accepted",
        {"message": "again"},
        admin_user,
        "document",
        0,
    )
    failed.refresh_from_db()
    assert failed.status == "failed"


def test_purge_deletes_final_jobs_and_their_files_and_keeps_active_ones(
    echo, admin_client, settings, tmp_path
):
    settings.MEDIA_ROOT = tmp_path
    done = finished_job("successful")
    name = default_storage.save(f"outputs/{done.pk}/data", ContentFile(b"result"))
    JobOutput.objects.create(job=done, output_id="echo", file=name, size=6)
    running = finished_job("running")

    messages = act(admin_client, "purge", str(done.pk), str(running.pk))

    assert messages == ["Purged 1 job(s); 1 active job(s) kept (dismiss them first)."]
    assert list(Job.objects.values_list("pk", flat=True)) == [running.pk]
    assert not default_storage.exists(name)


def test_no_form_writes_a_job_and_deleting_is_only_the_purge(echo, admin_client):
    job = finished_job("running", progress=10)
    page = admin_client.get(f"{CHANGELIST}{job.pk}/change/").text
    assert 'name="_save"' not in page

    assert admin_client.post(f"{CHANGELIST}{job.pk}/change/", {"status": "successful"}).status_code == 403
    assert admin_client.post(f"{CHANGELIST}{job.pk}/delete/", {"post": "yes"}).status_code == 403
    job.refresh_from_db()
    assert (job.status, job.progress) == ("running", 10)


def test_staff_without_the_delete_permission_cannot_purge(echo, client):
    staff = User.objects.create_user("operator", password="pw", is_staff=True)
    staff.user_permissions.add(*Permission.objects.filter(codename__in=["view_job", "change_job"]))
    client.force_login(staff)

    actions = client.get(CHANGELIST).context["action_form"].fields["action"].choices

    assert {name for name, _ in actions} == {"", "dismiss", "requeue", "retry"}
