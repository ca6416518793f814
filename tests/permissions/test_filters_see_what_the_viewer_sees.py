"""SPEC §2.2: filters, search terms and orderings treat a field the viewer may not read as
empty for that target. A withheld value never narrows, widens or orders a list."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from hypothesis import given, settings
from hypothesis import strategies as st

from flows.names import search_keys
from models import FieldSetting, Member
from models.enums import PROFILE_FIELDS, AdminKind, AdminRight, AppScope, Gender, MemberStatus, Scope
from permissions.fields import field_readable_q, visible_fields
from permissions.loading import app_viewer, field_settings, member_facts, member_viewer
from tests import factories as f
from tests.conftest import GQL
from tests.gateway import app_token
from tests.permissions.test_perf_policy_sql import per_row_seat_tests

# Bug-report case J (br-j-filter-on-withheld-fields.graphql), its two operations verbatim.
WITHHOLD_FIELDS = """
mutation WithholdFields($c: ID!, $s: [FieldSettingInput!]!) {
  setFieldSettings(input: {corpId: $c, settings: $s}) { userErrors { code field message } }
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


# --- property tests -----------------------------------------------------------------

NAMES = ["张三", "张伟", "曾华", "单丽娟", "陈伟", "李华", "孙浩", "曹阳"]
POSITIONS = [None, "销售代表", "华东大区经理", "大区经理助理", "Engineer", "engineer lead"]
POSITION_FILTERS = [None, "大区", "经理", "销售代表", "ENGINEER", "lead"]
SEARCH_TERMS = ["", "张", "华", "zh", "zs", "zeng", "shan", "c", "m", "经理", "大区"]
INITIALS = [None, "z", "s", "C"]
GENDER_FILTERS = [None, *Gender]
MEMBER_STATUSES = [MemberStatus.ACTIVE, MemberStatus.ACTIVE, MemberStatus.PENDING, MemberStatus.RESIGNED,
                   MemberStatus.DISABLED]
BIRTHDAYS = [None, date(1990, 3, 15), date(1988, 7, 1), date(1992, 3, 31)]
HIRE_DATES = [None, date(2015, 1, 1), date(2019, 6, 30), date(2021, 3, 1)]
# Member i holds +86139000000<i>; the terms spell some of those numbers as people write them.
MOBILE_TERMS = {"13900000001": "+8613900000001", "+86 139 0000 0002": "+8613900000002",
                "0086-139-0000-0003": "+8613900000003", "139 0000 0099": "+8613900000099"}
STATUS_FILTERS = [None, ["ACTIVE"], ["PENDING"], ["RESIGNED"], ["DISABLED"], ["ACTIVE", "RESIGNED"]]
EVERY_STATUS = [s.value for s in MemberStatus]
HIRE_RANGES = [(None, None), ("2016-01-01", None), (None, "2019-06-30"), ("2019-06-30", "2021-03-01")]
BIRTHDAY_MONTHS = [None, 3, 7, 12]
MONTHS = ["JANUARY", "FEBRUARY", "MARCH", "APRIL", "MAY", "JUNE", "JULY", "AUGUST", "SEPTEMBER", "OCTOBER",
          "NOVEMBER", "DECEMBER"]

SEARCH = """
query Search($c: ID!, $q: String!, $s: String, $p: String, $g: Gender, $status: [MemberStatus!], $from: Date,
             $to: Date, $month: Month) {
  corp(id: $c) { searchMembers(query: $q, surnameInitial: $s, position: $p, gender: $g, status: $status,
                               hiredFrom: $from, hiredTo: $to, birthdayMonth: $month, first: 100) {
    totalCount edges { node { id name account position gender status mobile hireDate birthday hiddenFields } } } }
}
"""


EVERY_VIEWER = ("member", "directory", "super", "app", "app_sensitive", "outsider", "outside_super")


@st.composite
def directories(draw, viewer_kinds=EVERY_VIEWER):
    """A small corp (units, scopes, members with positions and genders), its field settings
    and a viewer: a scoped member, a directory admin, a super admin, an app with or without
    fields:sensitive, or (for the SQL twin) a member or super admin of another corp."""
    n_units = draw(st.integers(2, 5))
    # Mostly inherited scopes under an ALL root: a viewer that sees its colleagues is what tests filters.
    unit_scopes = [Scope.INHERIT, Scope.INHERIT, Scope.ALL, Scope.DEPARTMENT, Scope.SUBDEPARTMENT]
    units = [(draw(st.integers(0, i - 1)), draw(st.sampled_from(unit_scopes))) for i in range(1, n_units)]
    root_scope = draw(st.sampled_from([Scope.ALL, Scope.ALL, Scope.DEPARTMENT, Scope.SUBDEPARTMENT]))
    members = draw(st.lists(
        st.tuples(
            st.lists(st.integers(0, n_units - 1), min_size=1, max_size=2, unique=True),
            st.sampled_from(MEMBER_STATUSES),
            st.booleans(),  # hidden from the directory
            st.sampled_from(NAMES),
            st.sampled_from(POSITIONS),
            st.sampled_from(list(Gender)),
            st.sampled_from(BIRTHDAYS),
            st.sampled_from(HIRE_DATES),
        ),
        min_size=2,
        max_size=7,
    ))
    # Each field shown to members, withheld, or left unconfigured (its default).
    configured = draw(st.fixed_dictionaries(
        {field: st.sampled_from([False, None, True, False]) for field in PROFILE_FIELDS}
    ))
    field_switches = {field: shown for field, shown in configured.items() if shown is not None}
    # Scoped members and directory admins are the viewers a hidden value could mislead: drawn most.
    kind = draw(st.sampled_from([*viewer_kinds, "member", "member", "directory", "directory"]))
    pick = draw(st.integers(0, 6))
    # Ranges below the root (the root's range is the whole corp, as for a super admin).
    ranges = draw(st.lists(st.integers(1, n_units - 1), min_size=1, max_size=2, unique=True))
    return root_scope, units, members, field_switches, (kind, pick, ranges), draw(st.booleans())


async def build_directory(shape):
    """(corp, its members, the viewer's bearer token, its Viewer) for a drawn shape."""
    root_scope, units_spec, members_spec, field_switches, (kind, pick, ranges), search_by_mobile = shape
    corp, root = await f.corp()
    root.scope = root_scope
    await root.save(update_fields=["scope"])
    corp.search_by_mobile = search_by_mobile
    await corp.save(update_fields=["search_by_mobile"])
    units = [root]
    for parent, unit_scope in units_spec:
        units.append(await f.unit(units[parent], scope=unit_scope))
    people = [
        await f.member([units[i] for i in seats], name=name, status=status, hidden=hidden, position=position,
                       gender=gender, birthday=birthday, hire_date=hired, mobile=f"+86139{i:08d}")
        for i, (seats, status, hidden, name, position, gender, birthday, hired) in enumerate(members_spec, start=1)
    ]
    await FieldSetting.bulk_create([
        FieldSetting(corp=corp, field=field, visible_to_members=shown, self_editable=False)
        for field, shown in field_switches.items()
    ])
    if kind in ("app", "app_sensitive"):
        sensitive = [AppScope.FIELDS_SENSITIVE.value] if kind == "app_sensitive" else []
        secret, row = await app_token(corp, AppScope.DIRECTORY_READ.value, *sensitive)
        return corp, people, secret, await app_viewer(row)
    if kind in ("outsider", "outside_super"):
        _, other_root = await f.corp("别家")
        who = await (f.super_admin(other_root) if kind == "outside_super" else f.member([other_root]))
    else:
        who = people[pick % len(people)]
        if who.status is not MemberStatus.ACTIVE:
            who.status = MemberStatus.ACTIVE
            await who.save(update_fields=["status"])
        if kind == "super":
            await f.grant(who, AdminKind.SUPER_ADMIN)
        elif kind == "directory":
            await f.grant(who, AdminKind.DIRECTORY_ADMIN, unit_ids=[units[i].id for i in ranges],
                          rights=[AdminRight.READ.value])
    viewer = await member_viewer(who.id)
    assert viewer is not None
    return corp, people, f.token(who), viewer


@settings(max_examples=100)
@given(directories())
async def test_field_readable_sql_selects_the_members_whose_field_visible_fields_shows(database, shape):
    corp, people, _, viewer = await build_directory(shape)
    corp_settings = (await field_settings([corp.id]))[corp.id]
    facts = await member_facts(people)
    for field in PROFILE_FIELDS:
        readable = field_readable_q(viewer, corp.id, corp_settings, field)
        query = Member.filter(corp_id=corp.id)
        by_sql = set(await (query if readable is None else query.filter(readable)).values_list("id", flat=True))
        in_memory = {m.id for m in people if field in visible_fields(viewer, facts[m.id], corp_settings)}
        assert by_sql == in_memory, field


@dataclass(frozen=True)
class Search:
    """One searchMembers call: its term and filters."""

    text: str = ""
    initial: str | None = None
    position: str | None = None
    gender: Gender | None = None
    status: list[str] | None = None
    hired: tuple[str | None, str | None] = (None, None)
    month: int | None = None

    def variables(self, corp_id: str) -> dict:
        return {"c": corp_id, "q": self.text, "s": self.initial, "p": self.position,
                "g": self.gender.value if self.gender else None, "status": self.status,
                "from": self.hired[0], "to": self.hired[1], "month": MONTHS[self.month - 1] if self.month else None}


def passes(node: dict, search: Search, by_mobile: bool) -> bool:
    """searchMembers' term and filters, evaluated in Python on the values the viewer was given
    (a withheld field is null there): name contains the term, account or pinyin start with
    it, or (where the corp allows it) the mobile is the number it spells."""
    full, initials, surname_initial = search_keys(node["name"])
    text = search.text
    if text:
        compact = text.replace(" ", "")
        pinyin = text.isascii() and (full.startswith(compact) or initials.startswith(compact))
        mobile = by_mobile and node["mobile"] is not None and MOBILE_TERMS.get(text) == node["mobile"]
        if not (text in node["name"].lower() or node["account"].lower().startswith(text) or pinyin or mobile):
            return False
    if search.initial and surname_initial != search.initial.lower()[:1]:
        return False
    if search.position and (node["position"] is None or search.position.lower() not in node["position"].lower()):
        return False
    if search.gender and node["gender"] != search.gender.value:
        return False
    if node["status"] not in (search.status or [s for s in EVERY_STATUS if s != "RESIGNED"]):
        return False
    start, end = search.hired
    if (start or end) and (node["hireDate"] is None or not (start or "") <= node["hireDate"] <= (end or "9999")):
        return False
    return not search.month or (node["birthday"] is not None and int(node["birthday"][5:7]) == search.month)


@settings(max_examples=60)
@given(
    directories(viewer_kinds=("member", "directory", "super", "app", "app_sensitive")),
    st.lists(
        st.builds(Search, st.sampled_from([*SEARCH_TERMS, *MOBILE_TERMS]), st.sampled_from(INITIALS),
                  st.sampled_from(POSITION_FILTERS), st.sampled_from(GENDER_FILTERS), st.sampled_from(STATUS_FILTERS),
                  st.sampled_from(HIRE_RANGES), st.sampled_from(BIRTHDAY_MONTHS)),
        min_size=1,
        max_size=3,
    ),
    st.booleans(),
)
async def test_search_filters_select_what_filtering_the_visible_values_selects(client, shape, searches, per_row):
    # `per_row`: a directory admin's seat tests as per-row probes (as over many units at scale).
    with per_row_seat_tests(per_row):
        await check_search_filters(client, shape, searches)


async def check_search_filters(client, shape, searches):
    gql = GQL(client)
    corp, _, token, _ = await build_directory(shape)
    by_mobile = shape[-1]
    corp_id = f.gid("Corp", corp.id)
    everyone = (await gql.ok(SEARCH, {"c": corp_id, "q": "", "status": EVERY_STATUS}, token=token))
    everyone = everyone["corp"]["searchMembers"]
    shown = [e["node"] for e in everyone["edges"]]
    assert everyone["totalCount"] == len(shown)
    # Each single filter and term on a profile field, then the drawn combinations.
    single = [
        *(Search(position=p) for p in POSITION_FILTERS if p), *(Search(gender=g) for g in Gender),
        *(Search(status=s) for s in STATUS_FILTERS if s), *(Search(hired=h) for h in HIRE_RANGES if any(h)),
        *(Search(month=m) for m in BIRTHDAY_MONTHS if m), *(Search(text=t) for t in MOBILE_TERMS),
    ]
    for search in [*single, *searches]:
        found = (await gql.ok(SEARCH, search.variables(corp_id), token=token))["corp"]["searchMembers"]
        expected = [n["id"] for n in shown if passes(n, search, by_mobile)]
        # The same members in the same order (pinyin, then id): nothing hidden narrows or orders the list.
        assert [e["node"]["id"] for e in found["edges"]] == expected, search
        assert found["totalCount"] == len(expected)
