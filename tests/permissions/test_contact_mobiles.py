"""A chain contact's mobile (SPEC §2.2, §2.3) on a contacts page: decided from what the page
statement reads with each contact (gql.chain.types.contact_nodes) exactly as from the linked
members loaded in full, for members seen inside their own corp, across corps, hidden,
disabled, withholding their mobile, and reached only through another of their contacts."""

from __future__ import annotations

from models import ChainContact, FieldSetting
from models.enums import ContactRole, ContactStatus, MemberStatus
from tests import factories as f
from tests.gql.test_query_count import count_statements

PAGE = """
query($ch: ID!) {
  chainSpace(id: $ch) {
    contacts(first: 100) { totalCount edges { node { id name status mobile hiddenFields memberId %s } } }
  }
}
"""


async def world(reached_elsewhere: bool = True):
    """Owner O; downstream corps A, B, C in one group whose corps see each other. A's members
    ana (the viewer, in A/销售) and her colleague bo (A/研发); B's members: one plain, one hidden
    from the directory, one disabled, one linked to a contact of C (not a contact it joined
    as: only its contact as B's, in another chain, reaches it); C withholds mobiles from
    members. Plus an imported contact. Without `reached_elsewhere`, no contact needs its
    member loaded."""
    owner, oroot = await f.corp("链主")
    admin = await f.super_admin(oroot)
    chain, groot = await f.chain_space(owner)
    dealers = await f.group(groot, "经销商", peers_visible=True)
    a, aroot = await f.corp("甲")
    sales, rnd = await f.unit(aroot, "销售"), await f.unit(aroot, "研发")
    ana = await f.member([sales], name="安娜")
    bo = await f.member([rnd], name="博")
    a_admin = await f.super_admin(aroot, name="甲管理员")
    b, broot = await f.corp("乙")
    plain = await f.member([broot], name="乙普通")
    hidden = await f.member([broot], name="乙隐藏", hidden=True)
    disabled = await f.member([broot], name="乙停用", status=MemberStatus.DISABLED)
    twice = await f.member([broot], name="乙两处")
    c, croot = await f.corp("丙")
    withheld = await f.member([croot], name="丙联系人")
    await FieldSetting.create(corp_id=c.id, field="mobile", visible_to_members=False, self_editable=False)
    place_a, place_b, place_c = [await f.chain_corp(dealers, x) for x in (a, b, c)]
    for person in (ana, bo):
        await f.contact(place_a, person)
    for person in (plain, hidden, disabled):
        await f.contact(place_b, person)
    await f.contact(place_c, withheld)
    if not reached_elsewhere:
        return chain, {"ana": ana, "bo": bo, "a_admin": a_admin, "owner admin": admin}
    # B's member linked to a contact of C (under another mobile): not a contact it joined as.
    await ChainContact.create(
        chain_id=chain.id,
        chain_corp=place_c,
        name=twice.name,
        mobile=f.unique_mobile(),
        role=ContactRole.MEMBER,
        status=ContactStatus.JOINED,
        member=twice,
    )
    await f.contact(place_c, None, status=ContactStatus.IMPORTED, name="未加入")
    # Its contact as B's is in another chain, where A and B see each other too.
    other, oroot2 = await f.chain_space(owner)
    peers = await f.group(oroot2, "代理商", peers_visible=True)
    await f.chain_corp(peers, a)
    await f.contact(await f.chain_corp(peers, b), twice)
    return chain, {"ana": ana, "bo": bo, "a_admin": a_admin, "owner admin": admin}


def _nodes(data: dict) -> list[dict]:
    return [e["node"] for e in data["chainSpace"]["contacts"]["edges"]]


async def test_page_decides_mobiles_as_the_loaded_members_do(gql):
    chain, viewers = await world()
    variables = {"ch": f.gid("ChainSpace", chain.id)}
    for who, viewer in viewers.items():
        token = f.token(viewer)
        folded = _nodes(await gql.ok(PAGE % "", variables, token))
        loaded = _nodes(await gql.ok(PAGE % "member { id mobile }", variables, token))
        assert [n["id"] for n in folded] == [n["id"] for n in loaded], who
        for page_node, full in zip(folded, loaded, strict=True):
            member = full.pop("member")
            assert page_node == full, who
            # Outside the chain's admins (who read imported data), a mobile shown on the contact
            # is one the viewer reads of the member too.
            if who != "owner admin" and page_node["mobile"] is not None:
                assert member["mobile"] is not None, who
            assert (page_node["mobile"] is None) == ("mobile" in page_node["hiddenFields"]), who


async def test_downstream_member_reads_mobiles_of_listed_members_only(gql):
    chain, viewers = await world()
    data = await gql.ok(PAGE % "", {"ch": f.gid("ChainSpace", chain.id)}, f.token(viewers["ana"]))
    mobiles = {}
    for n in _nodes(data):
        mobiles.setdefault(n["name"], []).append(n["mobile"] is not None)
    assert mobiles["安娜"] == [True] and mobiles["博"] == [True] and mobiles["乙普通"] == [True]
    # Hidden or disabled across corps: not seen, so no mobile; C withholds it from members.
    assert mobiles.get("乙隐藏", [False]) == [False] and mobiles.get("乙停用", [False]) == [False]
    assert mobiles["丙联系人"] == [False] and mobiles.get("未加入", [False]) == [False]
    # Reached through its contact as B's in the other chain: its mobile shows here too.
    assert mobiles["乙两处"] == [True]


async def test_a_warm_downstream_contacts_page_costs_two_statements(gql):
    """The token check and the page, which carries its totalCount and what decides each
    linked member's mobile: no chain row, no Member rows, seats or contacts of their own."""
    from bench.queries import CHAIN_CONTACTS

    chain, viewers = await world(reached_elsewhere=False)
    variables, token = {"ch": f.gid("ChainSpace", chain.id), "n": 20}, f.token(viewers["ana"])
    await gql.ok(CHAIN_CONTACTS, variables, token)
    statements, data = await count_statements(gql, CHAIN_CONTACTS, variables, token)
    page = data["chainSpace"]["contacts"]
    assert page["totalCount"] == len(page["edges"]) >= 5
    assert any(e["node"]["mobile"] for e in page["edges"])
    assert statements == 2
