"""One connection per request (models.db.request_connection): a request's statements share
one pooled PostgreSQL connection, which goes back to the pool without asyncpg's reset
statement; a transaction's connection still gets it. SQLite has a single connection."""

from __future__ import annotations

import pytest
from tortoise.connection import get_connection
from tortoise.transactions import in_transaction

from models.db import SQLITE_CACHE_KIB, _RequestConnection, request_connection, tortoise_config


def _postgres_only(database: str) -> None:
    if database != "postgres":
        pytest.skip("SQLite has one connection and no pool")


async def test_a_request_runs_its_statements_on_one_connection_and_returns_it_without_a_reset(database):
    _postgres_only(database)
    seen: list[str] = []
    await get_connection("default").execute_query("SELECT 0")  # the pool opens on first use
    async with request_connection():
        client = get_connection("default")
        assert isinstance(client, _RequestConnection)
        await client.execute_query("SELECT 1")
        _, rows = await client.execute_query("SELECT pg_backend_pid() AS pid")
        first = rows[0]["pid"]
        _, rows = await client.execute_query("SELECT pg_backend_pid() AS pid")
        assert rows[0]["pid"] == first  # the same backend for every statement of the request
        client._connection.add_query_logger(lambda record: seen.append(record.query))
        await client.execute_query("SELECT 2")
    assert seen == ["SELECT 2"]  # and nothing when it went back: no RESET ALL, no CLOSE ALL


async def test_a_transactions_connection_still_gets_the_reset_statement(database):
    _postgres_only(database)
    seen: list[str] = []
    async with in_transaction() as conn:
        conn._connection.add_query_logger(lambda record: seen.append(record.query))
        await conn.execute_query("SELECT 1")
    assert any("RESET ALL" in q for q in seen), seen



async def test_sqlite_keeps_a_page_cache_that_holds_a_corps_members(database):
    """A search that tests every member of a corp (a gender or position filter) reads the
    whole member table: with SQLite's default 2 MB cache each such request reads it from
    the operating system again, at about twice the CPU (bench.measures P5)."""
    if database != "sqlite":
        pytest.skip("a SQLite connection setting")
    _, rows = await get_connection("default").execute_query("PRAGMA cache_size")
    assert list(dict(rows[0]).values())[0] == -SQLITE_CACHE_KIB
    given = tortoise_config("sqlite:///tmp/x.sqlite3?cache_size=-1000")["connections"]["default"]
    assert given["credentials"]["cache_size"] == "-1000"  # a URL that sets it is taken as it is


async def test_postgres_connections_plan_for_their_parameters_without_jit(database):
    _postgres_only(database)
    async with request_connection():
        _, rows = await get_connection("default").execute_query("SELECT current_setting('jit') AS jit, "
                                                                "current_setting('plan_cache_mode') AS mode")
    assert (rows[0]["jit"], rows[0]["mode"]) == ("off", "force_custom_plan")
