"""`manage.py create_worker_token` prints the token once, on its last line, and stores a hash."""

from __future__ import annotations

import io

import pytest
from django.core.management import CommandError, call_command

from registry.models import WorkerCredential
from registry.services import credential_authenticate
from registry.tokens import token_hash


def create(*args: str) -> str:
    out = io.StringIO()
    call_command("create_worker_token", *args, stdout=out)
    return out.getvalue().strip().splitlines()[-1]


@pytest.mark.django_db
def test_it_prints_a_token_that_authenticates_and_is_stored_hashed():
    token = create("noise-lab", "--processes", "noise-*", "traffic-*")
    credential = WorkerCredential.objects.get(name="noise-lab")
    assert credential.token_hash == token_hash(token)
    assert token not in str(credential.__dict__)
    assert credential.process_patterns == ["noise-*", "traffic-*"]
    assert credential_authenticate(token) == credential
    assert credential.allows_process("noise-map") and not credential.allows_process("flood")


@pytest.mark.django_db
def test_it_refuses_a_duplicate_name():
    create("twice")
    with pytest.raises(CommandError, match="exists already"):
        create("twice")
