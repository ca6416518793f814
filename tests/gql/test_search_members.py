"""SPEC §3.7 searchMembers: each kind of match (name, pinyin, initials, account, mobile,
department names) and each filter (surname initial, status, hire-date range, birthday
month), each as a scoped member, a directory admin and the super admin, and with the
field withheld (§2.2: a value the viewer may not read is empty to it)."""

from __future__ import annotations

from datetime import date

import pytest

from models import Corp, Member
from models.enums import AdminKind, AdminRight, Gender, MemberStatus, Scope
from tests import factories as f

SEARCH = """
query Search($c: ID!, $q: String!, $s: String, $status: [MemberStatus!], $from: Date, $to: Date, $month: Month,
             $n: Int) {
  corp(id: $c) {
    searchByMobile
    searchMembers(query: $q, surnameInitial: $s, status: $status, hiredFrom: $from, hiredTo: $to,
                  birthdayMonth: $month, first: $n) {
      totalCount edges { node { name mobile hireDate birthday status hiddenFields } }
    }
  }
}
"""
SET_FIELDS = """
mutation SetFields($c: ID!, $s: [FieldSettingInput!]!, $m: Boolean) {
  setFieldSettings(input: {corpId: $c, settings: $s, searchByMobile: $m}) {
    searchByMobile userErrors { code field message }
  }
}
"""
ZHANG_MOBILE = "+8613900000007"


class Directory:
    """营销中心 (DEPARTMENT, excluding 大客户部) with 华东大区 under it, 研发中心 beside it,
    and three viewers: 孙浩 (scoped to 营销中心), 徐敏 (directory admin over 营销中心,
    sitting in 人力行政部 under the root's ALL) and the super admin 王建国."""

    async def build(self) -> Directory:
        self.corp, root = await f.corp("华东精密")
        self.boss = await f.super_admin(root, name="王建国")
        self.sales = await f.unit(root, "营销中心", scope=Scope.DEPARTMENT)
        self.east = await f.unit(self.sales, "华东大区")
        self.key_accounts = await f.unit(self.sales, "大客户部")
        self.sales.scope_exclude = [self.key_accounts.id]
        await self.sales.save(update_fields=["scope_exclude"])
        self.rd = await f.unit(root, "研发中心", scope=Scope.SUBDEPARTMENT)
        hr = await f.unit(root, "人力行政部")
        self.sun = await f.member([self.east], name="孙浩", birthday=date(1992, 7, 1), hire_date=date(2019, 5, 1))
        self.zhang = await f.member([self.east], name="张磊", mobile=ZHANG_MOBILE, birthday=date(1990, 3, 15),
                                    hire_date=date(2020, 6, 1), gender=Gender.MALE)
        self.cao = await f.member([self.sales], name="曹阳", birthday=date(1988, 3, 2), hire_date=date(2015, 1, 10))
        self.zhao = await f.member([self.key_accounts], name="赵敏", birthday=date(1991, 3, 9),
                                   hire_date=date(2021, 2, 1))
        self.zeng = await f.member([self.east], name="曾志强", birthday=date(1985, 11, 5), hire_date=date(2010, 9, 1))
        # Seated in 华东大区 (which 孙浩 sees) and in 研发中心 (which he does not).
        self.zheng = await f.member([self.east, self.rd], name="郑爽", hire_date=date(2022, 1, 1))
        self.wang = await f.member([self.rd], name="王芳", mobile="+8613900000008", birthday=date(1993, 3, 3),
                                   hire_date=date(2018, 3, 1))
        self.li = await f.member([self.east], name="李强", status=MemberStatus.RESIGNED, hire_date=date(2016, 1, 1))
        self.zhou = await f.member([self.east], name="周杰", status=MemberStatus.PENDING)
        self.xu = await f.member([hr], name="徐敏")
        await f.grant(self.xu, AdminKind.DIRECTORY_ADMIN, unit_ids=[self.sales.id], rights=[AdminRight.READ.value])
        return self

    def roles(self) -> dict[str, str]:
        return {"scoped": f.token(self.sun), "directory admin": f.token(self.xu), "super admin": f.token(self.boss)}

    async def withhold(self, gql, *fields: str, search_by_mobile: bool | None = None) -> None:
        settings = [{"field": name, "visibleToMembers": False, "selfEditable": False} for name in fields]
        data = await gql.ok(SET_FIELDS, {"c": f.gid("Corp", self.corp.id), "s": settings, "m": search_by_mobile},
                            token=f.token(self.boss))
        assert data["setFieldSettings"]["userErrors"] == []


@pytest.fixture
async def d() -> Directory:
    return await Directory().build()


async def found(gql, d: Directory, token: str, q: str = "", **variables) -> list[str]:
    data = await gql.ok(SEARCH, {"c": f.gid("Corp", d.corp.id), "q": q, **variables}, token=token)
    connection = data["corp"]["searchMembers"]
    assert connection["totalCount"] == len(connection["edges"])
    return sorted(e["node"]["name"] for e in connection["edges"])


def expect(by_role: dict[str, list[str]]) -> dict[str, list[str]]:
    return {role: sorted(names) for role, names in by_role.items()}


# --- matches ------------------------------------------------------------------------------

async def test_name_pinyin_initials_and_account_match_for_every_role(gql, d):
    roles = d.roles()
    zeng_account = (await Member.get(id=d.zeng.id)).account
    for term in ("曾志", "zengzhi", "zeng zhi qiang", "zzq", zeng_account):
        assert {role: await found(gql, d, token, term) for role, token in roles.items()} == {
            "scoped": ["曾志强"], "directory admin": ["曾志强"], "super admin": ["曾志强"]
        }, term
    # 王芳 (研发中心) is outside 孙浩's view and the admin's range, but 徐敏 sits under the root's ALL.
    assert {role: await found(gql, d, token, "wf") for role, token in roles.items()} == {
        "scoped": [], "directory admin": ["王芳"], "super admin": ["王芳"]
    }


async def test_name_and_position_match_ignoring_letter_case(gql, d):
    """Latin letters in a name or position match in either case, on both databases (SQLite
    compares them with a plain LIKE, PostgreSQL case-insensitively)."""
    await f.member([d.east], name="Anna Lee", position="Senior Engineer")
    await f.member([d.east], name="Bob", position="engineering lead")
    by_position = """
    query($c: ID!, $q: String!, $p: String) {
      corp(id: $c) { searchMembers(query: $q, position: $p) { totalCount edges { node { name } } } }
    }"""
    for term, position, names in (("ANNA", None, ["Anna Lee"]), ("nna l", None, ["Anna Lee"]),
                                  ("", "ENGINEER", ["Anna Lee", "Bob"]), ("", "Lead", ["Bob"]),
                                  ("lee", "senior", ["Anna Lee"]), ("", "工程", [])):
        for role, token in d.roles().items():
            data = await gql.ok(by_position, {"c": f.gid("Corp", d.corp.id), "q": term, "p": position}, token=token)
            connection = data["corp"]["searchMembers"]
            assert sorted(e["node"]["name"] for e in connection["edges"]) == names, (role, term, position)
            assert connection["totalCount"] == len(names)


async def test_a_position_filter_matches_alike_from_listed_positions_and_row_by_row(gql, d, monkeypatch):
    """A corp with few distinct positions has its position filter written as `position IN
    (its positions that contain the text)`, one with many as the contains-test per member:
    the same members either way, withheld positions matching nothing for those they are
    withheld from."""
    from gql.directory import search

    await f.member([d.east], name="Anna Lee", position="Senior Engineer")
    await f.member([d.east], name="Bob", position="engineering lead")
    await f.member([d.east], name="Cai", position="销售经理")
    await f.member([d.east], name="Dan", position=None)
    await d.withhold(gql, "position")
    by_position = """
    query($c: ID!, $p: String) {
      corp(id: $c) { searchMembers(query: "", position: $p) { totalCount edges { node { name } } } }
    }"""

    async def matches() -> dict[tuple[str, str], list[str]]:
        seen = {}
        for role, token in d.roles().items():
            for term in ("ENGINEER", "经理", "lead", "%", "_", "manager"):
                data = await gql.ok(by_position, {"c": f.gid("Corp", d.corp.id), "p": term}, token=token)
                connection = data["corp"]["searchMembers"]
                seen[role, term] = sorted(e["node"]["name"] for e in connection["edges"])
                assert connection["totalCount"] == len(seen[role, term])
        return seen

    listed = await matches()
    monkeypatch.setattr(search, "POSITION_VALUES_MAX", 1)
    per_row = await matches()
    assert listed == per_row
    assert listed[("super admin", "ENGINEER")] == ["Anna Lee", "Bob"]
    assert listed[("super admin", "经理")] == ["Cai"]
    assert listed[("super admin", "%")] == []
    assert listed[("scoped", "ENGINEER")] == []  # withheld from 孙浩: counts as empty


MOBILE_SPELLINGS = ("13900000007", "139 0000 0007", "139-0000-0007", "+8613900000007", "+86 139 0000 0007",
                    "0086 13900000007", "008613900000007", "(+86) 139-0000-0007")


async def test_mobile_search_is_off_until_the_corp_allows_it(gql, d):
    for role, token in d.roles().items():
        assert await found(gql, d, token, "13900000007") == [], role
    data = await gql.ok(SEARCH, {"c": f.gid("Corp", d.corp.id), "q": ""}, token=f.token(d.boss))
    assert data["corp"]["searchByMobile"] is False
    await d.withhold(gql, search_by_mobile=True)
    data = await gql.ok(SEARCH, {"c": f.gid("Corp", d.corp.id), "q": ""}, token=f.token(d.sun))
    assert data["corp"]["searchByMobile"] is True
    # Outside the corp the switch is nobody's business.
    _, other_root = await f.corp("别家")
    outsider = await f.super_admin(other_root)
    data = await gql.ok(SEARCH, {"c": f.gid("Corp", d.corp.id), "q": ""}, token=f.token(outsider))
    assert data["corp"] is None or data["corp"]["searchByMobile"] is None


async def test_any_common_spelling_of_a_mobile_finds_its_member(gql, d):
    await d.withhold(gql, search_by_mobile=True)
    for spelling in MOBILE_SPELLINGS:
        for role, token in d.roles().items():
            assert await found(gql, d, token, spelling) == ["张磊"], (role, spelling)
    # A number nobody holds, and a number of a member the searcher does not see.
    for role, token in d.roles().items():
        assert await found(gql, d, token, "139 0000 0009") == [], role
    assert await found(gql, d, f.token(d.sun), "13900000008") == []
    assert await found(gql, d, f.token(d.boss), "13900000008") == ["王芳"]


async def test_a_withheld_mobile_finds_only_members_whose_mobile_the_searcher_reads(gql, d):
    await d.withhold(gql, "mobile", search_by_mobile=True)
    roles = d.roles()
    by_role = {role: await found(gql, d, token, "+86 139 0000 0007") for role, token in roles.items()}
    # 孙浩 may not read 张磊's mobile: to him it is empty. The admin over 营销中心 and the super admin read it.
    assert by_role == {"scoped": [], "directory admin": ["张磊"], "super admin": ["张磊"]}
    # 王芳 is visible to 徐敏 (root ALL) but outside the ranges it administers: her mobile is hidden from it.
    assert await found(gql, d, roles["directory admin"], "13900000008") == []
    assert await found(gql, d, roles["super admin"], "13900000008") == ["王芳"]
    # Everyone reads their own number.
    own = (await Member.get(id=d.sun.id)).mobile
    assert await found(gql, d, roles["scoped"], own) == ["孙浩"]


async def test_a_department_name_finds_the_members_of_its_subtree_that_the_viewer_sees(gql, d):
    roles = d.roles()
    sales_members = ["孙浩", "张磊", "曹阳", "曾志强", "郑爽", "周杰"]
    assert {role: await found(gql, d, token, "营销中心") for role, token in roles.items()} == expect({
        # 大客户部 is excluded from 孙浩's view: 赵敏 stays out; the resigned 李强 is out of a default search.
        "scoped": sales_members, "directory admin": [*sales_members, "赵敏"], "super admin": [*sales_members, "赵敏"],
    })
    assert {role: await found(gql, d, token, "华东") for role, token in roles.items()} == expect({
        "scoped": ["孙浩", "张磊", "曾志强", "郑爽", "周杰"],
        "directory admin": ["孙浩", "张磊", "曾志强", "郑爽", "周杰"],
        "super admin": ["孙浩", "张磊", "曾志强", "郑爽", "周杰"],
    })


async def test_a_unit_the_viewer_may_not_see_matches_nothing(gql, d):
    roles = d.roles()
    # 孙浩 sees neither 大客户部 nor 研发中心; 郑爽, whom he sees, sits in 研发中心 too and is not
    # found through it (that would tell him where else 郑爽 sits).
    assert await found(gql, d, roles["scoped"], "大客户") == []
    assert await found(gql, d, roles["scoped"], "研发") == []
    assert await found(gql, d, roles["directory admin"], "大客户") == ["赵敏"]
    assert await found(gql, d, roles["super admin"], "研发") == ["王芳", "郑爽"]


# --- filters ------------------------------------------------------------------------------

async def test_surname_initial_uses_the_surname_reading(gql, d):
    roles = d.roles()
    assert {role: await found(gql, d, token, "", s="Z") for role, token in roles.items()} == expect({
        "scoped": ["张磊", "曾志强", "郑爽", "周杰"],
        "directory admin": ["张磊", "曾志强", "郑爽", "周杰", "赵敏"],
        "super admin": ["张磊", "曾志强", "郑爽", "周杰", "赵敏"],
    })


async def test_status_filter_shows_other_statuses_to_admins_over_them_only(gql, d):
    roles = d.roles()
    assert {role: await found(gql, d, token, "", status=["RESIGNED"]) for role, token in roles.items()} == {
        "scoped": [], "directory admin": ["李强"], "super admin": ["李强"]
    }
    # PENDING members are listed to members (SPEC §2.1): the filter keeps to them.
    assert {role: await found(gql, d, token, "", status=["PENDING"]) for role, token in roles.items()} == {
        "scoped": ["周杰"], "directory admin": ["周杰"], "super admin": ["周杰"]
    }
    assert await found(gql, d, roles["super admin"], "华东", status=["ACTIVE", "RESIGNED"]) == sorted(
        ["孙浩", "张磊", "曾志强", "李强", "郑爽"])


async def test_hire_date_range_filter_for_every_role(gql, d):
    roles = d.roles()
    window = {"from": "2019-01-01", "to": "2021-12-31"}
    # hireDate is not shown to members by default: 孙浩 reads only his own.
    assert {role: await found(gql, d, token, "", **window) for role, token in roles.items()} == expect({
        "scoped": ["孙浩"], "directory admin": ["孙浩", "张磊", "赵敏"], "super admin": ["孙浩", "张磊", "赵敏"],
    })
    await d.withhold(gql)  # nothing changes while hireDate stays withheld
    from models import FieldSetting

    await FieldSetting.create(corp_id=d.corp.id, field="hireDate", visible_to_members=True, self_editable=False)
    assert await found(gql, d, roles["scoped"], "", **window) == ["孙浩", "张磊"]
    assert await found(gql, d, roles["scoped"], "", **{"from": "2020-06-01"}) == ["张磊", "郑爽"]
    assert await found(gql, d, roles["scoped"], "", to="2015-01-10") == ["曹阳", "曾志强"]
    # The admin over 营销中心 reads 王芳's (研发中心) hire date only once members may.
    assert "王芳" in await found(gql, d, roles["directory admin"], "", **{"from": "2018-03-01", "to": "2018-03-01"})


async def test_birthday_month_filter_for_every_role(gql, d):
    roles = d.roles()
    # birthday is withheld from members by default; 孙浩 was born in July.
    assert {role: await found(gql, d, token, "", month="MARCH") for role, token in roles.items()} == expect({
        "scoped": [], "directory admin": ["张磊", "曹阳", "赵敏"], "super admin": ["张磊", "曹阳", "赵敏", "王芳"],
    })
    assert await found(gql, d, roles["scoped"], "", month="JULY") == ["孙浩"]
    from models import FieldSetting

    await FieldSetting.create(corp_id=d.corp.id, field="birthday", visible_to_members=True, self_editable=True)
    assert await found(gql, d, roles["scoped"], "", month="MARCH") == ["张磊", "曹阳"]
    assert await found(gql, d, roles["directory admin"], "", month="MARCH") == ["张磊", "曹阳", "王芳", "赵敏"]


async def test_birthday_month_follows_every_write_of_the_birthday(gql, d):
    update = """mutation($i: UpdateMemberInput!) { updateMember(input: $i) { userErrors { code } } }"""
    data = await gql.ok(update, {"i": {"id": f.gid("Member", d.zhang.id), "birthday": "1990-12-24"}},
                        token=f.token(d.boss))
    assert data["updateMember"]["userErrors"] == []
    assert await found(gql, d, f.token(d.boss), "", month="DECEMBER") == ["张磊"]
    data = await gql.ok(update, {"i": {"id": f.gid("Member", d.zhang.id), "birthday": None}},
                        token=f.token(d.boss))
    assert (await Member.get(id=d.zhang.id)).birth_month is None


@pytest.mark.parametrize("variables, argument", [
    ({"from": "2020-01-02", "to": "2020-01-01"}, "hiredFrom"),
    ({"from": "2020-01-02", "to": "2019-12-31", "month": "MAY"}, "hiredFrom"),
])
async def test_a_filter_out_of_range_is_a_bad_request(gql, variables, argument):
    corp, root = await f.corp()
    boss = await f.super_admin(root)
    response = await gql(SEARCH, {"c": f.gid("Corp", corp.id), "q": "", **variables}, token=f.token(boss))
    assert response["errors"][0]["extensions"]["code"] == "BAD_REQUEST"
    assert argument in response["errors"][0]["message"]


async def test_a_new_corp_does_not_search_by_mobile():
    corp, _ = await f.corp()
    assert (await Corp.get(id=corp.id)).search_by_mobile is False


PAGE = """
query($c: ID!, $q: String!, $n: Int!, $month: Month, $from: Date, $status: [MemberStatus!]) {
  corp(id: $c) {
    searchMembers(query: $q, first: $n, birthdayMonth: $month, hiredFrom: $from, status: $status) {
      totalCount edges { node { name mobile birthday departments { unit { name } } } }
    }
  }
}
"""


async def test_every_new_search_costs_the_same_statements_at_10_and_100(gql):
    from tests.gql.test_query_count import same_cost_at_10_and_100

    corp, root = await f.corp()
    await Corp.filter(id=corp.id).update(search_by_mobile=True)
    sales = await f.unit(root, "营销中心", scope=Scope.DEPARTMENT)
    teams = [await f.unit(sales, f"销售{i}组") for i in range(3)]
    scoped = await f.member([teams[0]], name="孙浩")
    admin = await f.member([root], name="徐敏")
    await f.grant(admin, AdminKind.DIRECTORY_ADMIN, unit_ids=[sales.id], rights=[AdminRight.READ.value])
    boss = await f.super_admin(root)
    for i in range(110):
        await f.member([teams[i % 3]], name=f"张{'伟芳娜敏静'[i % 5]}{i}", birthday=date(1990, 3, 1 + i % 28),
                       hire_date=date(2015, 1, 1))
    c = f.gid("Corp", corp.id)
    variables = [{"q": "营销"}, {"q": "", "month": "MARCH"}, {"q": "", "from": "2014-01-01"},
                 {"q": "", "status": ["ACTIVE"]}, {"q": "销售", "month": "MARCH"}]
    # Birthday and hire date are withheld from members by default: 孙浩's filtered pages are empty.
    for token, searches in ((f.token(boss), variables), (f.token(admin), variables), (f.token(scoped), variables[::3])):
        for v in searches:
            await same_cost_at_10_and_100(gql, PAGE, {"c": c, **v}, token, lambda d: d["corp"]["searchMembers"])
    # Mobile terms match one member: the statements do not depend on the page size either.
    small = await gql.ok(PAGE, {"c": c, "q": "139 0000 0001", "n": 10}, token=f.token(boss))
    assert small["corp"]["searchMembers"]["totalCount"] <= 1


async def test_a_term_naming_many_units_finds_the_members_of_each_visible_one(gql):
    """More matching subtrees than search.UNIT_RANGES_MAX: the units are picked in memory,
    with the same rule (visible units only, subtrees included)."""
    from gql.directory.search import UNIT_RANGES_MAX

    corp, root = await f.corp()
    boss = await f.super_admin(root)
    open_part = await f.unit(root, "开放区", scope=Scope.DEPARTMENT)
    closed_part = await f.unit(root, "封闭区", scope=Scope.DEPARTMENT)
    viewer = await f.member([open_part], name="孙浩")
    expected = {"孙浩"}
    for i in range(2 * UNIT_RANGES_MAX + 6):  # more than UNIT_RANGES_MAX visible to each viewer
        group = await f.unit(open_part if i % 2 else closed_part, f"小组{i}")
        below = await f.unit(group, f"岗{i}")
        name = f"成员{i}"
        await f.member([below], name=name)
        if i % 2:
            expected.add(name)
    c = f.gid("Corp", corp.id)
    data = await gql.ok(SEARCH, {"c": c, "q": "小组", "n": 100}, token=f.token(viewer))
    assert {e["node"]["name"] for e in data["corp"]["searchMembers"]["edges"]} == expected - {"孙浩"}
    data = await gql.ok(SEARCH, {"c": c, "q": "小组", "n": 100}, token=f.token(boss))
    assert data["corp"]["searchMembers"]["totalCount"] == 2 * UNIT_RANGES_MAX + 6


async def test_a_gender_or_position_count_reads_only_an_index(database, d):
    """totalCount of a gender or position filter tests every member of the corp: it reads a
    covering index (migration 0021), not one table row per member."""
    from tortoise.connection import get_connection

    if database != "sqlite":
        pytest.skip("EXPLAIN QUERY PLAN is SQLite's; PostgreSQL's plans depend on its statistics")
    conn = get_connection("default")
    for test in ("\"gender\"='FEMALE'", "CAST(\"position\" AS VARCHAR) LIKE '%经理%' ESCAPE '\\'"):
        _, rows = await conn.execute_query(
            "EXPLAIN QUERY PLAN SELECT COUNT(\"id\") FROM \"member\" WHERE \"corp_id\"=? AND NOT \"status\"=? "
            f"AND (\"status\" IN ('ACTIVE','PENDING') AND \"hidden_from_directory\"=0) AND {test}",
            [d.corp.id, "RESIGNED"])
        assert [r["detail"] for r in rows if "COVERING INDEX" in r["detail"]], [r["detail"] for r in rows]
