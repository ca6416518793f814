"""Authentication and the foundation writes, through GraphQL. Forged, stale and revoked
credentials are in test_token_attacks.py."""

from __future__ import annotations

from auth.tokens import issue_person_token
from tests import factories as f

CREATE_CORP = """
mutation($name: String!) { createCorp(input: {name: $name}) { identity { corpId corpName } userErrors { code field message } } }
"""
ACT_AS = "mutation($c: ID!) { actAs(input: {corpId: $c}) { token memberId userErrors { code field message } } }"


async def test_person_creates_corp_becomes_super_admin_and_acts_as_member(gql):
    mobile = f.unique_mobile()
    person = issue_person_token(mobile, name="创始人")
    created = (await gql.ok(CREATE_CORP, {"name": "新企业有限公司"}, person))["createCorp"]
    assert created["userErrors"] == []
    acted = (await gql.ok(ACT_AS, {"c": created["identity"]["corpId"]}, person))["actAs"]
    assert acted["userErrors"] == [] and acted["token"]
    me = await gql.ok("query { viewer { kind isSuperAdmin corp { name rootUnit { name } } } }", token=acted["token"])
    assert me["viewer"]["kind"] == "MEMBER" and me["viewer"]["isSuperAdmin"] is True
    assert me["viewer"]["corp"]["name"] == "新企业有限公司"


async def test_act_as_a_foreign_corp_is_not_found(gql):
    corp, _ = await f.corp()
    body = await gql.ok(ACT_AS, {"c": f.gid("Corp", corp.id)}, issue_person_token(f.unique_mobile()))
    assert body["actAs"]["token"] is None and body["actAs"]["userErrors"][0]["code"] == "NOT_FOUND"


async def test_create_unit_and_member_as_super_admin(gql):
    corp, root = await f.corp()
    admin = await f.super_admin(root)
    tok = f.token(admin)
    unit = (await gql.ok(
        'mutation($p: ID!) { createOrgUnit(input: {parentId: $p, name: "市场部", scope: DEPARTMENT}) '
        '{ unit { id name scope } userErrors { code } } }',
        {"p": f.gid("OrgUnit", root.id)}, tok,
    ))["createOrgUnit"]
    assert unit["userErrors"] == [] and unit["unit"]["scope"] == "DEPARTMENT"
    created = (await gql.ok(
        'mutation($c: ID!, $u: ID!) { createMember(input: {corpId: $c, account: "Zhang.San", name: "张三", '
        'unitIds: [$u], mobile: "13912345678"}) { member { name mobile departments { unit { name } } } '
        'userErrors { code field } } }',
        {"c": f.gid("Corp", corp.id), "u": unit["unit"]["id"]}, tok,
    ))["createMember"]
    assert created["userErrors"] == []
    assert created["member"]["mobile"] == "+8613912345678"
    assert created["member"]["departments"] == [{"unit": {"name": "市场部"}}]
    again = (await gql.ok(
        'mutation($c: ID!, $u: ID!) { createMember(input: {corpId: $c, account: "zhang.san", name: "张三", '
        'unitIds: [$u], email: "z@example.com"}) { member { name } userErrors { code field } } }',
        {"c": f.gid("Corp", corp.id), "u": unit["unit"]["id"]}, tok,
    ))["createMember"]
    assert again == {"member": None, "userErrors": [{"code": "DUPLICATE_ACCOUNT", "field": "account"}]}


async def test_plain_member_cannot_create_units_and_learns_nothing(gql):
    _, root = await f.corp()
    m = await f.member([root])
    body = (await gql.ok(
        'mutation($p: ID!) { createOrgUnit(input: {parentId: $p, name: "x"}) { unit { id } userErrors { code } } }',
        {"p": f.gid("OrgUnit", root.id)}, f.token(m),
    ))["createOrgUnit"]
    assert body == {"unit": None, "userErrors": [{"code": "NOT_FOUND"}]}


async def test_pinyin_search_matches_full_initials_and_surname_readings(gql):
    corp, root = await f.corp()
    viewer = await f.member([root], name="查询人")
    await f.member([root], name="单田芳")
    await f.member([root], name="曾国藩")
    await f.member([root], name="张三")
    query = 'query($c: ID!, $q: String!) { corp(id: $c) { searchMembers(query: $q) { edges { node { name } } } } }'

    async def names(q):
        data = await gql.ok(query, {"c": f.gid("Corp", corp.id), "q": q}, f.token(viewer))
        return {e["node"]["name"] for e in data["corp"]["searchMembers"]["edges"]}

    assert await names("zs") == {"张三"}
    assert await names("zhangsan") == {"张三"}
    assert await names("shantianfang") == {"单田芳"}
    assert await names("stf") == {"单田芳"}
    assert await names("zengguofan") == {"曾国藩"}
    assert await names("国藩") == {"曾国藩"}
