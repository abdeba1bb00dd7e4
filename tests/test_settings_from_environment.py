"""Settings come from the environment: working defaults, URLs switch the deployment path."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PROBE = """
import json
import ums_site.settings as s

database, layer = s.DATABASES["default"], s.CHANNEL_LAYERS["default"]
print(json.dumps({
    "engine": database["ENGINE"], "name": str(database["NAME"]), "options": database.get("OPTIONS", {}),
    "conn_max_age": database["CONN_MAX_AGE"], "layer": layer["BACKEND"],
    "hosts": layer.get("CONFIG", {}).get("hosts"), "attempts": s.UMS_JOB_MAX_ATTEMPTS,
    "origins": s.UMS_WORKER_ALLOWED_ORIGINS, "debug": s.DEBUG, "db_threads": s.UMS_DB_THREADS,
}))
"""
UMS_VARIABLES = (
    "DATABASE_URL",
    "REDIS_URL",
    "DEBUG",
    "UMS_JOB_MAX_ATTEMPTS",
    "UMS_DB_PREPARED_STATEMENTS",
    "UMS_WORKER_ALLOWED_ORIGINS",
    "UMS_DB_THREADS",
)


def load_settings(**environment: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in UMS_VARIABLES}
    env.setdefault("SECRET_KEY", "x")
    env.update(environment)
    return subprocess.run([sys.executable, "-c", PROBE], cwd=ROOT, env=env, capture_output=True, text=True)


def settings_with(**environment: str) -> dict:
    result = load_settings(**environment)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_defaults_are_sqlite_and_the_in_memory_layer():
    loaded = settings_with()
    assert loaded["engine"] == "django.db.backends.sqlite3"
    assert loaded["name"].endswith("db.sqlite3")
    assert loaded["layer"] == "channels.layers.InMemoryChannelLayer"
    assert loaded["attempts"] == 3
    assert loaded["origins"] == ["*"]
    assert loaded["debug"] is False
    assert loaded["db_threads"] == 1  # SQLite has one writer at a time


def test_database_url_switches_to_postgresql_with_a_pool():
    loaded = settings_with(DATABASE_URL="postgres://ums@db.example:5432/ums")
    assert loaded["engine"] == "django.db.backends.postgresql"
    assert loaded["name"] == "ums"
    # The database threads keep one connection each; the rest serve request threads.
    assert loaded["db_threads"] == 4
    assert loaded["options"] == {
        "pool": {"min_size": 4, "max_size": 20},
        "server_side_binding": True,
        "prepare_threshold": 5,
    }
    assert loaded["conn_max_age"] == 0


def test_ums_db_threads_sizes_the_pool():
    loaded = settings_with(DATABASE_URL="postgres://ums@db.example:5432/ums", UMS_DB_THREADS="8")
    assert loaded["options"]["pool"] == {"min_size": 8, "max_size": 24}


def test_prepared_statements_can_be_turned_off_for_a_pooler():
    loaded = settings_with(DATABASE_URL="postgres://ums@db.example:5432/ums", UMS_DB_PREPARED_STATEMENTS="0")
    assert loaded["options"] == {"pool": {"min_size": 4, "max_size": 20}}


def test_redis_url_switches_to_channels_redis():
    loaded = settings_with(REDIS_URL="redis://cache.example:6379/2")
    assert loaded["layer"] == "ums_site.channel_layer.LocalFirstPubSubChannelLayer"
    assert loaded["hosts"] == [{"address": "redis://cache.example:6379/2", "socket_timeout": 15.0}]


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        ("UMS_JOB_MAX_ATTEMPTS", "three", "UMS_JOB_MAX_ATTEMPTS must be an integer"),
        ("UMS_JOB_MAX_ATTEMPTS", "0", "UMS_JOB_MAX_ATTEMPTS must be at least 1"),
        ("UMS_DB_THREADS", "0", "UMS_DB_THREADS must be at least 1"),
        ("UMS_SYNC_TIMEOUT", "soon", "UMS_SYNC_TIMEOUT must be a number"),
        ("DEBUG", "maybe", "DEBUG must be true or false"),
        ("DATABASE_URL", "mysql://x/y", "DATABASE_URL must be a sqlite:// or postgres:// URL"),
        ("REDIS_URL", "http://x", "REDIS_URL must be a redis:// URL"),
        ("UMS_HEARTBEAT_TIMEOUT", "1", "UMS_HEARTBEAT_TIMEOUT must be longer than UMS_HEARTBEAT_INTERVAL"),
        ("UMS_API_AUTH", "closed", "UMS_API_AUTH must be 'open' or 'authenticated'"),
        ("UMS_EXECUTE_RATE", "fast", "UMS_EXECUTE_RATE must look like 60/minute"),
        ("UMS_CALLBACK_ALLOW_PRIVATE", "perhaps", "UMS_CALLBACK_ALLOW_PRIVATE must be true or false"),
        ("UMS_DB_PREPARED_STATEMENTS", "sometimes", "UMS_DB_PREPARED_STATEMENTS must be true or false"),
    ],
)
def test_a_bad_setting_stops_startup_with_a_clear_message(variable, value, message):
    result = load_settings(**{variable: value})
    assert result.returncode != 0
    assert message in result.stderr


def test_secret_key_is_required_when_debug_is_off():
    env = {k: v for k, v in os.environ.items() if k not in (*UMS_VARIABLES, "SECRET_KEY")}
    result = subprocess.run([sys.executable, "-c", PROBE], cwd=ROOT, env=env, capture_output=True, text=True)
    assert "SECRET_KEY must be set when DEBUG is off" in result.stderr
