"""`manage.py check --deploy` is clean with production settings (DEBUG off, secret from the
environment, HTTPS), and notices protective middleware that is missing."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys

from django.test import override_settings

from ogc.checks import protective_middleware_check
from tests.live import ROOT

PRODUCTION = {
    "DEBUG": "0",
    "SECRET_KEY": secrets.token_hex(32),
    "ALLOWED_HOSTS": "ums.example.org",
    "UMS_HTTPS": "1",
}


def test_it_passes_the_deployment_checks_with_production_settings():
    env = {k: v for k, v in os.environ.items() if not k.startswith(("UMS_", "DJANGO_"))} | PRODUCTION
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_it_notices_missing_protective_middleware():
    with override_settings(MIDDLEWARE=["ums_site.middleware.SessionMiddleware"]):
        warnings = protective_middleware_check(None)
    assert [warning.msg.split()[1] for warning in warnings] == [
        "django.middleware.security.SecurityMiddleware",
        "django.middleware.csrf.CsrfViewMiddleware",
        "django.middleware.clickjacking.XFrameOptionsMiddleware",
    ]
