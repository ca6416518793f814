"""禁用 / 启用 (SPEC §1 DISABLED): a disabled member keeps its data and seats, cannot sign in,
and is seen only by its admins; enabling it ends its sessions again, as reinstating does,
so a token from before it was disabled stays dead and actAs gives a fresh one."""

from __future__ import annotations

from typing import Any

from models import AuditEvent, Member, Placement
from models.enums import AdminKind, AdminRight, MemberStatus
from tests import factories as f
from tests.auth.test_member_sessions import act_as, signed_in

DISABLE = """
mutation($input: MemberIdInput!) { disableMember(input: $input) {
  member { id status } userErrors { code field message } } }"""
ENABLE = """
mutation($input: MemberIdInput!) { enableMember(input: $input) {
  member { id status } userErrors { code field message } } }"""
RESIGN = "mutation($id: ID!) { resignMember(input: {id: $id}) { member { id status } userErrors { code field } } }"
NODE = "query($id: ID!) { node(id: $id) { ... on Member { id name status } } }"
MEMBERS = """
query($c: ID!) { corp(id: $c) {
  members(first: 100) { totalCount edges { node { id status } } }
  searchMembers(query: "停用") { totalCount edges { node { id } } }
  rootUnit { memberCount } } }"""
DISABLED_ONLY = "query($c: ID!) { corp(id: $c) { members(status: [DISABLED]) { totalCount edges { node { id status } } } } }"


def codes(data: dict[str, Any], name: str) -> list[str]:
    return [e["code"] for e in data[name]["userErrors"]]


async def world(gql) -> dict[str, Any]:
    c, root = await f.corp()
    sales = await f.unit(root, "销售部")
    boss = await f.super_admin(root)
    dadmin = await f.member([sales], name="李管")
    await f.grant(dadmin, AdminKind.DIRECTORY_ADMIN, unit_ids=[sales.id], rights=[AdminRight.MANAGE.value])
    staff = await f.member([sales], name="停用员工")
    peer = await f.member([sales], name="同事")
    w = {"corp": c, "root": root, "sales": sales, "boss": boss, "dadmin": dadmin, "staff": staff, "peer": peer}
    for who in ("boss", "dadmin", "peer"):
        w[f"{who}_t"] = await act_as(gql, w[who])
    return w


def gid(m: Member) -> str:
    return f.gid("Member", m.id)


async def test_disabled_member_token_is_refused_at_once(gql, client):
    w = await world(gql)
    old = await act_as(gql, w["staff"])
    assert old and await signed_in(client, old)
    data = await gql.ok(DISABLE, {"input": {"id": gid(w["staff"])}}, w["boss_t"])
    assert data["disableMember"] == {"member": {"id": gid(w["staff"]), "status": "DISABLED"}, "userErrors": []}
    assert not await signed_in(client, old)
    assert await act_as(gql, w["staff"]) is None
    # Data and seats are kept.
    kept = await Member.get(id=w["staff"].id)
    assert kept.status is MemberStatus.DISABLED and kept.mobile == w["staff"].mobile
    assert await Placement.filter(member_id=kept.id, unit_id=w["sales"].id).exists()


async def test_token_from_before_disabling_stays_dead_after_enabling_and_actAs_gives_a_fresh_one(gql, client):
    w = await world(gql)
    old = await act_as(gql, w["staff"])
    await gql.ok(DISABLE, {"input": {"id": gid(w["staff"])}}, w["dadmin_t"])
    data = await gql.ok(ENABLE, {"input": {"id": gid(w["staff"])}}, w["dadmin_t"])
    assert data["enableMember"] == {"member": {"id": gid(w["staff"]), "status": "ACTIVE"}, "userErrors": []}
    assert not await signed_in(client, old)
    fresh = await act_as(gql, w["staff"])
    assert fresh and await signed_in(client, fresh)
    actions = await AuditEvent.filter(target_type="Member", target_id=w["staff"].id).order_by("id").values_list(
        "action", "before", "after")
    assert actions == [("member.disable", {"status": "ACTIVE"}, {"status": "DISABLED"}),
                       ("member.enable", {"status": "DISABLED"}, {"status": "ACTIVE"})]


async def test_directory_admin_cannot_disable_or_enable_a_super_admin(gql, client):
    w = await world(gql)
    # The super admin sits inside the directory admin's range: only its rank protects it.
    await Placement.create(member_id=w["boss"].id, unit_id=w["sales"].id)
    data = await gql.ok(DISABLE, {"input": {"id": gid(w["boss"])}}, w["dadmin_t"])
    assert data["disableMember"]["member"] is None
    assert codes(data, "disableMember") == ["TARGET_OUTRANKS_YOU"]
    assert await signed_in(client, w["boss_t"])
    # Nor enable one another super admin disabled.
    other_boss = await f.member([w["sales"]], name="二把手")
    await f.grant(other_boss, AdminKind.SUPER_ADMIN)
    assert codes(await gql.ok(DISABLE, {"input": {"id": gid(other_boss)}}, w["boss_t"]), "disableMember") == []
    data = await gql.ok(ENABLE, {"input": {"id": gid(other_boss)}}, w["dadmin_t"])
    assert codes(data, "enableMember") == ["TARGET_OUTRANKS_YOU"]
    assert (await Member.get(id=other_boss.id)).status is MemberStatus.DISABLED


async def test_disabled_member_is_invisible_to_a_peer_and_listed_for_admins_as_disabled(gql):
    w = await world(gql)
    c = f.gid("Corp", w["corp"].id)
    before = (await gql.ok(MEMBERS, {"c": c}, w["peer_t"]))["corp"]
    await gql.ok(DISABLE, {"input": {"id": gid(w["staff"])}}, w["boss_t"])
    # A peer: exactly as if the member did not exist (node, lists, search, head-counts).
    assert (await gql.ok(NODE, {"id": gid(w["staff"])}, w["peer_t"]))["node"] is None
    assert (await gql.ok(NODE, {"id": f.gid("Member", 2**31 - 1)}, w["peer_t"]))["node"] is None
    after = (await gql.ok(MEMBERS, {"c": c}, w["peer_t"]))["corp"]
    assert after["members"]["totalCount"] == before["members"]["totalCount"] - 1
    assert gid(w["staff"]) not in [e["node"]["id"] for e in after["members"]["edges"]]
    assert before["searchMembers"]["totalCount"] == 1 and after["searchMembers"]["totalCount"] == 0
    assert after["rootUnit"]["memberCount"] == before["rootUnit"]["memberCount"] - 1
    assert (await gql.ok(DISABLED_ONLY, {"c": c}, w["peer_t"]))["corp"]["members"]["totalCount"] == 0
    # Its admins: listed with status DISABLED, in the default list and by status.
    for t in (w["boss_t"], w["dadmin_t"]):
        assert (await gql.ok(NODE, {"id": gid(w["staff"])}, t))["node"]["status"] == "DISABLED"
        listed = {e["node"]["id"]: e["node"]["status"]
                  for e in (await gql.ok(MEMBERS, {"c": c}, t))["corp"]["members"]["edges"]}
        assert listed[gid(w["staff"])] == "DISABLED"
        only = (await gql.ok(DISABLED_ONLY, {"c": c}, t))["corp"]["members"]
        assert only["edges"] == [{"node": {"id": gid(w["staff"]), "status": "DISABLED"}}]


async def test_disable_and_enable_refusals(gql):
    w = await world(gql)
    staff = {"input": {"id": gid(w["staff"])}}
    assert codes(await gql.ok(ENABLE, staff, w["boss_t"]), "enableMember") == ["NOT_DISABLED"]
    await gql.ok(DISABLE, staff, w["boss_t"])
    assert codes(await gql.ok(DISABLE, staff, w["boss_t"]), "disableMember") == ["ALREADY_DISABLED"]
    # A peer may not, and learns nothing: NOT_FOUND as for an unknown id.
    for t in (w["peer_t"],):
        assert codes(await gql.ok(ENABLE, staff, t), "enableMember") == ["NOT_FOUND"]
        assert codes(await gql.ok(DISABLE, {"input": {"id": gid(w["dadmin"])}}, t), "disableMember") == ["NOT_FOUND"]
    resigned = await f.member([w["sales"]], name="离职", status=MemberStatus.RESIGNED)
    data = await gql.ok(DISABLE, {"input": {"id": gid(resigned)}}, w["boss_t"])
    assert codes(data, "disableMember") == ["ALREADY_RESIGNED"]
    assert codes(await gql.ok(ENABLE, {"input": {"id": gid(resigned)}}, w["boss_t"]), "enableMember") == ["NOT_DISABLED"]
    # Not oneself.
    assert codes(await gql.ok(DISABLE, {"input": {"id": gid(w["dadmin"])}}, w["dadmin_t"]),
                 "disableMember") == ["CANNOT_TARGET_SELF"]


async def test_import_keeps_a_disabled_member_disabled_and_export_replace_keeps_it(gql, client):
    """As for a resigned member, a row never changes a status: enabling is enableMember's
    decision. The export lists disabled members (admins see them), so export → REPLACE keeps them."""
    from tests.flows.test_directory_import import IMPORT, counts, finished, upload

    w = await world(gql)
    await gql.ok(DISABLE, {"input": {"id": gid(w["staff"])}}, w["boss_t"])
    row = {"name": w["staff"].name, "account": w["staff"].account, "position": "停用后改职位"}
    data = await gql.ok(IMPORT, {"input": {"corpId": f.gid("Corp", w["corp"].id), "mode": "UPSERT", "rows": [row]}},
                        w["boss_t"])
    job = await finished(gql, w["boss_t"], data["importDirectory"]["job"]["id"])
    assert counts(job)["updated"] == 1, job
    staff = await Member.get(id=w["staff"].id)
    assert staff.status is MemberStatus.DISABLED and staff.position == "停用后改职位"

    exported = await client.get(f"/corps/{w['corp'].id}/directory.xlsx", headers={"Authorization": f"Bearer {w['boss_t']}"})
    assert exported.status_code == 200
    result = await upload(client, w["boss_t"], w["corp"].id, "export.xlsx", exported.content,
                          mode="REPLACE", confirmReplace=True)
    job = await finished(gql, w["boss_t"], result["job"]["id"])
    assert job["errors"] == [] and counts(job)["resigned"] == 0, job
    assert (await Member.get(id=w["staff"].id)).status is MemberStatus.DISABLED


async def test_two_super_admins_disabling_each_other_at_once_leave_one_active(gql, monkeypatch):
    """LAST_SUPER_ADMIN holds under a race: both requests pass the early check before either
    applies (forced here), and the check made again inside the change's transaction, with the
    corp's super-admin grants locked, refuses the second."""
    import asyncio

    from flows import lifecycle

    w = await world(gql)
    second = await f.member([w["root"]], name="二把手")
    await f.grant(second, AdminKind.SUPER_ADMIN)
    second_t = await act_as(gql, second)
    checked = 0
    both_checked = asyncio.Event()
    early_check = lifecycle._refuse_self_and_last_admin

    async def check_then_wait(*args: Any) -> None:
        nonlocal checked
        await early_check(*args)
        checked += 1
        if checked == 2:
            both_checked.set()
        await both_checked.wait()

    monkeypatch.setattr(lifecycle, "_refuse_self_and_last_admin", check_then_wait)
    one, two = await asyncio.gather(
        gql.ok(DISABLE, {"input": {"id": gid(second)}}, w["boss_t"]),
        gql.ok(DISABLE, {"input": {"id": gid(w["boss"])}}, second_t),
    )
    outcomes = sorted([codes(one, "disableMember"), codes(two, "disableMember")])
    assert outcomes == [[], ["LAST_SUPER_ADMIN"]], (one, two)
    statuses = await Member.filter(id__in=[w["boss"].id, second.id]).values_list("status", flat=True)
    assert sorted(s.value if hasattr(s, "value") else s for s in statuses) == ["ACTIVE", "DISABLED"]
