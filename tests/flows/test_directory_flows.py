"""Directory mutations through GraphQL (SPEC §2.4, §3.5): every error code, and the rules
resign / reinstate / delete must keep."""

from __future__ import annotations

from typing import Any

from models import AdminGrant, AuditEvent, ChainRule, Invitation, Member, OrgUnit, Placement
from models.enums import AdminKind, AdminRight, MemberStatus
from tests import factories as f

UPDATE_UNIT = """
mutation($input: UpdateOrgUnitInput!) { updateOrgUnit(input: $input) {
  unit { id name depth } userErrors { code field message } } }"""
CREATE_UNIT = """
mutation($input: CreateOrgUnitInput!) { createOrgUnit(input: $input) {
  unit { id name } userErrors { code field message } } }"""
DELETE_UNIT = """
mutation($id: ID!) { deleteOrgUnit(input: {id: $id}) { deletedId userErrors { code field message } } }"""
CREATE_MEMBER = """
mutation($input: CreateMemberInput!) { createMember(input: $input) {
  member { id account } userErrors { code field message } } }"""
UPDATE_MEMBER = """
mutation($input: UpdateMemberInput!) { updateMember(input: $input) {
  member { id name mobile position departments { unit { id } isMain } } userErrors { code field message } } }"""
UPDATE_PROFILE = """
mutation($input: ProfileChanges!) { updateMyProfile(input: $input) {
  member { id alias } userErrors { code field message } } }"""
MOVE = """
mutation($input: MoveMembersInput!) { moveMembers(input: $input) {
  members { id departments { unit { id } isMain } } userErrors { code field message } } }"""
RESIGN = """
mutation($id: ID!, $to: ID) { resignMember(input: {id: $id, handoverTo: $to}) {
  member { id status } userErrors { code field message } } }"""
REINSTATE = """
mutation($id: ID!) { reinstateMember(input: {id: $id}) {
  member { id status departments { unit { id } isMain } } userErrors { code field message } } }"""
DELETE_MEMBER = """
mutation($id: ID!) { deleteMember(input: {id: $id}) { deletedId userErrors { code field message } } }"""
REVOKE = """
mutation($id: ID!) { revokeAdmin(input: {grantId: $id}) { revokedGrantId userErrors { code field message } } }"""
GRANT = """
mutation($input: GrantAdminInput!) { grantAdmin(input: $input) {
  grant { id kind } userErrors { code field message } } }"""
MEMBER = "query($id: ID!) { node(id: $id) { ... on Member { id status } } }"
VIEWER = "{ viewer { kind } }"
ACT_AS = "mutation($c: ID!) { actAs(input: {corpId: $c}) { token userErrors { code } } }"


def errors(data: dict[str, Any], name: str) -> list[str]:
    return [e["code"] for e in data[name]["userErrors"]]


async def world() -> dict[str, Any]:
    c, root = await f.corp()
    sales = await f.unit(root, "销售部")
    east = await f.unit(sales, "华东")
    rnd = await f.unit(root, "研发部")
    boss = await f.super_admin(root)
    return {"corp": c, "root": root, "sales": sales, "east": east, "rnd": rnd, "boss": boss,
            "t": f.token(boss)}


# --- units ---------------------------------------------------------------------------

async def test_unit_cannot_move_under_its_own_subtree(gql):
    w = await world()
    data = await gql.ok(UPDATE_UNIT, {"input": {"id": f.gid("OrgUnit", w["sales"].id),
                                                 "parentId": f.gid("OrgUnit", w["east"].id)}}, w["t"])
    assert errors(data, "updateOrgUnit") == ["UNIT_LOOP"]
    data = await gql.ok(UPDATE_UNIT, {"input": {"id": f.gid("OrgUnit", w["sales"].id),
                                                 "parentId": f.gid("OrgUnit", w["sales"].id)}}, w["t"])
    assert errors(data, "updateOrgUnit") == ["UNIT_LOOP"]


async def test_moving_a_unit_moves_its_subtree_paths(gql):
    w = await world()
    data = await gql.ok(UPDATE_UNIT, {"input": {"id": f.gid("OrgUnit", w["sales"].id),
                                                 "parentId": f.gid("OrgUnit", w["rnd"].id), "name": "市场部"}}, w["t"])
    assert data["updateOrgUnit"]["userErrors"] == []
    assert data["updateOrgUnit"]["unit"]["depth"] == 2
    east = await OrgUnit.get(id=w["east"].id)
    assert east.path == f"{w['rnd'].path}{w['sales'].id}/{east.id}/" and east.depth == 3


async def test_unit_name_rules(gql):
    w = await world()
    parent = f.gid("OrgUnit", w["root"].id)
    for bad in ["a:b", 'x"y', "营" * 26, "   "]:
        data = await gql.ok(CREATE_UNIT, {"input": {"parentId": parent, "name": bad}}, w["t"])
        assert errors(data, "createOrgUnit") == ["INVALID_NAME"], bad
    ok = await gql.ok(CREATE_UNIT, {"input": {"parentId": parent, "name": "营" * 25}}, w["t"])
    assert ok["createOrgUnit"]["userErrors"] == []
    data = await gql.ok(CREATE_UNIT, {"input": {"parentId": parent, "name": "销售部"}}, w["t"])
    assert errors(data, "createOrgUnit") == ["DUPLICATE_NAME"]
    data = await gql.ok(UPDATE_UNIT, {"input": {"id": f.gid("OrgUnit", w["rnd"].id), "name": "销售部"}}, w["t"])
    assert errors(data, "updateOrgUnit") == ["DUPLICATE_NAME"]


async def test_units_nest_at_most_fifteen_levels(gql):
    w = await world()
    chain = [w["root"]]
    for _ in range(14):
        chain.append(await f.unit(chain[-1]))
    assert chain[-1].depth == 14
    data = await gql.ok(CREATE_UNIT, {"input": {"parentId": f.gid("OrgUnit", chain[-1].id), "name": "too deep"}}, w["t"])
    assert errors(data, "createOrgUnit") == ["UNIT_TOO_DEEP"]
    # Moving a two-level subtree under level 13 would put its leaf at level 16.
    data = await gql.ok(UPDATE_UNIT, {"input": {"id": f.gid("OrgUnit", w["sales"].id),
                                                 "parentId": f.gid("OrgUnit", chain[-2].id)}}, w["t"])
    assert errors(data, "updateOrgUnit") == ["UNIT_TOO_DEEP"]


async def test_delete_unit_refused_while_it_has_subunits_or_members(gql):
    w = await world()
    data = await gql.ok(DELETE_UNIT, {"id": f.gid("OrgUnit", w["sales"].id)}, w["t"])
    assert errors(data, "deleteOrgUnit") == ["UNIT_NOT_EMPTY"]
    m = await f.member([w["east"]])
    data = await gql.ok(DELETE_UNIT, {"id": f.gid("OrgUnit", w["east"].id)}, w["t"])
    assert errors(data, "deleteOrgUnit") == ["UNIT_NOT_EMPTY"]
    await Placement.filter(member_id=m.id).delete()
    data = await gql.ok(DELETE_UNIT, {"id": f.gid("OrgUnit", w["east"].id)}, w["t"])
    assert data["deleteOrgUnit"]["userErrors"] == [] and not await OrgUnit.filter(id=w["east"].id).exists()
    data = await gql.ok(DELETE_UNIT, {"id": f.gid("OrgUnit", w["root"].id)}, w["t"])
    assert errors(data, "deleteOrgUnit") == ["UNIT_IS_ROOT"]
    assert await AuditEvent.filter(action="unit.delete", target_id=w["east"].id).exists()


async def test_unit_leaders_must_sit_in_the_unit(gql):
    w = await world()
    inside, outside = await f.member([w["sales"]]), await f.member([w["rnd"]])
    data = await gql.ok(UPDATE_UNIT, {"input": {"id": f.gid("OrgUnit", w["sales"].id),
                                                 "leaderIds": [f.gid("Member", outside.id)]}}, w["t"])
    assert errors(data, "updateOrgUnit") == ["NOT_IN_UNIT"]
    data = await gql.ok(UPDATE_UNIT, {"input": {"id": f.gid("OrgUnit", w["sales"].id),
                                                 "leaderIds": [f.gid("Member", inside.id)]}}, w["t"])
    assert data["updateOrgUnit"]["userErrors"] == []
    assert await Placement.get(member_id=inside.id, unit_id=w["sales"].id).values_list("is_leader", flat=True)


async def test_directory_admin_acts_only_inside_its_ranges(gql):
    w = await world()
    admin = await f.member([w["sales"]])
    await f.grant(admin, AdminKind.DIRECTORY_ADMIN, unit_ids=[w["sales"].id], rights=[AdminRight.MANAGE.value])
    reader = await f.member([w["sales"]])
    await f.grant(reader, AdminKind.DIRECTORY_ADMIN, unit_ids=[w["sales"].id], rights=[AdminRight.READ.value])
    t = f.token(admin)
    inside = await gql.ok(CREATE_UNIT, {"input": {"parentId": f.gid("OrgUnit", w["east"].id), "name": "上海"}}, t)
    assert inside["createOrgUnit"]["userErrors"] == []
    outside = await gql.ok(CREATE_UNIT, {"input": {"parentId": f.gid("OrgUnit", w["rnd"].id), "name": "x"}}, t)
    assert errors(outside, "createOrgUnit") == ["NOT_FOUND"]
    read_only = await gql.ok(CREATE_UNIT, {"input": {"parentId": f.gid("OrgUnit", w["east"].id), "name": "y"}},
                             f.token(reader))
    assert errors(read_only, "createOrgUnit") == ["NOT_FOUND"]
    rnd_member = await f.member([w["rnd"]])
    data = await gql.ok(UPDATE_MEMBER, {"input": {"id": f.gid("Member", rnd_member.id), "position": "x"}}, t)
    assert errors(data, "updateMember") == ["NOT_FOUND"]
    # A directory admin cannot grant admin rights (SPEC §2.4).
    data = await gql.ok(GRANT, {"input": {"memberId": f.gid("Member", rnd_member.id), "kind": "DIRECTORY_ADMIN",
                                          "unitIds": [f.gid("OrgUnit", w["sales"].id)]}}, t)
    assert errors(data, "grantAdmin") == ["NOT_FOUND"]


# --- members -------------------------------------------------------------------------

async def test_member_field_rules(gql):
    w = await world()
    base = {"corpId": f.gid("Corp", w["corp"].id), "name": "王五", "unitIds": [f.gid("OrgUnit", w["sales"].id)]}
    cases = {
        "CONTACT_REQUIRED": {"account": "a1"},
        "INVALID_MOBILE": {"account": "a2", "mobile": "12345"},
        "INVALID_WECHAT_ID": {"account": "a3", "wechatId": "123456"},
        "INVALID_EMAIL": {"account": "a4", "email": "nope"},
        "INVALID_ACCOUNT": {"account": "bad account", "email": "x@y.cn"},
        "UNIT_REQUIRED": {"account": "a5", "email": "x@y.cn", "unitIds": []},
    }
    for code, extra in cases.items():
        data = await gql.ok(CREATE_MEMBER, {"input": {**base, **extra}}, w["t"])
        assert errors(data, "createMember") == [code], code
    ok = await gql.ok(CREATE_MEMBER, {"input": {**base, "account": "Wang.Wu", "mobile": "+1 415 555 2671"}}, w["t"])
    assert ok["createMember"]["userErrors"] == []
    dup = await gql.ok(CREATE_MEMBER, {"input": {**base, "account": "wang.wu", "email": "w@x.cn"}}, w["t"])
    assert errors(dup, "createMember") == ["DUPLICATE_ACCOUNT"]
    member_id = ok["createMember"]["member"]["id"]
    data = await gql.ok(UPDATE_MEMBER, {"input": {"id": member_id, "account": "other"}}, w["t"])
    assert errors(data, "updateMember") == ["ACCOUNT_IMMUTABLE"]
    data = await gql.ok(UPDATE_MEMBER, {"input": {"id": member_id, "mobile": None}}, w["t"])
    assert errors(data, "updateMember") == ["CONTACT_REQUIRED"]
    data = await gql.ok(UPDATE_MEMBER, {"input": {"id": member_id, "account": "Wang.Wu", "name": "王六",
                                                  "position": "经理", "unitIds": [f.gid("OrgUnit", w["rnd"].id)]}}, w["t"])
    assert data["updateMember"]["userErrors"] == []
    m = data["updateMember"]["member"]
    assert (m["name"], m["position"], m["mobile"]) == ("王六", "经理", "+14155552671")
    assert [d["unit"]["id"] for d in m["departments"]] == [f.gid("OrgUnit", w["rnd"].id)]
    assert (await Member.get(id=w["boss"].id)).account  # untouched
    event = await AuditEvent.filter(action="member.update").order_by("-id").first()
    assert event is not None and event.before["name"] == "王五" and event.after["name"] == "王六"


async def test_update_my_profile_only_self_editable_fields(gql):
    w = await world()
    m = await f.member([w["sales"]])
    t = f.token(m)
    data = await gql.ok(UPDATE_PROFILE, {"input": {"alias": "小王"}}, t)
    assert data["updateMyProfile"]["userErrors"] == [] and data["updateMyProfile"]["member"]["alias"] == "小王"
    data = await gql.ok(UPDATE_PROFILE, {"input": {"position": "CEO"}}, t)
    assert errors(data, "updateMyProfile") == ["FIELD_NOT_EDITABLE"]
    assert (await Member.get(id=m.id)).position is None


async def test_move_members_is_all_or_nothing(gql):
    w = await world()
    a, b = await f.member([w["sales"]]), await f.member([w["sales"], w["rnd"]])
    admin = await f.member([w["sales"]])
    await f.grant(admin, AdminKind.DIRECTORY_ADMIN, unit_ids=[w["sales"].id], rights=[AdminRight.MANAGE.value])
    foreign = await f.member([w["rnd"]])
    move = {"memberIds": [f.gid("Member", a.id), f.gid("Member", foreign.id)], "toUnitId": f.gid("OrgUnit", w["east"].id)}
    data = await gql.ok(MOVE, {"input": move}, f.token(admin))
    assert errors(data, "moveMembers") == ["NOT_FOUND"]
    assert await Placement.filter(member_id=a.id).values_list("unit_id", flat=True) == [w["sales"].id]
    move = {"memberIds": [f.gid("Member", a.id), f.gid("Member", b.id)], "toUnitId": f.gid("OrgUnit", w["east"].id),
            "fromUnitId": f.gid("OrgUnit", w["sales"].id)}
    data = await gql.ok(MOVE, {"input": move}, w["t"])
    assert data["moveMembers"]["userErrors"] == []
    assert sorted(await Placement.filter(member_id=b.id).values_list("unit_id", flat=True)) == sorted([w["east"].id, w["rnd"].id])
    move["memberIds"] = [f.gid("Member", foreign.id)]
    data = await gql.ok(MOVE, {"input": move}, w["t"])
    assert errors(data, "moveMembers") == ["NOT_IN_UNIT"]


# --- resign / reinstate / delete ------------------------------------------------------

async def test_resigned_member_disappears_and_its_token_is_refused_at_once(gql):
    w = await world()
    leaver, peer = await f.member([w["sales"]], name="李雷"), await f.member([w["sales"]])
    leaver_token, peer_token = f.token(leaver), f.token(peer)
    gid = f.gid("Member", leaver.id)
    assert (await gql.ok(MEMBER, {"id": gid}, peer_token))["node"] is not None
    assert (await gql.ok(VIEWER, None, leaver_token))["viewer"]["kind"] == "MEMBER"

    data = await gql.ok(RESIGN, {"id": gid}, w["t"])
    assert data["resignMember"]["member"]["status"] == "RESIGNED"
    assert (await gql.ok(MEMBER, {"id": gid}, peer_token))["node"] is None
    refused = await gql(VIEWER, None, leaver_token)
    assert refused["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    # Admins can still list resigned members.
    listed = await gql.ok(
        'query($id: ID!) { corp(id: $id) { members(status: [RESIGNED]) { nodes { id } } } }',
        {"id": f.gid("Corp", w["corp"].id)}, w["t"])
    assert gid in [n["id"] for n in listed["corp"]["members"]["nodes"]]
    assert errors(await gql.ok(RESIGN, {"id": gid}, w["t"]), "resignMember") == ["ALREADY_RESIGNED"]

    data = await gql.ok(REINSTATE, {"id": gid}, w["t"])
    assert data["reinstateMember"]["member"]["status"] == "ACTIVE"
    assert (await gql.ok(MEMBER, {"id": gid}, peer_token))["node"] is not None
    # The token from before the resignation stays dead; the member signs in afresh.
    refused = await gql(VIEWER, None, leaver_token)
    assert refused["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    fresh = (await gql.ok(ACT_AS, {"c": f.gid("Corp", w["corp"].id)}, f.person_token(leaver.mobile)))["actAs"]["token"]
    assert (await gql.ok(VIEWER, None, fresh))["viewer"]["kind"] == "MEMBER"
    assert errors(await gql.ok(REINSTATE, {"id": gid}, w["t"]), "reinstateMember") == ["NOT_RESIGNED"]


async def test_resign_hands_leadership_rules_and_invitations_to_the_heir(gql):
    w = await world()
    leaver = await f.member([w["sales"]], leader=True)
    heir = await f.member([w["rnd"]])
    chain, root_group = await f.chain_space(w["corp"])
    rule = await f.rule(chain, subject_member=leaver, object_group=root_group)
    open_invitation = await f.invitation(chain, leaver)
    data = await gql.ok(RESIGN, {"id": f.gid("Member", leaver.id), "to": f.gid("Member", leaver.id)}, w["t"])
    assert errors(data, "resignMember") == ["INVALID_HANDOVER"]
    data = await gql.ok(RESIGN, {"id": f.gid("Member", leaver.id), "to": f.gid("Member", heir.id)}, w["t"])
    assert data["resignMember"]["userErrors"] == []
    seat = await Placement.get(member_id=heir.id, unit_id=w["sales"].id)
    assert seat.is_leader
    assert (await ChainRule.get(id=rule.id)).subject_member_id == heir.id
    assert (await Invitation.get(id=open_invitation.id)).created_by_id == heir.id
    assert not await Placement.filter(member_id=leaver.id, is_leader=True).exists()


async def test_reinstate_returns_to_surviving_units_else_the_root(gql):
    w = await world()
    m = await f.member([w["east"]])
    await gql.ok(RESIGN, {"id": f.gid("Member", m.id)}, w["t"])
    # A resigned member does not keep its unit from being deleted.
    data = await gql.ok(DELETE_UNIT, {"id": f.gid("OrgUnit", w["east"].id)}, w["t"])
    assert data["deleteOrgUnit"]["userErrors"] == []
    data = await gql.ok(REINSTATE, {"id": f.gid("Member", m.id)}, w["t"])
    deps = data["reinstateMember"]["member"]["departments"]
    assert [(d["unit"]["id"], d["isMain"]) for d in deps] == [(f.gid("OrgUnit", w["root"].id), True)]


async def test_resign_refusals_self_and_last_super_admin(gql):
    w = await world()
    data = await gql.ok(RESIGN, {"id": f.gid("Member", w["boss"].id)}, w["t"])
    assert errors(data, "resignMember") == ["CANNOT_TARGET_SELF"]
    second = await f.super_admin(w["root"])
    await Member.filter(id=w["boss"].id).update(status=MemberStatus.DISABLED.value)
    # boss is disabled: `second` is the last active super admin, and nobody else can remove it.
    other_admin = await f.super_admin(w["root"])
    data = await gql.ok(RESIGN, {"id": f.gid("Member", second.id)}, f.token(other_admin))
    assert data["resignMember"]["userErrors"] == []
    data = await gql.ok(DELETE_MEMBER, {"id": f.gid("Member", w["boss"].id)}, f.token(other_admin))
    assert data["deleteMember"]["userErrors"] == []
    third = await f.member([w["root"]])
    await AdminGrant.create(corp_id=w["corp"].id, member=third, kind=AdminKind.DIRECTORY_ADMIN,
                            unit_ids=[w["root"].id], rights=[AdminRight.MANAGE.value])
    data = await gql.ok(RESIGN, {"id": f.gid("Member", other_admin.id)}, f.token(third))
    assert errors(data, "resignMember") == ["TARGET_OUTRANKS_YOU"]
    # Nor can the last active super admin remove itself.
    data = await gql.ok(RESIGN, {"id": f.gid("Member", other_admin.id)}, f.token(other_admin))
    assert errors(data, "resignMember") == ["CANNOT_TARGET_SELF"]


async def test_delete_member_erases_personal_data_and_keeps_a_tombstone(gql):
    w = await world()
    m = await f.member([w["sales"]], name="韩梅梅", email="han@example.com")
    await gql.ok(UPDATE_MEMBER, {"input": {"id": f.gid("Member", m.id), "position": "秘书"}}, w["t"])
    await gql.ok(UPDATE_PROFILE, {"input": {"alias": "梅梅"}}, f.token(m))
    data = await gql.ok(DELETE_MEMBER, {"id": f.gid("Member", m.id)}, w["t"])
    assert data["deleteMember"]["deletedId"] == f.gid("Member", m.id)
    assert not await Member.filter(id=m.id).exists()
    events = await AuditEvent.filter(target_type="Member", target_id=m.id).order_by("id")
    assert [e.action for e in events][-1] == "member.delete"
    for e in events:
        assert "韩梅梅" not in str(e.before) + str(e.after) and "秘书" not in str(e.after)
    own = await AuditEvent.filter(actor_kind="MEMBER", actor_id=m.id)
    assert own and all(e.actor_label.endswith("(erased)") for e in own)
    assert errors(await gql.ok(DELETE_MEMBER, {"id": f.gid("Member", m.id)}, w["t"]), "deleteMember") == ["NOT_FOUND"]


async def test_revoke_admin_keeps_the_last_super_admin(gql):
    w = await world()
    m = await f.member([w["sales"]])
    data = await gql.ok(GRANT, {"input": {"memberId": f.gid("Member", m.id), "kind": "DIRECTORY_ADMIN",
                                          "unitIds": [f.gid("OrgUnit", w["sales"].id)], "rights": ["MANAGE", "EXPORT"]}}, w["t"])
    grant_id = data["grantAdmin"]["grant"]["id"]
    data = await gql.ok(REVOKE, {"id": grant_id}, f.token(m))
    assert errors(data, "revokeAdmin") == ["NOT_FOUND"]
    data = await gql.ok(REVOKE, {"id": grant_id}, w["t"])
    assert data["revokeAdmin"]["revokedGrantId"] == grant_id
    own = await AdminGrant.get(member_id=w["boss"].id, kind=AdminKind.SUPER_ADMIN.value)
    data = await gql.ok(REVOKE, {"id": str(own.id)}, w["t"])
    assert errors(data, "revokeAdmin") == ["LAST_SUPER_ADMIN"]
    assert await AuditEvent.filter(action="admin.revoke", target_id=m.id).exists()


async def test_move_members_and_profile_length_codes(gql):
    w = await world()
    data = await gql.ok(MOVE, {"input": {"memberIds": [], "toUnitId": f.gid("OrgUnit", w["east"].id)}}, w["t"])
    assert errors(data, "moveMembers") == ["MEMBERS_REQUIRED"]
    m = await f.member([w["sales"]])
    data = await gql.ok(UPDATE_MEMBER, {"input": {"id": f.gid("Member", m.id), "position": "职" * 129}}, w["t"])
    assert errors(data, "updateMember") == ["TOO_LONG"]


async def test_an_id_of_another_type_is_not_found_not_a_crash(gql):
    w = await world()
    corp_gid = f.gid("Corp", w["corp"].id)
    assert errors(await gql.ok(DELETE_UNIT, {"id": corp_gid}, w["t"]), "deleteOrgUnit") == ["NOT_FOUND"]
    assert errors(await gql.ok(DELETE_MEMBER, {"id": corp_gid}, w["t"]), "deleteMember") == ["NOT_FOUND"]
    assert errors(await gql.ok(RESIGN, {"id": corp_gid}, w["t"]), "resignMember") == ["NOT_FOUND"]


async def test_a_forged_cursor_past_any_list_is_a_bad_request(gql):
    import base64

    w = await world()
    cursor = base64.urlsafe_b64encode(b"o:99999999999999999999").decode()
    body = await gql('query($id: ID!, $after: String) { corp(id: $id) { members(after: $after) { totalCount } } }',
                     {"id": f.gid("Corp", w["corp"].id), "after": cursor}, w["t"])
    assert body["errors"][0]["extensions"]["code"] == "BAD_REQUEST"
