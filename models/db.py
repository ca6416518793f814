"""Database set-up: the Tortoise config, start-up and migrations."""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

from tortoise import Tortoise
from tortoise.backends.asyncpg.client import AsyncpgDBClient
from tortoise.backends.base.config_generator import expand_db_url
from tortoise.connection import get_connection, get_connections

from models.settings import get_settings, tortoise_db_url

MODEL_MODULES = ["models.directory", "models.chain", "models.access", "models.ops", "models.feed"]


# SQLite's page cache per connection, in KiB (SQLite's default is 2 000): big enough for a
# large corp's member table and its indexes, so a search that tests every member of a corp
# (a gender or position filter, a count) reads its pages from this cache instead of asking
# the operating system for each of them again (about half the CPU of such a page at
# 50 000 members). Pages are only held once read; a URL's own `cache_size` is kept.
SQLITE_CACHE_KIB = 64 * 1024

# Runs once on every new PostgreSQL connection of a pool (asyncpg's `init`), with the connection.
ConnectionSetup = Callable[[Any], Awaitable[None]]


def _sqlite_cache(url: str, setup: ConnectionSetup | None = None) -> str | dict[str, Any]:
    if not url.startswith("sqlite://"):
        return _custom_plans(url, setup)
    config = expand_db_url(url)
    config["credentials"].setdefault("cache_size", -SQLITE_CACHE_KIB)
    return config


def _custom_plans(url: str, setup: ConnectionSetup | None = None) -> str | dict[str, Any]:
    """PostgreSQL: prepared statements are kept (asyncpg's statement cache: a statement seen
    before is bound and run in one round trip, not parsed again) but always planned for
    their parameters (`plan_cache_mode = force_custom_plan`). With the default mode
    PostgreSQL switches a statement to a generic plan after five runs, and for the policy
    filters (id lists, subtree ranges) that plan can scan a whole corp: seconds instead of
    milliseconds. JIT compilation is off (`jit = off`): a policy filter over a large corp
    (a directory admin's seat tests on every member) is estimated above `jit_above_cost`,
    and compiling it took 2 s on a statement that runs in 200 ms. Connections go back to the
    pool through `_pool_reset` (a request's without the reset statement). A URL that sets
    `statement_cache_size` itself is taken as it is. `setup` (PostgreSQL only) runs on each
    new connection (asyncpg's pool `init`)."""
    if not url.startswith("postgres://"):
        return url
    if "statement_cache_size" in url:
        if setup is None:
            return url
        config = expand_db_url(url)
        config["credentials"]["init"] = setup
        return config
    config = expand_db_url(url)
    credentials = config["credentials"]
    settings = credentials.setdefault("server_settings", {})
    settings.setdefault("plan_cache_mode", "force_custom_plan")
    settings.setdefault("jit", "off")
    credentials["reset"] = _pool_reset
    if setup is not None:
        credentials["init"] = setup
    return config


# Set while request_connection hands its connection back (the pool's release runs in a task
# that copies this context, so _pool_reset sees it).
_RELEASING_REQUEST_CONNECTION: contextvars.ContextVar[bool] = contextvars.ContextVar(
    "releasing_request_connection", default=False
)


async def _pool_reset(connection: Any) -> None:
    """asyncpg's pool calls this when a connection comes back, after rolling back a
    transaction left open (that part asyncpg always does itself).

    A connection a transaction held gets asyncpg's reset statement (advisory locks, cursors,
    LISTEN, session settings). A request's connection (request_connection) does not: it ran
    statements outside transactions only, and chaingate sets no session state there (no
    SET, LISTEN, advisory locks or cursors outside a transaction), so the statement, one
    more round trip and four commands for PostgreSQL per request, would undo nothing."""
    if _RELEASING_REQUEST_CONNECTION.get():
        return
    query = connection.get_reset_query()
    if query:
        await connection.execute(query)


def tortoise_config(database_url: str | None = None, *, connection_setup: ConnectionSetup | None = None) -> dict[str, Any]:
    url = _sqlite_cache(tortoise_db_url(database_url or get_settings().database_url), connection_setup)
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


async def init_db(database_url: str | None = None, *, run_migrations: bool = True,
                  connection_setup: ConnectionSetup | None = None) -> None:
    """Open the database (DATABASE_URL unless `database_url`), applying the migrations first
    unless `run_migrations` is False. `connection_setup` (PostgreSQL only: SQLite has no
    pool) runs once on each new pooled connection, e.g. the worker's backend priority."""
    if run_migrations:
        await migrate(database_url)
        await _close_migration_connections()
    # The global fallback lets request tasks see the context set up in the ASGI lifespan task.
    await Tortoise.init(config=tortoise_config(database_url, connection_setup=connection_setup),
                        _enable_global_fallback=True)


async def _close_migration_connections() -> None:
    """Close what the migrations opened, without Tortoise's "Tortoise-ORM shutdown" log line:
    at start-up that line would say the server is stopping while it is starting."""
    from tortoise.context import get_current_context

    ctx = get_current_context()
    if ctx is not None:
        await ctx.close_connections()


async def close_db() -> None:
    await Tortoise.close_connections()


class _RequestConnection(AsyncpgDBClient):
    """One pooled asyncpg connection held for a whole request: its statements run on it one
    after another instead of each taking a connection from the pool and resetting it on the
    way back. Transactions still take their own connection from the pool, as they did."""

    def __init__(self, parent: AsyncpgDBClient, connection: Any) -> None:
        self._connection = connection
        self._lock = asyncio.Lock()
        self.log = parent.log
        self.connection_name = parent.connection_name
        self.database = parent.database
        self._parent = parent
        self.released = False

    def acquire_connection(self) -> Any:
        return _Turn(self)

    def _in_transaction(self) -> Any:
        return self._parent._in_transaction()


class _Turn:
    """A statement's turn on the request's connection. A task the request started (an import
    job) may outlive the request: once it is over, its statements take pooled connections."""

    __slots__ = ("pinned", "fallback")

    def __init__(self, pinned: _RequestConnection) -> None:
        self.pinned = pinned
        self.fallback: Any = None

    async def __aenter__(self) -> Any:
        await self.pinned._lock.acquire()
        if not self.pinned.released:
            return self.pinned._connection
        self.pinned._lock.release()
        self.fallback = self.pinned._parent.acquire_connection()
        return await self.fallback.__aenter__()

    async def __aexit__(self, *exc: Any) -> None:
        if self.fallback is not None:
            await self.fallback.__aexit__(*exc)
        else:
            self.pinned._lock.release()


@contextlib.asynccontextmanager
async def request_connection() -> AsyncIterator[None]:
    """Within the block, the default connection's statements outside transactions share one
    connection (PostgreSQL; SQLite has one connection anyway). Released once, at the end,
    without asyncpg's reset statement (see _pool_reset)."""
    client = get_connection("default")
    if not isinstance(client, AsyncpgDBClient) or isinstance(client, _RequestConnection) or client._pool is None:
        yield
        return
    connection = await client._pool.acquire()
    pinned = _RequestConnection(client, connection)
    token = get_connections().set("default", pinned)
    try:
        yield
    finally:
        get_connections().reset(token)
        async with pinned._lock:  # a statement of a task still running finishes first
            pinned.released = True
        releasing = _RELEASING_REQUEST_CONNECTION.set(True)
        try:
            await client._pool.release(connection)
        finally:
            _RELEASING_REQUEST_CONNECTION.reset(releasing)
