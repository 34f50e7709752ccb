"""Synthreg settings: everything from environment variables, with working local defaults.

Defaults give a self-contained local platform: SQLite and files under ``var/``, and an
embedded broker (kombu's filesystem transport) that still runs a real, separate Celery
worker. Set ``DATABASE_URL``, ``CELERY_BROKER_URL`` (or ``REDIS_URL``) and
``SYNTHREG_S3_BUCKET`` to switch on PostgreSQL, Redis and object storage.
"""

from __future__ import annotations

import os
import secrets
import sys
from datetime import timedelta
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parents[2]
# Under pytest, default to a separate folder so tests never touch a local run's data.
_default_var = BASE_DIR / "var" / ("test" if "pytest" in sys.modules else "")
VAR_DIR = Path(os.environ.get("SYNTHREG_VAR_DIR", _default_var)).resolve()
VAR_DIR.mkdir(parents=True, exist_ok=True)


def env_bool(name: str, default: bool = False) -> bool:
    return os.environ.get(name, str(default)).strip().lower() in {"1", "true", "yes", "on"}


PRODUCTION = os.environ.get("SYNTHREG_ENV", "local") == "production"
DEBUG = env_bool("DEBUG", False)


# Extra generators by dotted path to a GeneratorSpec (beside built-ins and entry-point plugins).
SYNTHREG_GENERATORS = [p for p in os.environ.get("SYNTHREG_GENERATORS", "").split(",") if p]
# Dotted paths of a deployment's own job types (jobs.types.JobType), beside the built-ins and plugins.
SYNTHREG_JOB_TYPES = [p for p in os.environ.get("SYNTHREG_JOB_TYPES", "").split(",") if p]
# A deployment's own data formats, by dotted path (contracts.formats).
SYNTHREG_FORMATS = [p for p in os.environ.get("SYNTHREG_FORMATS", "").split(",") if p]


def _secret_key() -> str:
    if key := os.environ.get("SECRET_KEY"):
        return key
    if PRODUCTION:
        raise ImproperlyConfigured("SECRET_KEY must be set when SYNTHREG_ENV=production.")
    # Local runs: generate once and keep it, so sessions survive restarts.
    path = VAR_DIR / "secret_key"
    if not path.exists():
        path.write_text(secrets.token_urlsafe(50))
        path.chmod(0o600)
    return path.read_text().strip()


SECRET_KEY = _secret_key()
ALLOWED_HOSTS = [h for h in os.environ.get("ALLOWED_HOSTS", "localhost,127.0.0.1,[::1],testserver").split(",") if h]
CSRF_TRUSTED_ORIGINS = [o for o in os.environ.get("CSRF_TRUSTED_ORIGINS", "").split(",") if o]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "axes",
    "django_filters",
    "rest_framework",
    "rest_framework.authtoken",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_htmx",
    "synthreg",
    "access",
    "catalog",
    "jobs",
    "api",
    "portal",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "synthreg.middleware.RequestLimitsMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    # Last, so it turns a login that axes refused into the lockout answer.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "synthreg.urls"
WSGI_APPLICATION = "synthreg.wsgi.application"
ASGI_APPLICATION = "synthreg.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
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

DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL", f"sqlite:///{VAR_DIR / 'db.sqlite3'}"), conn_max_age=60
    )
}
if DATABASES["default"]["ENGINE"].endswith("sqlite3"):
    # A file-backed test database, so a separate worker process sees what tests write.
    DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / "test-db.sqlite3")}
    # IMMEDIATE: a transaction takes the write lock when it begins, so concurrent workers wait
    # for it (timeout) instead of failing "database is locked" when a read turns into a write.
    DATABASES["default"]["OPTIONS"] = {"timeout": 30, "init_command": "PRAGMA journal_mode=WAL;",
                                       "transaction_mode": "IMMEDIATE"}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "portal:home"
LOGOUT_REDIRECT_URL = "portal:home"

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "static"
STATIC_ROOT.mkdir(exist_ok=True)  # whitenoise serves from here (after collectstatic)
MEDIA_ROOT = VAR_DIR / "media"

# Storage: local files by default; S3-compatible object storage when a bucket is named.
if bucket := os.environ.get("SYNTHREG_S3_BUCKET"):
    _datasets_storage = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": bucket,
            "endpoint_url": os.environ.get("SYNTHREG_S3_ENDPOINT_URL"),
            "location": "datasets",
            "file_overwrite": False,
        },
    }
else:
    _datasets_storage = {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": str(MEDIA_ROOT / "datasets")},
    }
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "datasets": _datasets_storage,
    # Served by whitenoise under gunicorn too (collectstatic first), gzipped copies beside.
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
# Where jobs write outputs before publishing them (always local, per job).
SYNTHREG_STAGING_DIR = VAR_DIR / "staging"

# --- Jobs and Celery -------------------------------------------------------------------
# The longest a job may run; the task time limit and the broker's visibility timeout
# must both exceed it (system check jobs.E001 says so when they do not).
SYNTHREG_JOB_MAX_SECONDS = int(os.environ.get("SYNTHREG_JOB_MAX_SECONDS", 6 * 3600))
SYNTHREG_JOB_MAX_ATTEMPTS = int(os.environ.get("SYNTHREG_JOB_MAX_ATTEMPTS", 3))
# A running job whose worker is on another host is presumed lost when silent this long.
SYNTHREG_JOB_LEASE_SECONDS = int(os.environ.get("SYNTHREG_JOB_LEASE_SECONDS", 600))

# Generate jobs larger than this many samples fan out as shard jobs across workers.
SYNTHREG_SHARD_SIZE = int(os.environ.get("SYNTHREG_SHARD_SIZE", 100_000))

# Every worker sweeps this often for jobs waiting in the database whose broker message was lost
# (a restarted Redis, a worker killed whole) and sends them again: within about two sweeps.
SYNTHREG_SWEEP_SECONDS = float(os.environ.get("SYNTHREG_SWEEP_SECONDS", 30))

REDIS_URL = os.environ.get("REDIS_URL")
CELERY_BROKER_URL = os.environ.get("CELERY_BROKER_URL") or REDIS_URL or "filesystem://localhost/"
CELERY_TASK_TIME_LIMIT = int(os.environ.get("CELERY_TASK_TIME_LIMIT", SYNTHREG_JOB_MAX_SECONDS + 600))
CELERY_TASK_SOFT_TIME_LIMIT = SYNTHREG_JOB_MAX_SECONDS
if CELERY_BROKER_URL.startswith("filesystem://"):
    _broker_dir = Path(os.environ.get("SYNTHREG_BROKER_DIR", VAR_DIR / "broker"))
    for sub in ("queue", "processed", "control"):
        (_broker_dir / sub).mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_broker_dir / "queue"),
        "data_folder_out": str(_broker_dir / "queue"),
        "processed_folder": str(_broker_dir / "processed"),
        "control_folder": str(_broker_dir / "control"),
        "store_processed": False,
        "polling_interval": 0.2,
    }
else:
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "visibility_timeout": int(
            os.environ.get("CELERY_VISIBILITY_TIMEOUT", CELERY_TASK_TIME_LIMIT + 3600)
        ),
    }
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_DEFAULT_QUEUE = "cpu"
CELERY_TASK_CREATE_MISSING_QUEUES = True
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_WORKER_HIJACK_ROOT_LOGGER = False

# --- Limits ------------------------------------------------------------------------------
# Checked when a job is submitted (jobs/limits.py), against its estimate; a refusal names the
# setting. Per job: bytes written, samples made, cost (pixel or cell values computed).
SYNTHREG_MAX_JOB_BYTES = int(os.environ.get("SYNTHREG_MAX_JOB_BYTES", 2 * 10**9))
SYNTHREG_MAX_JOB_SAMPLES = int(os.environ.get("SYNTHREG_MAX_JOB_SAMPLES", 1_000_000))
SYNTHREG_MAX_JOB_COST = int(os.environ.get("SYNTHREG_MAX_JOB_COST", 10**10))
# Per user: bytes of their datasets' ready versions plus what their queued and running jobs
# will write; queued and running jobs (a sharded job counts once).
SYNTHREG_USER_STORAGE_BYTES = int(os.environ.get("SYNTHREG_USER_STORAGE_BYTES", 20 * 10**9))
SYNTHREG_USER_ACTIVE_JOBS = int(os.environ.get("SYNTHREG_USER_ACTIVE_JOBS", 10))

# --- REST API ----------------------------------------------------------------------------
REST_FRAMEWORK = {
    # Token first: its header makes a missing login a 401 (the first class names the challenge).
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "api.authentication.CheckedTokenAuthentication",
        "api.authentication.LockoutBasicAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticatedOrReadOnly"],
    "DEFAULT_PAGINATION_CLASS": "api.pagination.BoundedLimitOffsetPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_PARSER_CLASSES": [
        "api.parsers.GuardedJSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "DEFAULT_SCHEMA_CLASS": "api.schema.AutoSchema",
    "EXCEPTION_HANDLER": "api.errors.exception_handler",
    # Requests per client (IP for anonymous, user otherwise), counted in the default cache; 429 beyond.
    "DEFAULT_THROTTLE_CLASSES": [
        "rest_framework.throttling.AnonRateThrottle",
        "rest_framework.throttling.UserRateThrottle",
    ],
    "DEFAULT_THROTTLE_RATES": {
        "anon": os.environ.get("SYNTHREG_THROTTLE_ANON", "1200/minute"),
        "user": os.environ.get("SYNTHREG_THROTTLE_USER", "6000/minute"),
    },
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Synthreg API",
    "DESCRIPTION": "Registry, jobs and reports for synthetic training data.",
    "VERSION": "1",
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
}

# Uploads: refuse huge bodies early (bytes).
DATA_UPLOAD_MAX_MEMORY_SIZE = 10 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 10 * 1024 * 1024

# --- Uploads of real data (catalog/uploads) -----------------------------------------------
# One upload's file, an archive's members and what they declare uncompressed, a table read
# whole into memory, one image's side. Multipart uploads are also capped by the request limit
# below; larger files go in chunks of at most SYNTHREG_UPLOAD_CHUNK_BYTES, which gather in
# SYNTHREG_UPLOAD_DIR for at most SYNTHREG_UPLOAD_SESSION_SECONDS.
SYNTHREG_UPLOAD_MAX_BYTES = int(os.environ.get("SYNTHREG_UPLOAD_MAX_BYTES", 2**30))
SYNTHREG_UPLOAD_MAX_MEMBERS = int(os.environ.get("SYNTHREG_UPLOAD_MAX_MEMBERS", 10_000))
SYNTHREG_UPLOAD_MAX_UNCOMPRESSED = int(os.environ.get("SYNTHREG_UPLOAD_MAX_UNCOMPRESSED", 2**30))
SYNTHREG_UPLOAD_MAX_TABLE_BYTES = int(os.environ.get("SYNTHREG_UPLOAD_MAX_TABLE_BYTES", 256 * 2**20))
SYNTHREG_UPLOAD_MAX_IMAGE_SIDE = int(os.environ.get("SYNTHREG_UPLOAD_MAX_IMAGE_SIDE", 4096))
SYNTHREG_UPLOAD_CHUNK_BYTES = int(os.environ.get("SYNTHREG_UPLOAD_CHUNK_BYTES", 8 * 2**20))
SYNTHREG_UPLOAD_SESSION_SECONDS = int(os.environ.get("SYNTHREG_UPLOAD_SESSION_SECONDS", 24 * 3600))
SYNTHREG_UPLOAD_DIR = VAR_DIR / "uploads"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
}

# --- Bad input: limits on every request --------------------------------------------------
# Bodies larger than this are refused with 413 before anything reads them.
SYNTHREG_MAX_REQUEST_BYTES = int(os.environ.get("SYNTHREG_MAX_REQUEST_BYTES", DATA_UPLOAD_MAX_MEMORY_SIZE))
# JSON nested deeper than this is refused with 400 before it is parsed.
SYNTHREG_MAX_JSON_DEPTH = int(os.environ.get("SYNTHREG_MAX_JSON_DEPTH", 32))
# The most items one page of a list returns (`?limit=`).
SYNTHREG_MAX_PAGE_SIZE = int(os.environ.get("SYNTHREG_MAX_PAGE_SIZE", 500))

# --- Login throttling (django-axes): portal, admin, POST /api/token/ and HTTP basic auth ---
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_ENABLED = env_bool("SYNTHREG_LOGIN_LOCKOUT", True)
# After this many failures in a row one username from one address is locked out ...
AXES_FAILURE_LIMIT = int(os.environ.get("SYNTHREG_LOGIN_FAILURE_LIMIT", 5))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
# ... for this long; each further attempt during a lockout starts the wait again.
AXES_COOLOFF_TIME = timedelta(minutes=float(os.environ.get("SYNTHREG_LOGIN_COOLOFF_MINUTES", 15)))
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "synthreg.lockout.lockout_response"
# Behind N reverse proxies the client's address is in X-Forwarded-For (0: use the socket's).
SYNTHREG_PROXY_COUNT = int(os.environ.get("SYNTHREG_PROXY_COUNT", 0))
AXES_CLIENT_IP_CALLABLE = "synthreg.lockout.client_address"

# --- Production: HTTPS behind a reverse proxy that terminates TLS ------------------------
# SYNTHREG_PLAIN_HTTP=1 tries production settings over plain HTTP on your own machine:
# no HTTPS redirect, no HSTS, cookies not marked Secure. Never on a reachable host.
_https = PRODUCTION and not env_bool("SYNTHREG_PLAIN_HTTP", False)
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", _https)
SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", _https)
CSRF_COOKIE_SECURE = env_bool("CSRF_COOKIE_SECURE", _https)
SECURE_HSTS_SECONDS = int(os.environ.get("SECURE_HSTS_SECONDS", 365 * 24 * 3600 if _https else 0))
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", _https)
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", _https)
# The proxy says the client's scheme in this header; set it to "" when nothing in front sets it.
_proto_header = os.environ.get("SECURE_PROXY_SSL_HEADER", "X-Forwarded-Proto" if PRODUCTION else "")
if _proto_header:
    SECURE_PROXY_SSL_HEADER = ("HTTP_" + _proto_header.upper().replace("-", "_"), "https")
