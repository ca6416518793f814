"""The faster SQL shapes select exactly the rows of the in-memory checks: the per-corp member
filter (seat-driven, parts that keep to their corp, the form for id lists), subtrees as
ranges or as LIKE, and the prefix ranges of search."""

from __future__ import annotations

from contextlib import contextmanager

from hypothesis import given
from hypothesis import strategies as st

from models import Member, OrgUnit
from models.enums import AdminKind, ContactStatus, MemberStatus, Scope
from permissions import scope
from permissions.facts import UnitFacts
from permissions.loading import check_path_ordering, member_facts, member_viewer, subtree_units
from permissions.members import can_see_member, visible_members_in_corp_q
from permissions.paths import outermost, subtree_upper, under_any
from permissions.sql import members_placed_under, path_ranges_enabled, use_path_ranges
from tests import factories as f
from tests.permissions.test_policy_properties import build_corp, chain_shapes, corp_shapes
from tests.property_sizes import sized


async def sql_ids(q) -> set[int]:
    return set(await Member.filter(q).values_list("id", flat=True))


async def assert_per_corp_filter_matches(viewer, corp_ids):
    """For each corp: the per-corp filter selects exactly the members can_see_member accepts,
    and never a member of another corp (it is run here without any corp filter around it)."""
    for corp_id in corp_ids:
        people = await Member.filter(corp_id=corp_id)
        facts = await member_facts(people)
        expected = {m.id for m in people if can_see_member(viewer, facts[m.id])}
        listed = await subtree_units(corp_id, scope.named_roots(viewer))
        for per_row in (False, True):
            with per_row_seat_tests(per_row):
                for ids_given in (False, True):
                    for units in (None, listed, partly(listed)):
                        q = visible_members_in_corp_q(viewer, corp_id, ids_given=ids_given, units=units)
                        assert await sql_ids(q) == expected


@contextmanager
def per_row_seat_tests(on: bool):
    """Seat tests per row (a directory admin over many units, scope.PER_ROW_MIN_UNITS) for
    every directory admin whose units are listed, or for none."""
    default = scope.PER_ROW_MIN_UNITS
    scope.PER_ROW_MIN_UNITS = -1 if on else 10**9
    try:
        yield
    finally:
        scope.PER_ROW_MIN_UNITS = default


def partly(units):
    """The unit lists less one subtree: the seat tests then fall back to path ranges, for all or some."""
    return dict(list(units.items())[1:])


async def assert_unit_lists_match(viewer, corp_id, units):
    """A unit's list (members seated in its subtree, the policy told so with `within`)
    holds exactly the visible members seated there."""
    people = await Member.filter(corp_id=corp_id)
    facts = await member_facts(people)
    for unit in units:
        seated = members_placed_under([unit.path], corp_id)
        expected = {
            m.id for m in people
            if can_see_member(viewer, facts[m.id]) and under_any_seat(facts[m.id].unit_paths, unit.path)
        }
        q = visible_members_in_corp_q(viewer, corp_id, within=(unit.path,))
        assert set(await Member.filter(q, id__in=seated).values_list("id", flat=True)) == expected
        # The same list with the subtrees' units read up front, as the resolvers do.
        units = await subtree_units(corp_id, scope.named_roots(viewer, (unit.path,)))
        seated = members_placed_under([unit.path], corp_id, units)
        q = visible_members_in_corp_q(viewer, corp_id, within=(unit.path,), units=units)
        assert set(await Member.filter(q, id__in=seated).values_list("id", flat=True)) == expected


def under_any_seat(unit_paths, root):
    return any(p.startswith(root) for p in unit_paths)


async def in_both_path_modes(check):
    enabled = path_ranges_enabled()
    try:
        for ranges in (True, False):
            use_path_ranges(ranges)
            await check()
    finally:
        use_path_ranges(enabled)


# 200 in CI (not 500): the corp shapes are test_policy_properties' own, which draws 500 of
# them against the same in-memory checks; here each example runs every faster SQL form (two
# path modes, per-row seat tests or not, id lists or not, three unit lists: 24 statements and
# more). The soak profile draws 5000.
@sized(200)
@given(corp_shapes())
async def test_per_corp_member_filter_equals_in_memory_check(database, shape):
    corp, viewer_member = await build_corp(shape)
    viewer = await member_viewer(viewer_member.id)
    assert viewer is not None

    async def check():
        await assert_per_corp_filter_matches(viewer, [corp.id])
        units = await OrgUnit.filter(corp_id=corp.id)
        await assert_unit_lists_match(viewer, corp.id, units)
        by_sql = set(await OrgUnit.filter(scope.units_q(viewer), corp_id=corp.id).values_list("id", flat=True))
        assert by_sql == {u.id for u in units if scope.can_see_unit(viewer, UnitFacts(u.id, u.corp_id, u.path))}

    await in_both_path_modes(check)


# 200 in CI (not 500): the chain shapes are test_policy_properties' own (500 there); see above.
@sized(200)
@given(chain_shapes())
async def test_per_corp_member_filter_equals_in_memory_check_across_a_chain(database, shape):
    groups, corps_spec, rules, switch, viewer_spec, owner_admin, admin_groups = shape
    owner, oroot = await f.corp("主")
    ounit = await f.unit(oroot, scope=Scope.DEPARTMENT)
    owner_member = await f.member([ounit], name="对接人")
    await f.member([await f.unit(oroot)], name="同事")
    chain_, groot = await f.chain_space(owner, corps_see_each_other=switch)
    gnodes = [groot]
    for parent, peers in groups[1:]:
        gnodes.append(await f.group(gnodes[parent], peers_visible=peers))
    places, downstream = [], []
    for gi, status, contact_statuses, invited, colleague_status in corps_spec:
        c, croot = await f.corp()
        m = await f.member([await f.unit(croot, scope=Scope.SUBDEPARTMENT)])
        other = await f.member([croot], status=colleague_status or MemberStatus.ACTIVE)
        place = await f.chain_corp(gnodes[gi], c, status=status, invited_by=owner_member if invited else None)
        for i, cs in enumerate(contact_statuses):
            await f.contact(place, (m, other)[i % 2], status=cs)
        places.append(place)
        downstream.append(m)
    for subject, obj, pick in rules:
        kw = {"subject_unit": ounit} if subject == "unit" else {"subject_member": owner_member}
        kw.update({"object_group": gnodes[pick % len(gnodes)]} if obj == "group" else {"object_chain_corp": places[pick % len(places)]})
        await f.rule(chain_, **kw)
    kind, idx = viewer_spec
    if kind == "owner":
        if owner_admin == "super":
            await f.grant(owner_member, AdminKind.SUPER_ADMIN)
        elif owner_admin == "chain_all":
            await f.grant(owner_member, AdminKind.CHAIN_ADMIN, chain=chain_)
        elif owner_admin == "chain_groups":
            await f.grant(owner_member, AdminKind.CHAIN_ADMIN, chain=chain_, group_ids=[gnodes[i].id for i in admin_groups])
        who = owner_member
    else:
        who = downstream[idx % len(downstream)]
    viewer = await member_viewer(who.id)
    assert viewer is not None
    corp_ids = [owner.id] + [m.corp_id for m in downstream]
    await in_both_path_modes(lambda: assert_per_corp_filter_matches(viewer, corp_ids))


async def test_a_contact_linked_to_a_member_of_another_corp_reveals_nobody(database):
    owner, oroot = await f.corp("主")
    admin = await f.super_admin(oroot)
    chain_, groot = await f.chain_space(owner)
    joined, _ = await f.corp("加入")
    place = await f.chain_corp(groot, joined)
    stranger_corp, sroot = await f.corp("无关")
    stranger = await f.member([sroot], name="陌生人")
    # Inconsistent data no flow writes: the member behind the contact is not of the contact's corp.
    await f.contact(place, stranger, status=ContactStatus.JOINED)
    viewer = await member_viewer(admin.id)
    facts = await member_facts([stranger])
    assert not can_see_member(viewer, facts[stranger.id])
    assert stranger.id not in await sql_ids(visible_members_in_corp_q(viewer, stranger_corp.id))


async def test_an_all_scope_member_sees_the_whole_corp_even_a_member_without_a_seat(database):
    corp, root = await f.corp()
    sales = await f.unit(root, scope=Scope.DEPARTMENT)
    everyone_viewer = await f.member([await f.unit(root)], name="总经办")  # INHERIT -> the root's ALL
    department_viewer = await f.member([sales], name="销售")
    seatless = await f.member([root], name="无部门")
    from models import Placement

    await Placement.filter(member_id=seatless.id).delete()
    facts = (await member_facts([seatless]))[seatless.id]
    for who, sees in ((everyone_viewer, True), (department_viewer, False)):
        viewer = await member_viewer(who.id)
        assert can_see_member(viewer, facts) is sees
        assert (seatless.id in await sql_ids(visible_members_in_corp_q(viewer, corp.id))) is sees


async def test_the_path_ordering_check_matches_how_the_database_compares(database):
    from tortoise.connection import get_connection

    await check_path_ordering()
    _, rows = await get_connection("default").execute_query("SELECT ('/1/5/3/' < '/1/50') AND ('/1/10/' < '/1/9/')")
    assert path_ranges_enabled() is bool(list(dict(rows[0]).values())[0])


PATHISH = st.text(alphabet="/0123456789", max_size=12)
NODE_PATH = st.lists(st.integers(1, 120), min_size=1, max_size=5).map(lambda ids: "/" + "".join(f"{i}/" for i in ids))


@given(NODE_PATH, PATHISH)
def test_a_subtree_range_holds_exactly_the_paths_under_its_root(root, path):
    assert (root <= path < subtree_upper(root)) is path.startswith(root)


@given(st.lists(NODE_PATH, max_size=6), NODE_PATH)
def test_outermost_roots_cover_the_same_subtrees(roots, path):
    assert under_any(path, roots) is under_any(path, outermost(roots))


@given(st.text(alphabet="abcxyz019.@_-", min_size=1, max_size=6), st.text(alphabet="abcxyz019.@_-", max_size=10))
def test_a_prefix_range_holds_exactly_the_strings_with_that_prefix(prefix, text):
    upper = prefix[:-1] + chr(ord(prefix[-1]) + 1)
    assert (prefix <= text < upper) is text.startswith(prefix)


async def test_search_prefix_ranges_find_what_startswith_finds(gql):
    corp, root = await f.corp()
    viewer = await f.member([root], name="查看者")
    names = ["张三", "张三丰", "章子怡", "赵四", "单田芳", "曾国藩", "Zoe", "zhang"]
    for n in names:
        await f.member([root], name=n)
    query = 'query($c: ID!, $q: String!) { corp(id: $c) { searchMembers(query: $q, first: 50) { totalCount edges { node { name } } } } }'

    async def found(q):
        data = await gql.ok(query, {"c": f.gid("Corp", corp.id), "q": q}, f.token(viewer))
        hits = data["corp"]["searchMembers"]
        assert hits["totalCount"] == len(hits["edges"])
        return {e["node"]["name"] for e in hits["edges"]}

    enabled = path_ranges_enabled()
    try:
        for ranges in (True, False):
            use_path_ranges(ranges)
            assert await found("zhang") == {"张三", "张三丰", "章子怡", "zhang"}
            assert await found("zs") == {"张三", "张三丰", "赵四"}
            # 查 as a surname reads zha.
            assert await found("Z") == {"张三", "张三丰", "章子怡", "赵四", "曾国藩", "Zoe", "zhang", "查看者"}
            assert await found("三") == {"张三", "张三丰"}
            assert await found("shan") == {"单田芳"}
    finally:
        use_path_ranges(enabled)
