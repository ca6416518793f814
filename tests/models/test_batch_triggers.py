"""A batch inserted as one statement (models.bulk.insert_rows: one INSERT per batch on
PostgreSQL, where migration 0013's statement triggers see the whole batch at once) leaves the
change log and the head-counts exactly as rows inserted one at a time: a CREATED change per
new member in id order, then a 'departments' change per seat in id order whose `before` lists
the member's other seats that existed before it; member_seat and unit_headcount equal a
recount. Random batches mix new members with zero to three seats and new seats of members
already there."""

from __future__ import annotations

import json
from dataclasses import dataclass

from hypothesis import given
from hypothesis import strategies as st
from tortoise.transactions import in_transaction

from flows.members import _search_fields
from models import ChangeEvent, Member, OrgUnit, Placement
from models.bulk import insert_rows
from models.enums import MemberStatus
from tests import factories as f
from tests.models.test_headcounts import kept, recounted
from tests.property_sizes import sized


@dataclass
class World:
    corp_id: int
    units: list[OrgUnit]
    old: list[int]


_world: World | None = None
_seq = iter(range(10**9))


async def world() -> World:
    global _world
    if _world is None:
        corp, root = await f.corp("批量")
        a = await f.unit(root)
        units = [root, a, await f.unit(a), await f.unit(root), await f.unit(root)]
        old = [(await f.member([u], name="老成员")).id for u in units[:3]]
        _world = World(corp.id, units, old)
    return _world


def _units(before: str | None) -> list[str]:
    u = json.loads(before or "{}").get("u")
    return sorted(u.split(" ")) if u else []


seats_of = st.lists(st.integers(0, 4), max_size=3, unique=True)


# 200 in CI (not 500): a batch is at most five new members with up to three of five units
# each and four more seats of three members already there, a small space; each example
# writes and then recounts the corp. The soak profile draws 5000.
@sized(200)
@given(new=st.lists(seats_of, min_size=1, max_size=5), more=st.lists(st.tuples(st.integers(0, 9), st.integers(0, 4)), max_size=4))
async def test_a_batch_logs_and_counts_as_rows_one_at_a_time(client, new, more):
    w = await world()
    paths = {u.id: u.path for u in w.units}
    start = await ChangeEvent.all().order_by("-id").first().values_list("id", flat=True) or 0
    last = await Member.all().order_by("-id").first().values_list("id", flat=True) or 0
    async with in_transaction():
        await insert_rows(Member, [
            Member(corp_id=w.corp_id, account=f"b{next(_seq)}", account_key=f"b{next(_seq)}", name="批量成员",
                   status=MemberStatus.ACTIVE, **_search_fields("批量成员"))
            for _ in new
        ])
        ids = sorted(await Member.filter(corp_id=w.corp_id, id__gt=last).values_list("id", flat=True))
        assert len(ids) == len(new)
        rows = [(ids[i], w.units[u].id) for i, picks in enumerate(new) for u in picks]
        for pick, u in more:
            member_id = w.old[pick % len(w.old)]
            if (member_id, w.units[u].id) not in rows and not await Placement.exists(member_id=member_id, unit_id=w.units[u].id):
                rows.append((member_id, w.units[u].id))
        had = {m: [paths[u] for u in await Placement.filter(member_id=m).values_list("unit_id", flat=True)]
               for m, _ in rows}
        await insert_rows(Placement, [Placement(member_id=m, unit_id=u, is_main=False) for m, u in rows])
    want = [(m, "CREATED", None, []) for m in ids]
    for m, u in rows:
        want.append((m, "UPDATED", "departments", sorted(p for p in had[m] if p != paths[u])))
        had[m].append(paths[u])
    got = [(e["object_id"], e["kind"], e["changed"], _units(e["before"]))
           for e in await ChangeEvent.filter(id__gt=start).order_by("id").values("object_id", "kind", "changed", "before")]
    assert got == want
    assert await kept(w.corp_id) == await recounted(w.corp_id)  # this corp's rows: see recounted()
