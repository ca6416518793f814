"""SPEC §2.1 department scope, through GraphQL: one test per rule."""

from __future__ import annotations

from models.enums import AdminKind, AdminRight, MemberStatus, Scope
from tests import factories as f

MEMBERS = """
query($corp: ID!) {
  corp(id: $corp) { members(first: 100) { totalCount edges { node { name } } } }
}
"""


async def visible_names(gql, viewer, corp) -> set[str]:
    data = await gql.ok(MEMBERS, {"corp": f.gid("Corp", corp.id)}, token=f.token(viewer))
    conn = data["corp"]["members"]
    names = {e["node"]["name"] for e in conn["edges"]}
    assert conn["totalCount"] == len(names)
    return names


async def company():
    """root(ALL) -> 总经办(ALL) ; 营销(DEPARTMENT) -> 华东 -> 上海 ; 研发(SUBDEPARTMENT) -> 电控, 结构"""
    corp, root = await f.corp()
    t = {"root": root}
    t["exec"] = await f.unit(root, "总经办", Scope.ALL)
    t["sales"] = await f.unit(root, "营销中心", Scope.DEPARTMENT)
    t["east"] = await f.unit(t["sales"], "华东")
    t["sh"] = await f.unit(t["east"], "上海")
    t["rd"] = await f.unit(root, "研发中心", Scope.SUBDEPARTMENT)
    t["ec"] = await f.unit(t["rd"], "电控部")
    t["st"] = await f.unit(t["rd"], "结构部")
    t["misc"] = await f.unit(root, "后勤")  # INHERIT from the root: ALL
    m = {k: await f.member([u], name=f"{k}员工") for k, u in t.items()}
    return corp, t, m


async def test_all_scope_sees_whole_corp(gql):
    corp, _, m = await company()
    assert await visible_names(gql, m["exec"], corp) == {f"{k}员工" for k in m}


async def test_department_scope_sees_subtree_of_anchor_and_hides_executives(gql):
    corp, _, m = await company()
    assert await visible_names(gql, m["sales"], corp) == {"sales员工", "east员工", "sh员工"}


async def test_department_scope_is_inherited_by_child_units(gql):
    corp, _, m = await company()
    # 上海 inherits DEPARTMENT from 营销中心: it sees everyone under 营销中心, not only 上海.
    assert await visible_names(gql, m["sh"], corp) == {"sales员工", "east员工", "sh员工"}


async def test_subdepartment_scope_hides_sibling_units(gql):
    corp, _, m = await company()
    assert await visible_names(gql, m["ec"], corp) == {"ec员工"}
    assert await visible_names(gql, m["rd"], corp) == {"rd员工", "ec员工", "st员工"}


async def test_inherit_default_takes_root_all(gql):
    corp, _, m = await company()
    assert await visible_names(gql, m["misc"], corp) == {f"{k}员工" for k in m}


async def test_member_in_two_units_sees_the_union(gql):
    corp, t, _ = await company()
    both = await f.member([t["ec"], t["east"]], name="两栖")
    names = await visible_names(gql, both, corp)
    assert names == {"两栖", "ec员工", "sales员工", "east员工", "sh员工"}


async def test_whitelist_adds_a_subtree(gql):
    corp, t, m = await company()
    hr = await f.unit(t["root"], "人力", Scope.SUBDEPARTMENT, whitelist=[t["rd"]])
    person = await f.member([hr], name="人力员工")
    assert await visible_names(gql, person, corp) == {"人力员工", "rd员工", "ec员工", "st员工"}


async def test_exclude_withholds_a_subtree_even_under_all(gql):
    corp, t, m = await company()
    staff = await f.unit(t["root"], "普通员工", Scope.ALL, exclude=[t["exec"]])
    person = await f.member([staff], name="普通")
    names = await visible_names(gql, person, corp)
    assert "exec员工" not in names and "sales员工" in names and "普通" in names


async def test_hidden_member_seen_only_by_self_and_admins(gql):
    corp, t, m = await company()
    boss = await f.member([t["exec"]], name="隐身董事", hidden=True)
    admin = await f.super_admin(t["root"])
    assert "隐身董事" not in await visible_names(gql, m["exec"], corp)
    assert "隐身董事" in await visible_names(gql, boss, corp)
    assert "隐身董事" in await visible_names(gql, admin, corp)


async def test_resigned_member_never_seen_by_non_admins(gql):
    corp, t, m = await company()
    await f.member([t["exec"]], name="已离职", status=MemberStatus.RESIGNED)
    admin = await f.super_admin(t["root"])
    assert "已离职" not in await visible_names(gql, m["exec"], corp)
    data = await gql.ok(
        'query($c: ID!) { corp(id: $c) { members(status: [RESIGNED]) { totalCount edges { node { name } } } } }',
        {"c": f.gid("Corp", corp.id)},
        token=f.token(admin),
    )
    assert [e["node"]["name"] for e in data["corp"]["members"]["edges"]] == ["已离职"]


async def test_directory_admin_sees_its_ranges_beyond_its_own_scope(gql):
    corp, t, m = await company()
    ec_admin = await f.member([t["ec"]], name="电控管理员")
    await f.grant(ec_admin, AdminKind.DIRECTORY_ADMIN, unit_ids=[t["sales"].id], rights=[AdminRight.READ.value])
    hidden = await f.member([t["sh"]], name="隐藏销售", hidden=True)
    assert hidden
    names = await visible_names(gql, ec_admin, corp)
    assert names == {"电控管理员", "ec员工", "sales员工", "east员工", "sh员工", "隐藏销售"}


async def test_unit_head_count_counts_only_visible_members(gql):
    corp, t, m = await company()
    query = 'query($u: ID!) { node(id: $u) { ... on OrgUnit { memberCount } } }'
    root = {"u": f.gid("OrgUnit", t["root"].id)}
    assert (await gql.ok(query, root, token=f.token(m["exec"])))["node"]["memberCount"] == 9
    assert (await gql.ok(query, root, token=f.token(m["ec"])))["node"]["memberCount"] == 1


async def test_units_outside_scope_are_invisible_but_ancestors_walkable(gql):
    corp, t, m = await company()
    query = 'query($u: ID!) { node(id: $u) { ... on OrgUnit { name } } }'
    tok = f.token(m["ec"])
    assert (await gql.ok(query, {"u": f.gid("OrgUnit", t["rd"].id)}, token=tok))["node"]["name"] == "研发中心"
    assert (await gql.ok(query, {"u": f.gid("OrgUnit", t["st"].id)}, token=tok))["node"] is None
    assert (await gql.ok(query, {"u": f.gid("OrgUnit", t["exec"].id)}, token=tok))["node"] is None
