"""Database set-up: the Tortoise config, start-up and migrations."""

from __future__ import annotations

from typing import Any

from tortoise import Tortoise

from models.settings import get_settings, tortoise_db_url

MODEL_MODULES = ["models.directory", "models.chain", "models.access", "models.ops"]


def _custom_plans(url: str) -> str:
    """PostgreSQL: no server-side prepared-statement cache. After five runs a cached statement
    gets a generic plan that ignores its parameters, and for the policy filters (id lists,
    subtree ranges) that plan can scan a whole corp: seconds instead of milliseconds."""
    if not url.startswith("postgres://") or "statement_cache_size" in url:
        return url
    return f"{url}{'&' if '?' in url else '?'}statement_cache_size=0"


def tortoise_config(database_url: str | None = None) -> dict[str, Any]:
    url = _custom_plans(tortoise_db_url(database_url or get_settings().database_url))
    return {
        "connections": {"default": url},
        "apps": {
            "models": {
                "models": MODEL_MODULES,
                "default_connection": "default",
                "migrations": "models.migrations",
            }
        },
        "use_tz": True,
        "timezone": "UTC",
    }


# For the `tortoise` command line (makemigrations): `tortoise -c models.db.TORTOISE_ORM ...`
TORTOISE_ORM = tortoise_config()


async def migrate(database_url: str | None = None) -> None:
    """Apply every committed migration (Tortoise's built-in migration engine)."""
    from tortoise.migrations.api import migrate as run_migrations

    await run_migrations(config=tortoise_config(database_url))


async def init_db(database_url: str | None = None, *, run_migrations: bool = True) -> None:
    if run_migrations:
        await migrate(database_url)
        await _close_migration_connections()
    # The global fallback lets request tasks see the context set up in the ASGI lifespan task.
    await Tortoise.init(config=tortoise_config(database_url), _enable_global_fallback=True)


async def _close_migration_connections() -> None:
    """Close what the migrations opened, without Tortoise's "Tortoise-ORM shutdown" log line:
    at start-up that line would say the server is stopping while it is starting."""
    from tortoise.context import get_current_context

    ctx = get_current_context()
    if ctx is not None:
        await ctx.close_connections()


async def close_db() -> None:
    await Tortoise.close_connections()
