"""SPEC §2.2: filters, search terms and orderings treat a field the viewer may not read as
empty for that target. A withheld value never narrows, widens or orders a list."""

from __future__ import annotations

from models.enums import AdminKind, AdminRight, Gender, Scope
from tests import factories as f

# Bug-report case J (br-j-filter-on-withheld-fields.graphql), its two operations verbatim.
WITHHOLD_FIELDS = """
mutation WithholdFields($c: ID!, $s: [FieldSettingInput!]!) {
  setFieldSettings(corpId: $c, settings: $s) { userErrors { code field message } }
}
"""
FILTER_ON_WITHHELD = """
query FilterOnWithheld($q: String!, $g: Gender, $p: String) {
  viewer { corp { searchMembers(query: $q, gender: $g, position: $p, first: 50) {
    totalCount edges { node { name gender position hiddenFields } } } } }
}
"""
WITHHOLD_POSITION_AND_GENDER = [
    {"field": "position", "visibleToMembers": False, "selfEditable": False},
    {"field": "gender", "visibleToMembers": False, "selfEditable": False},
]


async def sales_corp():
    """The demo's sales centre in small: 孙浩 (scoped to 营销中心, DEPARTMENT) and colleagues
    whose positions and genders he may read only while the corp shows them."""
    corp, root = await f.corp("华东精密")
    boss = await f.super_admin(root, name="王建国")
    sales = await f.unit(root, "营销中心", scope=Scope.DEPARTMENT)
    east = await f.unit(sales, "华东大区")
    south = await f.unit(sales, "华南大区")
    people = {
        "孙浩": await f.member([east], name="孙浩", gender=Gender.MALE, position="销售代表"),
        "张磊": await f.member([east], name="张磊", gender=Gender.MALE, position="华东大区经理"),
        "曾志强": await f.member([east], name="曾志强", gender=Gender.MALE, position="销售代表"),
        "曹阳": await f.member([east], name="曹阳", gender=Gender.FEMALE, position="销售助理"),
        "黄丽华": await f.member([south], name="黄丽华", gender=Gender.FEMALE, position="华南大区经理"),
    }
    return corp, root, boss, east, people


def names(data: dict) -> list[str]:
    found = data["viewer"]["corp"]["searchMembers"]
    assert found["totalCount"] == len(found["edges"])
    return sorted(e["node"]["name"] for e in found["edges"])


async def test_a_withheld_position_or_gender_does_not_narrow_a_scoped_members_search(gql):
    corp, _, boss, _, people = await sales_corp()
    sun = f.token(people["孙浩"])
    # While the corp shows both fields, the filters narrow for everyone.
    assert names(await gql.ok(FILTER_ON_WITHHELD, {"q": "", "p": "大区经理"}, token=sun)) == ["张磊", "黄丽华"]
    assert names(await gql.ok(FILTER_ON_WITHHELD, {"q": "", "g": "FEMALE"}, token=sun)) == ["曹阳", "黄丽华"]

    withheld = await gql.ok(WITHHOLD_FIELDS, {"c": f.gid("Corp", corp.id), "s": WITHHOLD_POSITION_AND_GENDER},
                            token=f.token(boss))
    assert withheld["setFieldSettings"]["userErrors"] == []

    everyone = (await gql.ok(FILTER_ON_WITHHELD, {"q": ""}, token=sun))["viewer"]["corp"]["searchMembers"]
    others = [e["node"] for e in everyone["edges"] if e["node"]["name"] != "孙浩"]
    assert len(others) == 4
    assert all(n["position"] is None and n["gender"] is None for n in others)
    assert all({"position", "gender"} <= set(n["hiddenFields"]) for n in others)

    # Hidden values are empty to 孙浩: they match no filter. His own he reads, so he finds himself,
    # and not 曾志强, who holds the same (hidden) position.
    assert names(await gql.ok(FILTER_ON_WITHHELD, {"q": "", "p": "大区经理"}, token=sun)) == []
    assert names(await gql.ok(FILTER_ON_WITHHELD, {"q": "", "g": "FEMALE"}, token=sun)) == []
    assert names(await gql.ok(FILTER_ON_WITHHELD, {"q": "", "p": "销售代表"}, token=sun)) == ["孙浩"]
    assert names(await gql.ok(FILTER_ON_WITHHELD, {"q": "", "g": "MALE"}, token=sun)) == ["孙浩"]
    # A free-text term is matched on name, pinyin and account only, never on a hidden field.
    assert names(await gql.ok(FILTER_ON_WITHHELD, {"q": "大区经理"}, token=sun)) == []

    # The super admin reads every field: the same filters still narrow for it.
    boss_token = f.token(boss)
    assert names(await gql.ok(FILTER_ON_WITHHELD, {"q": "", "p": "大区经理"}, token=boss_token)) == ["张磊", "黄丽华"]
    assert names(await gql.ok(FILTER_ON_WITHHELD, {"q": "", "g": "FEMALE"}, token=boss_token)) == ["曹阳", "黄丽华"]


async def test_a_directory_admin_filters_on_withheld_fields_inside_its_ranges_only(gql):
    corp, root, boss, east, _ = await sales_corp()
    east_admin = await f.member([await f.unit(root, "人力行政部")], name="徐敏")
    await f.grant(east_admin, AdminKind.DIRECTORY_ADMIN, unit_ids=[east.id], rights=[AdminRight.READ.value])
    await gql.ok(WITHHOLD_FIELDS, {"c": f.gid("Corp", corp.id), "s": WITHHOLD_POSITION_AND_GENDER},
                 token=f.token(boss))
    token = f.token(east_admin)
    # 黄丽华 (华南大区) is outside the admin's range: her hidden position and gender match nothing.
    assert names(await gql.ok(FILTER_ON_WITHHELD, {"q": "", "p": "大区经理"}, token=token)) == ["张磊"]
    assert names(await gql.ok(FILTER_ON_WITHHELD, {"q": "", "g": "FEMALE"}, token=token)) == ["曹阳"]
