"""The change feed (SPEC §3.9): every write logs a change; "full read, then deltas" equals a
full read at the end, or the feed says RESYNC_REQUIRED."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from flows import feed as feed_flow
from models import ChainContact, ChainCorp, ChangeEvent, FieldSetting, Member, OrgUnit, Placement
from models.enums import AppScope, ChainCorpStatus, ContactStatus, MemberStatus, Scope
from tests import factories as f
from tests.gateway import app_token

pytestmark = pytest.mark.usefixtures("database")

MEMBER_FIELDS = "id name position mobile status hiddenFields departments { unit { id } }"
FULL_READ = """
query Full($id: ID!, $after: String) {
  node(id: $id) { ... on Corp {
    syncToken
    members(first: 100, after: $after) { pageInfo { hasNextPage endCursor } nodes { %s } }
  } }
}""" % MEMBER_FIELDS  # noqa: UP031
CHANGES = """
query Changes($id: ID!, $after: String!) {
  node(id: $id) { ... on Corp {
    changes(after: $after, first: 3) {
      syncToken hasMore
      changes { kind removedId changedFields sequence node { id ... on Member { %s } } }
    }
  } }
}""" % MEMBER_FIELDS  # noqa: UP031


async def full_read(gql: Any, corp_id: int, token: str) -> tuple[dict[str, Any], str]:
    out: dict[str, Any] = {}
    after, sync = None, None
    while True:
        data = await gql.ok(FULL_READ, {"id": f.gid("Corp", corp_id), "after": after}, token)
        corp = data["node"]
        sync = sync or corp["syncToken"]
        out.update((m["id"], m) for m in corp["members"]["nodes"])
        if not corp["members"]["pageInfo"]["hasNextPage"]:
            return out, sync
        after = corp["members"]["pageInfo"]["endCursor"]


async def apply_deltas(gql: Any, corp_id: int, token: str, mirror: dict[str, Any], sync: str) -> tuple[str | None, list]:
    """Apply every page of changes to the mirror; (None, seen) when the feed says RESYNC_REQUIRED."""
    seen = []
    while True:
        body = await gql(CHANGES, {"id": f.gid("Corp", corp_id), "after": sync}, token)
        if body.get("errors"):
            assert [e["extensions"]["code"] for e in body["errors"]] == ["RESYNC_REQUIRED"], body["errors"]
            return None, seen
        page = body["data"]["node"]["changes"]
        for change in page["changes"]:
            seen.append(change)
            if change["kind"] == "REMOVED":
                mirror.pop(change["removedId"], None)
            else:
                mirror[change["node"]["id"]] = change["node"]
        sync = page["syncToken"]
        if not page["hasMore"]:
            return sync, seen


async def test_every_write_to_a_feed_object_appends_a_change_row() -> None:
    """Triggers, not flows, write the log: each kind of write leaves its row, in its transaction."""
    corp, root = await f.corp()
    start = await ChangeEvent.all().count()

    async def logged(otype: str, oid: int, kind: str) -> ChangeEvent:
        row = await ChangeEvent.filter(object_type=otype, object_id=oid, kind=kind).order_by("-id").first()
        assert row is not None, (otype, oid, kind)
        return row

    unit = await f.unit(root, "销售部")
    await logged("UNIT", unit.id, "CREATED")
    m = await f.member([unit], name="张三")
    await logged("MEMBER", m.id, "CREATED")
    await Member.filter(id=m.id).update(position="经理", email="a@b.c")
    assert (await logged("MEMBER", m.id, "UPDATED")).changed == "email,position"
    other = await f.unit(root)
    await Placement.create(member=m, unit=other)
    row = await logged("MEMBER", m.id, "UPDATED")
    assert row.changed == "departments" and row.corp_id == corp.id
    await Member.filter(id=m.id).update(status=MemberStatus.RESIGNED)
    assert "status" in (await logged("MEMBER", m.id, "UPDATED")).changed
    await OrgUnit.filter(id=other.id).update(name="改名")
    assert (await logged("UNIT", other.id, "UPDATED")).changed == "name"
    await Member.filter(id=m.id).delete()
    removed = await logged("MEMBER", m.id, "REMOVED")
    assert set(removed.before and __import__("json").loads(removed.before)["u"].split()) == {unit.path, other.path}
    await OrgUnit.filter(id=other.id).delete()
    await logged("UNIT", other.id, "REMOVED")
    # A save that changes no watched column logs nothing.
    before = await ChangeEvent.all().count()
    await OrgUnit.filter(id=unit.id).update(name="销售部")
    assert await ChangeEvent.all().count() == before

    chain, top = await f.chain_space(corp)
    place = await f.chain_corp(top, status=ChainCorpStatus.IMPORTED)
    await logged("CHAIN_CORP", place.id, "CREATED")
    contact = await f.contact(place, status=ContactStatus.IMPORTED, name="李四")
    await logged("CONTACT", contact.id, "CREATED")
    await ChainContact.filter(id=contact.id).update(status=ContactStatus.INVITED)
    assert (await logged("CONTACT", contact.id, "UPDATED")).changed == "status"
    await ChainCorp.filter(id=place.id).update(status=ChainCorpStatus.REMOVED)
    assert (await logged("CHAIN_CORP", place.id, "UPDATED")).changed == "status"
    # The contacts of a corp that leaves the chain leave with it.
    assert (await logged("CONTACT", contact.id, "UPDATED")).changed == "chainCorp"
    await ChainCorp.filter(id=place.id).delete()
    await logged("CHAIN_CORP", place.id, "REMOVED")
    await logged("CONTACT", contact.id, "REMOVED")
    assert await ChangeEvent.all().count() > start


async def test_policy_writes_move_the_feed_epoch() -> None:
    corp, root = await f.corp()
    unit = await f.unit(root)
    epoch, _ = await feed_flow.feed_state()
    await FieldSetting.create(corp=corp, field="mobile", visible_to_members=False, self_editable=False)
    assert (await feed_flow.feed_state())[0] == epoch + 1
    await OrgUnit.filter(id=unit.id).update(scope=Scope.DEPARTMENT)
    assert (await feed_flow.feed_state())[0] == epoch + 2
    await f.member([unit])  # an ordinary write is not a policy change
    assert (await feed_flow.feed_state())[0] == epoch + 2


async def test_full_read_then_deltas_equals_a_full_read(gql: Any) -> None:
    corp, root = await f.corp()
    sales = await f.unit(root, "销售部", Scope.DEPARTMENT)
    rnd = await f.unit(root, "研发部", Scope.DEPARTMENT)
    admin = await f.super_admin(root)
    seller = await f.member([sales], name="销售甲")
    moved = await f.member([sales], name="销售乙")
    engineer = await f.member([rnd], name="研发甲")
    viewers = {"admin": f.token(admin), "seller": f.token(seller)}
    starts = {k: await full_read(gql, corp.id, t) for k, t in viewers.items()}
    assert f.gid("Member", engineer.id) not in starts["seller"][0]

    newcomer = await f.member([sales], name="销售丙")
    hidden_newcomer = await f.member([rnd], name="研发乙")
    await Member.filter(id=seller.id).update(position="组长")
    await Placement.filter(member_id=moved.id).update(unit_id=rnd.id)
    await Member.filter(id=engineer.id).update(position="架构师")

    for name, t in viewers.items():
        mirror, sync = starts[name]
        sync_after, seen = await apply_deltas(gql, corp.id, t, mirror, sync)
        assert sync_after is not None
        assert mirror == (await full_read(gql, corp.id, t))[0], name
        names = {c["removedId"] or c["node"]["id"] for c in seen}
        if name == "seller":
            # Never a word about people the seller never could see.
            assert f.gid("Member", engineer.id) not in names
            assert f.gid("Member", hidden_newcomer.id) not in names
            assert {"kind": "REMOVED", "id": f.gid("Member", moved.id)} in [
                {"kind": c["kind"], "id": c["removedId"]} for c in seen]
            assert f.gid("Member", newcomer.id) in names
    # A policy change since the token: RESYNC_REQUIRED, then a fresh start works.
    mirror, sync = await full_read(gql, corp.id, viewers["seller"])
    await OrgUnit.filter(id=sales.id).update(scope=Scope.ALL)
    assert (await apply_deltas(gql, corp.id, viewers["seller"], mirror, sync))[0] is None
    mirror, sync = await full_read(gql, corp.id, viewers["seller"])
    assert f.gid("Member", engineer.id) in mirror
    assert (await apply_deltas(gql, corp.id, viewers["seller"], mirror, sync))[0] is not None


async def test_a_token_past_retention_must_resync(gql: Any) -> None:
    corp, root = await f.corp()
    admin = await f.super_admin(root)
    mirror, sync = await full_read(gql, corp.id, f.token(admin))
    await asyncio.sleep(0.01)
    # Everything written until now is past a zero-day retention (a later token is not).
    await feed_flow.prune(retention_days=0)
    assert (await apply_deltas(gql, corp.id, f.token(admin), mirror, sync))[0] is None


async def test_app_without_sensitive_scope_is_never_told_a_hidden_field_changed(gql: Any) -> None:
    corp, root = await f.corp()
    m = await f.member([root])
    secret, _ = await app_token(corp, AppScope.DIRECTORY_READ.value)
    mirror, sync = await full_read(gql, corp.id, secret)
    await Member.filter(id=m.id).update(mobile=f.unique_mobile())
    done, seen = await apply_deltas(gql, corp.id, secret, mirror, sync)
    assert done is not None and seen == []
    await Member.filter(id=m.id).update(mobile=f.unique_mobile(), position="总监")
    _, seen = await apply_deltas(gql, corp.id, secret, mirror, sync)
    assert [c["changedFields"] for c in seen] == [["position"]], (seen, mirror)
    assert seen[0]["node"]["mobile"] is None and "mobile" in seen[0]["node"]["hiddenFields"]
