"""First leader wins under real concurrency (SPEC §3.4), on PostgreSQL.

Two API server processes (uvicorn) serve the test database, each with its own connection
pool; two leaders of one imported corp fire their join requests at both servers at once.
No Python lock can span two processes: only the database (a conditional UPDATE of the
chain corp, a row lock on the contact, unique indexes) can make exactly one identity win.
"""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import time
from collections import Counter
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from tortoise.connection import get_connection

from models import AuditEvent, ChainContact, ChainCorp, Corp, Member
from models.chain import JoinRequest, JoinRequestStatus
from models.enums import ChainCorpStatus, ContactRole, ContactStatus
from tests import factories as f

JOIN = """
mutation($input: JoinChainInput!) {
  joinChain(input: $input) { outcome corp { corpId } userErrors { code } }
}
"""

SERVERS = 2
REQUESTS_PER_LEADER = 12
ROUNDS = 3
ROOT = Path(__file__).resolve().parents[2]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _test_database_url() -> str:
    conn: Any = get_connection("default")
    auth = f"{conn.user}:{conn.password}@" if conn.password else f"{conn.user}@"
    # Each server keeps up to 20 connections: every request in flight holds one of its own.
    return f"postgres://{auth}{conn.host}:{conn.port}/{conn.database}?minsize=1&maxsize=20"


@pytest.fixture
async def servers(database: str) -> AsyncIterator[list[str]]:
    if database != "postgres":
        pytest.skip(
            "First-leader-wins is proven against PostgreSQL row locks and conditional UPDATEs with "
            "several server processes; SQLite serialises every writer. Run with "
            "DATABASE_URL=postgres://postgres@127.0.0.1:5432/test."
        )
    env = {**os.environ, "DATABASE_URL": _test_database_url(), "CHAINGATE_DEV": "0"}
    procs: list[subprocess.Popen[bytes]] = []
    urls = []
    for _ in range(SERVERS):
        port = _free_port()
        code = (
            "import uvicorn\nfrom web.app import create_app\n"
            f"uvicorn.run(create_app(), host='127.0.0.1', port={port}, log_level='warning')\n"
        )
        procs.append(subprocess.Popen([sys.executable, "-c", code], cwd=ROOT, env=env))
        urls.append(f"http://127.0.0.1:{port}")
    try:
        async with httpx.AsyncClient(timeout=2) as client:
            deadline = time.monotonic() + 60
            for url in urls:
                while True:
                    try:
                        if (await client.get(f"{url}/readyz")).status_code == 200:
                            break
                    except httpx.TransportError:
                        pass
                    if time.monotonic() > deadline:
                        pytest.fail(f"API server at {url} did not start")
                    await asyncio.sleep(0.2)
        yield urls
    finally:
        for p in procs:
            p.terminate()
        for p in procs:
            try:
                p.wait(timeout=10)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()


async def _rollbacks() -> int:
    """Transactions rolled back in the test database so far (a lost race rolls back). Backends
    report their counters with up to a second's delay, so the caller waits before reading."""
    conn = get_connection("default")
    await asyncio.sleep(1.5)
    await conn.execute_query("SELECT pg_stat_clear_snapshot()")
    rows = await conn.execute_query_dict(
        "SELECT xact_rollback FROM pg_stat_database WHERE datname = current_database()"
    )
    return int(rows[0]["xact_rollback"])


async def _race_round(urls: list[str], round_no: int) -> dict[str, Any]:
    owner, root = await f.corp("上级企业")
    await f.super_admin(root)
    chain, groot = await f.chain_space(owner)
    place = await f.imported_place(await f.group(groot), f"同时导入的企业{round_no}")
    leader_1 = await f.imported_contact(place, "负责人1", ContactRole.LEADER)
    leader_2 = await f.imported_contact(place, "负责人2", ContactRole.LEADER)
    # Leader 1 joins as a corp it already belongs to; leader 2 creates a new one.
    corp_1, corp_1_root = await f.corp("负责人1的企业")
    await f.member([corp_1_root], name="负责人1", mobile=leader_1.mobile)
    new_name = f"负责人2新建的企业{round_no}-{f.unique_mobile()[-6:]}"
    requests = [
        (f.person_token(leader_1.mobile), {"code": leader_1.join_code, "corpId": f.gid("Corp", corp_1.id)}, "L1")
        for _ in range(REQUESTS_PER_LEADER)
    ] + [
        (f.person_token(leader_2.mobile), {"code": leader_2.join_code, "newCorpName": new_name}, "L2")
        for _ in range(REQUESTS_PER_LEADER)
    ]
    # Interleave the leaders and spread the requests over the servers.
    requests = [r for pair in zip(requests[:REQUESTS_PER_LEADER], requests[REQUESTS_PER_LEADER:], strict=True) for r in pair]
    limits = httpx.Limits(max_connections=len(requests), max_keepalive_connections=0)
    async with httpx.AsyncClient(timeout=60, limits=limits) as client:

        async def send(i: int, token: str, variables: dict[str, Any], who: str) -> tuple[str, str]:
            response = await client.post(
                f"{urls[i % len(urls)]}/graphql",
                json={"query": JOIN, "variables": {"input": variables}},
                headers={"Authorization": f"Bearer {token}"},
            )
            assert response.status_code == 200, response.text
            body = response.json()
            assert not body.get("errors"), body
            payload = body["data"]["joinChain"]
            return who, payload["outcome"] or payload["userErrors"][0]["code"]

        started = time.perf_counter()
        answers = await asyncio.gather(*(send(i, *r) for i, r in enumerate(requests)))
        elapsed = time.perf_counter() - started
    return {
        "place": place, "leaders": {"L1": leader_1, "L2": leader_2}, "corp_1": corp_1, "new_name": new_name,
        "answers": Counter(answers), "elapsed": elapsed, "chain": chain,
    }


async def test_first_leader_wins_across_processes_on_postgres(servers: list[str]) -> None:
    report = []
    rollbacks_before = await _rollbacks()
    for round_no in range(ROUNDS):
        r = await _race_round(servers, round_no)
        place = await ChainCorp.get(id=r["place"].id)
        created = await Corp.filter(name=r["new_name"])
        assert place.status is ChainCorpStatus.JOINED and place.corp_id is not None
        # Exactly one identity chose the corp: leader 1's corp, or the one leader 2 created.
        assert len(created) <= 1
        winner = "L1" if place.corp_id == r["corp_1"].id else "L2"
        if winner == "L2":
            assert len(created) == 1 and place.corp_id == created[0].id
        else:
            # Every corp leader 2 created in a losing transaction was rolled back.
            assert created == []
        loser = "L2" if winner == "L1" else "L1"
        won = await ChainContact.get(id=r["leaders"][winner].id)
        lost = await ChainContact.get(id=r["leaders"][loser].id)
        assert won.status is ContactStatus.JOINED and won.chain_corp_id == place.id
        assert (await Member.get(id=won.member_id)).corp_id == place.corp_id
        # The other leader is attached to the winning corp as pending: one open request, however many taps.
        assert lost.status is ContactStatus.PENDING_CONFIRM and lost.chain_corp_id == place.id
        requests = await JoinRequest.filter(contact_id=lost.id)
        assert [(q.status, q.corp_id) for q in requests] == [(JoinRequestStatus.PENDING, place.corp_id)]
        decisions = await AuditEvent.filter(action="chain.join", target_id=place.id)
        assert sum(1 for e in decisions if e.after.get("decided")) == 1
        answers = r["answers"]
        assert sum(answers.values()) == 2 * REQUESTS_PER_LEADER
        assert answers[(winner, "JOINED")] >= 1 and answers[(loser, "PENDING_APPROVAL")] >= 1
        assert set(answers) <= {
            (winner, "JOINED"), (winner, "ALREADY_JOINED"), (loser, "PENDING_APPROVAL"), (loser, "TRY_AGAIN"),
        }, answers
        report.append(
            f"round {round_no}: {winner} won; {sum(answers.values())} requests in {r['elapsed']:.2f}s; "
            f"answers {dict(answers)}"
        )
    report.append(f"transactions rolled back by lost races over all rounds: {await _rollbacks() - rollbacks_before}")
    print("\n".join(report))
