"""Member writes: create, update (by an admin or by the member itself), batch move.

Same sequence as every flow: load -> check (permissions.actions) -> validate
(flows.profile) -> apply in one transaction -> audit.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any, cast

from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from flows.access import named_rows
from flows.audit import Origin, record
from flows.errors import FlowError, Forbidden, NotFound
from flows.names import search_keys
from flows.profile import ATTRIBUTES, clean_account, clean_profile, require_contact
from models import Member, OrgUnit, Placement
from models.enums import Gender, MemberStatus
from permissions import actions
from permissions.facts import MemberFacts
from permissions.loading import admin_standing, field_settings, member_facts
from permissions.viewer import Viewer, ViewerKind

AUDITED = ("name", "alias", "mobile", "email", "wechat_id", "telephone", "gender", "position", "address",
           "birthday", "hire_date", "hidden_from_directory")


@dataclass
class MemberInput:
    """A member's attributes as createMember takes them (SPEC §3.1's columns; unit ids are OrgUnit ids)."""

    account: str
    name: str
    unit_ids: list[int]
    main_unit_id: int | None = None
    alias: str | None = None
    mobile: str | None = None
    email: str | None = None
    wechat_id: str | None = None
    telephone: str | None = None
    gender: Gender = Gender.UNKNOWN
    position: str | None = None
    address: str | None = None
    birthday: date | None = None
    hire_date: date | None = None
    hidden_from_directory: bool = False
    leader_of: list[int] = field(default_factory=list)

    def profile(self) -> dict[str, Any]:
        """The profile part keyed by API field name (camelCase), as clean_profile takes it."""
        return {api: getattr(self, attr) for api, attr in ATTRIBUTES.items()}


def _snapshot(member: Member) -> dict[str, Any]:
    return {a: (v.isoformat() if isinstance(v, date) else getattr(v, "value", v))
            for a in AUDITED for v in [getattr(member, a)]}


def _search_fields(name: str) -> dict[str, str]:
    full, initials, first = search_keys(name)
    return {"pinyin_full": full, "pinyin_initials": initials, "surname_initial": first}


async def managed_units(viewer: Viewer, corp_id: int, unit_ids: list[int], field_name: str) -> list[OrgUnit]:
    """Units of the corp where the viewer may manage members; any other id is NOT_FOUND."""
    units = await named_rows(OrgUnit, unit_ids, field_name, corp_id=corp_id)
    if not all(actions.can_manage_directory_at(viewer, corp_id, u.path) for u in units):
        raise NotFound(field_name)
    return units


async def managed_member(viewer: Viewer, member_id: int, field_name: str = "id") -> tuple[Member, MemberFacts]:
    """The member, for a viewer that manages it (NOT_FOUND otherwise: it may not even see it)
    and outranks it (TARGET_OUTRANKS_YOU: the target is visible to an admin over its units,
    so naming the refusal leaks nothing)."""
    member = await Member.get_or_none(id=member_id)
    facts = (await member_facts([member])).get(member_id) if member is not None else None
    if member is None or facts is None or not actions.can_manage_member(viewer, facts):
        raise NotFound(field_name)
    if not actions.outranks(viewer, await admin_standing(member.corp_id, member.id)):
        raise FlowError(
            "TARGET_OUTRANKS_YOU", "This member holds admin rights you do not hold: ask a super admin.", field_name
        )
    return member, facts


async def require_free_mobile(corp_id: int, mobile: str | None, member_id: int | None = None) -> None:
    """DUPLICATE_MOBILE when another member of the corp (resigned ones included) holds the number."""
    if mobile is None:
        return
    if await Member.filter(corp_id=corp_id, mobile=mobile).exclude(id=member_id or 0).exists():
        raise FlowError("DUPLICATE_MOBILE", "Another member of this corp has this mobile.", "mobile")


def refuse_rebinding(member: Member, mobile: str | None) -> None:
    """MOBILE_BOUND: an activated member's mobile names the person it is bound to (SPEC §1);
    only the member changes it, proving the new number (changeMyMobile). Email and the other
    fields carry no identity: no token is derived from them."""
    if member.person_id is not None and mobile != member.mobile:
        raise FlowError(
            "MOBILE_BOUND",
            "This member is activated: its mobile is changed by the member itself (changeMyMobile).",
            "mobile",
        )


async def set_units(member: Member, unit_ids: list[int], main_id: int | None, leader_of: list[int] = ()) -> None:  # type: ignore[assignment]
    """Replace a member's seats; leadership is kept for units it still sits in."""
    ordered = list(dict.fromkeys(unit_ids))
    main = main_id if main_id in ordered else ordered[0]
    leading = set(leader_of) | set(
        await Placement.filter(member_id=member.id, is_leader=True, unit_id__in=ordered).values_list("unit_id", flat=True)
    )
    await Placement.filter(member_id=member.id).delete()
    await Placement.bulk_create(
        [Placement(member_id=member.id, unit_id=u, is_main=(u == main), is_leader=(u in leading)) for u in ordered]
    )


async def create_member(viewer: Viewer, corp_id: int, data: MemberInput, *, origin: Origin | None = None) -> Member:
    """Create member `data` in corp `corp_id`, seated in `data.unit_ids` (all units the viewer
    manages), and audit it (SPEC §3.1, §2.4). Returns the new ACTIVE member. Codes:
    UNIT_REQUIRED, NOT_FOUND (unitIds), INVALID_ACCOUNT, the profile codes of clean_profile
    (UNKNOWN_FIELD, INVALID_*, TOO_LONG), CONTACT_REQUIRED, DUPLICATE_ACCOUNT, DUPLICATE_MOBILE."""
    if not data.unit_ids:
        raise FlowError("UNIT_REQUIRED", "A member sits in at least one unit.", "unitIds")
    await managed_units(viewer, corp_id, data.unit_ids, "unitIds")
    account = clean_account(data.account)
    attrs = clean_profile(data.profile())
    require_contact(attrs["mobile"], attrs["email"], attrs["wechat_id"])
    try:
        async with in_transaction():
            if await Member.filter(corp_id=corp_id, account_key=account.lower()).exists():
                raise FlowError("DUPLICATE_ACCOUNT", "This account is taken in this corp (accounts ignore case).", "account")
            await require_free_mobile(corp_id, attrs["mobile"])
            member = await Member.create(
                corp_id=corp_id, account=account, account_key=account.lower(), status=MemberStatus.ACTIVE,
                **attrs, **cast(dict[str, Any], _search_fields(attrs["name"])),
            )
            await set_units(member, data.unit_ids, data.main_unit_id, data.leader_of)
            await record(
                viewer, "member.create", "Member", member.id, corp_id=corp_id,
                after={"account": account, **_snapshot(member), "units": data.unit_ids}, origin=origin,
            )
    except IntegrityError as exc:
        raise await _clash(corp_id, account, attrs["mobile"]) from exc
    return member


async def update_member(
    viewer: Viewer,
    member_id: int,
    changes: dict[str, Any],
    *,
    account: str | None = None,
    unit_ids: list[int] | None = None,
    main_unit_id: int | None = None,
    origin: Origin | None = None,
) -> Member:
    """An admin edits a member. The account is immutable (ACCOUNT_IMMUTABLE)."""
    member, _ = await managed_member(viewer, member_id)
    if account is not None and account.strip() != member.account:
        raise FlowError("ACCOUNT_IMMUTABLE", "An account cannot be changed once set.", "account")
    if unit_ids is not None:
        if not unit_ids:
            raise FlowError("UNIT_REQUIRED", "A member sits in at least one unit.", "unitIds")
        await managed_units(viewer, member.corp_id, unit_ids, "unitIds")
    return await _apply_changes(viewer, member, changes, unit_ids, main_unit_id, "member.update", origin)


async def update_my_profile(viewer: Viewer, changes: dict[str, Any], *, origin: Origin | None = None) -> Member:
    """A member edits its own profile: only the fields its corp marks self-editable."""
    if viewer.kind is not ViewerKind.MEMBER or viewer.member_id is None:
        raise Forbidden("Only a member (member token) has a profile.")
    settings = (await field_settings([viewer.corp_id or 0]))[viewer.corp_id or 0]
    for name in changes:
        if name not in settings.self_editable:
            raise FlowError("FIELD_NOT_EDITABLE", f"{name} is not editable by members of this corp.", name)
    member = await Member.get(id=viewer.member_id)
    return await _apply_changes(viewer, member, changes, None, None, "member.updateProfile", origin)


async def _apply_changes(
    viewer: Viewer,
    member: Member,
    changes: dict[str, Any],
    unit_ids: list[int] | None,
    main_unit_id: int | None,
    action: str,
    origin: Origin | None,
) -> Member:
    attrs = clean_profile(changes)
    if "mobile" in attrs:
        refuse_rebinding(member, attrs["mobile"])
    before = _snapshot(member)
    for attr, value in attrs.items():
        setattr(member, attr, value)
    require_contact(member.mobile, member.email, member.wechat_id)
    if "name" in attrs:
        for attr, value in _search_fields(member.name).items():
            setattr(member, attr, value)
    try:
        async with in_transaction():
            if "mobile" in attrs:
                await require_free_mobile(member.corp_id, member.mobile, member.id)
            await member.save()
            if unit_ids is not None:
                await set_units(member, unit_ids, main_unit_id)
            after = _snapshot(member)
            diff_before = {k: v for k, v in before.items() if after[k] != v}
            diff_after = {k: after[k] for k in diff_before}
            if unit_ids is not None:
                diff_after["units"] = unit_ids
            await record(viewer, action, "Member", member.id, corp_id=member.corp_id,
                          before=diff_before, after=diff_after, origin=origin)
    except IntegrityError as exc:
        raise await _clash(member.corp_id, None, member.mobile) from exc
    return member


async def _clash(corp_id: int, account: str | None, mobile: str | None) -> FlowError:
    """The unique key a concurrent writer took between our check and our write."""
    if account is not None and await Member.filter(corp_id=corp_id, account_key=account.lower()).exists():
        return FlowError("DUPLICATE_ACCOUNT", "This account is taken in this corp (accounts ignore case).", "account")
    return FlowError("DUPLICATE_MOBILE", "Another member of this corp has this mobile.", "mobile")


async def move_members(
    viewer: Viewer,
    member_ids: list[int],
    to_unit_id: int,
    *,
    from_unit_id: int | None = None,
    origin: Origin | None = None,
) -> list[Member]:
    """Batch move, all or nothing. With `from_unit_id` only that seat moves; otherwise the
    target becomes the member's only (main) unit."""
    if not member_ids:
        raise FlowError("MEMBERS_REQUIRED", "Name at least one member to move.", "memberIds")
    target = await OrgUnit.get_or_none(id=to_unit_id)
    if target is None or not actions.can_manage_directory_at(viewer, target.corp_id, target.path):
        raise NotFound("toUnitId")
    members = [(await managed_member(viewer, i, "memberIds"))[0] for i in dict.fromkeys(member_ids)]
    if any(m.corp_id != target.corp_id for m in members):
        raise NotFound("memberIds")
    async with in_transaction():
        for m in members:
            seats = await Placement.filter(member_id=m.id).order_by("-is_main", "id").values_list("unit_id", "is_main")
            current = [u for u, _ in seats]
            main = next((u for u, is_main in seats if is_main), None)
            if from_unit_id is not None:
                if from_unit_id not in current:
                    raise FlowError("NOT_IN_UNIT", f"Member {m.account} does not sit in the unit to move from.", "fromUnitId")
                units = [to_unit_id if u == from_unit_id else u for u in current]
                new_main = to_unit_id if main == from_unit_id else main
            else:
                units, new_main = [to_unit_id], to_unit_id
            await set_units(m, units, new_main)
            await record(viewer, "member.move", "Member", m.id, corp_id=m.corp_id,
                         before={"units": current}, after={"units": list(dict.fromkeys(units))}, origin=origin)
    return members
