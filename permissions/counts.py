"""Exact member counts at the cost of a page (SPEC §4 totalCount, OrgUnit.memberCount).

A list's count is the sum of up to four one-row queries (each `.values("n")`), none of
which reads the viewer's whole visible set nor scans the corp's members:
1. head-counts (models.UnitHeadcount, kept by triggers) summed over the units whose
   single-seat members the viewer's directory scope shows: its admin ranges (any status)
   and its views (listed members only), within the list's units;
2. the members with no seat or several seats that the same scope shows, counted (distinct)
   from their rows in models.SharedSeat (kept by triggers: one per seat, one with no unit
   for a member with no seat): the rows in the units a scope lists are found by its
   (corp_id, unit_id) index from the visible units, so only their seats are read, never each
   multi-seat member of the corp; a member in two visible units counts once;
3. the viewer itself when 1. and 2. do not count it (known from its own seats: one
   primary-key row, or nothing);
4. the members seen through chains (connectors, linked contacts) that 1.–3. did not
   count, found from their own ids.
Each member the list shows is in exactly one of them. In another corp than the viewer's
own, nothing comes from head-counts: the list (chain parts only) is counted directly.
"""

from __future__ import annotations

from typing import Any

from tortoise.expressions import Q, Subquery
from tortoise.functions import Count, Sum

from permissions import scope
from permissions.members import across_corps_parts
from permissions.sql import (
    SubtreeUnits,
    any_of,
    in_corp_by_ids,
    path_under_any,
    seated_under,
    units_under,
)
from permissions.viewer import Viewer


def _counted(query: Any) -> Any:
    return query.annotate(n=Count("id")).values("n")


def _units(corp_id: int, *conditions: Q | None) -> Subquery:
    from models import OrgUnit

    return Subquery(OrgUnit.filter(*(c for c in conditions if c is not None), corp_id=corp_id).values("id"))


def _seated(corp_id: int, within_units: Q) -> Q:
    """shared_seat rows of members with a seat in the units `within_units` (a Q on OrgUnit).
    Found among the shared_seat rows themselves: every seat of a member counted from them has
    its own row there, so the (corp_id, unit_id) index gives the few multi-seat members
    seated in those units, where placement would list every member seated in them (4,717
    under a department at bench scale, each then looked up in shared_seat)."""
    from models import SharedSeat

    seats = SharedSeat.filter(corp_id=corp_id, unit_id__in=_units(corp_id, within_units))
    return Q(member_id__in=Subquery(seats.values("member_id")))


def _seat_under(roots: tuple[str, ...], corp_id: int) -> Q:
    """shared_seat rows whose own unit lies in the subtrees, found from the units: the
    (corp_id, path) index gives the subtrees' units and the (corp_id, unit_id) index each
    one's few rows. Not the listed unit ids as one array: with those PostgreSQL estimated
    the rows right (a thousand of 12,000 at bench scale) and read the whole table instead,
    testing each row against the array (1.7 ms against 0.95 ms from the units)."""
    return Q(unit_id__in=units_under(roots, corp_id))


def _either(parts: list[Q | None]) -> Q | None:
    """OR of the parts, where None holds for every row: None when any part is None."""
    return None if any(p is None for p in parts) else any_of(p for p in parts if p is not None)


def member_count_parts(
    viewer: Viewer,
    corp_id: int,
    listed: Any,
    status: Q,
    *,
    within_units: Q | None = None,
    within: tuple[str, ...] | None = None,
    units: SubtreeUnits | None = None,
) -> list[Any]:
    """One-row queries (each selecting `n`, NULL for 0) whose sum is `listed.count()`.

    `listed`: the list's query, Member rows already cut to what the viewer sees in corp_id
    (gql.directory.types.members_query), with `status` (a Q on the `status` column, the
    list's status filter, which member_seat has too) and the list's own unit test applied.
    `within_units`: that unit test as a Q on OrgUnit rows (a unit's subtree, or the unit
    itself); `within`, `units`: as given to permissions.members.visible_members_in_corp_q
    (`units`: unit ids of the subtrees the scope names, so seat tests list units)."""
    from models import SharedSeat, UnitHeadcount

    d = viewer.directory
    if d is None or d.corp_id != corp_id:
        return [_counted(listed)]
    counts = UnitHeadcount.filter(status, corp_id=corp_id)
    # Part 2 reads shared_seat alone: a row per seat of a multi-seat member, so a scope's
    # unit test is a test on the row's own unit and the (corp_id, unit_id) index finds the
    # seats in visible units; the list's unit test (another seat of the same member may
    # pass it) and the excluded units stay tests on the member.
    several = SharedSeat.filter(status, corp_id=corp_id)
    if within_units is not None:
        counts = counts.filter(unit_id__in=_units(corp_id, within_units))
        several = several.filter(_seated(corp_id, within_units))
    distinct = Count("member_id", distinct=True)
    if d.reads_all:
        return [several.annotate(n=distinct).values("n"), counts.annotate(n=Sum("n")).values("n")]
    branches: list[Q] = []
    seat_branches: list[Q | None] = []
    per_row = within is None and scope.seat_tests_per_row(viewer, units)
    if d.admin_ranges:
        ranges = d.range_paths()
        whole = scope._whole_corp(d, ranges)
        branches.append(Q(unit_id__in=_units(corp_id, within_units, None if whole else path_under_any(ranges))))
        seat_branches.append(None if whole else _seat_under(ranges, corp_id))
    listed_status = Q(status__in=[s.value for s in scope.LISTED_STATUSES], hidden=False)
    views: list[Q | None] = []
    seat_views: list[Q | None] = []
    for v in d.views:
        whole = scope._whole_corp(d, v.roots)
        unit_seen = [] if whole else [path_under_any(v.roots)]
        if v.excluded:
            unit_seen.append(~path_under_any(v.excluded))
        views.append(Q(*unit_seen) if unit_seen else None)
        seated = [] if whole else [_seat_under(v.roots, corp_id)]
        if v.excluded:  # a member sitting in any excluded unit is withheld from this view
            seated.append(~seated_under(v.excluded, corp_id, units, per_row=per_row, column="member_id"))
        seat_views.append(Q(*seated) if seated else None)
    if views:
        branches.append(Q(unit_id__in=_units(corp_id, within_units, _either(views))) & listed_status)
        seen = _either(seat_views)
        seat_branches.append(listed_status if seen is None else listed_status & seen)
    parts = []
    if branches:
        seen = _either(seat_branches)
        parts.append((several if seen is None else several.filter(seen)).annotate(n=distinct).values("n"))
        parts.append(counts.filter(any_of(branches)).annotate(n=Sum("n")).values("n"))
    if viewer.member_id is not None:
        parts += _self_part(viewer, listed)
    chains = across_corps_parts(viewer, corp_id, in_corp_by_ids(corp_id))
    if chains:
        counted = scope.members_in_corp_q(viewer, ids_given=True, within=within, units=units, include_self=False)
        others = ~Q(id=viewer.member_id) if viewer.member_id is not None else Q()
        parts.append(_counted(listed.filter(any_of(chains), others, ~counted)))
    return parts


def _self_part(viewer: Viewer, listed: Any) -> list[Any]:
    """The viewer itself where parts 1. and 2. leave it out: decided from its own seats
    (the Viewer's, kept current by the policy version), so only its status and hidden flag
    are read, on its own row."""
    d = viewer.directory
    assert d is not None
    seats = d.own_unit_paths
    if d.admin_ranges and scope._in_subtrees(d, d.range_paths(), seats):
        return []  # in its own range: counted with any status
    mine = listed.filter(id=viewer.member_id)
    if any(scope._view_matches(d, v, seats) for v in d.views):
        mine = mine.filter(~Q(status__in=[s.value for s in scope.LISTED_STATUSES], hidden_from_directory=False))
    return [_counted(mine)]
