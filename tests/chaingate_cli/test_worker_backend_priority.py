"""The worker's PostgreSQL backends run at the worker's CPU priority when the database is
on the same machine (chaingate_cli/worker.py, BackendPriority), their session autogroups
included where the kernel keeps them; elsewhere, or without the right to renice them, they
keep theirs and the worker says why once."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import asyncpg
import pytest

from chaingate_cli.worker import BackendPriority, autogroup_nice, renice_backend, set_autogroup_nice
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


async def test_a_local_backend_session_gets_the_worker_niceness_where_the_kernel_groups_sessions(backend: Any) -> None:
    """A backend leads its own session, so its own niceness weighs only against its session
    (itself): its autogroup takes the niceness too, never lowered."""
    pid = await backend.fetchval("SELECT pg_backend_pid()")
    before = autogroup_nice(pid)
    if before is None:
        pytest.skip("this kernel keeps no session autogroups")
    assert os.getsid(pid) == pid
    target = max(before, os.getpriority(os.PRIO_PROCESS, pid)) + 3
    outcome = renice_backend(pid, target)
    if os.geteuid() != 0 and outcome is not None:
        assert "permission" in outcome
        assert autogroup_nice(pid) == before
        return
    assert outcome is None
    assert autogroup_nice(pid) == target
    assert renice_backend(pid, before) is None
    assert autogroup_nice(pid) == target


def test_an_autogroup_is_raised_never_lowered() -> None:
    mine = autogroup_nice(os.getpid())
    child = subprocess.Popen(["sleep", "60"], start_new_session=True)
    try:
        before = autogroup_nice(child.pid)
        if before is None:
            pytest.skip("this kernel keeps no session autogroups")
        set_autogroup_nice(child.pid, before + 4)
        assert autogroup_nice(child.pid) == before + 4
        set_autogroup_nice(child.pid, before)
        assert autogroup_nice(child.pid) == before + 4
        assert autogroup_nice(os.getpid()) == mine  # another session's group: left as it was
    finally:
        child.kill()
        child.wait()


def _niced_child(code: str) -> str:
    """Run `code` in a fresh Python process that may call lower_priority and autogroup_nice;
    its stdout."""
    script = f"import os\nfrom chaingate_cli.worker import autogroup_nice, lower_priority\n{code}"
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=True)
    return done.stdout.strip()


def test_a_worker_leading_its_session_nices_the_session_autogroup_too() -> None:
    out = _niced_child("os.setsid()\nbefore = autogroup_nice(os.getpid())\n"
                       "now = lower_priority(5)\nprint(before, now, autogroup_nice(os.getpid()))")
    if out.startswith("None"):
        pytest.skip("this kernel keeps no session autogroups")
    before, now, group = (int(x) for x in out.split())
    assert group == max(before, now)


def test_a_worker_sharing_a_session_leaves_the_session_autogroup_alone() -> None:
    """Started by `serve --demo`, a shell or the bench, the worker shares its session's
    autogroup with its parent: its own niceness then ranks it below them, and the group
    (theirs too) keeps its share."""
    mine = autogroup_nice(os.getpid())  # None when this session is the root group's (CI under init)
    out = _niced_child("print(lower_priority(5), autogroup_nice(os.getpid()))")
    now, group = out.split()
    assert int(now) >= 5
    assert group == str(mine) and autogroup_nice(os.getpid()) == mine


def test_a_process_of_the_root_group_has_no_autogroup_to_set() -> None:
    """The kernel writes an empty /proc/<pid>/autogroup for a process whose session never
    called setsid since boot (init, kernel threads, a CI job run under init): no niceness."""
    files = [Path(f"/proc/{pid}/autogroup") for pid in (1, 2)]
    empty = [int(f.parent.name) for f in files if f.exists() and f.read_text() == ""]
    if not empty:
        pytest.skip("neither init nor kthreadd reads as the root group here (a pid namespace?)")
    assert autogroup_nice(empty[0]) is None
    set_autogroup_nice(empty[0], 19)  # nothing to raise: no write, no PermissionError
    assert Path(f"/proc/{empty[0]}/autogroup").read_text() == ""


def test_a_process_of_no_autogroup_kernel_or_gone_reads_none() -> None:
    assert autogroup_nice(2**22 + 17) is None
    set_autogroup_nice(2**22 + 17, 10)  # nothing to do, no error


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
