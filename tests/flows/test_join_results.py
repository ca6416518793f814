"""What joinChain and previewJoin say about the corp a person joins as is true: whether it is
that corp's super admin, and that a chain's owner corp never joins its own chain."""

from __future__ import annotations

from flows import jobs
from models import ChainContact, ChainCorp
from tests import factories as f
from tests.join_helpers import IMPORT, named_corp

PREVIEW = """
query($code: String!) {
  previewJoin(code: $code) {
    preview { rule requiredCorp { corpId corpName isSuperAdmin } identities { corpId isSuperAdmin } }
    userErrors { code field }
  }
}
"""

JOIN = """
mutation($input: JoinChainInput!) {
  joinChain(input: $input) { outcome corp { corpId corpName isSuperAdmin } userErrors { code field message } }
}
"""


async def owner_chain():
    owner, admin = await named_corp("链主企业")
    chain, groot = await f.chain_space(owner)
    return owner, admin, chain, groot


async def test_join_chain_says_whether_the_person_is_super_admin_of_the_corp_it_joined_as(gql):
    _, admin, chain, _ = await owner_chain()
    inv = await f.invitation(chain, admin)
    founder = f.person_token(f.unique_mobile(), "创始人")
    created = (await gql.ok(JOIN, {"input": {"code": inv.code, "newCorpName": "新建的经销商"}}, founder))["joinChain"]
    assert created["userErrors"] == [] and created["corp"]["isSuperAdmin"] is True
    # A plain member of that corp joins through the same link: not a super admin.
    corp_id = (await ChainCorp.get(chain_id=chain.id)).corp_id
    from models import OrgUnit

    colleague = await f.member([await OrgUnit.get(corp_id=corp_id, parent_id=None)], name="普通同事")
    assert colleague.mobile is not None
    joined = (await gql.ok(JOIN, {"input": {"code": inv.code, "corpId": created["corp"]["corpId"]}},
                           f.person_token(colleague.mobile)))["joinChain"]
    assert joined["userErrors"] == [] and joined["corp"]["isSuperAdmin"] is False


async def test_preview_join_says_whether_the_person_is_super_admin_of_the_required_corp(gql):
    _, admin, chain, _ = await owner_chain()
    corp, boss = await named_corp("甲方零件厂")
    assert boss.mobile is not None
    data = await gql.ok(IMPORT, {"input": {"chainId": f.gid("ChainSpace", chain.id), "rows": [
        {"name": "甲方零件厂超管", "role": "负责人", "mobile": boss.mobile, "corpName": "甲方零件厂"},
    ]}}, token=f.token(admin))
    assert data["importChainContacts"]["userErrors"] == []
    await jobs.run_pending_jobs()
    code = (await ChainContact.get(chain_id=chain.id, mobile=boss.mobile)).join_code
    person = f.person_token(boss.mobile)
    preview = (await gql.ok(PREVIEW, {"code": code}, person))["previewJoin"]["preview"]
    assert preview["rule"] == "MUST_JOIN_OWN_CORP"
    assert preview["requiredCorp"] == {"corpId": f.gid("Corp", corp.id), "corpName": "甲方零件厂", "isSuperAdmin": True}
    joined = (await gql.ok(JOIN, {"input": {"code": code}}, person))["joinChain"]
    assert joined["outcome"] == "JOINED" and joined["corp"]["isSuperAdmin"] is True


async def test_the_owner_corp_cannot_join_its_own_chain_as_a_downstream_corp(gql):
    owner, admin, chain, groot = await owner_chain()
    dealers = await f.group(groot, "经销商")
    inv = await f.invitation(chain, admin, dealers)
    assert admin.mobile is not None
    person = f.person_token(admin.mobile)
    refused = (await gql.ok(JOIN, {"input": {"code": inv.code, "corpId": f.gid("Corp", owner.id)}}, person))["joinChain"]
    assert refused["outcome"] is None
    assert [(e["code"], e["field"]) for e in refused["userErrors"]] == [("OWNER_CORP_CANNOT_JOIN", "corpId")]
    assert await ChainCorp.filter(chain_id=chain.id).count() == 0
    # Imported under the owner's own name, the owner's super admin is not told to join as the owner.
    data = await gql.ok(IMPORT, {"input": {"chainId": f.gid("ChainSpace", chain.id), "rows": [
        {"name": "链主企业超管", "role": "负责人", "mobile": admin.mobile, "corpName": "链主企业"},
    ]}}, token=f.token(admin))
    assert data["importChainContacts"]["userErrors"] == []
    await jobs.run_pending_jobs()
    code = (await ChainContact.get(chain_id=chain.id, mobile=admin.mobile)).join_code
    preview = (await gql.ok(PREVIEW, {"code": code}, person))["previewJoin"]["preview"]
    assert preview["rule"] == "CHOOSE_OR_CREATE" and preview["requiredCorp"] is None
    refused = (await gql.ok(JOIN, {"input": {"code": code, "corpId": f.gid("Corp", owner.id)}}, person))["joinChain"]
    assert [e["code"] for e in refused["userErrors"]] == ["OWNER_CORP_CANNOT_JOIN"]
    assert await ChainCorp.filter(chain_id=chain.id, corp_id=owner.id).count() == 0
