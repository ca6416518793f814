"""The importJob subscription over a real websocket (graphql-transport-ws) on uvicorn."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from tests import factories as f
from tests.servers import in_process_ws_url

IMPORT = """
mutation($input: ImportDirectoryInput!) { importDirectory(input: $input) { job { id } userErrors { code } } }"""
SUBSCRIBE = "subscription($id: ID!) { importJob(id: $id) { status rowsDone } }"


@pytest.fixture(scope="module")
async def ws_url(database: str) -> AsyncIterator[str]:
    async with in_process_ws_url() as url:
        yield url


async def subscribe(url: str, token: str | None, job_gid: str) -> list[dict[str, Any]]:
    payloads = []
    async with connect(url, subprotocols=["graphql-transport-ws"]) as ws:  # type: ignore[list-item]
        init: dict[str, Any] = {"type": "connection_init"}
        if token:
            init["payload"] = {"Authorization": f"Bearer {token}"}
        await ws.send(json.dumps(init))
        assert json.loads(await ws.recv())["type"] == "connection_ack"
        await ws.send(json.dumps({"id": "1", "type": "subscribe",
                                  "payload": {"query": SUBSCRIBE, "variables": {"id": job_gid}}}))
        while True:
            message = json.loads(await asyncio.wait_for(ws.recv(), 30))
            if message["type"] == "complete":
                return payloads
            assert message["type"] == "next", message
            payloads.append(message["payload"]["data"]["importJob"])


async def test_import_progress_streams_over_a_websocket_until_the_job_ends(ws_url, gql, job_worker):
    c, root = await f.corp()
    boss = await f.super_admin(root)
    rows = [{"name": f"流{i}", "account": f"ws{i}", "email": f"w{i}@x.cn"} for i in range(8)]
    data = await gql.ok(IMPORT, {"input": {"corpId": f.gid("Corp", c.id), "rows": rows}}, f.token(boss))
    job_gid = data["importDirectory"]["job"]["id"]
    seen = await subscribe(ws_url, f.token(boss), job_gid)
    assert seen[-1] == {"status": "SUCCEEDED", "rowsDone": 8}
    # Another member of the corp gets the answer an unknown job gets.
    peer = await f.member([root])
    assert await subscribe(ws_url, f.token(peer), job_gid) == [None]


async def test_a_socket_with_a_bad_token_is_closed(ws_url):
    async with connect(ws_url, subprotocols=["graphql-transport-ws"]) as ws:  # type: ignore[list-item]
        await ws.send(json.dumps({"type": "connection_init", "payload": {"Authorization": "Bearer not-a-token"}}))
        with pytest.raises(ConnectionClosed) as closed:
            await ws.recv()
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 4403


async def _operation(ws: Any, ident: str, query: str) -> dict[str, Any]:
    await ws.send(json.dumps({"id": ident, "type": "subscribe", "payload": {"query": query}}))
    message = json.loads(await asyncio.wait_for(ws.recv(), 30))
    if message["type"] == "next":
        done = json.loads(await asyncio.wait_for(ws.recv(), 30))
        assert done == {"id": ident, "type": "complete"}
    return message


async def test_a_socket_stops_answering_once_its_member_token_is_dead(ws_url, gql):
    """A token stays dead on an open socket too: each operation a socket sends is checked
    against the member's status and session end, as each HTTP request is."""
    from tests.flows.test_disable_member import DISABLE

    c, root = await f.corp()
    boss = await f.super_admin(root)
    staff = await f.member([root], name="套接字")
    directory = "{ viewer { corp { members(first: 5) { totalCount } } } }"
    async with connect(ws_url, subprotocols=["graphql-transport-ws"]) as ws:  # type: ignore[list-item]
        await ws.send(json.dumps({"type": "connection_init", "payload": {"Authorization": f"Bearer {f.token(staff)}"}}))
        assert json.loads(await ws.recv())["type"] == "connection_ack"
        first = await _operation(ws, "1", directory)
        assert first["type"] == "next" and first["payload"]["data"]["viewer"]["corp"]["members"]["totalCount"] == 2
        data = await gql.ok(DISABLE, {"input": {"id": f.gid("Member", staff.id)}}, f.token(boss))
        assert data["disableMember"]["userErrors"] == []
        try:
            after = await _operation(ws, "2", directory)
        except ConnectionClosed as closed:
            assert closed.rcvd is not None and closed.rcvd.code == 4403
        else:
            assert after["type"] == "error" or after["payload"].get("data") is None, after
            codes = [e.get("extensions", {}).get("code") for e in after["payload"]["errors"]] \
                if after["type"] == "next" else [e.get("extensions", {}).get("code") for e in after["payload"]]
            assert codes == ["UNAUTHENTICATED"], after


async def test_a_running_subscription_stops_once_its_member_token_is_dead(ws_url, gql):
    from models import ImportJob
    from models.enums import ImportJobStatus, ImportKind
    from tests.flows.test_disable_member import DISABLE

    c, root = await f.corp()
    boss = await f.super_admin(root)
    # A job in progress that no worker runs: the test moves it by hand.
    job = await ImportJob.create(corp_id=c.id, kind=ImportKind.DIRECTORY, mode="UPSERT", status=ImportJobStatus.RUNNING,
                                 total_rows=10, created_by_id=boss.id, actor_id=boss.id)
    other_boss = await f.member([root], name="二把手")
    from models.enums import AdminKind
    await f.grant(other_boss, AdminKind.SUPER_ADMIN)
    async with connect(ws_url, subprotocols=["graphql-transport-ws"]) as ws:  # type: ignore[list-item]
        await ws.send(json.dumps({"type": "connection_init", "payload": {"Authorization": f"Bearer {f.token(boss)}"}}))
        assert json.loads(await ws.recv())["type"] == "connection_ack"
        await ws.send(json.dumps({"id": "1", "type": "subscribe",
                                  "payload": {"query": SUBSCRIBE, "variables": {"id": f.gid("ImportJob", job.id)}}}))
        first = json.loads(await asyncio.wait_for(ws.recv(), 30))
        assert first["payload"]["data"]["importJob"] == {"status": "RUNNING", "rowsDone": 0}
        data = await gql.ok(DISABLE, {"input": {"id": f.gid("Member", boss.id)}}, f.token(other_boss))
        assert data["disableMember"]["userErrors"] == []
        await ImportJob.filter(id=job.id).update(processed_rows=5)
        try:
            message = json.loads(await asyncio.wait_for(ws.recv(), 30))
        except ConnectionClosed as closed:
            assert closed.rcvd is not None and closed.rcvd.code == 4403
        else:
            assert message["type"] in ("next", "error") and "rowsDone" not in json.dumps(message), message
            errors = message["payload"]["errors"] if message["type"] == "next" else message["payload"]
            assert [e["extensions"]["code"] for e in errors] == ["UNAUTHENTICATED"], message


async def test_the_legacy_graphql_ws_protocol_is_not_a_second_door(ws_url):
    async with connect(ws_url, subprotocols=["graphql-ws"]) as ws:  # type: ignore[list-item]
        with pytest.raises(ConnectionClosed) as closed:
            await ws.send(json.dumps({"type": "connection_init", "payload": {}}))
            await ws.recv()
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 4406
