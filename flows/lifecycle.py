"""Resign, reinstate, disable, enable, delete (离职 / 复职 / 禁用 / 启用 / 删除, SPEC §1, §3.5).

Resigning is one status change: every view filters on status and every request re-reads the
member (auth/backend.py), so the member is gone from views and its tokens are refused on the
very next request without any cache to purge. Resigning and reinstating both end the member's
sessions (flows.sessions): a token from before the resignation stays dead after reinstatement.
Disabling (禁用) is the reversible twin without the handover: the member keeps its data, seats
and leadership but cannot sign in and is gone from every non-admin view (DISABLED is not a
listed status, permissions.scope.LISTED_STATUSES); disabling and enabling end its sessions.
"""

from __future__ import annotations

from datetime import UTC, datetime

from tortoise.transactions import in_transaction

from flows.audit import Origin, record
from flows.erasure import erase_traces
from flows.errors import FlowError
from flows.members import managed_member
from flows.sessions import ended_sessions
from models import AdminGrant, ChainCorp, ChainRule, Invitation, Member, OrgUnit, Placement
from models.enums import AdminKind, MemberStatus
from permissions.viewer import Viewer


async def _refuse_self_and_last_admin(viewer: Viewer, member: Member, what: str) -> None:
    """The early answer, before anything is applied; keep_an_active_super_admin decides again
    inside the change's transaction."""
    if member.id == viewer.member_id:
        raise FlowError("CANNOT_TARGET_SELF", f"You cannot {what} yourself.", "id")
    await keep_an_active_super_admin(member.corp_id, without_member=member.id)


async def keep_an_active_super_admin(
    corp_id: int, *, without_member: int | None = None, without_grant: int | None = None, field: str = "id"
) -> None:
    """LAST_SUPER_ADMIN unless the corp keeps an active super admin once `without_member`
    leaves (resigned, disabled, deleted) or `without_grant` is revoked. Called again inside
    the transaction that makes the change, first locking the corp's super-admin grants
    (FOR UPDATE on PostgreSQL; SQLite runs one writer at a time): two super admins removing
    each other at once are decided one after the other, and the second is refused."""
    grants = AdminGrant.filter(corp_id=corp_id, kind=AdminKind.SUPER_ADMIN.value)
    # Whole rows: Tortoise drops FOR UPDATE from a values_list query.
    held = {g.member_id for g in await grants.select_for_update()}
    if without_member is not None and without_member not in held and without_grant is None:
        return  # not a super admin: nothing to keep
    others = grants.filter(member__status=MemberStatus.ACTIVE.value)
    if without_member is not None:
        others = others.exclude(member_id=without_member)
    if without_grant is not None:
        others = others.exclude(id=without_grant)
    if not await others.exists():
        raise FlowError("LAST_SUPER_ADMIN", "A corp keeps at least one active super admin.", field)


async def resign_member(
    viewer: Viewer, member_id: int, *, handover_to: int | None = None, origin: Origin | None = None
) -> Member:
    """Resign member `member_id` (SPEC §3.5 离职): status RESIGNED, sessions ended, unit
    leadership dropped; with `handover_to`, its leaderships, chain-rule subjecthood, open
    invitations and invited corps pass to that active member of the same corp. Audited.
    Returns the member. Codes: NOT_FOUND (id, handoverTo: missing or not managed and outranked
    by the viewer), ALREADY_RESIGNED, CANNOT_TARGET_SELF, LAST_SUPER_ADMIN, INVALID_HANDOVER."""
    member, _ = await managed_member(viewer, member_id)
    if member.status is MemberStatus.RESIGNED:
        raise FlowError("ALREADY_RESIGNED", "This member has already resigned.", "id")
    await _refuse_self_and_last_admin(viewer, member, "resign")
    heir: Member | None = None
    if handover_to is not None:
        heir, _ = await managed_member(viewer, handover_to, "handoverTo")
        if heir.id == member.id or heir.corp_id != member.corp_id or heir.status is not MemberStatus.ACTIVE:
            raise FlowError("INVALID_HANDOVER", "Hand over to another active member of the same corp.", "handoverTo")

    before = member.status
    async with in_transaction():
        await keep_an_active_super_admin(member.corp_id, without_member=member.id)
        member.status = MemberStatus.RESIGNED
        member.resigned_at = datetime.now(UTC)
        member.update_from_dict(ended_sessions())
        await member.save(update_fields=["status", "resigned_at", "tokens_valid_after", "updated_at"])
        led = await Placement.filter(member_id=member.id, is_leader=True).values_list("unit_id", flat=True)
        await Placement.filter(member_id=member.id).update(is_leader=False)
        handed: dict[str, object] = {}
        if heir is not None:
            # 离职继承: leadership, chain-rule subjecthood, invitations and invited corps pass on.
            for unit_id in led:
                seat = await Placement.get_or_none(member_id=heir.id, unit_id=unit_id)
                if seat is None:
                    await Placement.create(member_id=heir.id, unit_id=unit_id, is_leader=True)
                else:
                    seat.is_leader = True
                    await seat.save(update_fields=["is_leader"])
            handed = {
                "handoverTo": heir.id,
                "units": list(led),
                "chainRules": await ChainRule.filter(subject_member_id=member.id).update(subject_member_id=heir.id),
                "invitations": await Invitation.filter(created_by_id=member.id, revoked_at=None).update(created_by_id=heir.id),
                "invitedCorps": await ChainCorp.filter(invited_by_id=member.id).update(invited_by_id=heir.id),
            }
        await record(viewer, "member.resign", "Member", member.id, corp_id=member.corp_id,
                     before={"status": before.value}, after={"status": "RESIGNED", **handed}, origin=origin)
    return member


async def reinstate_member(viewer: Viewer, member_id: int, *, origin: Origin | None = None) -> Member:
    """Back to ACTIVE in the units it had that still exist, else in the root unit."""
    member, _ = await managed_member(viewer, member_id)
    if member.status is not MemberStatus.RESIGNED:
        raise FlowError("NOT_RESIGNED", "Only a resigned member can be reinstated.", "id")
    async with in_transaction():
        member.status = MemberStatus.ACTIVE
        member.resigned_at = None
        member.update_from_dict(ended_sessions())
        await member.save(update_fields=["status", "resigned_at", "tokens_valid_after", "updated_at"])
        seats = await Placement.filter(member_id=member.id)
        if not seats:
            root = await OrgUnit.get(corp_id=member.corp_id, parent_id=None)
            await Placement.create(member_id=member.id, unit_id=root.id, is_main=True)
        elif not any(s.is_main for s in seats):
            seats[0].is_main = True
            await seats[0].save(update_fields=["is_main"])
        await record(viewer, "member.reinstate", "Member", member.id, corp_id=member.corp_id,
                     before={"status": "RESIGNED"},
                     after={"status": "ACTIVE", "units": [s.unit_id for s in seats] or ["root"]}, origin=origin)
    return member


async def _switch_status(viewer: Viewer, member: Member, to: MemberStatus, action: str, origin: Origin | None) -> None:
    """Apply a status change and end the member's sessions in one conditional UPDATE: a
    concurrent lifecycle change between the check and here (a resignation, say) is not
    overwritten (TRY_AGAIN), then audit it in the same transaction."""
    before = member.status
    change = {"status": to, **ended_sessions(), "updated_at": datetime.now(UTC)}
    async with in_transaction():
        if to is not MemberStatus.ACTIVE:
            await keep_an_active_super_admin(member.corp_id, without_member=member.id)
        changed = await Member.filter(id=member.id, status=before.value).update(**change)
        if not changed:
            raise FlowError("TRY_AGAIN", "This member was changed meanwhile; try again.", "id")
        member.update_from_dict(change)
        await record(viewer, action, "Member", member.id, corp_id=member.corp_id,
                     before={"status": before.value}, after={"status": to.value}, origin=origin)


async def disable_member(viewer: Viewer, member_id: int, *, origin: Origin | None = None) -> Member:
    """禁用 (disableMember, SPEC §1 DISABLED): an ACTIVE or PENDING member keeps its data, seats
    and leadership, but its tokens are refused at once, actAs finds nothing, and non-admins no
    longer see it (invisible ≡ nonexistent); its admins still list it with status DISABLED.

    Errors: NOT_FOUND (not a member the viewer manages), TARGET_OUTRANKS_YOU, ALREADY_DISABLED,
    ALREADY_RESIGNED (a resigned member is reinstated, not disabled), CANNOT_TARGET_SELF,
    LAST_SUPER_ADMIN, TRY_AGAIN (changed concurrently)."""
    member, _ = await managed_member(viewer, member_id)
    if member.status is MemberStatus.DISABLED:
        raise FlowError("ALREADY_DISABLED", "This member is already disabled.", "id")
    if member.status is MemberStatus.RESIGNED:
        raise FlowError("ALREADY_RESIGNED", "This member has resigned: reinstate it instead.", "id")
    await _refuse_self_and_last_admin(viewer, member, "disable")
    await _switch_status(viewer, member, MemberStatus.DISABLED, "member.disable", origin)
    return member


async def enable_member(viewer: Viewer, member_id: int, *, origin: Origin | None = None) -> Member:
    """启用 (enableMember): a DISABLED member is ACTIVE again in its seats. Its sessions end once
    more, as on reinstatement: a token from before it was disabled stays refused, and the member
    gets a fresh one through actAs.

    Errors: NOT_FOUND, TARGET_OUTRANKS_YOU, NOT_DISABLED, TRY_AGAIN."""
    member, _ = await managed_member(viewer, member_id)
    if member.status is not MemberStatus.DISABLED:
        raise FlowError("NOT_DISABLED", "Only a disabled member can be enabled.", "id")
    await _switch_status(viewer, member, MemberStatus.ACTIVE, "member.enable", origin)
    return member


async def delete_member(viewer: Viewer, member_id: int, *, origin: Origin | None = None) -> int:
    """Irreversible erasure (SPEC §3.5 deleteMember): the member row and its seats go, and every
    other copy of its personal data with them (flows.erasure: its chain contacts, notifications
    and webhook messages naming it); audit rows about it keep only a tombstone (ids, actions,
    times) with the personal values wiped. Returns `member_id`. Codes: NOT_FOUND,
    TARGET_OUTRANKS_YOU, CANNOT_TARGET_SELF, LAST_SUPER_ADMIN."""
    member, _ = await managed_member(viewer, member_id)
    await _refuse_self_and_last_admin(viewer, member, "delete")
    corp_id = member.corp_id
    async with in_transaction():
        await keep_an_active_super_admin(corp_id, without_member=member.id)
        contacts = await erase_traces(member)
        await member.delete()
        await record(viewer, "member.delete", "Member", member_id, corp_id=corp_id,
                     after={"erased": True, "chainContacts": len(contacts)}, origin=origin)
    return member_id
