"""No takeover through identity fields (SPEC §1 Member, §2.4): a member is bound to its
Person when activated and actAs follows that binding; an admin never rebinds an activated
member's mobile and acts only on members it outranks; mobiles are unique in a corp."""

from __future__ import annotations

from typing import Any

from models import AdminGrant, Member
from models.enums import AdminKind, AdminRight
from tests import factories as f

ACT_AS = "mutation($c: ID!) { actAs(input: {corpId: $c}) { token memberId userErrors { code field message } } }"
UPDATE_MEMBER = """
mutation($input: UpdateMemberInput!) { updateMember(input: $input) {
  member { id mobile } userErrors { code field message } } }"""
CREATE_MEMBER = """
mutation($input: CreateMemberInput!) { createMember(input: $input) {
  member { id mobile } userErrors { code field message } } }"""
GRANT = """
mutation($input: GrantAdminInput!) { grantAdmin(input: $input) {
  grant { id kind } userErrors { code field message } } }"""
MOVE = """
mutation($input: MoveMembersInput!) { moveMembers(input: $input) {
  members { id } userErrors { code field message } } }"""
RESIGN = """
mutation($id: ID!) { resignMember(input: {id: $id}) { member { id status } userErrors { code field message } } }"""
DELETE_MEMBER = """
mutation($id: ID!) { deleteMember(input: {id: $id}) { deletedId userErrors { code field message } } }"""
REVOKE_SESSIONS = """
mutation($input: RevokeMemberSessionsInput!) { revokeMemberSessions(input: $input) {
  member { id } userErrors { code field message } } }"""
CHANGE_MY_MOBILE = """
mutation($input: ChangeMyMobileInput!) { changeMyMobile(input: $input) {
  member { id mobile } userErrors { code field message } } }"""
UPDATE_PROFILE = """
mutation($input: ProfileChanges!) { updateMyProfile(input: $input) {
  member { id mobile } userErrors { code field message } } }"""
VIEWER = "{ viewer { kind isSuperAdmin } }"


def codes(data: dict[str, Any], name: str) -> list[str]:
    return [e["code"] for e in data[name]["userErrors"]]


async def _act_as(gql, mobile: str, corp_id: int) -> dict[str, Any]:
    return (await gql.ok(ACT_AS, {"c": f.gid("Corp", corp_id)}, f.person_token(mobile)))["actAs"]


async def world(gql) -> dict[str, Any]:
    """A corp whose super admin sits in 销售部, under a directory admin with MANAGE there;
    both activated through actAs, as real people are."""
    c, root = await f.corp()
    sales = await f.unit(root, "销售部")
    east = await f.unit(sales, "华东")
    rnd = await f.unit(root, "研发部")
    boss = await f.member([sales], name="王总")
    await f.grant(boss, AdminKind.SUPER_ADMIN)
    dadmin = await f.member([sales], name="李管")
    await f.grant(dadmin, AdminKind.DIRECTORY_ADMIN, unit_ids=[sales.id], rights=[AdminRight.MANAGE.value])
    boss_session = await _act_as(gql, boss.mobile, c.id)
    dadmin_session = await _act_as(gql, dadmin.mobile, c.id)
    assert boss_session["token"] and dadmin_session["token"]
    return {"corp": c, "root": root, "sales": sales, "east": east, "rnd": rnd, "boss": boss, "dadmin": dadmin,
            "boss_t": boss_session["token"], "dadmin_t": dadmin_session["token"]}


# --- the F1 walk-through ------------------------------------------------------------

async def test_directory_admin_cannot_take_over_super_admin_through_mobile(gql):
    w = await world(gql)
    attacker_phone = f.unique_mobile()

    # 1. The directory admin rewrites the super admin's mobile to a number it controls.
    changed = await gql.ok(UPDATE_MEMBER, {"input": {"id": f.gid("Member", w["boss"].id), "mobile": attacker_phone}},
                           w["dadmin_t"])
    # 2. It gets a person token for that number and acts as the corp's identity behind it.
    acted = await _act_as(gql, attacker_phone, w["corp"].id)
    # 3. With whatever it got, it grants itself SUPER_ADMIN.
    if acted["token"]:
        await gql(GRANT, {"input": {"memberId": f.gid("Member", w["dadmin"].id), "kind": "SUPER_ADMIN"}},
                  acted["token"])

    assert codes(changed, "updateMember") == ["TARGET_OUTRANKS_YOU"]
    assert acted["token"] is None and codes({"a": acted}, "a") == ["NOT_FOUND"]
    assert not await AdminGrant.filter(member_id=w["dadmin"].id, kind=AdminKind.SUPER_ADMIN.value).exists()
    assert (await Member.get(id=w["boss"].id)).mobile == w["boss"].mobile
    me = await gql.ok(VIEWER, token=w["dadmin_t"])
    assert me["viewer"]["isSuperAdmin"] is False


# --- binding --------------------------------------------------------------------------

async def test_act_as_follows_the_binding_not_the_row_mobile(gql):
    w = await world(gql)
    # However the row's mobile came to differ (data written before this rule), a bound
    # member answers only to the person it was activated by.
    other_phone = f.unique_mobile()
    await Member.filter(id=w["boss"].id).update(mobile=other_phone)
    refused = await _act_as(gql, other_phone, w["corp"].id)
    assert refused["token"] is None and codes({"a": refused}, "a") == ["NOT_FOUND"]
    owner = await _act_as(gql, w["boss"].mobile, w["corp"].id)
    assert owner["memberId"] == f.gid("Member", w["boss"].id)


async def test_first_act_as_binds_the_member_to_the_person(gql):
    w = await world(gql)
    fresh = await f.member([w["east"]], name="新人")
    assert fresh.person_id is None
    acted = await _act_as(gql, fresh.mobile, w["corp"].id)
    assert acted["memberId"] == f.gid("Member", fresh.id)
    assert (await Member.get(id=fresh.id)).person_id is not None


async def test_admin_cannot_change_a_bound_members_mobile(gql):
    w = await world(gql)
    bound = await f.member([w["east"]], name="已激活")
    await _act_as(gql, bound.mobile, w["corp"].id)
    unbound = await f.member([w["east"]], name="未激活")
    for token in (w["dadmin_t"], w["boss_t"]):
        refused = await gql.ok(UPDATE_MEMBER, {"input": {"id": f.gid("Member", bound.id), "mobile": f.unique_mobile()}},
                               token)
        assert refused["updateMember"]["member"] is None
        assert refused["updateMember"]["userErrors"][0]["code"] == "MOBILE_BOUND"
        assert refused["updateMember"]["userErrors"][0]["field"] == "mobile"
    # Clearing it is a change too; writing the same number back is not.
    cleared = await gql.ok(UPDATE_MEMBER, {"input": {"id": f.gid("Member", bound.id), "mobile": None,
                                                     "email": "a@example.com"}}, w["boss_t"])
    assert codes(cleared, "updateMember") == ["MOBILE_BOUND"]
    same = await gql.ok(UPDATE_MEMBER, {"input": {"id": f.gid("Member", bound.id), "mobile": bound.mobile,
                                                  "position": "经理"}}, w["dadmin_t"])
    assert codes(same, "updateMember") == []
    assert (await Member.get(id=bound.id)).mobile == bound.mobile
    # A member nobody activated yet is still the admin's to correct.
    new_phone = f.unique_mobile()
    ok = await gql.ok(UPDATE_MEMBER, {"input": {"id": f.gid("Member", unbound.id), "mobile": new_phone}}, w["dadmin_t"])
    assert codes(ok, "updateMember") == [] and ok["updateMember"]["member"]["mobile"] == new_phone


async def test_member_cannot_change_its_bound_mobile_through_its_profile(gql):
    from models import FieldSetting

    w = await world(gql)
    await FieldSetting.create(corp_id=w["corp"].id, field="mobile", visible_to_members=True, self_editable=True)
    refused = await gql.ok(UPDATE_PROFILE, {"input": {"mobile": f.unique_mobile()}}, w["dadmin_t"])
    assert codes(refused, "updateMyProfile") == ["MOBILE_BOUND"]


async def test_member_changes_its_own_mobile_proving_the_new_number(gql):
    w = await world(gql)
    new_phone = f.unique_mobile()
    changed = await gql.ok(CHANGE_MY_MOBILE, {"input": {"personToken": f.person_token(new_phone)}}, w["dadmin_t"])
    assert changed["changeMyMobile"] == {"member": {"id": f.gid("Member", w["dadmin"].id), "mobile": new_phone},
                                         "userErrors": []}
    # The binding moved with the number: the old number's person reaches nothing any more.
    old = await _act_as(gql, w["dadmin"].mobile, w["corp"].id)
    assert old["token"] is None
    new = await _act_as(gql, new_phone, w["corp"].id)
    assert new["memberId"] == f.gid("Member", w["dadmin"].id)
    # Someone else's number is not taken over, and a member token does not prove a number.
    taken = await gql.ok(CHANGE_MY_MOBILE, {"input": {"personToken": f.person_token(w["boss"].mobile)}}, new["token"])
    assert codes(taken, "changeMyMobile") == ["DUPLICATE_MOBILE"]
    not_person = await gql.ok(CHANGE_MY_MOBILE, {"input": {"personToken": w["boss_t"]}}, new["token"])
    assert codes(not_person, "changeMyMobile") == ["PERSON_TOKEN_INVALID"]
    forged = await gql.ok(CHANGE_MY_MOBILE, {"input": {"personToken": "garbage"}}, new["token"])
    assert codes(forged, "changeMyMobile") == ["PERSON_TOKEN_INVALID"]
    assert (await Member.get(id=w["dadmin"].id)).mobile == new_phone
    # Only a member has a mobile to change.
    as_person = await gql.ok(CHANGE_MY_MOBILE, {"input": {"personToken": f.person_token(f.unique_mobile())}},
                             f.person_token(new_phone))
    assert codes(as_person, "changeMyMobile") == ["MEMBER_TOKEN_REQUIRED"]


# --- outranking ---------------------------------------------------------------------

async def test_directory_admin_acts_only_on_members_it_outranks(gql):
    w = await world(gql)
    # A directory admin over a wider range than the acting one's, and one inside its range.
    wider = await f.member([w["east"]], name="大区管")
    await f.grant(wider, AdminKind.DIRECTORY_ADMIN, unit_ids=[w["sales"].id, w["rnd"].id],
                  rights=[AdminRight.MANAGE.value])
    exporter = await f.member([w["east"]], name="导出管")
    await f.grant(exporter, AdminKind.DIRECTORY_ADMIN, unit_ids=[w["east"].id], rights=[AdminRight.EXPORT.value])
    covered = await f.member([w["east"]], name="小区管")
    await f.grant(covered, AdminKind.DIRECTORY_ADMIN, unit_ids=[w["east"].id], rights=[AdminRight.MANAGE.value])
    chain_admin = await f.member([w["east"]], name="链管")
    chain, _ = await f.chain_space(w["corp"])
    await f.grant(chain_admin, AdminKind.CHAIN_ADMIN, chain_id=chain.id)

    t = w["dadmin_t"]
    for target in (w["boss"], wider, exporter, chain_admin):
        gid = f.gid("Member", target.id)
        attempts = {
            "updateMember": await gql.ok(UPDATE_MEMBER, {"input": {"id": gid, "position": "x"}}, t),
            "moveMembers": await gql.ok(MOVE, {"input": {"memberIds": [gid], "toUnitId": f.gid("OrgUnit", w["east"].id)}}, t),
            "resignMember": await gql.ok(RESIGN, {"id": gid}, t),
            "deleteMember": await gql.ok(DELETE_MEMBER, {"id": gid}, t),
            "revokeMemberSessions": await gql.ok(REVOKE_SESSIONS, {"input": {"memberId": gid}}, t),
        }
        for name, data in attempts.items():
            assert data[name]["userErrors"] == [
                {"code": "TARGET_OUTRANKS_YOU", "field": "id" if name in ("updateMember", "resignMember", "deleteMember")
                 else "memberIds" if name == "moveMembers" else "memberId",
                 "message": data[name]["userErrors"][0]["message"]}
            ], (target.name, name, data)
    assert await Member.filter(id__in=[w["boss"].id, wider.id, exporter.id, chain_admin.id], status="ACTIVE").count() == 4
    # An admin whose every range it covers with every right is within its reach.
    ok = await gql.ok(UPDATE_MEMBER, {"input": {"id": f.gid("Member", covered.id), "position": "经理"}}, t)
    assert codes(ok, "updateMember") == []
    # A super admin outranks every directory admin.
    ok = await gql.ok(UPDATE_MEMBER, {"input": {"id": f.gid("Member", wider.id), "position": "总监"}}, w["boss_t"])
    assert codes(ok, "updateMember") == []


async def test_outranking_refusal_in_a_batch_move_changes_nothing(gql):
    w = await world(gql)
    plain = await f.member([w["east"]], name="普通")
    data = await gql.ok(MOVE, {"input": {"memberIds": [f.gid("Member", plain.id), f.gid("Member", w["boss"].id)],
                                         "toUnitId": f.gid("OrgUnit", w["east"].id)}}, w["dadmin_t"])
    assert codes(data, "moveMembers") == ["TARGET_OUTRANKS_YOU"]
    assert [p.unit_id for p in await plain.placements] == [w["east"].id]


# --- unique mobiles -------------------------------------------------------------------

async def test_mobile_is_unique_among_a_corps_members(gql):
    w = await world(gql)
    resigned = await f.member([w["east"]], name="离职", status="RESIGNED")
    for holder in (w["boss"], resigned):
        dup = await gql.ok(CREATE_MEMBER, {"input": {
            "corpId": f.gid("Corp", w["corp"].id), "account": f"dup{holder.id}", "name": "重号",
            "unitIds": [f.gid("OrgUnit", w["east"].id)], "mobile": holder.mobile}}, w["boss_t"])
        assert dup["createMember"]["member"] is None
        assert dup["createMember"]["userErrors"][0]["code"] == "DUPLICATE_MOBILE"
        assert dup["createMember"]["userErrors"][0]["field"] == "mobile"
    plain = await f.member([w["east"]], name="普通")
    moved = await gql.ok(UPDATE_MEMBER, {"input": {"id": f.gid("Member", plain.id), "mobile": resigned.mobile}},
                         w["dadmin_t"])
    assert codes(moved, "updateMember") == ["DUPLICATE_MOBILE"]
    # Another corp's member may hold the same number (one person, two corps).
    other, other_root = await f.corp()
    other_boss = await f.super_admin(other_root)
    same = await gql.ok(CREATE_MEMBER, {"input": {
        "corpId": f.gid("Corp", other.id), "account": "same", "name": "同号",
        "unitIds": [f.gid("OrgUnit", other_root.id)], "mobile": w["boss"].mobile}}, f.token(other_boss))
    assert codes(same, "createMember") == []
    # Deleting frees the number.
    await gql.ok(DELETE_MEMBER, {"id": f.gid("Member", resigned.id)}, w["boss_t"])
    freed = await gql.ok(UPDATE_MEMBER, {"input": {"id": f.gid("Member", plain.id), "mobile": resigned.mobile}},
                         w["dadmin_t"])
    assert codes(freed, "updateMember") == []


# --- directory import -----------------------------------------------------------------

async def test_directory_import_refuses_duplicate_mobiles_rebinding_and_outranked_rows(gql):
    from tests.flows.test_directory_import import IMPORT, counts, finished
    from tests.flows.test_directory_import import codes as row_codes

    w = await world(gql)
    bound = await f.member([w["east"]], name="已激活")
    await _act_as(gql, bound.mobile, w["corp"].id)
    unbound = await f.member([w["east"]], name="未激活")
    fresh, other = f.unique_mobile(), f.unique_mobile()
    rows = [
        {"name": "新甲", "account": "new_a", "mobile": fresh, "departments": "销售部"},          # 2 ok
        {"name": "新乙", "account": "new_b", "mobile": fresh, "departments": "销售部"},          # 3 same as row 2
        {"name": "新丙", "account": "new_c", "mobile": w["boss"].mobile, "departments": "销售部"},  # 4 a member's
        {"name": bound.name, "account": bound.account, "mobile": other},                       # 5 bound
        {"name": bound.name, "account": bound.account.upper(), "position": "组长"},             # 6 dup account
        {"name": unbound.name, "account": unbound.account, "mobile": other},                   # 7 ok: not bound
        {"name": "王总", "account": w["boss"].account, "position": "CEO"},                     # 8 outranks
        {"name": "王总", "account": w["boss"].account},                                        # 9 dup account
    ]
    data = await gql.ok(IMPORT, {"input": {"corpId": f.gid("Corp", w["corp"].id), "rows": rows}}, w["dadmin_t"])
    job = await finished(gql, w["dadmin_t"], data["importDirectory"]["job"]["id"])
    assert row_codes(job) == {3: ["DUPLICATE_MOBILE"], 4: ["DUPLICATE_MOBILE"], 5: ["MOBILE_BOUND"],
                              6: ["DUPLICATE_IN_FILE"], 8: ["TARGET_OUTRANKS_YOU"], 9: ["DUPLICATE_IN_FILE"]}
    assert counts(job)["created"] == 1 and counts(job)["updated"] == 1
    assert (await Member.get(id=bound.id)).mobile == bound.mobile
    assert (await Member.get(id=unbound.id)).mobile == other
    assert (await Member.get(id=w["boss"].id)).position is None
    # The super admin's unchanged row, as in an export round trip, is no error.
    same = [{"name": "王总", "account": w["boss"].account, "mobile": w["boss"].mobile}]
    data = await gql.ok(IMPORT, {"input": {"corpId": f.gid("Corp", w["corp"].id), "rows": same}}, w["dadmin_t"])
    job = await finished(gql, w["dadmin_t"], data["importDirectory"]["job"]["id"])
    assert row_codes(job) == {} and counts(job)["unchanged"] == 1


async def test_joining_a_chain_as_a_member_activates_it(gql):
    from tests.flows.test_join_refusals import open_chain
    from tests.join_helpers import JOIN

    chain, dealers, admin, inv = await open_chain()
    corp, root = await f.corp("经销商")
    member = await f.member([root], name="经销商员工")
    assert member.person_id is None
    data = await gql.ok(JOIN, {"input": {"code": inv.code, "corpId": f.gid("Corp", corp.id)}},
                        f.person_token(member.mobile))
    assert data["joinChain"]["outcome"] == "JOINED"
    assert data["joinChain"]["memberId"] == f.gid("Member", member.id)
    assert (await Member.get(id=member.id)).person_id is not None
