"""Schema gaps a partner developer met: ChainCorp.name, a flat Corp.units connection,
ImportJob.mode as an enum with typed totals, and customCorpId lookups matched exactly."""

from __future__ import annotations

from models.enums import Scope
from tests import factories as f
from tests.flows.test_directory_import import finished, upload, world

CHAIN_CORPS = """
query($chain: ID!) { chainSpace(id: $chain) { corps(first: 50) { edges { node { importedName name } } } } }
"""
UNITS = """
query($id: ID!, $after: String) { corp(id: $id) { units(first: 2, after: $after) {
  totalCount pageInfo { hasNextPage endCursor } edges { node { name parent { name } } } } } }
"""
JOB = """
query($id: ID!) { importJob(id: $id) { mode totals { created updated unchanged failed resigned unitsCreated
  corpsCreated corpsUpdated groupsCreated invited } } }
"""
BY_CUSTOM_ID = """
query($chain: ID!, $custom: String!) { chainCorpByCustomId(chainId: $chain, customCorpId: $custom) { customCorpId name } }
"""


async def test_chain_corp_name_is_the_joined_corps_name_for_who_sees_it_else_the_imported_name(gql):
    owner, oroot = await f.corp("链主")
    boss = await f.super_admin(oroot)
    chain, groot = await f.chain_space(owner)
    joined_corp, jroot = await f.corp("正式名称有限公司")
    joined = await f.chain_corp(groot, joined_corp)
    await joined.__class__.filter(id=joined.id).update(imported_name="导入时的简称")
    await f.imported_place(groot, "还没加入的企业")
    names = {
        e["node"]["importedName"]: e["node"]["name"]
        for e in (await gql.ok(CHAIN_CORPS, {"chain": f.gid("ChainSpace", chain.id)}, f.token(boss)))["chainSpace"]["corps"]["edges"]
    }
    assert names == {"导入时的简称": joined_corp.name, "还没加入的企业": "还没加入的企业"}


async def test_chain_corp_name_shows_no_more_than_corp_name_shows_the_same_viewer(gql):
    owner, oroot = await f.corp("链主")
    chain, groot = await f.chain_space(owner)
    dealers = await f.group(groot, "经销商", peers_visible=True)
    mine, mroot = await f.corp("我方企业")
    me = await f.member([mroot])
    await f.contact(await f.chain_corp(dealers, mine), me)
    peer, _ = await f.corp("同组企业真名")
    place = await f.chain_corp(dealers, peer)
    await place.__class__.filter(id=place.id).update(imported_name="同组企业导入名")
    await f.imported_place(dealers, "同组未加入")
    query = CHAIN_CORPS.replace("importedName name", "importedName name corp { name }")
    seen = (await gql.ok(query, {"chain": f.gid("ChainSpace", chain.id)}, f.token(me)))["chainSpace"]["corps"]
    nodes = [e["node"] for e in seen["edges"]]
    assert nodes and all(n["name"] == (n["corp"] or {}).get("name", n["importedName"]) for n in nodes), nodes


async def test_corp_units_is_a_flat_connection_of_the_units_the_viewer_sees_in_tree_order(gql):
    c, root = await f.corp()
    boss = await f.super_admin(root)
    sales = await f.unit(root, "销售部", scope=Scope.DEPARTMENT)
    east = await f.unit(sales, "华东")
    await f.unit(root, "总经办")
    rep = await f.member([east])
    gid = f.gid("Corp", c.id)

    async def all_units(token: str) -> tuple[int, list[tuple[str, str | None]]]:
        seen, after, total = [], None, 0
        while True:
            page = (await gql.ok(UNITS, {"id": gid, "after": after}, token))["corp"]["units"]
            total = page["totalCount"]
            seen += [(e["node"]["name"], (e["node"]["parent"] or {}).get("name")) for e in page["edges"]]
            if not page["pageInfo"]["hasNextPage"]:
                return total, seen
            after = page["pageInfo"]["endCursor"]

    total, units = await all_units(f.token(boss))
    assert total == 4 and units[0] == (root.name, None)
    assert units.index(("销售部", root.name)) < units.index(("华东", "销售部"))
    assert {name for name, _ in units} == {root.name, "销售部", "华东", "总经办"}
    # A member under 销售部 (DEPARTMENT scope) sees its department and the root above it, not 总经办.
    total, units = await all_units(f.token(rep))
    assert total == 3 and {name for name, _ in units} == {root.name, "销售部", "华东"}
    outsider_corp, oroot = await f.corp()
    outsider = await f.member([oroot])
    assert (await gql.ok(UNITS, {"id": gid}, f.token(outsider)))["corp"] is None


async def test_import_job_mode_is_an_enum_and_its_totals_are_typed_fields(client, gql):
    w = await world()
    csv = "姓名,账号,手机,部门\n甲,jia_1,13900139011,新部门\n乙,yi_1,12345,新部门\n".encode()
    job = (await upload(client, w["t"], w["corp"].id, "p.csv", csv, mode="CREATE"))["job"]
    await finished(gql, w["t"], job["id"])
    data = (await gql.ok(JOB, {"id": job["id"]}, w["t"]))["importJob"]
    assert data == {"mode": "CREATE", "totals": {
        "created": 1, "updated": 0, "unchanged": 0, "failed": 1, "resigned": 0, "unitsCreated": 1,
        "corpsCreated": 0, "corpsUpdated": 0, "groupsCreated": 0, "invited": 0,
    }}
    types = await gql.ok('{ __type(name: "ImportJob") { fields { name type { kind name ofType { name } } } } }',
                         token=w["t"])
    mode = next(x for x in types["__type"]["fields"] if x["name"] == "mode")
    assert mode["type"] == {"kind": "ENUM", "name": "ImportMode", "ofType": None}


async def test_custom_corp_id_lookups_match_exactly_as_documented(gql):
    owner, oroot = await f.corp()
    boss = await f.super_admin(oroot)
    chain, groot = await f.chain_space(owner)
    await f.imported_place(groot, "大小写企业", custom_corp_id="AbC-01")
    variables = {"chain": f.gid("ChainSpace", chain.id)}
    found = await gql.ok(BY_CUSTOM_ID, {**variables, "custom": "AbC-01"}, f.token(boss))
    assert found["chainCorpByCustomId"] == {"customCorpId": "AbC-01", "name": "大小写企业"}
    for other in ("abc-01", "ABC-01", " AbC-01"):
        assert (await gql.ok(BY_CUSTOM_ID, {**variables, "custom": other}, f.token(boss)))["chainCorpByCustomId"] is None
    described = await gql.ok('{ __type(name: "Query") { fields { name description } } }', token=f.token(boss))
    doc = next(x for x in described["__type"]["fields"] if x["name"] == "chainCorpByCustomId")["description"]
    assert "matched exactly, case included" in doc
