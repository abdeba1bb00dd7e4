"""Process grants are managed in the admin."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group

from registry.models import ProcessGrant

pytestmark = pytest.mark.django_db


def test_it_lets_staff_grant_processes_in_the_admin(admin_client):
    group = Group.objects.create(name="noise team")
    response = admin_client.post(
        "/admin/registry/processgrant/add/", {"group": group.pk, "process_patterns": '["noise-*"]'}
    )
    assert response.status_code == 302
    assert ProcessGrant.objects.get().process_patterns == ["noise-*"]
    assert "noise team" in admin_client.get("/admin/registry/processgrant/").content.decode()
