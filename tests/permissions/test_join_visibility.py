"""After real joins through GraphQL, the chain policy holds (SPEC §2.3): suppliers never see
suppliers of another group, see their own group's peers only when the group (or the chain)
allows it, nothing of chain A shows through chain B, and the owner's connectors follow the rules."""

from __future__ import annotations

from dataclasses import dataclass

from models import ChainContact
from tests import factories as f
from tests.join_helpers import member_token

CREATE_GROUP = """
mutation($chain: ID!, $name: String!) {
  createChainGroup(input: {chainId: $chain, name: $name}) { group { id } userErrors { code } }
}
"""

INVITE = """
mutation($chain: ID!, $group: ID) {
  createInvitation(input: {chainId: $chain, groupId: $group}) { invitation { code } userErrors { code } }
}
"""

JOIN = """
mutation($code: String!, $name: String!) {
  joinChain(input: {code: $code, newCorpName: $name}) { outcome corp { corpId } userErrors { code } }
}
"""

SET_RULES = """
mutation($input: SetChainRulesInput!) { setChainRules(input: $input) { userErrors { code field } } }
"""

GROUP_PEERS = """
mutation($id: ID!, $on: Boolean!) { updateChainGroup(input: {id: $id, peersVisible: $on}) { userErrors { code } } }
"""

CHAIN_SWITCH = """
mutation($id: ID!, $on: Boolean!) { updateChainSpace(input: {id: $id, corpsSeeEachOther: $on}) { userErrors { code } } }
"""

VIEW = """
query($chain: ID!) {
  chainSpace(id: $chain) {
    contacts(first: 100) { totalCount edges { node { name } } }
    corps(first: 100) { totalCount edges { node { importedName } } }
    connectors { name }
  }
}
"""

NODE = 'query($id: ID!) { node(id: $id) { id } }'


@dataclass
class Space:
    id: str
    groups: dict[str, str]
    codes: dict[str, str]


async def build_chain(gql, admin_token: str, chain_gid: str, groups: list[str]) -> Space:
    space = Space(chain_gid, {}, {})
    for name in groups:
        data = await gql.ok(CREATE_GROUP, {"chain": chain_gid, "name": name}, token=admin_token)
        space.groups[name] = data["createChainGroup"]["group"]["id"]
        invite = await gql.ok(INVITE, {"chain": chain_gid, "group": space.groups[name]}, token=admin_token)
        space.codes[name] = invite["createInvitation"]["invitation"]["code"]
    return space


async def join_as_new_corp(gql, code: str, person: str, corp_name: str) -> tuple[str, str]:
    """A person joins with a new corp; returns its person token and member token."""
    mobile = f.unique_mobile()
    person_token = f.person_token(mobile, person)
    data = await gql.ok(JOIN, {"code": code, "name": corp_name}, token=person_token)
    assert data["joinChain"]["outcome"] == "JOINED", data
    return person_token, await member_token(gql, person_token, data["joinChain"]["corp"]["corpId"])


async def view(gql, space: Space, token: str) -> tuple[set[str], set[str], set[str]] | None:
    data = await gql.ok(VIEW, {"chain": space.id}, token=token)
    s = data["chainSpace"]
    if s is None:
        return None
    assert s["contacts"]["totalCount"] == len(s["contacts"]["edges"])
    return (
        {e["node"]["name"] for e in s["contacts"]["edges"]},
        {e["node"]["importedName"] for e in s["corps"]["edges"]},
        {c["name"] for c in s["connectors"]},
    )


async def test_visibility_after_joins(gql):
    owner, root = await f.corp("品牌方")
    admin = await f.super_admin(root, name="品牌超管")
    purchasing = await f.unit(root, "采购部")
    buyer = await f.member([purchasing], name="采购员")
    seller = await f.member([root], name="销售员")
    admin_token = f.token(admin)
    created = await gql.ok(
        'mutation($corp: ID!) { createChainSpace(input: {corpId: $corp, name: "品牌供应链"}) { chainSpace { id } } }',
        {"corp": f.gid("Corp", owner.id)}, token=admin_token,
    )
    a = await build_chain(gql, admin_token, created["createChainSpace"]["chainSpace"]["id"], ["供应商", "经销商"])

    _, s1 = await join_as_new_corp(gql, a.codes["供应商"], "供一联系人", "供应商一")
    _, s2 = await join_as_new_corp(gql, a.codes["供应商"], "供二联系人", "供应商二")
    d1_person, d1 = await join_as_new_corp(gql, a.codes["经销商"], "销一联系人", "经销商一")

    d1_corp_gid = await _place_gid(gql, a, admin_token, "经销商一")
    rules = await gql.ok(SET_RULES, {"input": {"chainId": a.id, "rules": [
        {"subjectUnitId": f.gid("OrgUnit", purchasing.id), "objectGroupId": a.groups["供应商"]},
        {"subjectMemberId": f.gid("Member", seller.id), "objectChainCorpId": d1_corp_gid},
    ]}}, token=admin_token)
    assert rules["setChainRules"]["userErrors"] == []

    # Suppliers: their own corp only, never the other supplier, never a dealer; their connectors
    # are the rule's unit members and the owner member whose invitation they used.
    assert await view(gql, a, s1) == ({"供一联系人"}, {"供应商一"}, {"采购员", "品牌超管"})
    assert await view(gql, a, s2) == ({"供二联系人"}, {"供应商二"}, {"采购员", "品牌超管"})
    assert await view(gql, a, d1) == ({"销一联系人"}, {"经销商一"}, {"销售员", "品牌超管"})
    # The owner's side: each member sees what its rules give, the super admin everything.
    assert (await view(gql, a, f.token(buyer)))[0] == {"供一联系人", "供二联系人"}
    assert (await view(gql, a, f.token(seller)))[0] == {"销一联系人"}
    assert (await view(gql, a, admin_token))[0] == {"供一联系人", "供二联系人", "销一联系人"}
    assert await view(gql, a, f.token(await f.member([root], name="无关员工"))) is None

    # Same-group peers appear when the group allows it; other groups never do.
    await gql.ok(GROUP_PEERS, {"id": a.groups["供应商"], "on": True}, token=admin_token)
    assert (await view(gql, a, s1))[:2] == ({"供一联系人", "供二联系人"}, {"供应商一", "供应商二"})
    assert (await view(gql, a, d1))[0] == {"销一联系人"}
    await gql.ok(GROUP_PEERS, {"id": a.groups["供应商"], "on": False}, token=admin_token)
    assert (await view(gql, a, s1))[0] == {"供一联系人"}
    # The chain-wide switch does the same for every group, still never across groups.
    await gql.ok(CHAIN_SWITCH, {"id": a.id, "on": True}, token=admin_token)
    assert (await view(gql, a, s1))[0] == {"供一联系人", "供二联系人"}
    assert (await view(gql, a, d1))[0] == {"销一联系人"}
    await gql.ok(CHAIN_SWITCH, {"id": a.id, "on": False}, token=admin_token)

    # Chain B, owned by someone else, where supplier 1 and dealer 1 are peers.
    other_owner, other_root = await f.corp("另一品牌方")
    other_admin = f.token(await f.super_admin(other_root))
    created_b = await gql.ok(
        'mutation($corp: ID!) { createChainSpace(input: {corpId: $corp, name: "另一条链"}) { chainSpace { id } } }',
        {"corp": f.gid("Corp", other_owner.id)}, token=other_admin,
    )
    b = await build_chain(gql, other_admin, created_b["createChainSpace"]["chainSpace"]["id"], ["共同组"])
    await gql.ok(GROUP_PEERS, {"id": b.groups["共同组"], "on": True}, token=other_admin)
    s1_corp = (await gql.ok("{ viewer { corp { id } } }", token=s1))["viewer"]["corp"]["id"]
    d1_corp = (await gql.ok("{ viewer { corp { id } } }", token=d1))["viewer"]["corp"]["id"]
    s1_person = f.person_token((await gql.ok("{ viewer { member { mobile } } }", token=s1))["viewer"]["member"]["mobile"])
    for person, corp in ((s1_person, s1_corp), (d1_person, d1_corp)):
        joined = await gql.ok(
            'mutation($code: String!, $corp: ID!) { joinChain(input: {code: $code, corpId: $corp}) { outcome userErrors { code } } }',
            {"code": b.codes["共同组"], "corp": corp}, token=person,
        )
        assert joined["joinChain"]["outcome"] == "JOINED", joined
    # In chain B they are peers; in chain A still strangers, and chain A's rows never show in B.
    in_b = await view(gql, b, s1)
    assert in_b is not None and in_b[:2] == ({"供一联系人", "销一联系人"}, {"供应商一", "经销商一"})
    ids = await gql.ok('query($c: ID!) { chainSpace(id: $c) { contacts { edges { node { id } } } } }', {"c": b.id}, token=s1)
    listed = [int(_pk(e["node"]["id"])) for e in ids["chainSpace"]["contacts"]["edges"]]
    assert set(await ChainContact.filter(id__in=listed).values_list("chain_id", flat=True)) == {int(_pk(b.id))}
    assert (await view(gql, a, s1))[0] == {"供一联系人"}
    d1_contact_in_a = await ChainContact.get(chain_id=int(_pk(a.id)), name="销一联系人")
    assert (await gql.ok(NODE, {"id": f.gid("ChainContact", d1_contact_in_a.id)}, token=s1))["node"] is None
    assert (await gql.ok(NODE, {"id": d1_corp_gid}, token=s1))["node"] is None
    assert (await view(gql, b, d1))[0] == in_b[0]
    assert "销一联系人" not in (await view(gql, a, s1))[0]


def _pk(gid: str) -> str:
    from strawberry import relay

    return relay.GlobalID.from_id(gid).node_id


async def _place_gid(gql, space: Space, admin_token: str, name: str) -> str:
    data = await gql.ok(
        'query($c: ID!) { chainSpace(id: $c) { corps(first: 100) { edges { node { id importedName } } } } }',
        {"c": space.id}, token=admin_token,
    )
    return next(e["node"]["id"] for e in data["chainSpace"]["corps"]["edges"] if e["node"]["importedName"] == name)
