"""Configuration from environment variables, with safe defaults for a laptop.

Every setting can be overridden by create_app(overrides) in tests. Nothing secret
is committed: the development SECRET_KEY is generated on first run and kept
under instance/.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent
INSTANCE_DIR = Path(os.environ.get("INSTANCE_DIR", BASE_DIR / "instance"))


def _env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _env_int(name: str, default: int) -> int:
    value = os.environ.get(name)
    return int(value) if value not in (None, "") else default


def _env_float(name: str, default: float) -> float:
    value = os.environ.get(name)
    return float(value) if value not in (None, "") else default


def _dev_secret_key() -> str:
    """Return a per-checkout development key, created once under instance/."""
    path = INSTANCE_DIR / "dev-secret-key"
    if not path.exists():
        INSTANCE_DIR.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_urlsafe(48))
        path.chmod(0o600)
    return path.read_text().strip()


def database_url() -> str:
    url = os.environ.get("DATABASE_URL")
    if url:
        # Accept the libpq-style URL people paste; SQLAlchemy needs the driver named.
        if url.startswith("postgres://"):
            url = "postgresql://" + url[len("postgres://") :]
        if url.startswith("postgresql://"):
            url = "postgresql+psycopg://" + url[len("postgresql://") :]
        return url
    INSTANCE_DIR.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{INSTANCE_DIR / 'woundtrack.sqlite3'}"


def load_config() -> dict[str, object]:
    """Build the Flask config mapping from the environment."""
    env = os.environ.get("APP_ENV", "development")
    secret = os.environ.get("SECRET_KEY")
    if not secret:
        if env == "production":
            raise RuntimeError("SECRET_KEY must be set when APP_ENV=production")
        secret = _dev_secret_key()
    return {
        "APP_ENV": env,
        "SECRET_KEY": secret,
        "SQLALCHEMY_DATABASE_URI": database_url(),
        "STORAGE_DIR": os.environ.get("STORAGE_DIR", str(INSTANCE_DIR / "storage")),
        # Temporary files of uploads and exports (app/core/scratch.py): unset is
        # <storage>/.tmp. Leftovers older than TEMP_STALE_SECONDS are removed.
        "TEMP_DIR": os.environ.get("TEMP_DIR") or None,
        "TEMP_STALE_SECONDS": _env_int("TEMP_STALE_SECONDS", 6 * 3600),
        "REDIS_URL": os.environ.get("REDIS_URL") or None,
        # The RSA private key (PEM) that signs SMART id tokens (app/fhir/openid.py):
        # unset, each process makes its own, which only suits a single process.
        "SMART_ID_TOKEN_KEY": os.environ.get("SMART_ID_TOKEN_KEY") or None,
        # Request bodies: JSON is small; photo uploads have their own limit.
        "MAX_CONTENT_LENGTH": _env_int("MAX_UPLOAD_BYTES", 25 * 1024 * 1024) + 64 * 1024,
        "MAX_JSON_BYTES": _env_int("MAX_JSON_BYTES", 1024 * 1024),
        "PHOTO_MAX_BYTES": _env_int("MAX_UPLOAD_BYTES", 25 * 1024 * 1024),
        "PHOTO_MAX_PIXELS": _env_int("MAX_UPLOAD_PIXELS", 50_000_000),
        # Outline proposals (POST /photos/{id}/outline): a photo over
        # OUTLINE_MAX_PIXELS is decoded at half size; each process computes at
        # most OUTLINE_CONCURRENCY at once (a decoded 12 MP photo is 36 MB),
        # a request waits OUTLINE_WAIT_SECONDS for a turn before a 503; and a
        # user may ask OUTLINE_RATE_LIMIT.
        "OUTLINE_MAX_PIXELS": _env_int("OUTLINE_MAX_PIXELS", 16_000_000),
        "OUTLINE_CONCURRENCY": _env_int("OUTLINE_CONCURRENCY", 1),
        "OUTLINE_WAIT_SECONDS": _env_int("OUTLINE_WAIT_SECONDS", 10),
        "OUTLINE_RATE_LIMIT": os.environ.get("OUTLINE_RATE_LIMIT", "30 per minute"),
        # Tokens: opaque, hashed at rest.
        "ACCESS_TOKEN_IDLE_SECONDS": _env_int("ACCESS_TOKEN_IDLE_SECONDS", 30 * 60),
        "ACCESS_TOKEN_MAX_SECONDS": _env_int("ACCESS_TOKEN_MAX_SECONDS", 12 * 3600),
        "REFRESH_TOKEN_IDLE_SECONDS": _env_int("REFRESH_TOKEN_IDLE_SECONDS", 14 * 86400),
        "REFRESH_TOKEN_MAX_SECONDS": _env_int("REFRESH_TOKEN_MAX_SECONDS", 30 * 86400),
        # Lifetime of a one-time password reset token an admin issues.
        "PASSWORD_RESET_SECONDS": _env_int("PASSWORD_RESET_SECONDS", 24 * 3600),
        # Sign-in attempts per account (any address), and per client address
        # (any account; higher, so that one user's wrong passwords cannot lock
        # out the others signing in from the same clinic network).
        "LOGIN_RATE_LIMIT": os.environ.get("LOGIN_RATE_LIMIT", "10 per minute"),
        "LOGIN_ADDRESS_RATE_LIMIT": os.environ.get("LOGIN_ADDRESS_RATE_LIMIT", "60 per minute"),
        # Reverse proxies in front of the app whose X-Forwarded-For is believed:
        # unset (none), a count, or addresses/networks (app/core/proxies.py).
        "TRUSTED_PROXIES": os.environ.get("TRUSTED_PROXIES", ""),
        # Refused requests (403, 404 on a record) audited per user a minute, at most.
        "AUDIT_DENIALS_PER_MINUTE": _env_int("AUDIT_DENIALS_PER_MINUTE", 30),
        "RATELIMIT_ENABLED": _env_bool("RATELIMIT_ENABLED", True),
        "RATELIMIT_STORAGE_URI": os.environ.get("RATELIMIT_STORAGE_URI", "memory://"),
        "RATELIMIT_HEADERS_ENABLED": True,
        # Clock skew tolerated on device timestamps before "in the future" is refused.
        "CLOCK_SKEW_SECONDS": _env_int("CLOCK_SKEW_SECONDS", 10 * 60),
        # Clinical rules that a clinic may tune (see app/clinical/trajectory.py).
        "PAR_THRESHOLD_PCT": _env_float("PAR_THRESHOLD_PCT", 40.0),
        "PAR_WEEK": _env_int("PAR_WEEK", 4),
        "DETERIORATING_MARGIN_PCT": _env_float("DETERIORATING_MARGIN_PCT", 10.0),
        "OVERDUE_ASSESSMENT_DAYS": _env_int("OVERDUE_ASSESSMENT_DAYS", 7),
        "ANTI_ANGIOGENIC_EXTRA": os.environ.get("ANTI_ANGIOGENIC_EXTRA", ""),  # comma-separated
        # Default lower limits of normal when a result comes without the lab's own
        # (labs.ReferenceLimits). Hemoglobin: women (and sex other/unknown), men.
        "LAB_LLN_HEMOGLOBIN": _env_float("LAB_LLN_HEMOGLOBIN", 12.0),  # g/dL
        "LAB_LLN_HEMOGLOBIN_MALE": _env_float("LAB_LLN_HEMOGLOBIN_MALE", 13.0),  # g/dL
        "LAB_LLN_PLATELETS": _env_float("LAB_LLN_PLATELETS", 150.0),  # 10^9/L
        "LAB_LLN_NEUTROPHILS": _env_float("LAB_LLN_NEUTROPHILS", 2.0),  # 10^9/L
        "LAB_LLN_ALBUMIN": _env_float("LAB_LLN_ALBUMIN", 3.5),  # g/dL
        # Alerts (app/alerts): evaluation on writes, webhook delivery, e-mail digest.
        "ALERTS_ENABLED": _env_bool("ALERTS_ENABLED", True),
        "WEBHOOK_ALLOW_PRIVATE": _env_bool("WEBHOOK_ALLOW_PRIVATE", False),
        "WEBHOOK_TIMEOUT_SECONDS": _env_int("WEBHOOK_TIMEOUT_SECONDS", 10),
        "WEBHOOK_LEASE_SECONDS": _env_int("WEBHOOK_LEASE_SECONDS", 120),
        "WEBHOOK_AUTODELIVER": _env_bool("WEBHOOK_AUTODELIVER", True),
        "SMTP_URL": os.environ.get("SMTP_URL") or None,
        "MAIL_FROM": os.environ.get("MAIL_FROM", "woundtrack@localhost"),
        "APP_BASE_URL": os.environ.get("APP_BASE_URL", "http://localhost:5000"),
        "LAB_LLN_WBC": _env_float("LAB_LLN_WBC", 4.0),  # 10^9/L
        "LAB_LLN_LYMPHOCYTES": _env_float("LAB_LLN_LYMPHOCYTES", 1.0),  # 10^9/L
        "EXPORT_TTL_HOURS": _env_int("EXPORT_TTL_HOURS", 72),
        # A running export without a heartbeat for this long had its worker die; a
        # queued one that nobody took for this long lost its queue message. Both
        # are then reported failed (retryable), never re-queued on their own.
        "EXPORT_STALE_SECONDS": _env_int("EXPORT_STALE_SECONDS", 300),
        "EXPORT_QUEUED_STALE_SECONDS": _env_int("EXPORT_QUEUED_STALE_SECONDS", 3600),
        # Sync (app/sync): the delta feed's overlap window, resumable uploads.
        "SYNC_FEED_OVERLAP_SECONDS": _env_int("SYNC_FEED_OVERLAP_SECONDS", 30),
        "UPLOAD_DIR": os.environ.get("UPLOAD_DIR") or None,  # default: beside the storage
        "UPLOAD_TTL_HOURS": _env_int("UPLOAD_TTL_HOURS", 24),
        "UPLOAD_MAX_OPEN": _env_int("UPLOAD_MAX_OPEN", 20),
        "METRICS_ENABLED": _env_bool("METRICS_ENABLED", False),
        "METRICS_TOKEN": os.environ.get("METRICS_TOKEN") or None,
        "LOG_FORMAT": os.environ.get("LOG_FORMAT", "json" if env == "production" else "text"),
        "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True},
        # Database timeouts (app/core/engine.py): a database that stops answering
        # costs a request seconds, not minutes. 0 turns one off.
        "DB_CONNECT_TIMEOUT_SECONDS": _env_int("DB_CONNECT_TIMEOUT_SECONDS", 5),
        "DB_STATEMENT_TIMEOUT_MS": _env_int("DB_STATEMENT_TIMEOUT_MS", 30_000),
        "DB_POOL_TIMEOUT_SECONDS": _env_float("DB_POOL_TIMEOUT_SECONDS", 10.0),
        "DB_BUSY_TIMEOUT_MS": _env_int("DB_BUSY_TIMEOUT_MS", 30_000),  # SQLite
        # Flask-Migrate (Alembic, Mako) where migrations run: the flask command
        # line, which sets FLASK_RUN_FROM_CLI before it builds the app. A web
        # worker never migrates and is about 10 MB smaller without them.
        "MIGRATIONS": _env_bool("MIGRATIONS", os.environ.get("FLASK_RUN_FROM_CLI") == "true"),
        "HEALTH_DB_TIMEOUT_SECONDS": _env_float("HEALTH_DB_TIMEOUT_SECONDS", 3.0),
        # flask-smorest / OpenAPI
        "API_TITLE": "WoundTrack API",
        "API_VERSION": "v1",
        "OPENAPI_VERSION": "3.0.3",
        "OPENAPI_URL_PREFIX": "/api/v1",
        "OPENAPI_JSON_PATH": "openapi.json",
        "OPENAPI_SWAGGER_UI_PATH": "docs",
        # Served from this app (app/core/docs.py) because the machine has no CDN access.
        "OPENAPI_SWAGGER_UI_URL": None,
        "OPENAPI_REDOC_PATH": None,
        "API_SPEC_OPTIONS": {"security": [{"bearerAuth": []}]},
        "JSON_SORT_KEYS": False,
    }
