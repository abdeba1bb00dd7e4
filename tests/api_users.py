"""API users for the access tests: token and session clients, execute requests."""

from __future__ import annotations

from django.contrib.auth.models import Permission
from django.test import Client
from rest_framework.authtoken.models import Token


def token_client(user) -> Client:
    """A client authenticated like an API client: `Authorization: Token ...`."""
    token, _ = Token.objects.get_or_create(user=user)
    return Client(headers={"Authorization": f"Token {token.key}"})


def may_execute_everything(user) -> None:
    user.user_permissions.add(Permission.objects.get(codename="execute_process"))


def execute(client: Client, process_id: str = "echo", **extra):
    return client.post(
        f"/processes/{process_id}/execution",
        {"inputs": {"message": "hi"}},
        content_type="application/json",
        headers={"Prefer": "respond-async"},
        **extra,
    )
