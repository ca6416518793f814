"""Exact member counts at the cost of a page (SPEC §4 totalCount, OrgUnit.memberCount).

A list's count is the sum of up to three one-row queries (each `.values("n")`), none of
which reads the viewer's whole visible set:
1. head-counts (models.UnitHeadcount, kept by triggers) summed over the units whose
   single-seat members the viewer's directory scope shows: its admin ranges (any status)
   and its views (listed members only), within the list's units;
2. the members with no seat or several seats (MemberSeat.unit_id IS NULL, a minority) that
   the list shows, counted one by one: a member in two visible units counts once;
3. the few single-seat members seen individually (the viewer itself, members reached
   through chains) that 1. did not count, counted one by one.
Each member the list shows is in exactly one of the three. In another corp than the
viewer's own, nothing comes from head-counts: the list (chain parts only) is counted directly.
"""

from __future__ import annotations

from typing import Any

from tortoise.expressions import Q, Subquery
from tortoise.functions import Count, Sum

from permissions import scope
from permissions.members import across_corps_parts
from permissions.sql import SubtreeUnits, any_of, in_corp_by_ids, path_under_any
from permissions.viewer import Viewer


def _counted(query: Any) -> Any:
    return query.annotate(n=Count("id")).values("n")


def _units(corp_id: int, *conditions: Q | None) -> Subquery:
    from models import OrgUnit

    return Subquery(OrgUnit.filter(*(c for c in conditions if c is not None), corp_id=corp_id).values("id"))


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
    list's status filter) and the list's own unit test applied. `within_units`: that unit
    test as a Q on OrgUnit rows (a unit's subtree, or the unit itself); `within`, `units`:
    as given to permissions.members.visible_members_in_corp_q."""
    from models import MemberSeat, UnitHeadcount

    d = viewer.directory
    if d is None or d.corp_id != corp_id:
        return [_counted(listed)]
    several = Subquery(MemberSeat.filter(corp_id=corp_id, unit_id=None).values("member_id"))
    counts = UnitHeadcount.filter(status, corp_id=corp_id)
    if d.reads_all:
        if within_units is not None:
            counts = counts.filter(unit_id__in=_units(corp_id, within_units))
            return [_counted(listed.filter(id__in=several)), counts.annotate(n=Sum("n")).values("n")]
        # The whole corp: its members with no or several seats are counted on member_seat
        # alone (its (corp_id, unit_id) index), not looked up among the corp's members.
        alone = MemberSeat.filter(status, corp_id=corp_id, unit_id=None).annotate(n=Count("member_id")).values("n")
        return [alone, counts.annotate(n=Sum("n")).values("n")]
    parts = [_counted(listed.filter(id__in=several))]
    branches = []
    if d.admin_ranges:
        ranges = d.range_paths()
        whole = scope._whole_corp(d, ranges)
        branches.append(Q(unit_id__in=_units(corp_id, within_units, None if whole else path_under_any(ranges))))
    views = []
    for v in d.views:
        seen = Q() if scope._whole_corp(d, v.roots) else path_under_any(v.roots)
        views.append(seen & ~path_under_any(v.excluded) if v.excluded else seen)
    if views:
        branches.append(Q(
            unit_id__in=_units(corp_id, within_units, any_of(views)),
            status__in=[s.value for s in scope.LISTED_STATUSES], hidden=False,
        ))
    if branches:
        parts.append(counts.filter(any_of(branches)).annotate(n=Sum("n")).values("n"))
    individually = [Q(id=viewer.member_id)] if viewer.member_id is not None else []
    individually += across_corps_parts(viewer, corp_id, in_corp_by_ids(corp_id))
    if individually:
        counted = scope.members_in_corp_q(viewer, ids_given=True, within=within, units=units, include_self=False)
        parts.append(_counted(listed.filter(any_of(individually), ~counted, ~Q(id__in=several))))
    return parts
