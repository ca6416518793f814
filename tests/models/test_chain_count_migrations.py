"""The data steps of migrations 0019 (chain_contact.member_left, contact_headcount.n_listed)
and 0020 (chain_corp_headcount): run on rows written without their triggers, they fill the
kept values from the rows, and the triggers they install keep them through later writes,
also when a contact's link and its member's status are written concurrently."""

from __future__ import annotations

import asyncio
from importlib import import_module
from types import SimpleNamespace

import pytest
from tortoise.connection import get_connection
from tortoise.transactions import in_transaction

from models import ChainContact, ChainCorpHeadcount, Member
from models.enums import ChainCorpStatus, MemberStatus
from tests import factories as f
from tests.models.test_contact_headcounts import (
    corps_kept,
    corps_recounted,
    kept,
    member_left_as_kept_and_recomputed,
    recounted,
)

LEFT = import_module("models.migrations.0019_contact_member_left")
CORPS = import_module("models.migrations.0020_chain_corp_headcounts")


async def test_0019_fills_member_left_and_listed_counts_and_keeps_them(database):
    owner, _ = await f.corp("上游迁移")
    _, top = await f.chain_space(owner)
    down, down_root = await f.corp("下游迁移")
    place = await f.chain_corp(top, down)
    leaving, staying = await f.member([down_root]), await f.member([down_root])
    contact = await f.contact(place, leaving)
    await f.contact(place, staying)
    editor = SimpleNamespace(client=get_connection("default"))

    await LEFT.back_to_0017(None, editor)  # 0017's triggers alone: member_left and n_listed not kept
    await Member.filter(id=leaving.id).update(status=MemberStatus.RESIGNED)
    assert not (await ChainContact.get(id=contact.id)).member_left
    await LEFT.fill_and_keep(None, editor)
    assert (await ChainContact.get(id=contact.id)).member_left
    as_kept, recomputed = await member_left_as_kept_and_recomputed()
    assert as_kept == recomputed
    assert await kept() == await recounted()

    await Member.filter(id=leaving.id).update(status=MemberStatus.ACTIVE)  # kept by the new triggers
    assert not (await ChainContact.get(id=contact.id)).member_left
    assert await kept() == await recounted()


async def test_0020_fills_corp_counts_and_keeps_them(database):
    owner, _ = await f.corp("上游计数迁移")
    _, top = await f.chain_space(owner)
    editor = SimpleNamespace(client=get_connection("default"))

    await CORPS.drop_triggers(None, editor)
    await ChainCorpHeadcount.all().delete()  # as the new table starts
    await f.chain_corp(top)
    await f.chain_corp(top, status=ChainCorpStatus.IMPORTED)
    await CORPS.fill_and_keep(None, editor)
    assert await corps_kept() == await corps_recounted()

    await f.chain_corp(top, status=ChainCorpStatus.REMOVED)  # kept by the triggers it installed
    assert await corps_kept() == await corps_recounted()


async def test_a_link_written_while_its_member_resigns_ends_with_member_left(database):
    """PostgreSQL: a transaction links a contact to a member while another resigns that member.
    The resignation waits for the link (the trigger reads the member FOR SHARE), then marks the
    contact, instead of missing the link it cannot see yet."""
    if database != "postgres":
        pytest.skip("SQLite runs one writing transaction at a time")
    owner, _ = await f.corp("上游并发")
    _, top = await f.chain_space(owner)
    down, down_root = await f.corp("下游并发")
    place = await f.chain_corp(top, down)
    member = await f.member([down_root])
    contact = await f.contact(place)

    ready, go = asyncio.Event(), asyncio.Event()

    async def resign() -> None:
        async with in_transaction() as b:
            await b.execute_query("SELECT 1")
            ready.set()
            await go.wait()
            await Member.filter(id=member.id).using_db(b).update(status=MemberStatus.RESIGNED)

    async def blocked() -> bool:
        _, rows = await get_connection("default").execute_query(
            "SELECT COUNT(*) AS n FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'")
        return bool(rows[0]["n"])

    resigning = asyncio.create_task(resign())
    await ready.wait()
    async with in_transaction() as a:
        await ChainContact.filter(id=contact.id).using_db(a).update(member_id=member.id)
        go.set()
        # The resignation runs before the link commits: it ends, or waits for the link.
        while not resigning.done() and not await blocked():
            await asyncio.sleep(0.01)
    await resigning
    assert (await ChainContact.get(id=contact.id)).member_left
    assert await kept() == await recounted()
