"""Which actions (mutations) a viewer may take on which rows (SPEC §2.4)."""

from __future__ import annotations

from models.enums import AdminRight, AppScope
from permissions.facts import AdminStanding, MemberFacts
from permissions.paths import under_any
from permissions.viewer import Viewer, ViewerKind


def _is_member(viewer: Viewer) -> bool:
    return viewer.kind is ViewerKind.MEMBER and viewer.member_id is not None


def _holds(viewer: Viewer, corp_id: int, scope: AppScope, right: AdminRight, at: str | None = None) -> bool:
    """Whether the viewer holds `right` in corp `corp_id` at unit path `at` (None: over some
    part of the corp): super admins, directory admins whose ranges carry it there, and the
    corp's apps holding `scope` that read the whole corp (SPEC §2.4). Pure."""
    d = viewer.directory
    if d is None or d.corp_id != corp_id or not viewer.has_scope(scope):
        return False
    if viewer.kind is ViewerKind.APP:
        return d.reads_all
    ranges = d.range_paths(right)
    return d.manages_all or (under_any(at, ranges) if at is not None else bool(ranges))


def can_manage_directory_at(viewer: Viewer, corp_id: int, unit_path: str) -> bool:
    """Create or change units and members at `unit_path`: super admins, or MANAGE over it."""
    return _holds(viewer, corp_id, AppScope.DIRECTORY_WRITE, AdminRight.MANAGE, unit_path)


def can_administer_corp(viewer: Viewer, corp_id: int) -> bool:
    """Corp-wide settings and grants: only a super admin in person (a directory admin cannot grant)."""
    return _is_member(viewer) and viewer.is_super_admin and viewer.corp_id == corp_id


def can_create_chain(viewer: Viewer, corp_id: int) -> bool:
    """Create a chain space owned by corp `corp_id`: its super admins in person, as for can_administer_corp (SPEC §2.4). Pure."""
    return can_administer_corp(viewer, corp_id)


def can_manage_chain(viewer: Viewer, chain_id: int) -> bool:
    """Change a chain's settings and groups: owner super admins and whole-chain admins."""
    a = viewer.chain(chain_id)
    if a is None or not a.admin_all:
        return False
    return _is_member(viewer) or viewer.has_scope(AppScope.CHAIN_WRITE)


def can_manage_member(viewer: Viewer, t: MemberFacts) -> bool:
    """Change, move, resign or erase a member: MANAGE over any one of its units (SPEC §2.4)."""
    d = viewer.directory
    if d is None or d.corp_id != t.corp_id:
        return False
    if not t.unit_paths:
        # A member without a seat (its units were deleted) is only the corp-wide managers' business.
        return d.manages_all or (viewer.kind is ViewerKind.APP and d.reads_all and viewer.has_scope(AppScope.DIRECTORY_WRITE))
    return any(can_manage_directory_at(viewer, t.corp_id, p) for p in t.unit_paths)


def outranks(viewer: Viewer, target: AdminStanding) -> bool:
    """An admin acts on a member (change, move, resign, delete, end its sessions) only when it
    holds every right that member holds (SPEC §2.4): otherwise taking over the member, e.g.
    through a mobile it set, would be a way up. Super admins outrank everyone; an app (which
    manages its corp's whole directory) and a directory admin never outrank a super or chain
    admin; a directory admin outranks another when each of the other's ranges lies inside its
    own ranges holding the same rights there."""
    if _is_member(viewer) and viewer.is_super_admin:
        return True
    if target.beyond_directory:
        return False
    d = viewer.directory
    if d is None:
        return False
    if d.manages_all or viewer.kind is ViewerKind.APP:
        return True
    return all(rights <= _rights_at(d.admin_ranges, path) for path, rights in target.ranges)


def _rights_at(ranges: tuple[tuple[str, frozenset[AdminRight]], ...], path: str) -> frozenset[AdminRight]:
    held: frozenset[AdminRight] = frozenset()
    for root, rights in ranges:
        if under_any(path, (root,)):
            held |= rights
    return held


def can_export_directory(viewer: Viewer, corp_id: int) -> bool:
    """Export a corp's directory: super admins, directory admins holding EXPORT, apps with directory:export."""
    return _holds(viewer, corp_id, AppScope.DIRECTORY_EXPORT, AdminRight.EXPORT)


def export_range(viewer: Viewer) -> tuple[str, ...] | None:
    """Unit subtrees an exporter may export; None means the whole corp."""
    d = viewer.directory
    if d is None:
        return ()
    if d.manages_all or (viewer.kind is ViewerKind.APP and d.reads_all):
        return None
    return d.range_paths(AdminRight.EXPORT)


def can_manage_app_tokens(viewer: Viewer, corp_id: int) -> bool:
    """See, issue and revoke a corp's partner-app tokens: its super admins in person only.

    Not directory admins (they cannot grant rights either), and never an app: a token
    that could mint tokens would outlive its own revocation.
    """
    return can_administer_corp(viewer, corp_id)


def can_import_directory(viewer: Viewer, corp_id: int) -> bool:
    """Start a directory import: whoever manages some part of the corp; rows outside the
    importer's ranges then fail one by one with OUT_OF_SCOPE."""
    return _holds(viewer, corp_id, AppScope.DIRECTORY_WRITE, AdminRight.MANAGE)


def can_read_audit(viewer: Viewer, corp_id: int) -> bool:
    """A corp's audit trail: its super admins in person, and its own apps holding audit:read.

    A chain-bound app is cut to its chain, and the trail is corp-wide: it reads none of it.
    Anyone else is answered as if the corp had no events at all.
    """
    if viewer.corp_id != corp_id:
        return False
    if viewer.kind is ViewerKind.APP:
        return viewer.has_scope(AppScope.AUDIT_READ) and viewer.bound_chain_id is None
    return _is_member(viewer) and viewer.is_super_admin


def can_manage_chain_corp(viewer: Viewer, chain_id: int, group_path: str) -> bool:
    """Remove a corp from a chain: whole-chain admins, and chain admins over the corp's group."""
    a = viewer.chain(chain_id)
    if a is None or not (_is_member(viewer) or viewer.has_scope(AppScope.CHAIN_WRITE)):
        return False
    return a.admin_all or under_any(group_path, a.admin_group_paths)


def can_invite(viewer: Viewer, chain_id: int, group_path: str, *, own_leader_group_path: str | None) -> bool:
    """Create an invitation into the group at `group_path` (SPEC §3.3).

    Chain admins invite anywhere in their range; a joined leader of a downstream corp only
    into its own group (`own_leader_group_path`, loaded by the caller). Only members invite:
    an invitation dies with its creator, so it needs a person behind it.
    """
    a = viewer.chain(chain_id)
    if a is None or not _is_member(viewer):
        return False
    if a.admin_all or under_any(group_path, a.admin_group_paths):
        return True
    return own_leader_group_path is not None and group_path == own_leader_group_path


def can_decide_join_requests(viewer: Viewer, corp_id: int) -> bool:
    """Approve people into a corp (and through it into a chain): that corp's super admins."""
    return can_administer_corp(viewer, corp_id)


def can_import_chain(viewer: Viewer, chain_id: int) -> bool:
    """Import contacts into a chain: its admins (rows outside a group admin's groups then fail
    one by one with OUT_OF_SCOPE), and the owner's apps holding chain:write."""
    a = viewer.chain(chain_id)
    if a is None or not a.is_admin:
        return False
    return _is_member(viewer) or viewer.has_scope(AppScope.CHAIN_WRITE)


def may_send_files(viewer: Viewer) -> bool:
    """Whether the viewer may send a file at all (GraphQL multipart): only to import, so only
    a viewer that may import into its own corp or into one of its chains. Decided before the
    request body is read, so a file nobody could import is never received."""
    d = viewer.directory
    if d is not None and can_import_directory(viewer, d.corp_id):
        return True
    return any(can_import_chain(viewer, c.chain_id) for c in viewer.chains)
