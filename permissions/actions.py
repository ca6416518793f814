"""Which actions (mutations) a viewer may take on which rows (SPEC §2.4)."""

from __future__ import annotations

from models.enums import AdminRight, AppScope
from permissions.facts import MemberFacts
from permissions.paths import under_any
from permissions.viewer import Viewer, ViewerKind


def _is_member(viewer: Viewer) -> bool:
    return viewer.kind is ViewerKind.MEMBER and viewer.member_id is not None


def can_manage_directory_at(viewer: Viewer, corp_id: int, unit_path: str) -> bool:
    """Create or change units and members at `unit_path`: super admins, or MANAGE over it."""
    d = viewer.directory
    if d is None or d.corp_id != corp_id or not viewer.has_scope(AppScope.DIRECTORY_WRITE):
        return False
    if viewer.kind is ViewerKind.APP:
        return d.reads_all
    return d.manages_all or under_any(unit_path, d.range_paths(AdminRight.MANAGE))


def can_administer_corp(viewer: Viewer, corp_id: int) -> bool:
    """Corp-wide settings and grants: only a super admin in person (a directory admin cannot grant)."""
    return _is_member(viewer) and viewer.is_super_admin and viewer.corp_id == corp_id


def can_create_chain(viewer: Viewer, corp_id: int) -> bool:
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


def can_export_directory(viewer: Viewer, corp_id: int) -> bool:
    """Export a corp's directory: super admins, directory admins holding EXPORT, apps with directory:export."""
    d = viewer.directory
    if d is None or d.corp_id != corp_id or not viewer.has_scope(AppScope.DIRECTORY_EXPORT):
        return False
    if viewer.kind is ViewerKind.APP:
        return d.reads_all
    return d.manages_all or bool(d.range_paths(AdminRight.EXPORT))


def export_range(viewer: Viewer) -> tuple[str, ...] | None:
    """Unit subtrees an exporter may export; None means the whole corp."""
    d = viewer.directory
    if d is None:
        return ()
    if d.manages_all or (viewer.kind is ViewerKind.APP and d.reads_all):
        return None
    return d.range_paths(AdminRight.EXPORT)
