"""Department scope inside a corp (SPEC §2.1) and directory-admin ranges (§2.4).

Each rule has two evaluators built from the same Viewer data: `*_q` (a SQL filter for
lists, search and counts) and `can_see_*` (an in-memory check of one loaded object).
The property tests prove they agree.
"""

from __future__ import annotations

from tortoise.expressions import Q

from models.enums import MemberStatus
from permissions.facts import MemberFacts, UnitFacts
from permissions.paths import ancestor_ids, under_any
from permissions.sql import NOTHING, any_of, members_placed_under, path_under_any
from permissions.viewer import DirectoryAccess, ScopeView, Viewer

# Statuses a non-admin may see in a directory: resigned and disabled members are gone
# from every ordinary view (SPEC §2.1 "never seen by non-admins").
LISTED_STATUSES = (MemberStatus.ACTIVE, MemberStatus.PENDING)


def _listed(status: MemberStatus, hidden: bool) -> bool:
    return status in LISTED_STATUSES and not hidden


def _view_matches(view: ScopeView, unit_paths: tuple[str, ...]) -> bool:
    # Excluded subtrees win: a member sitting in any excluded unit is withheld from this view.
    return any(under_any(p, view.roots) for p in unit_paths) and not any(
        under_any(p, view.excluded) for p in unit_paths
    )


def _view_q(view: ScopeView) -> Q:
    q = Q(id__in=members_placed_under(view.roots))
    if view.excluded:
        q &= ~Q(id__in=members_placed_under(view.excluded))
    return q


# --- members -------------------------------------------------------------------------

def can_see_member_in_corp(viewer: Viewer, t: MemberFacts) -> bool:
    d = viewer.directory
    if d is None or t.corp_id != d.corp_id:
        return False
    if d.reads_all or t.id == viewer.member_id:
        return True
    if any(under_any(p, d.range_paths()) for p in t.unit_paths):
        return True
    return _listed(t.status, t.hidden) and any(_view_matches(v, t.unit_paths) for v in d.views)


def members_in_corp_q(viewer: Viewer) -> Q:
    d = viewer.directory
    if d is None:
        return NOTHING
    if d.reads_all:
        return Q(corp_id=d.corp_id)
    parts: list[Q] = []
    if viewer.member_id is not None:
        parts.append(Q(id=viewer.member_id))
    if d.admin_ranges:
        parts.append(Q(id__in=members_placed_under(d.range_paths())))
    if d.views:
        listed = Q(status__in=[s.value for s in LISTED_STATUSES], hidden_from_directory=False)
        parts.append(listed & any_of(_view_q(v) for v in d.views))
    return Q(corp_id=d.corp_id) & any_of(parts)


def administers_member(viewer: Viewer, t: MemberFacts) -> bool:
    """Super admin of the corp, or a directory admin with one of t's units in range."""
    d = viewer.directory
    if d is None or t.corp_id != d.corp_id or viewer.member_id is None:
        return False
    return d.manages_all or any(under_any(p, d.range_paths()) for p in t.unit_paths)


# --- units ---------------------------------------------------------------------------

def _unit_ancestors(d: DirectoryAccess) -> frozenset[int]:
    """Ancestors of every visible subtree root and of the viewer's own units: the tree can be walked."""
    roots = [r for v in d.views for r in v.roots]
    return ancestor_ids([*roots, *d.range_paths(), *d.own_unit_paths])


def can_see_unit(viewer: Viewer, u: UnitFacts) -> bool:
    d = viewer.directory
    if d is None or u.corp_id != d.corp_id:
        return False
    if d.reads_all or under_any(u.path, d.range_paths()) or u.id in _unit_ancestors(d):
        return True
    return any(under_any(u.path, v.roots) and not under_any(u.path, v.excluded) for v in d.views)


def units_q(viewer: Viewer) -> Q:
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
