"""Invitations (SPEC §3.3) through GraphQL: who may invite where, expiry, revocation, QR code."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from models import Invitation, Member
from models.enums import AdminKind, ContactRole, MemberStatus
from tests import factories as f

CREATE = """
mutation($input: CreateInvitationInput!) {
  createInvitation(input: $input) {
    invitation { id code url qrCodeUrl createdAt expiresAt state group { name } createdBy { name } }
    userErrors { code field message }
  }
}
"""

REVOKE = """
mutation($id: ID!) {
  revokeInvitation(input: {id: $id}) { invitation { state revokedAt } userErrors { code field message } }
}
"""

LIST = """
query($chain: ID!) {
  chainSpace(id: $chain) { invitations(first: 50) { totalCount edges { node { code state } } } }
}
"""

PREVIEW = """
query($code: String!) {
  previewJoin(code: $code) { preview { chainName rule expiresAt } userErrors { code field message } }
}
"""

SET_IMPORT_ONLY = """
mutation($id: ID!, $on: Boolean!) { updateChainSpace(input: {id: $id, importOnly: $on}) { userErrors { code } } }
"""


def parse(ts: str) -> datetime:
    return datetime.fromisoformat(ts.replace("Z", "+00:00"))


async def world():
    owner, root = await f.corp("主企业")
    admin = await f.super_admin(root)
    chain, groot = await f.chain_space(owner)
    dealers = await f.group(groot, "经销商")
    east = await f.group(dealers, "华东")
    suppliers = await f.group(groot, "供应商")
    # A joined dealer: its leader and a plain member.
    dealer_corp, droot = await f.corp("经销商甲")
    leader = await f.member([droot], name="甲负责人")
    plain = await f.member([droot], name="甲成员")
    place = await f.chain_corp(east, dealer_corp)
    await f.contact(place, leader, role=ContactRole.LEADER)
    await f.contact(place, plain, role=ContactRole.MEMBER)
    return {"owner": owner, "root": root, "admin": admin, "chain": chain, "groot": groot, "dealers": dealers,
            "east": east, "suppliers": suppliers, "leader": leader, "plain": plain}


async def create(gql, viewer, chain, group=None):
    variables = {"input": {"chainId": f.gid("ChainSpace", chain.id)}}
    if group is not None:
        variables["input"]["groupId"] = f.gid("ChainGroup", group.id)
    return (await gql.ok(CREATE, variables, token=f.token(viewer)))["createInvitation"]


async def test_admin_invites_anywhere_link_lives_seven_days(gql):
    w = await world()
    payload = await create(gql, w["admin"], w["chain"], w["suppliers"])
    assert payload["userErrors"] == []
    inv = payload["invitation"]
    assert inv["state"] == "ACTIVE" and inv["group"] == {"name": "供应商"} and inv["createdBy"]["name"] == "管理员"
    assert inv["url"].endswith(f"/join/{inv['code']}")
    assert inv["qrCodeUrl"].endswith(f"/invitations/{inv['code']}/qr.png")
    assert parse(inv["expiresAt"]) - parse(inv["createdAt"]) == timedelta(days=7)
    whole_chain = await create(gql, w["admin"], w["chain"])
    assert whole_chain["userErrors"] == [] and whole_chain["invitation"]["group"] is None


async def test_import_only_extends_live_links_to_ninety_days(gql):
    w = await world()
    inv = (await create(gql, w["admin"], w["chain"], w["dealers"]))["invitation"]
    await gql.ok(SET_IMPORT_ONLY, {"id": f.gid("ChainSpace", w["chain"].id), "on": True}, token=f.token(w["admin"]))
    data = await gql.ok("query($id: ID!) { node(id: $id) { ... on Invitation { createdAt expiresAt } } }",
                        {"id": inv["id"]}, token=f.token(w["admin"]))
    assert parse(data["node"]["expiresAt"]) - parse(data["node"]["createdAt"]) == timedelta(days=90)
    # An eight-day-old link is dead at 7 days and alive again while importOnly is on.
    row = await Invitation.get(code=inv["code"])
    row.created_at = datetime.now(UTC) - timedelta(days=8)
    await row.save(update_fields=["created_at"])
    imported = await f.imported_place(w["dealers"], "导入企业")
    person = await f.imported_contact(imported, "导入负责人")
    alive = await gql.ok(PREVIEW, {"code": inv["code"]}, token=f.person_token(person.mobile))
    assert alive["previewJoin"]["userErrors"] == []
    await gql.ok(SET_IMPORT_ONLY, {"id": f.gid("ChainSpace", w["chain"].id), "on": False}, token=f.token(w["admin"]))
    dead = await gql.ok(PREVIEW, {"code": inv["code"]}, token=f.person_token(person.mobile))
    assert dead["previewJoin"]["userErrors"][0]["code"] == "INVITATION_EXPIRED"


async def test_joined_leader_invites_into_its_own_group_only(gql):
    w = await world()
    own = await create(gql, w["leader"], w["chain"])
    assert own["userErrors"] == [] and own["invitation"]["group"] == {"name": "华东"}
    explicit = await create(gql, w["leader"], w["chain"], w["east"])
    assert explicit["userErrors"] == []
    # Another group is not even visible to a downstream leader.
    other = await create(gql, w["leader"], w["chain"], w["suppliers"])
    assert other["userErrors"][0] == {"code": "NOT_FOUND", "field": "groupId", "message": "No such object."}
    # Its group's parent is visible (to walk the tree) but not a place to invite into.
    parent = await create(gql, w["leader"], w["chain"], w["dealers"])
    assert parent["userErrors"][0]["code"] == "FORBIDDEN"


async def test_a_joined_member_who_is_not_a_leader_cannot_invite(gql):
    w = await world()
    payload = await create(gql, w["plain"], w["chain"])
    assert payload["userErrors"][0]["code"] == "FORBIDDEN" and payload["invitation"] is None


async def test_group_chain_admin_invites_within_its_groups(gql):
    w = await world()
    dealer_admin = await f.member([w["root"]])
    await f.grant(dealer_admin, AdminKind.CHAIN_ADMIN, chain=w["chain"], group_ids=[w["dealers"].id])
    assert (await create(gql, dealer_admin, w["chain"], w["east"]))["userErrors"] == []
    assert (await create(gql, dealer_admin, w["chain"], w["suppliers"]))["userErrors"][0]["code"] == "NOT_FOUND"
    assert (await create(gql, dealer_admin, w["chain"]))["userErrors"][0]["code"] == "FORBIDDEN"


async def test_outsiders_cannot_invite(gql):
    w = await world()
    stranger_corp, sroot = await f.corp()
    stranger = await f.super_admin(sroot)
    payload = await create(gql, stranger, w["chain"])
    assert payload["userErrors"][0] == {"code": "NOT_FOUND", "field": "chainId", "message": "No such object."}


async def test_revoked_expired_and_dead_creator_invitations_are_refused_distinctly(gql):
    w = await world()
    person = f.person_token(f.unique_mobile())
    revoked = (await create(gql, w["admin"], w["chain"]))["invitation"]
    data = await gql.ok(REVOKE, {"id": revoked["id"]}, token=f.token(w["admin"]))
    assert data["revokeInvitation"]["invitation"]["state"] == "REVOKED"
    again = await gql.ok(REVOKE, {"id": revoked["id"]}, token=f.token(w["admin"]))
    assert again["revokeInvitation"]["userErrors"][0]["code"] == "ALREADY_REVOKED"

    expired = await f.invitation(w["chain"], w["admin"])
    expired.created_at = datetime.now(UTC) - timedelta(days=7, seconds=1)
    await expired.save(update_fields=["created_at"])

    inviter = await f.member([w["root"]], name="离职邀请人")
    await f.grant(inviter, AdminKind.CHAIN_ADMIN, chain=w["chain"])
    orphan = (await create(gql, inviter, w["chain"]))["invitation"]
    await Member.filter(id=inviter.id).update(status=MemberStatus.RESIGNED)

    for code, expected in (
        (revoked["code"], "INVITATION_REVOKED"),
        (expired.code, "INVITATION_EXPIRED"),
        (orphan["code"], "INVITER_RESIGNED"),
        ("no-such-code", "NOT_FOUND"),
    ):
        data = await gql.ok(PREVIEW, {"code": code}, token=person)
        assert data["previewJoin"]["preview"] is None
        assert data["previewJoin"]["userErrors"][0]["code"] == expected, code
    states = await gql.ok(LIST, {"chain": f.gid("ChainSpace", w["chain"].id)}, token=f.token(w["admin"]))
    by_code = {e["node"]["code"]: e["node"]["state"] for e in states["chainSpace"]["invitations"]["edges"]}
    assert by_code[revoked["code"]] == "REVOKED"
    assert by_code[expired.code] == "EXPIRED"
    assert by_code[orphan["code"]] == "CREATOR_RESIGNED"


async def test_only_the_creator_or_an_admin_revokes(gql):
    w = await world()
    inv = (await create(gql, w["leader"], w["chain"]))["invitation"]
    other = await gql.ok(REVOKE, {"id": inv["id"]}, token=f.token(w["plain"]))
    assert other["revokeInvitation"]["userErrors"][0]["code"] == "NOT_FOUND"
    by_admin = await gql.ok(REVOKE, {"id": inv["id"]}, token=f.token(w["admin"]))
    assert by_admin["revokeInvitation"]["userErrors"] == []


async def test_invitations_list_for_admins_and_own_links_for_a_leader(gql):
    w = await world()
    by_admin = (await create(gql, w["admin"], w["chain"], w["suppliers"]))["invitation"]["code"]
    by_leader = (await create(gql, w["leader"], w["chain"]))["invitation"]["code"]

    async def codes(viewer):
        data = await gql.ok(LIST, {"chain": f.gid("ChainSpace", w["chain"].id)}, token=f.token(viewer))
        conn = data["chainSpace"]["invitations"]
        assert conn["totalCount"] == len(conn["edges"])
        return {e["node"]["code"] for e in conn["edges"]}

    assert await codes(w["admin"]) == {by_admin, by_leader}
    assert await codes(w["leader"]) == {by_leader}
    assert await codes(w["plain"]) == set()


async def test_qr_code_png_for_live_invitations_only(gql, client):
    w = await world()
    inv = (await create(gql, w["admin"], w["chain"]))["invitation"]
    response = await client.get(f"/invitations/{inv['code']}/qr.png")
    assert response.status_code == 200 and response.headers["content-type"] == "image/png"
    assert response.content.startswith(b"\x89PNG\r\n\x1a\n") and len(response.content) > 200
    assert (await client.get("/invitations/nope/qr.png")).status_code == 404
    await gql.ok(REVOKE, {"id": inv["id"]}, token=f.token(w["admin"]))
    assert (await client.get(f"/invitations/{inv['code']}/qr.png")).status_code == 410
