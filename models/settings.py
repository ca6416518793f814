"""Configuration from the environment (pydantic-settings)."""

from __future__ import annotations

from functools import lru_cache

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

DEV_SECRET = "chaingate-dev-secret-change-me-0123456789"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="", extra="ignore")

    database_url: str = Field(default="sqlite://chaingate.sqlite3", alias="DATABASE_URL")
    secret: str = Field(default=DEV_SECRET, alias="CHAINGATE_SECRET")
    # Optional RS256 public key (PEM) for person tokens signed by an identity provider.
    jwt_public_key: str | None = Field(default=None, alias="CHAINGATE_JWT_PUBLIC_KEY")
    redis_url: str | None = Field(default=None, alias="REDIS_URL")
    dev: bool = Field(default=False, alias="CHAINGATE_DEV")
    member_token_ttl_seconds: int = Field(default=8 * 3600, alias="CHAINGATE_TOKEN_TTL")
    public_url: str = Field(default="http://127.0.0.1:8000", alias="CHAINGATE_PUBLIC_URL")


@lru_cache
def get_settings() -> Settings:
    return Settings()


def tortoise_db_url(url: str) -> str:
    """Accept the usual spellings of a PostgreSQL URL; Tortoise wants `postgres://`."""
    for prefix in ("postgresql+asyncpg://", "postgresql://"):
        if url.startswith(prefix):
            return "postgres://" + url[len(prefix):]
    return url
