"""Directory writes: corps, units, field settings, admin grants (members: flows/members.py).

Each flow runs one fixed sequence: load -> check (policy engine) -> validate -> apply -> audit.
Business failures raise FlowError inside the transaction, so nothing is half-applied.
"""

from __future__ import annotations

import unicodedata

from tortoise.transactions import in_transaction

from flows.access import named_rows
from flows.audit import Origin, record
from flows.errors import FlowError, Forbidden, NotFound
from flows.lifecycle import keep_an_active_super_admin
from flows.names import normalise_corp_name, search_keys
from models import AdminGrant, Corp, FieldSetting, Member, OrgUnit, Person, Placement
from models.enums import PROFILE_FIELDS, AdminKind, AdminRight, MemberStatus, Scope
from permissions import actions
from permissions.paths import make_path
from permissions.viewer import Viewer, ViewerKind

MAX_UNIT_DEPTH = 15
UNIT_NAME_FORBIDDEN = set('\\:*?"<>|')


def display_width(text: str) -> int:
    """Display columns: a wide (CJK) character counts 2."""
    return sum(2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1 for ch in text)


def validate_unit_name(name: str) -> str:
    """`name` stripped, once it is a valid unit name: not empty, at most 50 display columns (a
    CJK character counts 2), none of \\:*?"<>|. Code: INVALID_NAME (field `name`). SPEC §3.1."""
    name = name.strip()
    if not name:
        raise FlowError("INVALID_NAME", "A unit name may not be empty.", "name")
    if display_width(name) > 50:
        raise FlowError("INVALID_NAME", "A unit name is at most 50 columns (a CJK character counts 2).", "name")
    if UNIT_NAME_FORBIDDEN & set(name):
        raise FlowError("INVALID_NAME", 'A unit name may not contain any of \\:*?"<>|', "name")
    return name


async def create_corp(viewer: Viewer, name: str, short_name: str | None = None, *, origin: Origin | None = None) -> Member:
    """A person creates a corp: it gets a root unit, and the person becomes its first member and super admin."""
    if viewer.kind is not ViewerKind.PERSON or viewer.person_id is None:
        raise Forbidden("Only a person (person token) can create a corp.")
    name = name.strip()
    if not 1 <= len(name) <= 64:
        raise FlowError("INVALID_NAME", "A corp name has 1 to 64 characters.", "name")
    person = await Person.get(id=viewer.person_id)
    async with in_transaction():
        corp = await Corp.create(name=name, short_name=short_name, name_key=normalise_corp_name(name))
        root = await OrgUnit.create(corp=corp, name=name[:25], path="", scope=Scope.ALL)
        root.path = make_path(None, root.id)
        await root.save(update_fields=["path"])
        full, initials, first = search_keys(person.name or "")
        member = await Member.create(
            corp=corp,
            person=person,
            account=f"u{person.id}",
            account_key=f"u{person.id}",
            name=person.name or person.mobile,
            mobile=person.mobile,
            pinyin_full=full,
            pinyin_initials=initials,
            surname_initial=first,
        )
        await Placement.create(member=member, unit=root, is_main=True)
        await AdminGrant.create(corp=corp, member=member, kind=AdminKind.SUPER_ADMIN)
        await record(viewer, "corp.create", "Corp", corp.id, corp_id=corp.id, after={"name": name}, origin=origin)
    return member


async def create_org_unit(
    viewer: Viewer,
    parent_id: int,
    name: str,
    *,
    order: int = 0,
    scope: Scope = Scope.INHERIT,
    whitelist: list[int] | None = None,
    exclude: list[int] | None = None,
    origin: Origin | None = None,
) -> OrgUnit:
    """Create unit `name` under `parent_id` with its scope (SPEC §2.1: `scope`, and
    `whitelist`/`exclude` unit ids of the same corp), and audit it. Returns the new OrgUnit.
    Codes: NOT_FOUND (parentId: missing, or not a unit the viewer may manage), INVALID_NAME,
    UNIT_TOO_DEEP, UNKNOWN_UNIT (whitelist), DUPLICATE_NAME."""
    parent = await OrgUnit.get_or_none(id=parent_id)
    if parent is None or not actions.can_manage_directory_at(viewer, parent.corp_id, parent.path):
        raise NotFound("parentId")
    name = validate_unit_name(name)
    if parent.depth + 1 >= MAX_UNIT_DEPTH:
        raise FlowError("UNIT_TOO_DEEP", f"Units nest at most {MAX_UNIT_DEPTH} levels deep.", "parentId")
    listed = sorted(set(whitelist or []) | set(exclude or []))
    if listed and await OrgUnit.filter(id__in=listed, corp_id=parent.corp_id).count() != len(listed):
        raise FlowError("UNKNOWN_UNIT", "Whitelist and exclude name units of this corp.", "whitelist")
    async with in_transaction():
        if await OrgUnit.filter(parent_id=parent.id, name=name).exists():
            raise FlowError("DUPLICATE_NAME", "A sibling unit already has this name.", "name")
        unit = await OrgUnit.create(
            corp_id=parent.corp_id,
            parent=parent,
            path="",
            depth=parent.depth + 1,
            name=name,
            order=order,
            scope=scope,
            scope_whitelist=sorted(set(whitelist or [])),
            scope_exclude=sorted(set(exclude or [])),
        )
        unit.path = make_path(parent.path, unit.id)
        await unit.save(update_fields=["path"])
        await record(
            viewer, "unit.create", "OrgUnit", unit.id, corp_id=unit.corp_id,
            after={"name": name, "parent": parent.id, "scope": scope.value}, origin=origin,
        )
    return unit


async def set_field_settings(
    viewer: Viewer,
    corp_id: int,
    settings: dict[str, tuple[bool, bool]],
    *,
    search_by_mobile: bool | None = None,
    origin: Origin | None = None,
) -> None:
    """A corp's field switches (SPEC §2.2), field -> (visibleToMembers, selfEditable), and
    its switch for searching members by mobile (§3.7; None leaves it). Super admins only
    (NOT_FOUND for anyone else); UNKNOWN_FIELD for a field outside PROFILE_FIELDS."""
    if not actions.can_administer_corp(viewer, corp_id):
        raise NotFound("corpId")
    unknown = sorted(set(settings) - set(PROFILE_FIELDS))
    if unknown:
        raise FlowError("UNKNOWN_FIELD", f"Unknown profile field(s): {', '.join(unknown)}.", "settings")
    async with in_transaction():
        before: dict[str, object] = {
            f: [v, e]
            for f, v, e in await FieldSetting.filter(corp_id=corp_id).values_list("field", "visible_to_members", "self_editable")
        }
        after: dict[str, object] = {f: list(v) for f, v in settings.items()}
        for name, (visible, editable) in settings.items():
            await FieldSetting.update_or_create(
                corp_id=corp_id, field=name, defaults={"visible_to_members": visible, "self_editable": editable}
            )
        if search_by_mobile is not None:
            before["searchByMobile"] = await Corp.filter(id=corp_id).first().values_list("search_by_mobile", flat=True)
            after["searchByMobile"] = search_by_mobile
            await Corp.filter(id=corp_id).update(search_by_mobile=search_by_mobile)
        await record(
            viewer, "fieldSettings.set", "Corp", corp_id, corp_id=corp_id, before=before, after=after, origin=origin,
        )


async def grant_admin(
    viewer: Viewer,
    member_id: int,
    kind: AdminKind,
    *,
    unit_ids: list[int] | None = None,
    rights: list[AdminRight] | None = None,
    chain_id: int | None = None,
    group_ids: list[int] | None = None,
    origin: Origin | None = None,
) -> AdminGrant:
    """Super admins grant; a directory admin cannot grant admin rights (SPEC §2.4)."""
    member = await Member.get_or_none(id=member_id)
    if member is None or not actions.can_administer_corp(viewer, member.corp_id):
        raise NotFound("memberId")
    if member.status is not MemberStatus.ACTIVE:
        raise FlowError("MEMBER_NOT_ACTIVE", "Only active members can be admins.", "memberId")
    unit_ids = sorted(set(unit_ids or []))
    if kind is AdminKind.DIRECTORY_ADMIN:
        if not unit_ids:
            raise FlowError("RANGE_REQUIRED", "A directory admin needs at least one unit range.", "unitIds")
        await named_rows(OrgUnit, unit_ids, "unitIds", corp_id=member.corp_id)
    if kind is AdminKind.CHAIN_ADMIN:
        from models import ChainGroup, ChainSpace

        if chain_id is None or not await ChainSpace.filter(id=chain_id, owner_corp_id=member.corp_id).exists():
            raise NotFound("chainId")
        await named_rows(ChainGroup, group_ids or [], "groupIds", chain_id=chain_id)
    async with in_transaction():
        grant = await AdminGrant.create(
            corp_id=member.corp_id,
            member=member,
            kind=kind,
            unit_ids=unit_ids if kind is AdminKind.DIRECTORY_ADMIN else [],
            rights=sorted({r.value for r in (rights or [AdminRight.READ])}) if kind is AdminKind.DIRECTORY_ADMIN else [],
            chain_id=chain_id if kind is AdminKind.CHAIN_ADMIN else None,
            group_ids=sorted(set(group_ids or [])) if kind is AdminKind.CHAIN_ADMIN else [],
        )
        await record(
            viewer, "admin.grant", "Member", member.id, corp_id=member.corp_id,
            after={"kind": kind.value, "units": grant.unit_ids, "rights": grant.rights, "chain": chain_id},
            origin=origin,
        )
    return grant


async def revoke_admin(viewer: Viewer, grant_id: int, *, origin: Origin | None = None) -> int:
    """Super admins revoke grants; the corp's last active super admin grant stays."""
    grant = await AdminGrant.get_or_none(id=grant_id)
    if grant is None or not actions.can_administer_corp(viewer, grant.corp_id):
        raise NotFound("grantId")
    async with in_transaction():
        if grant.kind is AdminKind.SUPER_ADMIN:
            await keep_an_active_super_admin(grant.corp_id, without_grant=grant.id, field="grantId")
        await grant.delete()
        await record(
            viewer, "admin.revoke", "Member", grant.member_id, corp_id=grant.corp_id,
            before={"kind": grant.kind.value, "units": grant.unit_ids, "rights": grant.rights, "chain": grant.chain_id},
            origin=origin,
        )
    return grant_id
