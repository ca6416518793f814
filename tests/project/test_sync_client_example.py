"""examples/sync_client.py against a real `uvicorn` server on the test database: its SQLite
mirror equals the app token's full read after the first run, after deltas (update, resign,
newcomer), and after a policy change (RESYNC_REQUIRED, read again)."""

from __future__ import annotations

import asyncio
import json
import sqlite3
import sys
from pathlib import Path
from typing import Any

import pytest

from models import FieldSetting, Member
from models.enums import AppScope, MemberStatus
from tests import factories as f
from tests.flows.test_change_feed import full_read
from tests.gateway import app_token
from tests.servers import ROOT, child_database_url, free_port, running, uvicorn_command

pytestmark = pytest.mark.usefixtures("database")


async def run_client(url: str, secret: str, corp_gid: str, db: Path) -> str:
    process = await asyncio.create_subprocess_exec(
        sys.executable, str(ROOT / "examples" / "sync_client.py"), "--url", url, "--token", secret,
        "--corp", corp_gid, "--db", str(db), "--once",
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    out, err = await asyncio.wait_for(process.communicate(), 120)
    assert process.returncode == 0, err.decode()
    return out.decode().strip()


def mirrored(db: Path) -> dict[str, Any]:
    with sqlite3.connect(db) as conn:
        return {k: json.loads(v) for k, v in conn.execute("SELECT id, data FROM member")}


def expected(read: dict[str, Any]) -> dict[str, Any]:
    keep = ("id", "name", "position", "status", "mobile", "hiddenFields", "departments")
    return {k: {f: v[f] for f in keep} for k, v in read.items()}


async def test_the_example_mirrors_the_visible_members_through_deltas_and_a_resync(gql: Any, tmp_path: Path) -> None:
    corp, root = await f.corp()
    unit = await f.unit(root, "销售部")
    people = [await f.member([unit], name=f"成员{i}") for i in range(5)]
    secret, _ = await app_token(corp, AppScope.DIRECTORY_READ.value)
    db = tmp_path / "mirror.sqlite3"
    gid = f.gid("Corp", corp.id)
    port = free_port()

    async def compare() -> None:
        truth, _ = await full_read(gql, corp.id, secret)
        got = {k: {f: v[f] for f in ("id", "name", "position", "status", "mobile", "hiddenFields", "departments")}
               for k, v in mirrored(db).items()}
        assert got == expected(truth)

    async with running([uvicorn_command(port)], {"DATABASE_URL": child_database_url()}):
        url = f"http://127.0.0.1:{port}"
        assert await run_client(url, secret, gid, db) == "5"
        await compare()
        await Member.filter(id=people[0].id).update(position="经理")
        await Member.filter(id=people[1].id).update(status=MemberStatus.RESIGNED)
        await f.member([unit], name="新人")
        assert await run_client(url, secret, gid, db) == "5"
        await compare()
        assert "经理" in json.dumps(mirrored(db), ensure_ascii=False)
        # A policy change: the feed answers RESYNC_REQUIRED and the example reads again.
        await FieldSetting.create(corp=corp, field="position", visible_to_members=False, self_editable=False)
        await Member.filter(id=people[2].id).update(name="改名")
        assert await run_client(url, secret, gid, db) == "5"
        await compare()
