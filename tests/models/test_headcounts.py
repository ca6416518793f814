"""Exact counts from head-counts (permissions.counts, migrations 0012 and 0016): after random
writes to members and seats (ORM rows, bulk inserts, updates, cascading deletes, a flow), the
kept tables (member_seat, unit_headcount, shared_seat) equal a recount from scratch, and
every totalCount / memberCount a viewer gets equals the members the in-memory policy lets it
see, counted one by one (a member in two visible units counts once)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from hypothesis import given
from hypothesis import strategies as st

from flows.errors import FlowError
from models import Member, MemberSeat, OrgUnit, Placement, SharedSeat, UnitHeadcount
from models.enums import AdminKind, AdminRight, MemberStatus, Scope
from permissions.loading import member_facts, member_viewer
from permissions.members import can_see_member
from permissions.paths import under_any
from tests import factories as f
from tests.conftest import GQL
from tests.permissions.test_perf_policy_sql import per_row_seat_tests

COUNTS = """
query($c: ID!, $u: ID!) {
  corp(id: $c) {
    all: members(first: 0) { totalCount }
    page: members(first: 2) { totalCount edges { node { name } } }
    gone: members(first: 3, status: [RESIGNED, DISABLED]) { totalCount }
  }
  node(id: $u) {
    ... on OrgUnit {
      memberCount
      own: members(first: 2) { totalCount }
      below: members(first: 0, includeDescendants: true) { totalCount }
    }
  }
}
"""


@dataclass
class World:
    corp_id: int
    units: list[OrgUnit]
    viewers: list[int]
    others: list[int]


_world: World | None = None


async def world() -> World:
    global _world
    if _world is not None:
        return _world
    corp, root = await f.corp("计数")
    a = await f.unit(root, scope=Scope.DEPARTMENT)
    a1 = await f.unit(a)
    b = await f.unit(root, scope=Scope.SUBDEPARTMENT)
    b1 = await f.unit(b)
    c = await f.unit(root, scope=Scope.DEPARTMENT)
    c1 = await f.unit(c)
    c.scope_whitelist, c.scope_exclude = [a.id], [c1.id]
    await c.save(update_fields=["scope_whitelist", "scope_exclude"])
    units = [root, a, a1, b, b1, c, c1]
    admin = await f.super_admin(root)
    ranged = await f.member([a1], name="范围管理员")
    await f.grant(ranged, AdminKind.DIRECTORY_ADMIN, unit_ids=[b.id], rights=[AdminRight.MANAGE])
    # [root, b1]: a whole-corp view next to a subtree view; the last one hides itself.
    seats_of = [[a1], [b1], [c], [a, c1], [root], [root, b1], [a1]]
    scoped = [await f.member(seats, name=f"查看者{i}") for i, seats in enumerate(seats_of)]
    await Member.filter(id=scoped[-1].id).update(hidden_from_directory=True)
    others = [await f.member([u], name=f"成员{i}") for i, u in enumerate(units)]
    _world = World(corp.id, units, [admin.id, ranged.id, *(m.id for m in scoped)], [m.id for m in others])
    return _world


# --- writes: rows as every path writes them; the triggers must follow each one ----------------

async def add_member(w: World, bits: int, status: int, hidden: bool) -> None:
    seats = [u for i, u in enumerate(w.units) if bits >> i & 1]
    m = await f.member(seats or [w.units[0]], name="新成员")
    if not seats:
        await Placement.filter(member_id=m.id).delete()  # a member with no seat
    await Member.filter(id=m.id).update(status=list(MemberStatus)[status % 4], hidden_from_directory=hidden)
    w.others.append(m.id)


async def add_seat(w: World, pick: int, unit: int) -> None:
    member_id, unit_id = w.others[pick % len(w.others)], w.units[unit % len(w.units)].id
    if not await Placement.exists(member_id=member_id, unit_id=unit_id):
        await Placement.create(member_id=member_id, unit_id=unit_id)


async def remove_seat(w: World, pick: int, unit: int) -> None:
    seats = await Placement.filter(member_id=w.others[pick % len(w.others)]).order_by("id")
    if seats:
        await seats[unit % len(seats)].delete()


async def move_seat(w: World, pick: int, unit: int) -> None:
    member_id, unit_id = w.others[pick % len(w.others)], w.units[unit % len(w.units)].id
    seat = await Placement.filter(member_id=member_id).order_by("id").first()
    if seat is not None and not await Placement.exists(member_id=member_id, unit_id=unit_id):
        await Placement.filter(id=seat.id).update(unit_id=unit_id)


async def set_status(w: World, pick: int, status: int, hidden: bool) -> None:
    m = await Member.get(id=w.others[pick % len(w.others)])
    m.status, m.hidden_from_directory = list(MemberStatus)[status % 4], hidden
    await m.save()


async def delete_member(w: World, pick: int) -> None:
    if len(w.others) > 3:
        member_id = w.others.pop(pick % len(w.others))
        await Member.filter(id=member_id).delete()  # seats go by cascade


async def move_by_flow(w: World, pick: int, unit: int) -> None:
    from flows.members import move_members

    viewer = await member_viewer(w.viewers[0])
    assert viewer is not None
    await move_members(viewer, [w.others[pick % len(w.others)]], w.units[1 + unit % (len(w.units) - 1)].id)


small = st.integers(0, 127)
WRITES = st.one_of(
    st.tuples(st.just(add_member), small, small, st.booleans()),
    st.tuples(st.just(add_seat), small, small),
    st.tuples(st.just(remove_seat), small, small),
    st.tuples(st.just(move_seat), small, small),
    st.tuples(st.just(set_status), small, small, st.booleans()),
    st.tuples(st.just(delete_member), small),
    st.tuples(st.just(move_by_flow), small, small),
)


def _of(corp_id: int | None, column: str) -> dict[str, int]:
    """The filter keeping the corp `corp_id`'s rows by `column`, or none (the whole table) when None."""
    return {} if corp_id is None else {column: corp_id}


async def recounted(corp_id: int | None = None) -> tuple[dict[int, tuple], Counter, Counter]:
    """member_seat, unit_headcount and shared_seat as they should be, from member and placement
    rows: of the corp `corp_id`, or of every corp when None.

    The property tests pass their own corp, as they do to `kept`: a whole-table recount costs
    with every row the tests before them wrote to the shared database (the run's order would
    set their time), and their writes touch no other corp. A trigger that filed a row under
    another corp still fails them: the row is missing from this corp's kept rows."""
    seats: dict[int, list[int]] = {}
    placements = Placement.filter(**_of(corp_id, "member__corp_id"))
    for member_id, unit_id in await placements.values_list("member_id", "unit_id"):
        seats.setdefault(member_id, []).append(unit_id)
    rows, heads, shared = {}, Counter(), Counter()
    for m in await Member.filter(**_of(corp_id, "corp_id")).values("id", "corp_id", "status", "hidden_from_directory"):
        own = seats.get(m["id"], [])
        sole = own[0] if len(own) == 1 else None
        facts = (MemberStatus(m["status"]), bool(m["hidden_from_directory"]))
        rows[m["id"]] = (m["corp_id"], sole, *facts)
        if sole is not None:
            heads[(m["corp_id"], sole, *facts)] += 1
        else:  # no seat: one row with no unit; several: one row per seat
            shared.update((m["id"], m["corp_id"], unit_id, *facts) for unit_id in own or [None])
    return rows, heads, shared


async def kept(corp_id: int | None = None) -> tuple[dict[int, tuple], Counter, Counter]:
    """member_seat, unit_headcount and shared_seat rows as the triggers keep them: of the corp
    `corp_id`, or of every corp when None."""
    scope = _of(corp_id, "corp_id")
    rows = {
        r.member_id: (r.corp_id, r.unit_id, MemberStatus(r.status), bool(r.hidden))
        for r in await MemberSeat.filter(**scope)
    }
    heads = Counter({(h.corp_id, h.unit_id, MemberStatus(h.status), bool(h.hidden)): h.n
                     for h in await UnitHeadcount.filter(**scope)})
    shared = Counter(
        (r.member_id, r.corp_id, r.unit_id, MemberStatus(r.status), bool(r.hidden))
        for r in await SharedSeat.filter(**scope)
    )
    return rows, +heads, shared


async def expected(w: World, viewer_id: int, unit: OrgUnit) -> dict[str, int]:
    viewer = await member_viewer(viewer_id)
    assert viewer is not None
    facts = await member_facts(await Member.filter(corp_id=w.corp_id))
    seen = [t for t in facts.values() if can_see_member(viewer, t)]
    listed = [t for t in seen if t.status is not MemberStatus.RESIGNED]
    below = [t for t in listed if any(under_any(p, (unit.path,)) for p in t.unit_paths)]
    return {
        "all": len(listed),
        "gone": sum(t.status in (MemberStatus.RESIGNED, MemberStatus.DISABLED) for t in seen),
        "below": len(below),
        "own": sum(unit.path in t.unit_paths for t in listed),
    }


# The profile's count (500 in CI): the world accumulates every example's writes, so the later
# examples test the triggers on a corp hundreds of writes deep. Scoped to the test's corp, an
# example costs about 0.15 s on SQLite whatever ran before it.
@given(writes=st.lists(WRITES, min_size=1, max_size=5), viewer=small, unit=small, per_row=st.booleans())
async def test_counts_from_head_counts_equal_counting_every_visible_member(client, writes, viewer, unit, per_row):
    # `per_row`: a directory admin's seat tests as per-row probes (as over many units at scale).
    with per_row_seat_tests(per_row):
        await check_counts(client, writes, viewer, unit)


async def check_counts(client, writes, viewer, unit):
    gql = GQL(client)
    w = await world()
    for write, *args in writes:
        try:
            await write(w, *args)
        except FlowError:
            pass  # a refused write changes nothing; the counts must still agree
    assert await kept(w.corp_id) == await recounted(w.corp_id)
    viewer_id, target = w.viewers[viewer % len(w.viewers)], w.units[unit % len(w.units)]
    target = await OrgUnit.get(id=target.id)
    want = await expected(w, viewer_id, target)
    member = await Member.get(id=viewer_id)
    data = await gql.ok(COUNTS, {"c": f.gid("Corp", w.corp_id), "u": f.gid("OrgUnit", target.id)}, f.token(member))
    corp = data["corp"]
    assert corp["all"]["totalCount"] == want["all"]
    assert corp["page"]["totalCount"] == want["all"]
    assert len(corp["page"]["edges"]) == min(2, want["all"])
    assert corp["gone"]["totalCount"] == want["gone"]
    if data["node"] is not None:
        assert data["node"]["memberCount"] == want["below"]
        assert data["node"]["below"]["totalCount"] == want["below"]
        assert data["node"]["own"]["totalCount"] == want["own"]
