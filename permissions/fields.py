"""Field visibility (SPEC §2.2): which profile fields of a visible member a viewer gets."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from models.enums import DEFAULT_SELF_EDITABLE, DEFAULT_VISIBLE_TO_MEMBERS, PROFILE_FIELDS, SENSITIVE_FIELDS, AppScope
from permissions import scope
from permissions.facts import MemberFacts
from permissions.viewer import Viewer, ViewerKind


@dataclass(frozen=True)
class FieldSettings:
    """A corp's per-field switches; fields it never configured take the defaults."""

    visible_to_members: frozenset[str] = DEFAULT_VISIBLE_TO_MEMBERS
    self_editable: frozenset[str] = DEFAULT_SELF_EDITABLE

    @classmethod
    def from_rows(cls, rows: Mapping[str, tuple[bool, bool]]) -> FieldSettings:
        visible = {f for f in PROFILE_FIELDS if rows.get(f, (f in DEFAULT_VISIBLE_TO_MEMBERS,))[0]}
        editable = {
            f for f in PROFILE_FIELDS if (rows[f][1] if f in rows else f in DEFAULT_SELF_EDITABLE)
        }
        return cls(frozenset(visible), frozenset(editable))


def visible_fields(viewer: Viewer, t: MemberFacts, settings: FieldSettings) -> frozenset[str]:
    """The profile fields of t that viewer gets; the caller has already checked that viewer sees t.

    Settings are always those of t's own corp, also when viewed from another corp.
    """
    if viewer.kind is ViewerKind.MEMBER and (viewer.member_id == t.id or scope.administers_member(viewer, t)):
        return frozenset(PROFILE_FIELDS)
    d = viewer.directory
    if viewer.kind is ViewerKind.APP:
        # An app acts for its corp: its own corp's members in full, others as any member would;
        # contact data always needs fields:sensitive.
        own = d is not None and d.reads_all and d.corp_id == t.corp_id
        base = frozenset(PROFILE_FIELDS) if own else settings.visible_to_members
        if not viewer.has_scope(AppScope.FIELDS_SENSITIVE):
            base -= SENSITIVE_FIELDS
        return base
    return settings.visible_to_members


def hidden_fields(viewer: Viewer, t: MemberFacts, settings: FieldSettings) -> list[str]:
    shown = visible_fields(viewer, t, settings)
    return [f for f in PROFILE_FIELDS if f not in shown]


def contact_shows_mobile(viewer: Viewer, chain_id: int, member_fields: frozenset[str] | None) -> bool:
    """A chain contact's mobile: chain admins see it (imported data they manage); anyone else
    only through the joined member's own field policy (the target corp's settings)."""
    access = viewer.chain(chain_id)
    if access is not None and access.is_admin:
        return viewer.kind is not ViewerKind.APP or viewer.has_scope(AppScope.FIELDS_SENSITIVE)
    return member_fields is not None and "mobile" in member_fields


def can_read_field_settings(viewer: Viewer, corp_id: int) -> bool:
    """A corp's field switches are its own business: readable from inside the corp only."""
    d = viewer.directory
    return d is not None and d.corp_id == corp_id
