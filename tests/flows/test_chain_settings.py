"""Chain settings through GraphQL: updateChainSpace, updateChainGroup, setChainRules, removeChainCorp."""

from __future__ import annotations

from datetime import UTC, datetime

from models import AuditEvent, ChainContact, ChainGroup, ChainRule, Notification
from models.chain import JoinRequest, JoinRequestKind, JoinRequestStatus
from models.enums import AdminKind, ChainCorpStatus, ContactStatus, MemberStatus
from tests import factories as f

UPDATE_SPACE = """
mutation($input: UpdateChainSpaceInput!) {
  updateChainSpace(input: $input) {
    chainSpace { name importOnly corpsSeeEachOther }
    userErrors { code field message }
  }
}
"""

UPDATE_GROUP = """
mutation($input: UpdateChainGroupInput!) {
  updateChainGroup(input: $input) {
    group { id name peersVisible parent { id } }
    userErrors { code field message }
  }
}
"""

SET_RULES = """
mutation($input: SetChainRulesInput!) {
  setChainRules(input: $input) {
    rules { subjectUnit { name } subjectMember { name } objectGroup { name } objectChainCorp { importedName } }
    userErrors { code field message }
  }
}
"""

REMOVE = """
mutation($id: ID!) {
  removeChainCorp(input: {id: $id}) { chainCorp { status } userErrors { code field message } }
}
"""

CONTACTS = """
query($chain: ID!) {
  chainSpace(id: $chain) { contacts(first: 100) { totalCount edges { node { name status } } } }
}
"""


async def owner_world():
    owner, root = await f.corp("主企业")
    admin = await f.super_admin(root)
    chain, groot = await f.chain_space(owner)
    return owner, root, admin, chain, groot


async def test_update_chain_space_changes_settings_and_audits(gql):
    _, _, admin, chain, _ = await owner_world()
    data = await gql.ok(UPDATE_SPACE, {"input": {
        "id": f.gid("ChainSpace", chain.id), "name": "新名字", "importOnly": True, "corpsSeeEachOther": True,
    }}, token=f.token(admin))
    assert data["updateChainSpace"] == {
        "chainSpace": {"name": "新名字", "importOnly": True, "corpsSeeEachOther": True}, "userErrors": [],
    }
    event = await AuditEvent.filter(action="chain.update", target_id=chain.id).first()
    assert event is not None and event.before["importOnly"] is False and event.after["importOnly"] is True


async def test_update_chain_space_refuses_empty_name(gql):
    _, _, admin, chain, _ = await owner_world()
    data = await gql.ok(UPDATE_SPACE, {"input": {"id": f.gid("ChainSpace", chain.id), "name": "  "}}, token=f.token(admin))
    assert data["updateChainSpace"]["userErrors"][0]["code"] == "INVALID_NAME"


async def test_update_chain_space_by_a_non_admin_is_not_found(gql):
    _, root, _, chain, _ = await owner_world()
    staff = await f.member([root])
    data = await gql.ok(UPDATE_SPACE, {"input": {"id": f.gid("ChainSpace", chain.id), "importOnly": True}}, token=f.token(staff))
    assert data["updateChainSpace"]["userErrors"][0]["code"] == "NOT_FOUND"


async def test_group_moves_with_its_subtree_and_paths_follow(gql):
    _, _, admin, _, groot = await owner_world()
    a = await f.group(groot, "经销商")
    b = await f.group(a, "华东")
    c = await f.group(b, "上海")
    target = await f.group(groot, "供应商")
    data = await gql.ok(UPDATE_GROUP, {"input": {
        "id": f.gid("ChainGroup", b.id), "parentId": f.gid("ChainGroup", target.id), "name": "华东区", "peersVisible": True,
    }}, token=f.token(admin))
    assert data["updateChainGroup"]["userErrors"] == []
    assert data["updateChainGroup"]["group"]["name"] == "华东区"
    assert data["updateChainGroup"]["group"]["peersVisible"] is True
    assert data["updateChainGroup"]["group"]["parent"]["id"] == f.gid("ChainGroup", target.id)
    moved_b = await ChainGroup.get(id=b.id)
    moved_c = await ChainGroup.get(id=c.id)
    assert moved_b.path == f"{target.path}{b.id}/"
    assert moved_c.path == f"{target.path}{b.id}/{c.id}/"


async def test_group_cannot_move_under_its_own_subtree(gql):
    _, _, admin, _, groot = await owner_world()
    a = await f.group(groot)
    b = await f.group(a)
    for parent in (a, b):
        data = await gql.ok(UPDATE_GROUP, {"input": {
            "id": f.gid("ChainGroup", a.id), "parentId": f.gid("ChainGroup", parent.id),
        }}, token=f.token(admin))
        assert data["updateChainGroup"]["userErrors"][0]["code"] == "GROUP_LOOP"
    assert (await ChainGroup.get(id=a.id)).path == f"{groot.path}{a.id}/"


async def test_root_group_stays_at_the_root(gql):
    _, _, admin, _, groot = await owner_world()
    a = await f.group(groot)
    data = await gql.ok(UPDATE_GROUP, {"input": {
        "id": f.gid("ChainGroup", groot.id), "parentId": f.gid("ChainGroup", a.id),
    }}, token=f.token(admin))
    assert data["updateChainGroup"]["userErrors"][0]["code"] == "ROOT_GROUP"


async def test_group_rename_refuses_sibling_name_and_bad_name(gql):
    _, _, admin, _, groot = await owner_world()
    a = await f.group(groot, "甲")
    await f.group(groot, "乙")
    dup = await gql.ok(UPDATE_GROUP, {"input": {"id": f.gid("ChainGroup", a.id), "name": "乙"}}, token=f.token(admin))
    assert dup["updateChainGroup"]["userErrors"][0]["code"] == "DUPLICATE_NAME"
    bad = await gql.ok(UPDATE_GROUP, {"input": {"id": f.gid("ChainGroup", a.id), "name": "x" * 33}}, token=f.token(admin))
    assert bad["updateChainGroup"]["userErrors"][0]["code"] == "INVALID_NAME"


async def test_group_of_another_chain_is_not_found(gql):
    _, _, admin, _, groot = await owner_world()
    other_owner, _ = await f.corp()
    _, other_root = await f.chain_space(other_owner)
    a = await f.group(groot)
    foreign = await gql.ok(UPDATE_GROUP, {"input": {"id": f.gid("ChainGroup", other_root.id), "name": "x"}}, token=f.token(admin))
    assert foreign["updateChainGroup"]["userErrors"][0]["code"] == "NOT_FOUND"
    cross = await gql.ok(UPDATE_GROUP, {"input": {
        "id": f.gid("ChainGroup", a.id), "parentId": f.gid("ChainGroup", other_root.id),
    }}, token=f.token(admin))
    assert cross["updateChainGroup"]["userErrors"][0] == {"code": "NOT_FOUND", "field": "parentId", "message": "No such object."}


async def test_set_chain_rules_replaces_the_rule_set(gql):
    _, root, admin, chain, groot = await owner_world()
    purchasing = await f.unit(root, "采购部")
    buyer = await f.member([root], name="采购员")
    suppliers = await f.group(groot, "供应商")
    place = await f.chain_corp(suppliers)
    await f.rule(chain, subject_member=buyer, object_group=groot)
    data = await gql.ok(SET_RULES, {"input": {"chainId": f.gid("ChainSpace", chain.id), "rules": [
        {"subjectUnitId": f.gid("OrgUnit", purchasing.id), "objectGroupId": f.gid("ChainGroup", suppliers.id)},
        {"subjectMemberId": f.gid("Member", buyer.id), "objectChainCorpId": f.gid("ChainCorp", place.id)},
        {"subjectMemberId": f.gid("Member", buyer.id), "objectChainCorpId": f.gid("ChainCorp", place.id)},
    ]}}, token=f.token(admin))
    payload = data["setChainRules"]
    assert payload["userErrors"] == []
    assert payload["rules"] == [
        {"subjectUnit": {"name": "采购部"}, "subjectMember": None, "objectGroup": {"name": "供应商"}, "objectChainCorp": None},
        {"subjectUnit": None, "subjectMember": {"name": "采购员"}, "objectGroup": None,
         "objectChainCorp": {"importedName": place.imported_name}},
    ]
    assert await ChainRule.filter(chain_id=chain.id).count() == 2
    cleared = await gql.ok(SET_RULES, {"input": {"chainId": f.gid("ChainSpace", chain.id), "rules": []}}, token=f.token(admin))
    assert cleared["setChainRules"]["rules"] == [] and await ChainRule.filter(chain_id=chain.id).count() == 0


async def test_set_chain_rules_refusals(gql):
    _, root, admin, chain, groot = await owner_world()
    other, other_root = await f.corp()
    stranger = await f.member([other_root])
    resigned = await f.member([root], status=MemberStatus.RESIGNED)
    removed = await f.chain_corp(groot, status=ChainCorpStatus.REMOVED)
    chain_id = f.gid("ChainSpace", chain.id)
    group_id = f.gid("ChainGroup", groot.id)
    cases = [
        ([{"subjectUnitId": f.gid("OrgUnit", root.id)}], "INVALID_RULE", "rules.0"),
        ([{"subjectUnitId": f.gid("OrgUnit", root.id), "subjectMemberId": f.gid("Member", admin.id),
           "objectGroupId": group_id}], "INVALID_RULE", "rules.0"),
        ([{"subjectMemberId": f.gid("Member", stranger.id), "objectGroupId": group_id}], "NOT_FOUND", "subjectMemberId"),
        ([{"subjectUnitId": f.gid("OrgUnit", other_root.id), "objectGroupId": group_id}], "NOT_FOUND", "subjectUnitId"),
        ([{"subjectMemberId": f.gid("Member", resigned.id), "objectGroupId": group_id}], "MEMBER_NOT_ACTIVE", "subjectMemberId"),
        ([{"subjectMemberId": f.gid("Member", admin.id), "objectChainCorpId": f.gid("ChainCorp", removed.id)}],
         "CORP_REMOVED", "objectChainCorpId"),
    ]
    for rules, code, field in cases:
        data = await gql.ok(SET_RULES, {"input": {"chainId": chain_id, "rules": rules}}, token=f.token(admin))
        error = data["setChainRules"]["userErrors"][0]
        assert (error["code"], error["field"]) == (code, field), rules
    assert await ChainRule.filter(chain_id=chain.id).count() == 0


async def test_rules_are_managed_by_the_owner_only(gql):
    _, _, _, chain, groot = await owner_world()
    supplier_corp, sroot = await f.corp("供应商")
    supplier = await f.super_admin(sroot)
    await f.chain_corp(groot, supplier_corp)
    data = await gql.ok(SET_RULES, {"input": {"chainId": f.gid("ChainSpace", chain.id), "rules": []}}, token=f.token(supplier))
    assert data["setChainRules"]["userErrors"][0]["code"] == "NOT_FOUND"


async def test_removed_corp_leaves_every_view_at_once(gql):
    owner, root, admin, chain, groot = await owner_world()
    dealers = await f.group(groot, "经销商", peers_visible=True)
    buyer = await f.member([root], name="对接人")
    await f.rule(chain, subject_member=buyer, object_group=dealers)
    people = {}
    places = {}
    for key in ("D1", "D2"):
        c, croot = await f.corp(key)
        m = await f.member([croot], name=f"{key}联系人")
        places[key] = await f.chain_corp(dealers, c)
        await f.contact(places[key], m)
        people[key] = m
    pending = await f.imported_contact(places["D2"], "待加入")
    await Notification.create(kind="CHAIN_REMINDER", recipient_mobile=pending.mobile, chain_contact=pending,
                              due_at=datetime.now(UTC))
    request = await JoinRequest.create(chain=chain, chain_corp=places["D2"], contact=pending, corp_id=places["D2"].corp_id,
                                       kind=JoinRequestKind.JOIN, open_key=pending.id)

    async def names(viewer):
        data = await gql.ok(CONTACTS, {"chain": f.gid("ChainSpace", chain.id)}, token=f.token(viewer))
        space = data["chainSpace"]
        return None if space is None else {e["node"]["name"] for e in space["contacts"]["edges"]}

    assert await names(people["D1"]) == {"D1联系人", "D2联系人"}
    assert await names(buyer) == {"D1联系人", "D2联系人"}
    data = await gql.ok(REMOVE, {"id": f.gid("ChainCorp", places["D2"].id)}, token=f.token(admin))
    assert data["removeChainCorp"] == {"chainCorp": {"status": "REMOVED"}, "userErrors": []}
    assert await names(people["D1"]) == {"D1联系人"}
    assert await names(buyer) == {"D1联系人"}
    # The removed corp's own people lose the chain altogether.
    assert await names(people["D2"]) is None
    # The admin's default list drops them too; asking for REMOVED lists them.
    assert await names(admin) == {"D1联系人"}
    removed = await gql.ok(
        'query($c: ID!) { chainSpace(id: $c) { contacts(status: REMOVED) { totalCount } corps(status: REMOVED) { totalCount } } }',
        {"c": f.gid("ChainSpace", chain.id)}, token=f.token(admin),
    )
    assert removed["chainSpace"] == {"contacts": {"totalCount": 2}, "corps": {"totalCount": 1}}
    assert await ChainContact.filter(chain_corp_id=places["D2"].id).exclude(status=ContactStatus.REMOVED).count() == 0
    assert not await Notification.filter(chain_contact_id=pending.id, sent_at=None).exists()
    assert (await JoinRequest.get(id=request.id)).status is JoinRequestStatus.CANCELLED
    again = await gql.ok(REMOVE, {"id": f.gid("ChainCorp", places["D2"].id)}, token=f.token(admin))
    assert again["removeChainCorp"]["userErrors"][0]["code"] == "ALREADY_REMOVED"


async def test_remove_chain_corp_by_group_admin_only_within_its_groups(gql):
    owner, root, _, chain, groot = await owner_world()
    dealers = await f.group(groot, "经销商")
    suppliers = await f.group(groot, "供应商")
    dealer_admin = await f.member([root])
    await f.grant(dealer_admin, AdminKind.CHAIN_ADMIN, chain=chain, group_ids=[dealers.id])
    dealer = await f.chain_corp(dealers)
    supplier = await f.chain_corp(suppliers)
    outside = await gql.ok(REMOVE, {"id": f.gid("ChainCorp", supplier.id)}, token=f.token(dealer_admin))
    assert outside["removeChainCorp"]["userErrors"][0]["code"] == "NOT_FOUND"
    inside = await gql.ok(REMOVE, {"id": f.gid("ChainCorp", dealer.id)}, token=f.token(dealer_admin))
    assert inside["removeChainCorp"]["userErrors"] == []
