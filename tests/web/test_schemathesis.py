"""Schemathesis in GraphQL mode against a real HTTP server: queries and mutations generated
from the schema (loaded by introspection, as an admin may) never get a 5xx, and every error
carries a stable code, none of them an internal error.

The server is uvicorn on a free loopback port, serving the app in this test's event loop
(so it shares the test database); Schemathesis sends its requests from a worker thread.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
import requests
import schemathesis
import uvicorn
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis.graphql import nodes
from schemathesis.specs.graphql.scalars import CUSTOM_SCALARS

from auth.ratelimit import RateRule
from gql.protection.errors import INTERNAL_SERVER_ERROR, STABLE_CODES
from models.enums import ChainCorpStatus, ContactStatus
from tests import factories as f
from web.gate import Budgets

UNLIMITED = Budgets(caller=RateRule(0, 0), anonymous=RateRule(0, 0), auth_failures=RateRule(0, 0))
QUERY_EXAMPLES = 80
MUTATION_EXAMPLES = 60


def fuzz_settings(examples: int) -> settings:
    # Bounded whatever the profile (CI runs hypothesis with 2000 examples elsewhere), and
    # derandomized: the same schema gets the same requests, so a run fails or passes for a
    # reason, not by luck of the draw.
    return settings(
        max_examples=examples,
        derandomize=True,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much, HealthCheck.data_too_large],
    )


@pytest.fixture(scope="module")
async def server(database: str) -> AsyncIterator[str]:
    from web.app import create_app

    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(
        create_app(manage_db=False, budgets=UNLIMITED), lifespan="off", log_level="warning", access_log=False
    )
    instance = uvicorn.Server(config)
    task = asyncio.create_task(instance.serve(sockets=[sock]))
    while not instance.started:
        await asyncio.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{port}/graphql"
    finally:
        instance.should_exit = True
        await task
        sock.close()


@dataclass
class Fuzzed:
    tokens: dict[str, str]
    # Global ids of real objects, own and foreign, so generated queries reach resolvers
    # with something to load instead of stopping at an unparsable id.
    ids: list[str]


@pytest.fixture(scope="module")
async def world(database: str) -> Fuzzed:
    """A super admin with something to read (units, members, a chain with corps and
    contacts), a plain member of the same corp, and a foreign corp."""
    corp, root = await f.corp("模糊测试")
    unit = await f.unit(root, "销售部")
    admin = await f.super_admin(root)
    plain = await f.member([unit], name="普通成员")
    chain, top = await f.chain_space(corp)
    group = await f.group(top, "供应商")
    supplier, supplier_root = await f.corp("供应商")
    supplier_member = await f.member([supplier_root])
    place = await f.chain_corp(group, supplier)
    joined = await f.contact(place, supplier_member)
    imported = await f.chain_corp(group, status=ChainCorpStatus.IMPORTED)
    pending = await f.contact(imported, status=ContactStatus.IMPORTED)
    foreign, foreign_root = await f.corp("外企")
    stranger = await f.member([foreign_root])
    ids = [
        f.gid("Corp", corp.id), f.gid("Corp", supplier.id), f.gid("Corp", foreign.id),
        f.gid("OrgUnit", root.id), f.gid("OrgUnit", unit.id), f.gid("OrgUnit", foreign_root.id),
        f.gid("Member", admin.id), f.gid("Member", plain.id), f.gid("Member", supplier_member.id),
        f.gid("Member", stranger.id), f.gid("ChainSpace", chain.id), f.gid("ChainGroup", top.id),
        f.gid("ChainGroup", group.id), f.gid("ChainCorp", place.id), f.gid("ChainCorp", imported.id),
        f.gid("ChainContact", joined.id), f.gid("ChainContact", pending.id),
    ]
    return Fuzzed({"admin": f.token(admin), "member": f.token(plain)}, ids)


@contextlib.contextmanager
def ids_from(known: list[str]) -> Iterator[None]:
    """Generated IDs: mostly real global ids, sometimes any text."""
    strategy = st.one_of(st.sampled_from(known), st.sampled_from(known), st.text(max_size=20)).map(nodes.String)
    schemathesis.graphql.scalar("ID", strategy)
    try:
        yield
    finally:
        CUSTOM_SCALARS.pop("ID", None)


def problems(response: requests.Response) -> list[str]:
    """What is wrong with one answer: a 5xx, a non-GraphQL body, an uncoded or internal error."""
    if response.status_code >= 500:
        return [f"HTTP {response.status_code}: {response.text[:300]}"]
    try:
        body: Any = response.json()
    except ValueError:
        return [f"not JSON (HTTP {response.status_code}): {response.text[:300]}"]
    if not isinstance(body, dict) or not ({"data", "errors"} & set(body)):
        return [f"not a GraphQL response: {str(body)[:300]}"]
    found = []
    for error in body.get("errors") or []:
        code = (error.get("extensions") or {}).get("code")
        if code not in STABLE_CODES:
            found.append(f"error without a stable code: {error}")
        elif code == INTERNAL_SERVER_ERROR:
            found.append(f"internal error: {error}")
    return found


def fuzz(url: str, world: Fuzzed, root: str, caller: str, examples: int) -> list[str]:
    """Runs in a worker thread: the event loop stays free to serve the requests. The schema
    is read by introspection as the admin (nobody else may introspect outside dev mode)."""
    schema = schemathesis.graphql.from_url(
        url, headers={"Authorization": f"Bearer {world.tokens['admin']}"}, timeout=30
    )
    headers = {"Authorization": f"Bearer {world.tokens[caller]}"}
    operations = schema.include(name_regex=f"^{root}\\.")
    failures: list[str] = []
    calls = 0
    with requests.Session() as session:

        @fuzz_settings(examples)
        @given(case=operations.as_strategy())
        def run(case: Any) -> None:
            nonlocal calls
            calls += 1
            response = case.call(session=session, headers=headers, timeout=30)
            for problem in problems(response):
                failures.append(f"{case.operation.label}: {problem}\n    query: {case.body}")

        with ids_from(world.ids):
            run()
    assert calls >= examples // 2, f"only {calls} requests were sent"
    return failures


async def test_generated_queries_never_fail_inside_the_gateway(server: str, world: Fuzzed):
    failures = await asyncio.to_thread(fuzz, server, world, "Query", "admin", QUERY_EXAMPLES)
    assert not failures, "\n".join(failures[:10])


async def test_generated_mutations_never_fail_inside_the_gateway(server: str, world: Fuzzed):
    # As a plain member: every mutation is parsed, validated and policy-checked, and the
    # shared test database is spared the side effects of random administrative writes.
    failures = await asyncio.to_thread(fuzz, server, world, "Mutation", "member", MUTATION_EXAMPLES)
    assert not failures, "\n".join(failures[:10])
