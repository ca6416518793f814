"""Test set-up: one migrated throw-away database per run (SQLite file, or PostgreSQL when
DATABASE_URL points at one), the ASGI app over httpx, and GraphQL helpers."""

from __future__ import annotations

import os
import secrets
import tempfile
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from hypothesis import settings

# Outside dev mode the gateway refuses to run on an unset or known secret, and the tests run
# outside dev mode: one random secret for this run, inherited by every server it starts.
# Set before anything reads the settings.
os.environ.setdefault("CHAINGATE_SECRET", secrets.token_urlsafe(48))

from models.db import close_db, init_db  # noqa: E402
from models.settings import tortoise_db_url  # noqa: E402
from tests.property_sizes import PROFILE  # noqa: E402

# Hypothesis profiles (ci 500 examples, dev 150, soak 5000) and each property test's own
# count in CI: tests/property_sizes.py.
settings.load_profile(PROFILE)

IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


# The session's SQLite database is thrown away after the run: its commits need not be durable
# against a power cut, only atomic. In WAL mode (tortoise's default) `synchronous=NORMAL` skips
# the fsync of every commit (about 1 ms each here, more while others write to the disk; the
# property tests commit hundreds of thousands of times) and still never corrupts the file or
# loses a commit when a process is killed. Behaviour is the same as with the default FULL.
TEST_SQLITE_SYNC = "NORMAL"


def _postgres_admin_url(url: str) -> tuple[str, str]:
    base, _, _db = url.rpartition("/")
    return base, f"chaingate_test_{uuid.uuid4().hex[:10]}"


async def _create_postgres_db(url: str) -> str:
    import asyncpg

    base, name = _postgres_admin_url(url)
    try:
        conn = await asyncpg.connect(url.replace("postgres://", "postgresql://", 1), timeout=5)
    except (OSError, asyncpg.PostgresError) as exc:
        reason = f"PostgreSQL at {url} is not reachable ({exc.__class__.__name__}: {exc})"
        if IN_CI:
            pytest.fail(f"{reason}; CI must run the PostgreSQL suite.")
        pytest.skip(f"{reason}; start PostgreSQL or unset DATABASE_URL to test on SQLite.")
    try:
        await conn.execute(f'CREATE DATABASE "{name}"')
        # A throw-away database: a commit need not wait for its WAL flush (see TEST_SQLITE_SYNC).
        # The database's own default, so the servers and workers the tests start get it too.
        await conn.execute(f'ALTER DATABASE "{name}" SET synchronous_commit = off')
    finally:
        await conn.close()
    return f"{base}/{name}"


async def _drop_postgres_db(url: str, test_url: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(url.replace("postgres://", "postgresql://", 1), timeout=5)
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{test_url.rpartition("/")[2]}" WITH (FORCE)')
    finally:
        await conn.close()


@pytest.fixture
async def empty_database_url(tmp_path: Path) -> AsyncIterator[str]:
    """The URL of a database of its own, empty (not migrated), on the backend the run tests
    (DATABASE_URL's PostgreSQL, else a SQLite file), dropped afterwards: for tests that run the
    migrations themselves in a child process."""
    configured = os.environ.get("DATABASE_URL")
    if configured and tortoise_db_url(configured).startswith("postgres://"):
        admin_url = tortoise_db_url(configured)
        url = await _create_postgres_db(admin_url)
        yield url
        await _drop_postgres_db(admin_url, url)
        return
    yield f"sqlite://{tmp_path}/empty.sqlite3"


@pytest.fixture(scope="session")
async def database() -> AsyncIterator[str]:
    configured = os.environ.get("DATABASE_URL")
    if configured and tortoise_db_url(configured).startswith("postgres://"):
        admin_url = tortoise_db_url(configured)
        url = await _create_postgres_db(admin_url)
        await init_db(url)
        yield "postgres"
        await close_db()
        await _drop_postgres_db(admin_url, url)
        return
    with tempfile.TemporaryDirectory() as tmp:
        await init_db(f"sqlite://{tmp}/chaingate-test.sqlite3?synchronous={TEST_SQLITE_SYNC}")
        yield "sqlite"
        await close_db()


@pytest.fixture(scope="session")
async def client(database: str) -> AsyncIterator[httpx.AsyncClient]:
    from auth.ratelimit import InMemoryRateLimiter, RateRule
    from web.app import create_app
    from web.gate import Budgets

    # Budgets are tested on their own apps (test_rate_limits.py); the shared client must not
    # run out of them however many requests a property test sends, nor open Redis clients
    # that nothing closes when REDIS_URL happens to be set.
    off = RateRule(0, 0)
    app = create_app(manage_db=False, limiter=InMemoryRateLimiter(), budgets=Budgets(off, off, off))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as c:
        yield c


class GQL:
    def __init__(self, client: httpx.AsyncClient) -> None:
        self.client = client

    async def __call__(self, query: str, variables: dict[str, Any] | None = None, token: str | None = None) -> dict[str, Any]:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        response = await self.client.post("/graphql", json={"query": query, "variables": variables or {}}, headers=headers)
        return response.json()

    async def ok(self, query: str, variables: dict[str, Any] | None = None, token: str | None = None) -> dict[str, Any]:
        body = await self(query, variables, token)
        assert not body.get("errors"), body["errors"]
        return body["data"]


@pytest.fixture
async def gql(client: httpx.AsyncClient) -> GQL:
    return GQL(client)


@pytest.fixture
async def job_worker(database: str) -> AsyncIterator[Any]:
    """A job worker in this event loop for the test's duration: imports queued by the API
    run while the test waits on them (a subscription, a poll). Tests that only need the
    queued jobs done call `await flows.jobs.run_pending_jobs()` instead."""
    from flows.worker import background_worker

    async with background_worker(poll=0.05) as worker:
        yield worker


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Test modules run in the order of their file names, whatever package folder holds them
    (each module's tests together, in their own order). The session shares one database, and
    the property tests that recount whole tables (head-counts, contact counts) cost with every
    row the tests before them wrote: by file name they run early, as they did before tests/
    mirrored the packages, instead of after every flows/ and gql/ test."""
    items.sort(key=lambda item: (item.path.name, str(item.path)))
