"""A guess of a new job's session takes its slot from the count at once: the guess of a job
created meanwhile, on another database thread, goes to another session with as many free
slots instead of queueing for the same session's lock (jobs.provider_cache)."""

from __future__ import annotations

import uuid

from jobs.provider_cache import provider_counted, provider_guess, providers_remember
from registry.models import WorkerSession


def sessions(count: int) -> dict:
    made = [WorkerSession(pk=uuid.UUID(int=index + 1), name=f"worker-{index}") for index in range(count)]
    return {session.pk: session for session in made}


def test_the_next_guess_goes_to_another_session_with_as_many_free_slots():
    two = sessions(2)
    providers_remember("echo", two, {pk: 2 for pk in two})
    first, second = provider_guess("echo"), provider_guess("echo")
    assert {first.pk, second.pk} == set(two)


def test_guesses_stop_once_the_counted_slots_are_taken():
    one = sessions(1)
    providers_remember("echo", one, {pk: 2 for pk in one})
    assert provider_guess("echo") is not None and provider_guess("echo") is not None
    assert provider_guess("echo") is None


def test_the_count_under_the_guessed_sessions_lock_replaces_the_guesses():
    one = sessions(1)
    (session,) = one.values()
    providers_remember("echo", one, {session.pk: 1})
    assert provider_guess("echo") == session
    assert provider_guess("echo") is None
    provider_counted("echo", session, 3)  # as its lock counted it: three slots free
    assert provider_guess("echo") == session
