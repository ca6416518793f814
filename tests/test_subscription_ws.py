"""The importJob subscription over a real websocket (graphql-transport-ws) on uvicorn."""

from __future__ import annotations

import asyncio
import json
import socket
from collections.abc import AsyncIterator
from typing import Any

import pytest
import uvicorn
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from flows import jobs
from tests import factories as f

IMPORT = """
mutation($input: ImportDirectoryInput!) { importDirectory(input: $input) { job { id } userErrors { code } } }"""
SUBSCRIBE = "subscription($id: ID!) { importJob(id: $id) { status rowsDone } }"


@pytest.fixture(scope="module")
async def ws_url(database: str) -> AsyncIterator[str]:
    from gql.app import create_app

    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    server = uvicorn.Server(uvicorn.Config(create_app(manage_db=False), lifespan="off", log_level="warning"))
    task = asyncio.create_task(server.serve(sockets=[sock]))
    while not server.started:
        await asyncio.sleep(0.01)
    try:
        yield f"ws://127.0.0.1:{sock.getsockname()[1]}/graphql"
    finally:
        server.should_exit = True
        await task
        sock.close()


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
