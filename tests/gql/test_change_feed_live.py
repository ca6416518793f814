"""The live change stream (SPEC §3.9): subscription `changes` over a real websocket
(graphql-transport-ws on uvicorn in this process) gives what Corp.changes gives."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

import pytest
from websockets.asyncio.client import connect

from models import Member, OrgUnit
from models.enums import Scope
from tests import factories as f
from tests.flows.test_change_feed import MEMBER_FIELDS, full_read
from tests.servers import in_process_ws_url

pytestmark = pytest.mark.usefixtures("database")

STREAM = """
subscription($corpId: ID, $chainId: ID, $after: String!) {
  changes(corpId: $corpId, chainId: $chainId, after: $after) {
    syncToken hasMore changes { kind removedId changedFields node { id ... on Member { %s } } }
  }
}""" % MEMBER_FIELDS  # noqa: UP031


@pytest.fixture(scope="module")
async def ws_url(database: str) -> AsyncIterator[str]:
    async with in_process_ws_url() as url:
        yield url


async def _open(url: str, token: str, variables: dict[str, Any]) -> Any:
    ws = await connect(url, subprotocols=["graphql-transport-ws"]).__aenter__()  # type: ignore[list-item]
    await ws.send(json.dumps({"type": "connection_init", "payload": {"Authorization": f"Bearer {token}"}}))
    assert json.loads(await ws.recv())["type"] == "connection_ack"
    await ws.send(json.dumps({"id": "1", "type": "subscribe", "payload": {"query": STREAM, "variables": variables}}))
    return ws


async def _next(ws: Any) -> dict[str, Any]:
    return json.loads(await asyncio.wait_for(ws.recv(), 30))


async def test_a_live_client_gets_the_changes_it_may_see_and_ends_up_with_a_full_read(ws_url: str, gql: Any) -> None:
    corp, root = await f.corp()
    sales = await f.unit(root, "销售部", Scope.DEPARTMENT)
    rnd = await f.unit(root, "研发部", Scope.DEPARTMENT)
    seller = await f.member([sales], name="销售甲")
    colleague = await f.member([sales], name="销售乙")
    engineer = await f.member([rnd], name="研发甲")
    token = f.token(seller)
    mirror, sync = await full_read(gql, corp.id, token)
    ws = await _open(ws_url, token, {"corpId": f.gid("Corp", corp.id), "after": sync})
    try:
        await Member.filter(id=engineer.id).update(position="架构师")  # not the seller's to know
        await Member.filter(id=colleague.id).update(position="组长")
        newcomer = await f.member([sales], name="销售丙")
        seen: list[dict[str, Any]] = []
        while not {f.gid("Member", colleague.id), f.gid("Member", newcomer.id)} <= {
                c["node"]["id"] for c in seen if c["node"]}:
            message = await _next(ws)
            assert message["type"] == "next", message
            page = message["payload"]["data"]["changes"]
            assert page["changes"], "a message carries changes"
            seen += page["changes"]
        for change in seen:
            mirror[change["node"]["id"]] = change["node"]
        assert f.gid("Member", engineer.id) not in json.dumps(seen)
        assert mirror == (await full_read(gql, corp.id, token))[0]
        # A policy change ends the stream with RESYNC_REQUIRED.
        await OrgUnit.filter(id=sales.id).update(scope=Scope.ALL)
        message = await _next(ws)
        assert message["type"] == "error" or message["payload"].get("errors"), message
        errors = message["payload"] if message["type"] == "error" else message["payload"]["errors"]
        assert [e["extensions"]["code"] for e in errors] == ["RESYNC_REQUIRED"]
    finally:
        await ws.close()


async def test_a_feed_the_viewer_is_not_served_streams_null(ws_url: str, gql: Any) -> None:
    corp, root = await f.corp()
    other, other_root = await f.corp()
    outsider = await f.member([other_root])
    admin = await f.super_admin(root)
    _, sync = await full_read(gql, corp.id, f.token(admin))
    ws = await _open(ws_url, f.token(outsider), {"corpId": f.gid("Corp", corp.id), "after": sync})
    try:
        message = await _next(ws)
        assert message["payload"]["data"] == {"changes": None}
        assert (await _next(ws))["type"] == "complete"
    finally:
        await ws.close()
