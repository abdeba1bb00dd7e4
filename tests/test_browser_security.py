"""CORS for OGC web clients, security headers, and request size limits."""

from __future__ import annotations

import pytest
from django.test import AsyncClient, Client

pytestmark = pytest.mark.django_db


def test_cors_lets_web_clients_read_the_headers_ogc_needs(client: Client):
    response = client.get("/processes", headers={"Origin": "https://viewer.example"})
    assert response["Access-Control-Allow-Origin"] == "*"
    exposed = {h.strip().lower() for h in response["Access-Control-Expose-Headers"].split(",")}
    assert {"location", "link", "preference-applied"} <= exposed
    assert "Access-Control-Allow-Credentials" not in response


def test_cors_preflight_allows_prefer_on_execution(client: Client):
    response = client.options(
        "/processes/echo/execution",
        headers={
            "Origin": "https://viewer.example",
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type, prefer",
        },
    )
    assert response.status_code == 200
    assert "prefer" in response["Access-Control-Allow-Headers"]


def test_cors_can_be_limited_to_listed_origins(client: Client, settings):
    settings.CORS_ALLOW_ALL_ORIGINS = False
    settings.CORS_ALLOWED_ORIGINS = ["https://city.example"]
    assert client.get("/", headers={"Origin": "https://city.example"})["Access-Control-Allow-Origin"]
    assert "Access-Control-Allow-Origin" not in client.get("/", headers={"Origin": "https://evil.example"})


def test_the_admin_is_not_open_to_cross_origin_reads(client: Client):
    assert "Access-Control-Allow-Origin" not in client.get(
        "/admin/login/", headers={"Origin": "https://x.example"}
    )


def test_security_headers_are_set(client: Client):
    response = client.get("/")
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["X-Frame-Options"] == "DENY"
    assert response["Referrer-Policy"] == "same-origin"


@pytest.mark.django_db(transaction=True)
async def test_an_oversized_request_body_is_a_problem_not_a_crash(connect_worker, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1024
    ws, _ = await connect_worker()
    body = '{"inputs": {"message": "' + "x" * 4096 + '"}}'
    response = await AsyncClient().post("/processes/echo/execution", body, content_type="application/json")
    assert response.status_code == 400
    assert response.json()["status"] == 400
    assert await ws.receive_nothing(timeout=0.2)
