"""Configuration from the environment (pydantic-settings)."""

from __future__ import annotations

from functools import lru_cache

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

DEV_SECRET = "chaingate-dev-secret-change-me-0123456789"
# HS256 keys shorter than the hash's output are guessable offline from any token seen.
MIN_SECRET_BYTES = 32


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="", extra="ignore")

    database_url: str = Field(default="sqlite://chaingate.sqlite3", alias="DATABASE_URL")
    secret: str = Field(default=DEV_SECRET, alias="CHAINGATE_SECRET")
    # Optional RS256 public key (PEM) for person tokens signed by an identity provider.
    jwt_public_key: str | None = Field(default=None, alias="CHAINGATE_JWT_PUBLIC_KEY")
    # Optional identity provider JWKS endpoint: its keys verify person tokens by their `kid`.
    jwks_url: str | None = Field(default=None, alias="CHAINGATE_JWKS_URL")
    # When set, identity provider tokens must carry exactly this `iss` / this `aud` among theirs.
    jwt_issuer: str | None = Field(default=None, alias="CHAINGATE_JWT_ISSUER")
    jwt_audience: str | None = Field(default=None, alias="CHAINGATE_JWT_AUDIENCE")
    redis_url: str | None = Field(default=None, alias="REDIS_URL")
    # Key prefix of the request budgets in Redis: deployments sharing one Redis keep apart.
    redis_prefix: str = Field(default="chaingate:rl:", alias="CHAINGATE_REDIS_PREFIX")
    dev: bool = Field(default=False, alias="CHAINGATE_DEV")
    member_token_ttl_seconds: int = Field(default=8 * 3600, alias="CHAINGATE_TOKEN_TTL")
    public_url: str = Field(default="http://127.0.0.1:8000", alias="CHAINGATE_PUBLIC_URL")
    # Request budgets (token buckets): per member / person / app, and per IP for anonymous
    # requests; a rate of 0 turns that limit off. Shared through Redis when REDIS_URL is set.
    rate_limit_per_second: float = Field(default=30.0, alias="CHAINGATE_RATE_LIMIT")
    rate_limit_burst: int = Field(default=300, alias="CHAINGATE_RATE_BURST")
    anonymous_rate_limit_per_second: float = Field(default=10.0, alias="CHAINGATE_ANON_RATE_LIMIT")
    anonymous_rate_limit_burst: int = Field(default=100, alias="CHAINGATE_ANON_RATE_BURST")
    max_body_bytes: int = Field(default=1024 * 1024, alias="CHAINGATE_MAX_BODY_BYTES")
    # GraphQL multipart uploads (imports), per viewer kind: members who may import, and apps
    # holding an import scope. Anyone else may not send multipart at all.
    max_upload_bytes: int = Field(default=64 * 1024 * 1024, alias="CHAINGATE_MAX_UPLOAD_BYTES")
    app_max_upload_bytes: int = Field(default=64 * 1024 * 1024, alias="CHAINGATE_APP_MAX_UPLOAD_BYTES")
    # Proxies whose X-Forwarded-For is believed (comma-separated IPs or CIDR networks);
    # empty: the client address is the TCP peer, whatever headers it sends.
    trusted_proxies: str = Field(default="", alias="CHAINGATE_TRUSTED_PROXIES")
    # Notification delivery: a webhook when a URL is set (signed with the secret), else the log.
    webhook_url: str | None = Field(default=None, alias="CHAINGATE_WEBHOOK_URL")
    webhook_secret: str | None = Field(default=None, alias="CHAINGATE_WEBHOOK_SECRET")
    # Persisted queries: the safelist manifest (JSON, sha256 -> document), and the viewer
    # kinds (comma-separated: ANONYMOUS, PERSON, MEMBER, APP) that may run only its documents.
    persisted_queries: str | None = Field(default=None, alias="CHAINGATE_PERSISTED_QUERIES")
    persisted_only: str = Field(default="", alias="CHAINGATE_PERSISTED_ONLY")
    # /metrics answers a bearer of this token (at least 32 characters); unset, only in dev mode.
    metrics_token: str | None = Field(default=None, alias="CHAINGATE_METRICS_TOKEN")
    log_level: str = Field(default="INFO", alias="CHAINGATE_LOG_LEVEL")
    # Import jobs: how long a worker's claim on a running job lasts unless renewed (it renews
    # every third of it); a dead worker's job is taken over once its lease runs out.
    job_lease_seconds: float = Field(default=15.0, gt=0, alias="CHAINGATE_JOB_LEASE_SECONDS")
    # Rows per import batch, overriding each kind's own (1000 directory, 500 chain); for tuning and tests.
    import_batch_rows: int | None = Field(default=None, gt=0, alias="CHAINGATE_IMPORT_BATCH_ROWS")
    # Where import file reads keep their spool files (default <tmp>/chaingate-spool); the
    # files of a process killed outright are removed by the job's next runner or a worker's start.
    spool_dir: str | None = Field(default=None, alias="CHAINGATE_SPOOL_DIR")
    # Change feed (SPEC §3.9): change rows are kept this many days; older sync tokens resync.
    change_retention_days: float = Field(default=30.0, gt=0, alias="CHAINGATE_CHANGE_RETENTION_DAYS")
    # An ended import job's uploaded file is deleted this many days after the job ended (it
    # names people who may since have been erased); the job and its row errors stay.
    import_source_retention_days: float = Field(default=30.0, gt=0, alias="CHAINGATE_IMPORT_SOURCE_RETENTION_DAYS")
    # How often a worker prunes change rows and import files past their retention (and once when it starts).
    change_prune_seconds: float = Field(default=3600.0, gt=0, alias="CHAINGATE_CHANGE_PRUNE_SECONDS")
    # Webhooks (SPEC §3.9): an attempt's timeout; retries after base * 2**(attempts-1) seconds,
    # up to max attempts; private (loopback, LAN) receiver addresses only when allowed (or dev).
    webhook_timeout_seconds: float = Field(default=10.0, gt=0, alias="CHAINGATE_WEBHOOK_TIMEOUT_SECONDS")
    webhook_retry_seconds: float = Field(default=5.0, gt=0, alias="CHAINGATE_WEBHOOK_RETRY_SECONDS")
    webhook_max_attempts: int = Field(default=8, ge=1, alias="CHAINGATE_WEBHOOK_MAX_ATTEMPTS")
    webhook_allow_private: bool = Field(default=False, alias="CHAINGATE_WEBHOOK_ALLOW_PRIVATE")
    # How often an idle worker looks for queued jobs and due notifications.
    worker_poll_seconds: float = Field(default=1.0, gt=0, alias="CHAINGATE_WORKER_POLL_SECONDS")


@lru_cache
def get_settings() -> Settings:
    return Settings()


def public_link(path: str) -> str:
    """An absolute link to `path` ("/join/abc") for people and clients: under
    CHAINGATE_PUBLIC_URL when set; `chaingate serve` sets it to the address it listens on
    otherwise, so links work on whatever --host/--port it was given."""
    return f"{get_settings().public_url.rstrip('/')}{path}"


class InsecureConfiguration(ValueError):
    """A setting production must not run with; the message is one line saying what to set."""


def require_signing_secret(settings: Settings) -> str:
    """The HS256 key of our own tokens (member tokens, dev person tokens).

    Outside dev mode it refuses (InsecureConfiguration) a CHAINGATE_SECRET that is unset,
    the public development value, or shorter than MIN_SECRET_BYTES: with a known or
    guessable key anyone can mint a super admin's token. Called where the app starts and
    wherever a token is signed or verified, so no path serves or signs with such a key.
    """
    if settings.dev:
        return settings.secret
    # Judged without surrounding whitespace, and the public value with anything added to it
    # (a newline pasted along, one character more) is still the public value.
    value = settings.secret.strip()
    if "secret" not in settings.model_fields_set:
        problem = "is not set"
    elif DEV_SECRET in value:
        problem = "is the public development value"
    elif len(value.encode()) < MIN_SECRET_BYTES:
        problem = f"is shorter than {MIN_SECRET_BYTES} bytes"
    else:
        return settings.secret
    raise InsecureConfiguration(
        f"CHAINGATE_SECRET {problem}: set it to a random value of at least {MIN_SECRET_BYTES} bytes, "
        "e.g. python3 -c 'import secrets; print(secrets.token_urlsafe(48))' (or CHAINGATE_DEV=1 for development)"
    )


def tortoise_db_url(url: str) -> str:
    """Accept the usual spellings of a PostgreSQL URL; Tortoise wants `postgres://`."""
    for prefix in ("postgresql+asyncpg://", "postgresql://"):
        if url.startswith(prefix):
            return "postgres://" + url[len(prefix):]
    return url
