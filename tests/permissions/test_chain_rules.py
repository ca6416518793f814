"""SPEC §2.3 chain visibility, through GraphQL."""

from __future__ import annotations

from models.enums import ChainCorpStatus, ContactStatus
from tests import factories as f

CONTACTS = """
query($chain: ID!) {
  chainSpace(id: $chain) {
    contacts(first: 100) { totalCount edges { node { name status } } }
    connectors { name }
  }
}
"""


async def world():
    """Owner O with 采购部 (rule on 供应商) ; suppliers S1, S2 in 原材料 ; S3 in 零部件 ; dealer D1, D2 in 经销商 (peersVisible)."""
    owner, root = await f.corp("主企业")
    purchasing = await f.unit(root, "采购部")
    buyer = await f.member([purchasing], name="采购员")
    outsider = await f.member([root], name="无规则员工")
    admin = await f.super_admin(root)
    inviter = await f.member([root], name="邀请人")
    chain, groot = await f.chain_space(owner)
    suppliers = await f.group(groot, "供应商")
    raw = await f.group(suppliers, "原材料")
    parts = await f.group(suppliers, "零部件")
    dealers = await f.group(groot, "经销商", peers_visible=True)
    await f.rule(chain, subject_unit=purchasing, object_group=suppliers)
    corps = {}
    people = {}
    for key, g in (("S1", raw), ("S2", raw), ("S3", parts), ("D1", dealers), ("D2", dealers)):
        c, croot = await f.corp(key)
        m = await f.member([croot], name=f"{key}联系人")
        cc = await f.chain_corp(g, c, invited_by=inviter if key == "S1" else None)
        await f.contact(cc, m)
        corps[key], people[key] = cc, m
    imported = await f.chain_corp(raw, None, status=ChainCorpStatus.IMPORTED)
    await f.contact(imported, None, status=ContactStatus.IMPORTED, name="未加入")
    return {"chain": chain, "buyer": buyer, "outsider": outsider, "admin": admin, "people": people,
            "corps": corps, "groups": {"raw": raw, "dealers": dealers}, "owner": owner}


async def contact_names(gql, chain, viewer) -> tuple[set[str] | None, set[str]]:
    data = await gql.ok(CONTACTS, {"chain": f.gid("ChainSpace", chain.id)}, token=f.token(viewer))
    space = data["chainSpace"]
    if space is None:
        return None, set()
    conn = space["contacts"]
    assert conn["totalCount"] == len(conn["edges"])
    return {e["node"]["name"] for e in conn["edges"]}, {c["name"] for c in space["connectors"]}


async def test_owner_super_admin_sees_all_including_imported(gql):
    w = await world()
    names, _ = await contact_names(gql, w["chain"], w["admin"])
    assert names == {"S1联系人", "S2联系人", "S3联系人", "D1联系人", "D2联系人", "未加入"}


async def test_owner_member_sees_groups_its_rules_give(gql):
    w = await world()
    names, _ = await contact_names(gql, w["chain"], w["buyer"])
    assert names == {"S1联系人", "S2联系人", "S3联系人"}


async def test_owner_member_without_rules_sees_nothing_of_the_chain(gql):
    w = await world()
    names, _ = await contact_names(gql, w["chain"], w["outsider"])
    assert names is None


async def test_supplier_sees_own_contacts_and_connectors_not_same_group_peers(gql):
    w = await world()
    names, connectors = await contact_names(gql, w["chain"], w["people"]["S1"])
    assert names == {"S1联系人"}
    # The rule subject (采购部's member) and the member who invited S1.
    assert connectors == {"采购员", "邀请人"}


async def test_same_group_peers_visible_when_switched_on(gql):
    w = await world()
    names, _ = await contact_names(gql, w["chain"], w["people"]["D1"])
    assert names == {"D1联系人", "D2联系人"}
    w["groups"]["raw"].peers_visible = True
    await w["groups"]["raw"].save()
    names, _ = await contact_names(gql, w["chain"], w["people"]["S1"])
    assert names == {"S1联系人", "S2联系人"}


async def test_chain_wide_switch_opens_peers_but_never_other_groups(gql):
    w = await world()
    w["chain"].corps_see_each_other = True
    await w["chain"].save()
    names, _ = await contact_names(gql, w["chain"], w["people"]["S1"])
    assert names == {"S1联系人", "S2联系人"}  # S3 sits in another group (零部件), D1/D2 in 经销商


async def test_other_group_never_visible_even_through_node(gql):
    w = await world()
    d1 = w["people"]["D1"]
    query = 'query($id: ID!) { node(id: $id) { id } }'
    for target in (w["people"]["S1"], w["corps"]["S1"]):
        type_name = "Member" if target is w["people"]["S1"] else "ChainCorp"
        assert (await gql.ok(query, {"id": f.gid(type_name, target.id)}, token=f.token(d1)))["node"] is None


async def test_nothing_of_one_chain_appears_through_another(gql):
    w = await world()
    # D1's corp also joins a second chain B, owned by someone else, where S2's corp sits too.
    other_owner, _ = await f.corp("另一主企业")
    chain_b, groot_b = await f.chain_space(other_owner)
    g = await f.group(groot_b, "共享组", peers_visible=True)
    d1_corp = await w["corps"]["D1"].corp
    s2_corp = await w["corps"]["S2"].corp
    await f.chain_corp(g, d1_corp)
    await f.chain_corp(g, s2_corp)
    # In chain A, D1 still sees only the dealers; chain A's contacts never show S2 to D1.
    names, _ = await contact_names(gql, w["chain"], w["people"]["D1"])
    assert names == {"D1联系人", "D2联系人"}
    # In chain B, D1 sees the corps but none of chain A's contacts (they are chain A rows).
    data = await gql.ok(
        'query($c: ID!) { chainSpace(id: $c) { corps { totalCount } contacts { totalCount } } }',
        {"c": f.gid("ChainSpace", chain_b.id)},
        token=f.token(w["people"]["D1"]),
    )
    assert data["chainSpace"] == {"corps": {"totalCount": 2}, "contacts": {"totalCount": 0}}


async def test_profile_fields_across_corps_follow_the_target_corp_settings(gql):
    from models import FieldSetting

    w = await world()
    s1 = w["people"]["S1"]
    await FieldSetting.create(corp_id=s1.corp_id, field="mobile", visible_to_members=False, self_editable=False)
    data = await gql.ok(
        'query($id: ID!) { node(id: $id) { ... on Member { name mobile hiddenFields } } }',
        {"id": f.gid("Member", s1.id)},
        token=f.token(w["buyer"]),
    )
    assert data["node"]["name"] == "S1联系人" and data["node"]["mobile"] is None
    assert "mobile" in data["node"]["hiddenFields"]
