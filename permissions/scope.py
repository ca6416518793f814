"""Department scope inside a corp (SPEC §2.1) and directory-admin ranges (§2.4).

Each rule has two evaluators built from the same Viewer data: `*_q` (a SQL filter for
lists, search and counts) and `can_see_*` (an in-memory check of one loaded object).
The property tests prove they agree.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from functools import reduce
from operator import and_

from tortoise.expressions import Q

from models.enums import AdminKind, AdminRight, MemberStatus, Scope
from permissions.facts import AdminStanding, GrantFacts, MemberFacts, UnitFacts, UnitScopeFacts
from permissions.paths import ancestor_ids, outermost, path_ids, root_path, under_any
from permissions.sql import (
    NOTHING,
    SubtreeUnits,
    any_of,
    in_corp_by_ids,
    in_corp_led_by_ids,
    members_placed_under,
    path_under_any,
    seated_under,
    unit_ids_under,
)
from permissions.viewer import DirectoryAccess, ScopeView, Viewer

# Statuses a non-admin may see in a directory: resigned and disabled members are gone
# from every ordinary view (SPEC §2.1 "never seen by non-admins").
LISTED_STATUSES = (MemberStatus.ACTIVE, MemberStatus.PENDING)


# --- building a member's DirectoryAccess from facts (SPEC §2.1, §2.4) -------------------


def governing_setting(unit: UnitScopeFacts, by_id: Mapping[int, UnitScopeFacts]) -> UnitScopeFacts | None:
    """The unit whose explicit scope governs a member seated in `unit` (A in SPEC §2.1): the
    nearest of `unit` and its ancestors (`by_id`: those units by id) whose scope is not
    INHERIT; None when there is none (the root then counts as ALL). Pure."""
    for ancestor_id in reversed(path_ids(unit.path)):
        a = by_id.get(ancestor_id)
        if a is not None and a.scope is not Scope.INHERIT:
            return a
    return None


def listed_unit_ids(settings: Iterable[UnitScopeFacts | None]) -> set[int]:
    """The ids of the units the governing `settings` whitelist or exclude (whose paths the
    scope views need). Pure."""
    return {i for a in settings if a is not None for i in (*a.whitelist, *a.exclude)}


def scope_view(unit: UnitScopeFacts, anchor: UnitScopeFacts | None, paths: Mapping[int, str]) -> ScopeView:
    """What a seat in `unit` lets its member see (SPEC §2.1), `anchor` being its governing
    setting (governing_setting) and `paths` the paths of the units it lists by id (units
    missing from `paths` are gone and ignored): ALL the corp root's subtree, DEPARTMENT the
    anchor's, SUBDEPARTMENT the member's own unit's, plus the whitelisted subtrees, less the
    excluded ones. Pure."""
    mode = anchor.scope if anchor is not None else Scope.ALL
    if mode is Scope.ALL:
        roots = [root_path(unit.path)]
    elif mode is Scope.DEPARTMENT and anchor is not None:
        roots = [anchor.path]
    else:  # SUBDEPARTMENT: the member's own unit, not the anchor's
        roots = [unit.path]
    whitelist = anchor.whitelist if anchor else ()
    exclude = anchor.exclude if anchor else ()
    roots += [paths[i] for i in whitelist if i in paths]
    return ScopeView(tuple(roots), tuple(paths[i] for i in exclude if i in paths))


def range_unit_ids(grants: Iterable[GrantFacts]) -> set[int]:
    """The ids of the units the directory-admin `grants` range over (SPEC §2.4). Pure."""
    return {i for g in grants if g.kind is AdminKind.DIRECTORY_ADMIN for i in g.unit_ids}


def admin_ranges(grants: Iterable[GrantFacts], paths: Mapping[int, str]) -> tuple[tuple[str, frozenset[AdminRight]], ...]:
    """The (subtree path, rights) ranges of the directory-admin `grants` (SPEC §2.4), READ
    always among the rights; `paths`: unit paths by id (units missing are gone and ignored). Pure."""
    return tuple(
        (paths[i], frozenset(g.rights) | {AdminRight.READ})
        for g in grants
        if g.kind is AdminKind.DIRECTORY_ADMIN
        for i in g.unit_ids
        if i in paths
    )


def admin_standings(grants: Iterable[GrantFacts], paths: Mapping[int, str]) -> dict[int, AdminStanding]:
    """The AdminStanding (SPEC §2.4) of each member holding one of `grants`: its directory
    ranges (admin_ranges) and whether another grant (super or chain admin) takes it beyond
    the directory. `paths`: unit paths by id. Pure."""
    by_member: dict[int, list[GrantFacts]] = {}
    for g in grants:
        by_member.setdefault(g.member_id, []).append(g)
    return {
        m: AdminStanding(
            beyond_directory=any(g.kind is not AdminKind.DIRECTORY_ADMIN for g in mine),
            ranges=admin_ranges(mine, paths),
        )
        for m, mine in by_member.items()
    }


def _listed(status: MemberStatus, hidden: bool) -> bool:
    return status in LISTED_STATUSES and not hidden


def _whole_corp(d: DirectoryAccess, roots: tuple[str, ...] | list[str]) -> bool:
    """A subtree list holding the viewer's own corp root covers the whole corp directory
    (SPEC §2.1 "ALL: the whole corp directory"), seats or not: the SQL then needs no
    subquery over every seat of the corp, which is what makes ALL views cheap."""
    return bool(d.own_unit_paths) and root_path(d.own_unit_paths[0]) in roots


def _in_subtrees(d: DirectoryAccess, roots: tuple[str, ...], unit_paths: tuple[str, ...]) -> bool:
    return _whole_corp(d, roots) or any(under_any(p, roots) for p in unit_paths)


def _view_matches(d: DirectoryAccess, view: ScopeView, unit_paths: tuple[str, ...]) -> bool:
    # Excluded subtrees win: a member sitting in any excluded unit is withheld from this view.
    return _in_subtrees(d, view.roots, unit_paths) and not any(under_any(p, view.excluded) for p in unit_paths)


# --- members -------------------------------------------------------------------------

def can_see_member_in_corp(viewer: Viewer, t: MemberFacts) -> bool:
    """Whether the viewer sees member `t` of its own corp (SPEC §2.1): those reading the
    whole directory see all; anyone sees itself; directory admins the members seated in their
    ranges; others the listed members (not resigned, deleted or hidden) seated in one of their
    scope views, excluded subtrees withheld. False for members of other corps. Pure."""
    d = viewer.directory
    if d is None or t.corp_id != d.corp_id:
        return False
    if d.reads_all or t.id == viewer.member_id:
        return True
    if d.admin_ranges and _in_subtrees(d, d.range_paths(), t.unit_paths):
        return True
    return _listed(t.status, t.hidden) and any(_view_matches(d, v, t.unit_paths) for v in d.views)


def _driving_roots(viewer: Viewer, d: DirectoryAccess) -> list[str] | None:
    """Subtrees whose seated members include every member the viewer may see, or None when
    that is the whole corp. Given first as `id IN (members seated there)`, they let both
    databases start from those seats instead of scanning the corp's members."""
    roots = [*d.range_paths(), *(r for v in d.views for r in v.roots)]
    if viewer.member_id is not None:
        if not d.own_unit_paths:
            return None  # the viewer itself sits nowhere: it is outside any seat subquery
        roots += d.own_unit_paths  # the viewer always sees itself, and it sits in its own units
    if not roots or _whole_corp(d, roots):
        return None
    return outermost(roots)


def seeks_by_ids(viewer: Viewer) -> bool:
    """Whether members_in_corp_q starts from seat ids (rather than reading the whole corp)."""
    d = viewer.directory
    return d is not None and not d.reads_all and _driving_roots(viewer, d) is not None


def named_roots(viewer: Viewer, within: tuple[str, ...] | None = None, *, corp_id: int | None = None) -> list[str]:
    """The subtrees members_in_corp_q names for this viewer (its ranges, views, excluded
    subtrees, own units, and `within`), less the whole corp, which needs no seat test:
    the ones whose units permissions.loading.subtree_units reads up front. In another corp than the
    viewer's own (`corp_id`), its scope names nothing there: only `within`."""
    d = viewer.directory
    if d is None or d.reads_all or (corp_id is not None and d.corp_id != corp_id):
        return list(within or ())
    roots = [*d.range_paths(), *(r for v in d.views for r in (*v.roots, *v.excluded)), *d.own_unit_paths, *(within or ())]
    whole = root_path(d.own_unit_paths[0]) if d.own_unit_paths else None
    return sorted({r for r in roots if r != whole})


# A directory admin whose driving subtrees hold more units than this sees a large share of
# the corp, whatever the status (a division: ~750 of 3,000 units at bench scale): a page
# finds its rows sooner by walking the (corp_id, pinyin_full, id) index and testing each
# row's seats (permissions.sql.seated_in_units) than by reading every seat in those units
# first, which is what `id IN (seats)` costs on both databases before the first row. Fewer
# units, or a viewer seeing listed members only (whose pages a status or field filter can
# leave nearly empty, so that a walk would read the whole corp): the seats drive.
PER_ROW_MIN_UNITS = 100


def _per_row(d: DirectoryAccess, driving: list[str] | None, units: SubtreeUnits | None) -> bool:
    listed = unit_ids_under(driving, units) if driving is not None and d.admin_ranges else None
    return listed is not None and len(listed) > PER_ROW_MIN_UNITS


def seat_tests_per_row(viewer: Viewer, units: SubtreeUnits | None) -> bool:
    """Whether members_in_corp_q (without `within`) tests this viewer's seats row by row:
    a directory admin (SPEC §2.4) whose driving subtrees' units are all in `units` (the
    lists read by permissions.loading.subtree_units) and number more than PER_ROW_MIN_UNITS.
    permissions.counts writes its seat tests the same way then. Pure; raises nothing."""
    d = viewer.directory
    return d is not None and not d.reads_all and _per_row(d, _driving_roots(viewer, d), units)


def members_in_corp_q(
    viewer: Viewer,
    *,
    ids_given: bool = False,
    within: tuple[str, ...] | None = None,
    units: SubtreeUnits | None = None,
    include_self: bool = True,
) -> Q:
    """Same rows as can_see_member_in_corp: the viewer, its admin ranges, and the listed
    members of its views; always within the viewer's corp.

    Written as `id IN (the corp's members seated in the driving subtrees) AND (union)`
    where it can, so both databases start from those seats, and a part of the union whose
    subtrees already cover the driving ones needs no subquery of its own. When the driving
    subtrees' units are listed and many (PER_ROW_MIN_UNITS), as `corp_id = ? AND (union)`
    with every seat test a per-row probe instead: the page walks its ordering index.

    `within`: the caller itself keeps to members seated in these subtrees (a unit's
    list): they are then the driving seats, already enforced, and a member scoped to
    that unit pays for no subquery the super admin's query does not run too.
    `ids_given`: the caller narrows to a few ids itself, so the corp test must not be
    one SQLite would rather scan by.
    `units`: the unit ids of the subtrees named (see named_roots), so that seat tests list
    units instead of path ranges.
    `include_self=False`: without the viewer itself (unless another part holds for it): the
    members that permissions.counts takes from the head-counts."""
    d = viewer.directory
    if d is None:
        return NOTHING
    driving = outermost(within) if within else _driving_roots(viewer, d)
    # Ids given (a search's matches), the seats are tested per id too: `id IN (seats)` would
    # read every seat of the driving subtrees to test a few hundred ids (SQLite even started
    # from the seats: 10 ms instead of 4 for a scoped member's search with a filter).
    per_row = not within and (
        _per_row(d, driving, units)
        or (ids_given and driving is not None and unit_ids_under(driving, units) is not None)
    )
    # A caller narrowing by ids or seats drives the query with them: no `corp_id = ?` to scan
    # by. Unless the seats are listed by unit (`units`): then both databases estimate them
    # right, and `corp_id = ?` lets the page walk the (corp_id, pinyin_full, id) index,
    # testing each row's seats, and stop at the page's end.
    listed = driving is not None and unit_ids_under(driving, units) is not None
    corp = (
        in_corp_led_by_ids(d.corp_id)
        if ids_given
        else in_corp_by_ids(d.corp_id)
        if within and not listed
        else Q(corp_id=d.corp_id)
    )
    if d.reads_all:
        return corp

    def seated_in(roots: tuple[str, ...]) -> list[Q]:
        if _whole_corp(d, roots):
            return []  # every member of the corp
        if not per_row and driving is not None and all(under_any(r, roots) for r in driving):
            return []  # implied by the driving seats: true for every member the query can reach
        return [seated_under(roots, d.corp_id, units, per_row=per_row)]

    parts: list[list[Q]] = []
    if viewer.member_id is not None and include_self:
        parts.append([Q(id=viewer.member_id)])
    if d.admin_ranges:
        parts.append(seated_in(d.range_paths()))
    shown = Q(status__in=[s.value for s in LISTED_STATUSES], hidden_from_directory=False)
    for v in d.views:
        conditions = [shown, *seated_in(v.roots)]
        if v.excluded:
            conditions.append(~seated_under(v.excluded, d.corp_id, units, per_row=per_row))
        parts.append(conditions)
    if not parts:
        return NOTHING
    if driving is not None and not within and not per_row:
        # This tested the listed-statuses Q (always truthy) that shadowed `listed` above, so it
        # read as `not ids_given`; kept so. Whether `listed` was meant is open (see 671688f).
        by_seats = Q(corp_id=d.corp_id) if not ids_given else in_corp_led_by_ids(d.corp_id)
        query = by_seats & Q(id__in=members_placed_under(driving, d.corp_id, units))
    else:
        query = corp
    if any(not conditions for conditions in parts):
        return query  # one part holds for every reachable member
    return query & any_of(reduce(and_, conditions) for conditions in parts)


def needs_member_units(viewer: Viewer) -> bool:
    """Whether administers_member reads a member's units for this viewer (a directory admin
    with ranges): for anyone else a page needs no seats to decide its fields."""
    d = viewer.directory
    return d is not None and viewer.member_id is not None and not d.manages_all and bool(d.admin_ranges)


def administers_member(viewer: Viewer, t: MemberFacts) -> bool:
    """Super admin of the corp, or a directory admin with one of t's units in range."""
    d = viewer.directory
    if d is None or t.corp_id != d.corp_id or viewer.member_id is None:
        return False
    return d.manages_all or (bool(d.admin_ranges) and _in_subtrees(d, d.range_paths(), t.unit_paths))


def administers_q(viewer: Viewer, corp_id: int) -> Q | None:
    """SQL twin of administers_member for the members of corp_id (the caller keeps to that
    corp): None when the viewer administers every one of them, so that no condition is needed."""
    d = viewer.directory
    if d is None or d.corp_id != corp_id or viewer.member_id is None:
        return NOTHING
    if d.manages_all:
        return None
    roots = d.range_paths()
    if not roots:
        return NOTHING
    if _whole_corp(d, roots):
        return None
    return Q(id__in=members_placed_under(roots, corp_id))


# --- units ---------------------------------------------------------------------------

def _unit_ancestors(d: DirectoryAccess) -> frozenset[int]:
    """Ancestors of every visible subtree root and of the viewer's own units: the tree can be walked."""
    roots = [r for v in d.views for r in v.roots]
    return ancestor_ids([*roots, *d.range_paths(), *d.own_unit_paths])


def can_see_unit(viewer: Viewer, u: UnitFacts) -> bool:
    """Whether the viewer sees unit `u` of its own corp (SPEC §2.1 "Units"): everything for
    those reading the whole directory; else the units in its admin ranges and scope views
    (excluded subtrees withheld) plus the ancestors of those and of its own units. Pure."""
    d = viewer.directory
    if d is None or u.corp_id != d.corp_id:
        return False
    if d.reads_all or under_any(u.path, d.range_paths()) or u.id in _unit_ancestors(d):
        return True
    return any(under_any(u.path, v.roots) and not under_any(u.path, v.excluded) for v in d.views)


def units_q(viewer: Viewer) -> Q:
    """Filter on OrgUnit rows: the SQL twin of can_see_unit (false outside the viewer's corp). SPEC §2.1."""
    d = viewer.directory
    if d is None:
        return NOTHING
    if d.reads_all:
        return Q(corp_id=d.corp_id)
    parts = [Q(id__in=sorted(_unit_ancestors(d)))]
    if d.admin_ranges:
        parts.append(path_under_any(d.range_paths()))
    for v in d.views:
        q = path_under_any(v.roots)
        if v.excluded:
            q &= ~path_under_any(v.excluded)
        parts.append(q)
    return Q(corp_id=d.corp_id) & any_of(parts)
