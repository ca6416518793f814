"""Field visibility (SPEC §2.2): which profile fields of a visible member a viewer gets."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import reduce
from operator import and_

from tortoise.expressions import Q

from models.enums import DEFAULT_SELF_EDITABLE, DEFAULT_VISIBLE_TO_MEMBERS, PROFILE_FIELDS, SENSITIVE_FIELDS, AppScope
from permissions import scope
from permissions.facts import MemberFacts
from permissions.sql import NOTHING, any_of
from permissions.viewer import Viewer, ViewerKind


@dataclass(frozen=True)
class FieldSettings:
    """A corp's per-field switches; fields it never configured take the defaults."""

    visible_to_members: frozenset[str] = DEFAULT_VISIBLE_TO_MEMBERS
    self_editable: frozenset[str] = DEFAULT_SELF_EDITABLE

    @classmethod
    def from_rows(cls, rows: Mapping[str, tuple[bool, bool]]) -> FieldSettings:
        """Settings from a corp's FieldSetting rows: `rows` maps an API field name to
        (visibleToMembers, selfEditable); fields without a row take the defaults. SPEC §2.2. Pure."""
        visible = {f for f in PROFILE_FIELDS if rows.get(f, (f in DEFAULT_VISIBLE_TO_MEMBERS,))[0]}
        editable = {
            f for f in PROFILE_FIELDS if (rows[f][1] if f in rows else f in DEFAULT_SELF_EDITABLE)
        }
        return cls(frozenset(visible), frozenset(editable))


def _reads_whole_profile(viewer: Viewer, t: MemberFacts) -> bool:
    """V is T, or V administers T: every field, whatever T's corp shows its members."""
    return viewer.kind is ViewerKind.MEMBER and (viewer.member_id == t.id or scope.administers_member(viewer, t))


def _fields_of_any_member(viewer: Viewer, corp_id: int, settings: FieldSettings) -> frozenset[str]:
    """The fields viewer reads of any member of corp_id that it sees, whoever that member is
    (settings: corp_id's own)."""
    d = viewer.directory
    if viewer.kind is ViewerKind.APP:
        # An app acts for its corp: its own corp's members in full, others as any member would;
        # contact data always needs fields:sensitive.
        own = d is not None and d.reads_all and d.corp_id == corp_id
        base = frozenset(PROFILE_FIELDS) if own else settings.visible_to_members
        if not viewer.has_scope(AppScope.FIELDS_SENSITIVE):
            base -= SENSITIVE_FIELDS
        return base
    return settings.visible_to_members


def visible_fields(viewer: Viewer, t: MemberFacts, settings: FieldSettings) -> frozenset[str]:
    """The profile fields of t that viewer gets; the caller has already checked that viewer sees t.

    Settings are always those of t's own corp, also when viewed from another corp.
    """
    if _reads_whole_profile(viewer, t):
        return frozenset(PROFILE_FIELDS)
    return _fields_of_any_member(viewer, t.corp_id, settings)


def field_readable_q(viewer: Viewer, corp_id: int, settings: FieldSettings, field: str) -> Q | None:
    """SQL twin of `field in visible_fields(viewer, t, settings)` for the members t of corp_id
    (the caller keeps to that corp; settings are corp_id's). None when viewer reads the field
    of every one of them: no condition at all. The corp's settings are known before the
    query, so for most viewers this folds to a constant; only a member who does not read
    the field of everyone gets `id = <itself>`, or its admin ranges, as a condition."""
    if field in _fields_of_any_member(viewer, corp_id, settings):
        return None
    if viewer.kind is not ViewerKind.MEMBER:
        return NOTHING
    administered = scope.administers_q(viewer, corp_id)
    if administered is None:
        return None
    own = [Q(id=viewer.member_id)] if viewer.member_id is not None else []
    return any_of([*own, *([] if administered is NOTHING else [administered])])


def as_viewer_reads(viewer: Viewer, corp_id: int, settings: FieldSettings, field: str, test: Q) -> Q:
    """`test` on profile field `field` of corp_id's members, applied to the value as viewer
    reads it (SPEC §2.2): a field withheld from viewer counts as empty for that member, so
    the hidden value never narrows a list. This is `test` on
    `CASE WHEN <readable> THEN column END`; `test` must be one that no empty value passes
    (contains a non-empty text, equals a value), which makes it `<readable> AND test`.

    field: an API name of PROFILE_FIELDS; test: a Q on that field's column.
    """
    return as_viewer_reads_all(viewer, corp_id, settings, [(field, test)])


def as_viewer_reads_all(viewer: Viewer, corp_id: int, settings: FieldSettings, tests: list[tuple[str, Q]]) -> Q:
    """Every (field, test) of `tests`, each as_viewer_reads would write it, ANDed, with the
    readability condition written once: it is the same for every field the viewer does not
    read of everyone (itself, or the members it administers), so a search filtering on
    hire date from, hire date to and gender tests the viewer's admin range once per row,
    not three times. An empty list is no condition (Q())."""
    plain: list[Q] = []
    guarded: list[Q] = []
    guard: Q | None = None
    for field, test in tests:
        readable = field_readable_q(viewer, corp_id, settings, field)
        if readable is None:
            plain.append(test)
        elif readable is NOTHING:
            return NOTHING
        else:
            guard = readable  # the same condition for every such field (field_readable_q)
            guarded.append(test)
    parts = [*plain, *([guard, *guarded] if guard is not None else [])]
    return reduce(and_, parts) if parts else Q()


def hidden_fields(viewer: Viewer, t: MemberFacts, settings: FieldSettings) -> list[str]:
    """The profile fields of `t` withheld from the viewer, in PROFILE_FIELDS order: what the
    object's `hiddenFields` lists (SPEC §2.2). The caller has checked that the viewer sees `t`;
    `settings` are those of t's corp. Pure."""
    shown = visible_fields(viewer, t, settings)
    return [f for f in PROFILE_FIELDS if f not in shown]


def contact_shows_mobile(viewer: Viewer, chain_id: int, member_fields: frozenset[str] | None) -> bool:
    """A chain contact's mobile: chain admins see it (imported data they manage); anyone else
    only through the joined member's own field policy (the target corp's settings).
    member_fields: the fields the viewer gets of the linked member, None when it has none or
    does not see it. SPEC §2.2, §2.3. Pure."""
    by_standing = contact_mobile_by_standing(viewer, chain_id)
    if by_standing is not None:
        return by_standing
    return member_fields is not None and "mobile" in member_fields


def contact_mobile_by_standing(viewer: Viewer, chain_id: int) -> bool | None:
    """Whether the viewer gets the mobiles of chain `chain_id`'s contacts by its standing in
    the chain alone (its chain admins: True, or False for an app without fields:sensitive);
    None when each contact's linked member decides (contact_shows_mobile). Pure."""
    access = viewer.chain(chain_id)
    if access is not None and access.is_admin:
        return viewer.kind is not ViewerKind.APP or viewer.has_scope(AppScope.FIELDS_SENSITIVE)
    return None


def can_read_field_settings(viewer: Viewer, corp_id: int) -> bool:
    """A corp's field switches are its own business: readable from inside the corp only."""
    d = viewer.directory
    return d is not None and d.corp_id == corp_id
