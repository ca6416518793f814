"""Several API processes against one PostgreSQL give the same answers: two `chaingate
serve` processes, as an operator scales out, each with its own connection pool, sharing
only PostgreSQL and Redis.

- a write through one server is read through the other (no state kept in a process);
- request budgets are one budget, kept in Redis, whichever server is asked;
- first leader wins when the two leaders of one imported corp join through different
  servers at the same moment (only the database can decide between two processes).

On SQLite (one writer, one file) this is skipped; without Redis it is skipped on a
developer's machine and fails in CI (CI=true), which must run it.
"""

from __future__ import annotations

import asyncio
import os
import uuid
from collections import Counter
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
import redis.asyncio as redis
from redis.exceptions import RedisError

from models import AuditEvent, ChainContact, ChainCorp, Corp, Member
from models.chain import JoinRequest, JoinRequestStatus
from models.enums import ChainCorpStatus, ContactRole, ContactStatus
from tests import factories as f
from tests.gateway import app_token
from tests.join_helpers import JOIN
from tests.servers import Server, child_database_url, free_port, running, serve_command, skip_or_fail

# Not REDIS_URL: the suite's own apps must not open Redis clients.
REDIS_URL = os.environ.get("TEST_REDIS_URL") or "redis://127.0.0.1:6379/0"
BURST = 40  # per caller, shared by both servers; nothing refills during the test
JOINS_PER_LEADER = 6
ROUNDS = 2

CREATE_UNIT = """
mutation CreateUnit($p: ID!, $name: String!) { createOrgUnit(input: {parentId: $p, name: $name}) { unit { id name } userErrors { code } } }
"""
RENAME_UNIT = """
mutation RenameUnit($id: ID!, $name: String!) { updateOrgUnit(input: {id: $id, name: $name}) { unit { id name } userErrors { code } } }
"""
UNIT = "query Unit($id: ID!) { node(id: $id) { ... on OrgUnit { id name } } }"
TRAIL = """
query Trail($corp: ID!) { node(id: $corp) { ... on Corp { auditEvents(first: 10) { edges { node { action requestId } } } } } }
"""
KIND = "query Kind { viewer { kind } }"


@pytest.fixture(scope="module")
async def redis_prefix(database: str) -> AsyncIterator[str]:
    if database != "postgres":
        pytest.skip(
            "Scale-out is proven against PostgreSQL (one database, several server processes with their own "
            "connection pools); SQLite serialises every writer in one file. Run with "
            "DATABASE_URL=postgres://postgres@127.0.0.1:5432/test."
        )
    client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2)
    try:
        await client.ping()
    except (RedisError, OSError) as exc:
        await client.aclose()
        skip_or_fail(f"Redis at {REDIS_URL} is not reachable ({type(exc).__name__}); budgets are shared through it")
    # A prefix of this run's own: parallel runs (and other tests) never share a bucket.
    prefix = f"chaingate-test:{uuid.uuid4().hex}:"
    try:
        yield prefix
    finally:
        keys = [k async for k in client.scan_iter(match=prefix + "*")]
        if keys:
            await client.delete(*keys)
        await client.aclose()


@pytest.fixture(scope="module")
async def servers(redis_prefix: str) -> AsyncIterator[list[Server]]:
    env = {
        "DATABASE_URL": child_database_url(max_connections=12), "CHAINGATE_DEV": "0",
        "REDIS_URL": REDIS_URL, "CHAINGATE_REDIS_PREFIX": redis_prefix,
        # A small budget per caller that does not refill within the test; anonymous calls unlimited.
        "CHAINGATE_RATE_LIMIT": "0.0001", "CHAINGATE_RATE_BURST": str(BURST), "CHAINGATE_ANON_RATE_LIMIT": "0",
    }
    async with running([serve_command(free_port()), serve_command(free_port())], env) as started:
        assert started[0].process.pid != started[1].process.pid
        yield started


async def call(url: str, query: str, variables: dict[str, Any] | None = None, token: str | None = None,
               client: httpx.AsyncClient | None = None) -> httpx.Response:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    body = {"query": query, "variables": variables or {}}
    if client is not None:
        return await client.post(f"{url}/graphql", json=body, headers=headers)
    async with httpx.AsyncClient(timeout=30) as http:
        return await http.post(f"{url}/graphql", json=body, headers=headers)


def data(response: httpx.Response) -> dict[str, Any]:
    body = response.json()
    assert response.status_code == 200 and not body.get("errors"), body
    return dict(body["data"])


async def test_a_write_through_one_server_is_read_through_the_other(servers):
    a, b = servers
    corp, root = await f.corp()
    admin = f.token(await f.super_admin(root))
    created = await call(a.url, CREATE_UNIT, {"p": f.gid("OrgUnit", root.id), "name": "甲服务器建的部门"}, admin)
    unit = data(created)["createOrgUnit"]["unit"]
    assert data(await call(b.url, UNIT, {"id": unit["id"]}, admin)) == {"node": unit}
    renamed = await call(b.url, RENAME_UNIT, {"id": unit["id"], "name": "乙服务器改的名"}, admin)
    assert data(renamed)["updateOrgUnit"]["userErrors"] == []
    assert data(await call(a.url, UNIT, {"id": unit["id"]}, admin))["node"]["name"] == "乙服务器改的名"
    # Both events, newest first, read through server A, each under the request id the server
    # that served it put on its response.
    trail = data(await call(a.url, TRAIL, {"corp": f.gid("Corp", corp.id)}, admin))["node"]["auditEvents"]["edges"]
    assert [(e["node"]["action"], e["node"]["requestId"]) for e in trail] == [
        ("unit.update", renamed.headers["x-request-id"]), ("unit.create", created.headers["x-request-id"]),
    ]


async def test_request_budgets_are_one_budget_across_servers_through_redis(servers):
    a, b = servers
    corp, _ = await f.corp()
    secret, _ = await app_token(corp, "directory:read")
    async with httpx.AsyncClient(timeout=30) as http:
        answers = [await call(servers[i % 2].url, KIND, token=secret, client=http) for i in range(BURST)]
        assert [r.status_code for r in answers] == [200] * BURST  # each server has served only half of them
        for server in (a, b):
            refused = await call(server.url, KIND, token=secret, client=http)
            assert refused.status_code == 429 and int(refused.headers["retry-after"]) >= 1
            assert refused.json()["errors"][0]["extensions"]["code"] == "RATE_LIMITED"
        # Another caller's budget is untouched.
        other, _ = await app_token(corp, "directory:read")
        assert (await call(b.url, KIND, token=other, client=http)).status_code == 200


async def _race(servers: list[Server], round_no: int) -> dict[str, Any]:
    owner, root = await f.corp("上游企业")
    await f.super_admin(root)
    _, groot = await f.chain_space(owner)
    place = await f.imported_place(await f.group(groot), f"两台服务器同时加入的企业{round_no}")
    leader_1 = await f.imported_contact(place, "负责人甲", ContactRole.LEADER)
    leader_2 = await f.imported_contact(place, "负责人乙", ContactRole.LEADER)
    corp_1, corp_1_root = await f.corp("负责人甲的企业")
    await f.member([corp_1_root], name="负责人甲", mobile=leader_1.mobile)
    new_name = f"负责人乙新建的企业{round_no}-{uuid.uuid4().hex[:6]}"
    # Leader 1 only ever asks server A, leader 2 only server B, interleaved, all at once.
    sends = []
    for _ in range(JOINS_PER_LEADER):
        sends.append(("L1", servers[0], f.person_token(leader_1.mobile),
                      {"code": leader_1.join_code, "corpId": f.gid("Corp", corp_1.id)}))
        sends.append(("L2", servers[1], f.person_token(leader_2.mobile),
                      {"code": leader_2.join_code, "newCorpName": new_name}))
    limits = httpx.Limits(max_connections=len(sends), max_keepalive_connections=0)
    async with httpx.AsyncClient(timeout=60, limits=limits) as http:

        async def send(who: str, server: Server, token: str, choice: dict[str, Any]) -> tuple[str, str]:
            payload = data(await call(server.url, JOIN, {"input": choice}, token, client=http))["joinChain"]
            return who, payload["outcome"] or payload["userErrors"][0]["code"]

        answers = Counter(await asyncio.gather(*(send(*s) for s in sends)))
    return {"place": place, "leaders": {"L1": leader_1, "L2": leader_2}, "corp_1": corp_1, "new_name": new_name,
            "answers": answers}


async def test_first_leader_wins_when_two_leaders_join_through_different_servers(servers):
    for round_no in range(ROUNDS):
        r = await _race(servers, round_no)
        place = await ChainCorp.get(id=r["place"].id)
        assert place.status is ChainCorpStatus.JOINED and place.corp_id is not None
        created = await Corp.filter(name=r["new_name"])
        winner = "L1" if place.corp_id == r["corp_1"].id else "L2"
        loser = "L2" if winner == "L1" else "L1"
        # Exactly one identity: leader 1's corp, or the one corp leader 2 created; a loser's
        # new corp was rolled back with its transaction.
        assert created == ([] if winner == "L1" else [await Corp.get(id=place.corp_id)])
        won = await ChainContact.get(id=r["leaders"][winner].id)
        lost = await ChainContact.get(id=r["leaders"][loser].id)
        assert won.status is ContactStatus.JOINED and (await Member.get(id=won.member_id)).corp_id == place.corp_id
        assert lost.status is ContactStatus.PENDING_CONFIRM and lost.chain_corp_id == place.id
        assert [(q.status, q.corp_id) for q in await JoinRequest.filter(contact_id=lost.id)] == [
            (JoinRequestStatus.PENDING, place.corp_id)
        ]
        decisions = await AuditEvent.filter(action="chain.join", target_id=place.id)
        assert sum(1 for e in decisions if e.after.get("decided")) == 1
        answers = r["answers"]
        assert answers[(winner, "JOINED")] >= 1 and answers[(loser, "PENDING_APPROVAL")] >= 1
        assert set(answers) <= {
            (winner, "JOINED"), (winner, "ALREADY_JOINED"), (loser, "PENDING_APPROVAL"), (loser, "TRY_AGAIN"),
        }, answers
