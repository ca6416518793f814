"""The worker's PostgreSQL backends run at the worker's CPU priority when the database is
on the same machine (chaingate_cli/worker.py, BackendPriority); elsewhere, or without the
right to renice them, they keep theirs and the worker says why once."""

from __future__ import annotations

import logging
import os
from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import pytest

from chaingate_cli.worker import BackendPriority, renice_backend
from models.db import tortoise_config
from tests.servers import child_database_url

pytestmark = pytest.mark.usefixtures("database")


@pytest.fixture
async def backend(database: str) -> AsyncIterator[Any]:
    """A fresh connection to the test database and its backend's pid (PostgreSQL only)."""
    if database != "postgres":
        pytest.skip("PostgreSQL backends only")
    url = child_database_url().split("?")[0].replace("postgres://", "postgresql://", 1)
    connection = await asyncpg.connect(url)
    try:
        yield connection
    finally:
        await connection.close()


async def test_a_local_backend_gets_the_worker_niceness(backend: Any) -> None:
    pid = await backend.fetchval("SELECT pg_backend_pid()")
    before = os.getpriority(os.PRIO_PROCESS, pid)
    outcome = renice_backend(pid, before + 5)
    if os.geteuid() != 0 and outcome is not None:
        assert "permission" in outcome
        assert os.getpriority(os.PRIO_PROCESS, pid) == before
        return
    assert outcome is None
    assert os.getpriority(os.PRIO_PROCESS, pid) == before + 5
    # Never lowered back: a smaller niceness leaves the backend as it is.
    assert renice_backend(pid, before) is None
    assert os.getpriority(os.PRIO_PROCESS, pid) == before + 5


async def test_the_pool_setup_renices_each_new_backend_to_the_process_niceness(backend: Any) -> None:
    pid = await backend.fetchval("SELECT pg_backend_pid()")
    before = os.getpriority(os.PRIO_PROCESS, pid)
    await BackendPriority(child_database_url())(backend)
    mine = os.getpriority(os.PRIO_PROCESS, 0)
    assert os.getpriority(os.PRIO_PROCESS, pid) == max(before, mine)


async def test_a_database_on_another_machine_is_left_alone_and_said_once(backend: Any, caplog: Any) -> None:
    pid = await backend.fetchval("SELECT pg_backend_pid()")
    before = os.getpriority(os.PRIO_PROCESS, pid)
    setup = BackendPriority("postgres://postgres@db.example.org:5432/chaingate")
    with caplog.at_level(logging.INFO, logger="chaingate.worker"):
        await setup(backend)
        await setup(backend)
    assert os.getpriority(os.PRIO_PROCESS, pid) == before
    said = [r.getMessage() for r in caplog.records if "keep their CPU priority" in r.getMessage()]
    assert said == ["the worker's PostgreSQL backends keep their CPU priority: the database is on another machine"]


def test_a_process_that_is_not_a_postgres_backend_is_never_reniced() -> None:
    before = os.getpriority(os.PRIO_PROCESS, 0)
    assert renice_backend(os.getpid(), 19) == f"process {os.getpid()} here is not a postgres backend"
    assert os.getpriority(os.PRIO_PROCESS, 0) == before


def test_a_pid_that_is_not_running_here_is_reported() -> None:
    gone = 2**22 + 17  # above the largest pid Linux can give (4,194,304)
    assert renice_backend(gone, 10) == f"backend {gone} is not a process of this machine"


def test_the_setup_reaches_the_postgres_pool_and_not_sqlite() -> None:
    async def setup(connection: Any) -> None:
        return None

    pg = tortoise_config("postgres://postgres@127.0.0.1:5432/x", connection_setup=setup)["connections"]["default"]
    assert pg["credentials"]["init"] is setup
    cached = tortoise_config("postgres://postgres@127.0.0.1:5432/x?statement_cache_size=0",
                             connection_setup=setup)["connections"]["default"]
    assert cached["credentials"]["init"] is setup
    sqlite = tortoise_config("sqlite:///tmp/x.sqlite3", connection_setup=setup)["connections"]["default"]
    assert "init" not in sqlite["credentials"]


def test_only_a_database_on_this_machine_counts_as_local() -> None:
    assert BackendPriority("postgres://postgres@127.0.0.1:5432/x").local
    assert BackendPriority("postgres://postgres@localhost/x").local
    assert BackendPriority("postgres://postgres@/x?host=/var/run/postgresql").local
    assert not BackendPriority("postgres://postgres@postgres:5432/x").local
    assert not BackendPriority("postgres://postgres@/x?host=db.example.org").local
