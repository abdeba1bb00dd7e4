"""Settings of the Urban Model Server, read from the environment (12-factor).

Nothing needs to be set for a local run: SQLite and the in-memory channel layer are the
defaults. `DATABASE_URL` and `REDIS_URL` switch to the deployment path (PostgreSQL and
channels-redis). Every variable is documented in the README's configuration table.
"""

from __future__ import annotations

import os
import re
import uuid
from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()


def env_int(name: str, default: int, *, minimum: int = 0) -> int:
    """An integer setting; a bad value stops startup with a message naming the variable."""
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be an integer, got {raw!r}") from None
    if value < minimum:
        raise ImproperlyConfigured(f"{name} must be at least {minimum}, got {value}")
    return value


def env_float(name: str, default: float, *, minimum: float = 0.0) -> float:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        value = float(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a number, got {raw!r}") from None
    if not value >= minimum:  # also refuses NaN
        raise ImproperlyConfigured(f"{name} must be at least {minimum}, got {raw}")
    return value


def env_bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    lowered = raw.strip().lower()
    if lowered in {"1", "true", "yes", "on"}:
        return True
    if lowered in {"0", "false", "no", "off"}:
        return False
    raise ImproperlyConfigured(f"{name} must be true or false, got {raw!r}")


def env_list(name: str, default: list[str]) -> list[str]:
    raw = os.environ.get(name)
    if raw is None:
        return default
    return [item.strip() for item in raw.split(",") if item.strip()]


def database_from_url(url: str, *, db_threads: int, prepared_statements: bool = True) -> dict:
    try:
        config = env.db_url_config(url)
    except Exception as exc:  # django-environ raises several types for bad URLs
        raise ImproperlyConfigured(f"DATABASE_URL is not a database URL: {exc}") from None
    engine = config.get("ENGINE", "")
    if engine not in {"django.db.backends.sqlite3", "django.db.backends.postgresql"}:
        raise ImproperlyConfigured(
            f"DATABASE_URL must be a sqlite:// or postgres:// URL, got engine {engine!r}"
        )
    # Under ASGI a persistent connection belongs to whichever thread opened it and leaks;
    # the database threads of async code keep theirs (ums_site/db.py), and psycopg's pool
    # gives the reuse to the request threads of synchronous views.
    config["CONN_MAX_AGE"] = 0
    if engine == "django.db.backends.postgresql":
        # The database threads hold one connection each; the rest serve the request threads.
        config.setdefault("OPTIONS", {})["pool"] = {"min_size": db_threads, "max_size": db_threads + 16}
        if prepared_statements:
            # Parameters bound by the server, and each statement prepared on a connection at
            # its fifth run (psycopg's threshold): PostgreSQL then skips parsing and planning,
            # a third of its CPU per job (docs/performance.md). Django's default binds on the
            # client and prepares nothing. Those plans are made for any values: statuses are
            # written into the SQL (ums_site/literals.py) so they still use the queue's indexes.
            config["OPTIONS"] |= {"server_side_binding": True, "prepare_threshold": 5}
    else:
        # Several threads write the same SQLite file: wait for the lock instead of failing.
        config.setdefault("OPTIONS", {})["timeout"] = 20
        config["OPTIONS"].setdefault("init_command", "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;")
        # Take the write lock when a transaction begins: a deferred one that reads and then
        # writes (the scheduler's) fails at once with "database is locked" if another process
        # wrote meanwhile, whatever the timeout.
        config["OPTIONS"].setdefault("transaction_mode", "IMMEDIATE")
    config["TEST"] = {"NAME": _test_database_name(config)}
    return config


def _test_database_name(config: dict) -> str | None:
    # An on-disk SQLite test database: an in-memory one belongs to one connection, and the
    # database threads (ums_site/db.py) have their own. Several pytest runs on one machine
    # must not share it.
    if config["ENGINE"] == "django.db.backends.sqlite3":
        return str(BASE_DIR / "var" / f"test-{os.getpid()}.sqlite3")
    return None


# A publish or subscribe that hangs this long fails (the layer's reader polls every 0.1 s).
REDIS_SOCKET_TIMEOUT = 15.0


def channel_layers_from_url(url: str | None) -> dict:
    if not url:
        return {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
    if not url.startswith(("redis://", "rediss://", "unix://")):
        raise ImproperlyConfigured(f"REDIS_URL must be a redis:// URL, got {url!r}")
    return {
        "default": {
            # Redis Pub/Sub: a message is one PUBLISH, received on a subscription each process
            # keeps, where the list-based layer made several round trips for every message and
            # receive (half of the event loop's CPU per job on PostgreSQL + Redis). Pub/Sub
            # delivers at most once, to whoever listens then: the database is the record and
            # these are signals, so a lost one delays a job at most until the next sweep.
            # A message to a consumer of this very process skips Redis (ums_site/channel_layer.py).
            "BACKEND": "ums_site.channel_layer.LocalFirstPubSubChannelLayer",
            "CONFIG": {
                "hosts": [{"address": url, "socket_timeout": REDIS_SOCKET_TIMEOUT}],
                "prefix": env.str("UMS_CHANNEL_PREFIX", default="ums"),
            },
        }
    }


DEBUG = env_bool("DEBUG", False)
SECRET_KEY = os.environ.get("SECRET_KEY") or (
    "insecure-development-key-set-SECRET_KEY-in-production" if DEBUG else ""
)
if not SECRET_KEY:
    raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is off")
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]"])

INSTALLED_APPS = [
    "daphne",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "corsheaders",
    "rest_framework",
    "rest_framework.authtoken",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "channels",
    "registry",
    "jobs",
    "ogc",
]

# Django's own middleware with its hooks run in the event loop (ums_site/middleware.py): the
# stock classes cost two thread hops each per request under ASGI.
MIDDLEWARE = [
    "ums_site.middleware.SecurityMiddleware",
    "corsheaders.middleware.CorsMiddleware",
    "ums_site.static_files.AsyncWhiteNoiseMiddleware",
    "ums_site.middleware.SessionMiddleware",
    "ums_site.middleware.CommonMiddleware",
    "ums_site.middleware.CsrfViewMiddleware",
    "ums_site.middleware.AuthenticationMiddleware",
    "ums_site.middleware.MessageMiddleware",
    "ums_site.middleware.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "ums_site.urls"
ASGI_APPLICATION = "ums_site.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# Lower case, so not a setting: Django's debug page would show an upper-case one, password
# and all (it masks only names such as PASSWORD).
_database_url = os.environ.get("DATABASE_URL") or f"sqlite:///{BASE_DIR / 'db.sqlite3'}"
# Threads that run the database work of async code (views, sockets, sweeps); each keeps one
# connection open. SQLite takes one writer at a time: more threads would only wait for its
# lock, in sleeps of up to 100 ms.
UMS_DB_THREADS = env_int("UMS_DB_THREADS", 1 if _database_url.startswith("sqlite") else 4, minimum=1)
# Off behind a pooler that hands a session's statements to other server connections
# (PgBouncer in transaction mode before 1.21, or without max_prepared_statements).
UMS_DB_PREPARED_STATEMENTS = env_bool("UMS_DB_PREPARED_STATEMENTS", True)
DATABASES = {
    "default": database_from_url(
        _database_url, db_threads=UMS_DB_THREADS, prepared_statements=UMS_DB_PREPARED_STATEMENTS
    )
}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = os.environ.get("REDIS_URL") or None
CHANNEL_LAYERS = channel_layers_from_url(REDIS_URL)

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

CACHES = {
    "default": (
        {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}
        if REDIS_URL
        else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
    )
}

# --- Browser and transport security -----------------------------------------------------

# Served over HTTPS (directly or behind a proxy that sets X-Forwarded-Proto): secure cookies,
# HSTS and redirects to https. Off by default so that `make run` works on plain http.
UMS_HTTPS = env_bool("UMS_HTTPS", False)
# Django's deployment checks look for its own security, CSRF and clickjacking middleware by
# path; ums_site.middleware runs subclasses of them, which ogc.checks verifies instead.
SILENCED_SYSTEM_CHECKS = ["security.W001", "security.W002", "security.W003"]
if UMS_HTTPS:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = True
    SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = env_int("UMS_HSTS_SECONDS", 31536000)
    # Subdomains and the preload list concern the whole domain, not this server: opt in.
    SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("UMS_HSTS_INCLUDE_SUBDOMAINS", False)
    SECURE_HSTS_PRELOAD = env_bool("UMS_HSTS_PRELOAD", False)
    SILENCED_SYSTEM_CHECKS += ["security.W005", "security.W021"]
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"

# CORS for the HTTP API: web front ends on other origins may call it. Cookies are not sent
# cross-origin (no credentials), so an open list exposes nothing a plain request would not.
CORS_ALLOWED_ORIGINS = env_list("UMS_CORS_ALLOWED_ORIGINS", [])
CORS_ALLOW_ALL_ORIGINS = not CORS_ALLOWED_ORIGINS
CORS_ALLOW_CREDENTIALS = False
CORS_URLS_REGEX = r"^/(?!admin/|ws/).*$"
CORS_EXPOSE_HEADERS = ["Location", "Link", "Preference-Applied", "Content-Disposition"]
CORS_ALLOW_HEADERS = ["accept", "authorization", "content-type", "prefer", "x-csrftoken", "x-requested-with"]

# Largest request body read into memory (execute requests); bigger ones get 400.
DATA_UPLOAD_MAX_MEMORY_SIZE = env_int("UMS_MAX_REQUEST_BYTES", 10 * 1024 * 1024, minimum=1024)

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = Path(env.str("UMS_STATIC_ROOT", default=str(BASE_DIR / "staticfiles")))
MEDIA_ROOT = Path(env.str("UMS_MEDIA_ROOT", default=str(BASE_DIR / "media")))
STORAGES = {
    "default": {
        "BACKEND": env.str("UMS_STORAGE_BACKEND", default="django.core.files.storage.FileSystemStorage")
    },
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
# S3-compatible output storage: UMS_STORAGE_BACKEND=storages.backends.s3.S3Storage, with
# requirements-s3.txt installed. django-storages reads these settings (same names as the
# environment variables); boto3 takes the credentials from AWS_ACCESS_KEY_ID/SECRET itself.
AWS_STORAGE_BUCKET_NAME = os.environ.get("AWS_STORAGE_BUCKET_NAME") or None
AWS_S3_ENDPOINT_URL = os.environ.get("AWS_S3_ENDPOINT_URL") or None
AWS_S3_REGION_NAME = os.environ.get("AWS_S3_REGION_NAME") or None
# Static files are served by whitenoise from the app directories when collectstatic has not run.
WHITENOISE_USE_FINDERS = True

# Who may use the OGC API: "open" (anyone; jobs of anonymous clients are shared by them) or
# "authenticated" (DRF token or session; execution needs a permission, see docs/security.md).
UMS_API_AUTH = env.str("UMS_API_AUTH", default="open").strip().lower()
if UMS_API_AUTH not in ("open", "authenticated"):
    raise ImproperlyConfigured(f"UMS_API_AUTH must be 'open' or 'authenticated', got {UMS_API_AUTH!r}")
# Execute requests per client (user, or address when anonymous), e.g. "60/minute"; counted in
# the cache (Redis when REDIS_URL is set, so shared by every instance). Unset: no limit (load
# tests and benchmarks submit thousands of jobs from one address); compose.yaml sets one.
UMS_EXECUTE_RATE = env.str("UMS_EXECUTE_RATE", default="").strip() or None
if UMS_EXECUTE_RATE and not re.fullmatch(
    r"[1-9][0-9]*/(s|sec|second|m|min|minute|h|hour|d|day)", UMS_EXECUTE_RATE
):
    raise ImproperlyConfigured(f"UMS_EXECUTE_RATE must look like 60/minute, got {UMS_EXECUTE_RATE!r}")
LOGIN_REDIRECT_URL = "/"

REST_FRAMEWORK = {
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["ogc.parsers.BoundedJSONParser"],
    # Token first: its WWW-Authenticate header makes an unauthenticated request a 401.
    # Session authentication enforces CSRF on writes.
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["ogc.permissions.ApiAccess"],
    # Proxies in front of the server that append to X-Forwarded-For (the client address
    # the execute rate is counted by); 0: REMOTE_ADDR.
    "NUM_PROXIES": env_int("UMS_NUM_PROXIES", 0),
    "EXCEPTION_HANDLER": "ogc.problems.problem_exception_handler",
    "URL_FORMAT_OVERRIDE": "f",
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}

SPECTACULAR_SETTINGS = {
    "TITLE": "Urban Model Server",
    "DESCRIPTION": "OGC API – Processes 1.0 server for urban simulation models.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "OAS_VERSION": "3.0.3",
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "ogc.openapi.openapi_postprocess",
    ],
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env.str("UMS_LOG_LEVEL", default="INFO")},
    "loggers": {"daphne": {"level": "WARNING"}, "django.channels.server": {"level": "WARNING"}},
}

# --- Urban Model Server ------------------------------------------------------------------

# Base of absolute links (behind a proxy); unset: taken from each request's host.
UMS_PUBLIC_URL = env.str("UMS_PUBLIC_URL", default="").rstrip("/")
# Origins allowed to open the worker socket. Workers are not browsers and send no Origin
# header, so "*" (any, including none) is the default.
UMS_WORKER_ALLOWED_ORIGINS = env_list("UMS_WORKER_ALLOWED_ORIGINS", ["*"])
UMS_JOB_MAX_ATTEMPTS = env_int("UMS_JOB_MAX_ATTEMPTS", 3, minimum=1)
# Seconds a job may wait for a provider of its process before it fails.
UMS_QUEUE_TIMEOUT = env_float("UMS_QUEUE_TIMEOUT", 3600.0, minimum=1.0)
# Seconds a synchronous execute waits before answering as an asynchronous one.
UMS_SYNC_TIMEOUT = env_float("UMS_SYNC_TIMEOUT", 30.0, minimum=0.0)
# Seconds a worker has to acknowledge job.execute (job.started, or any later report on the job)
# before the job is requeued.
UMS_ACK_TIMEOUT = env_float("UMS_ACK_TIMEOUT", 30.0, minimum=0.1)
# Seconds before a job a session gave back (rejected, did not acknowledge) is offered to that
# same session again; other sessions may take it at once.
UMS_RETRY_DELAY = env_float("UMS_RETRY_DELAY", 5.0, minimum=0.0)
# Seconds between heartbeats a worker is asked for, and after which a silent session is dead.
UMS_HEARTBEAT_INTERVAL = env_float("UMS_HEARTBEAT_INTERVAL", 15.0, minimum=0.1)
UMS_HEARTBEAT_TIMEOUT = env_float("UMS_HEARTBEAT_TIMEOUT", 45.0, minimum=0.2)
if UMS_HEARTBEAT_TIMEOUT <= UMS_HEARTBEAT_INTERVAL:
    raise ImproperlyConfigured("UMS_HEARTBEAT_TIMEOUT must be longer than UMS_HEARTBEAT_INTERVAL")
# Seconds between two sweeps of each server instance (dead sessions, ack and queue timeouts).
UMS_SWEEP_INTERVAL = env_float("UMS_SWEEP_INTERVAL", 2.0, minimum=0.05)
# Days after which finished jobs and their files are purged by `manage.py purge_jobs`.
UMS_RESULT_RETENTION_DAYS = env_float("UMS_RESULT_RETENTION_DAYS", 7.0, minimum=0.0)
# Most values one input of `maxOccurs: unbounded` takes in an execute request.
UMS_MAX_INPUT_OCCURRENCES = env_int("UMS_MAX_INPUT_OCCURRENCES", 1000, minimum=1)
# Largest output a worker may upload (PUT /jobs/{id}/outputs/{outputId}).
UMS_MAX_UPLOAD_BYTES = env_int("UMS_MAX_UPLOAD_BYTES", 1024**3, minimum=1024)
# The base map under GeoJSON results on the HTML results page: a tile URL template such as
# https://tile.openstreetmap.org/{z}/{x}/{y}.png (mind its usage policy) and its attribution.
# Unset: the results are drawn without a base map, and browsers fetch nothing from elsewhere.
UMS_MAP_TILE_URL = env.str("UMS_MAP_TILE_URL", default="")
UMS_MAP_TILE_ATTRIBUTION = env.str("UMS_MAP_TILE_ATTRIBUTION", default="")
# Largest WebSocket frame a worker may send; larger outputs go over HTTP.
UMS_MAX_FRAME_BYTES = env_int("UMS_MAX_FRAME_BYTES", 1024 * 1024, minimum=1024)
# Callbacks to job subscribers: seconds per POST, attempts, and the first retry delay (doubling).
UMS_CALLBACK_TIMEOUT = env_float("UMS_CALLBACK_TIMEOUT", 5.0, minimum=0.1)
UMS_CALLBACK_ATTEMPTS = env_int("UMS_CALLBACK_ATTEMPTS", 8, minimum=1)
UMS_CALLBACK_RETRY_DELAY = env_float("UMS_CALLBACK_RETRY_DELAY", 5.0, minimum=0.01)
# Callbacks may reach private, loopback and link-local addresses (checked after DNS
# resolution). Off: a client could otherwise make the server post into its own network.
UMS_CALLBACK_ALLOW_PRIVATE = env_bool("UMS_CALLBACK_ALLOW_PRIVATE", False)
# Identifies this server process in worker sessions (diagnostics only: recovery needs none).
UMS_INSTANCE_ID = env.str(
    "UMS_INSTANCE_ID", default=f"{os.uname().nodename}-{os.getpid()}-{uuid.uuid4().hex[:6]}"
)
