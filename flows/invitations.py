"""Invitations into a chain (SPEC §3.3) and opening a join code.

A code is either an Invitation (a link or QR code anyone may open) or the personal
`join_code` of an imported contact (the link in its notification). Expiry is computed from
the chain's *current* importOnly setting, so switching it on extends live links at once.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import Enum
from typing import cast

from tortoise import fields
from tortoise.transactions import in_transaction

from flows.access import access_invitation
from flows.audit import Origin, record
from flows.chain_notices import now
from flows.errors import FlowError, Forbidden, NotFound
from models import ChainContact, ChainGroup, ChainSpace, Corp, Invitation, Member
from models.enums import ChainCorpStatus, ContactRole, ContactStatus, MemberStatus
from permissions import actions
from permissions.chain import can_see_chain, can_see_group
from permissions.facts import GroupFacts
from permissions.viewer import Viewer

VALID_DAYS = 7
VALID_DAYS_IMPORT_ONLY = 90
CODE_MAX_LENGTH = int(cast(fields.CharField[str], Invitation._meta.fields_map["code"]).max_length)


class InvitationState(str, Enum):
    """Whether an invitation still admits: ACTIVE, or why not (SPEC §3.3)."""

    ACTIVE = "ACTIVE"
    EXPIRED = "EXPIRED"
    REVOKED = "REVOKED"
    CREATOR_RESIGNED = "CREATOR_RESIGNED"


# The refusal each unusable state gets when someone opens the code.
REFUSALS: dict[InvitationState, tuple[str, str]] = {
    InvitationState.EXPIRED: ("INVITATION_EXPIRED", "This invitation has expired; ask for a new one."),
    InvitationState.REVOKED: ("INVITATION_REVOKED", "This invitation was withdrawn."),
    InvitationState.CREATOR_RESIGNED: (
        "INVITER_RESIGNED", "Whoever created this invitation has left their corp; ask for a new one."
    ),
}


def new_code() -> str:
    """A fresh invitation code: 18 random bytes, URL-safe base64 (24 characters)."""
    return secrets.token_urlsafe(18)


def plausible_code(code: str) -> bool:
    """Whether `code` could be a join code at all (the code columns hold 64 characters, and
    no text column may hold NUL): anything else is an unknown code, never a database error."""
    return 0 < len(code) <= CODE_MAX_LENGTH and "\x00" not in code


def validity(chain: ChainSpace) -> timedelta:
    """How long an invitation of `chain` stays valid: 90 days in import-only chains, else 7 (SPEC §3.3)."""
    return timedelta(days=VALID_DAYS_IMPORT_ONLY if chain.import_only else VALID_DAYS)


def expires_at(issued_at: datetime, chain: ChainSpace) -> datetime:
    """When an invitation of `chain` issued at `issued_at` expires (see validity)."""
    return issued_at + validity(chain)


def invitation_state(inv: Invitation, chain: ChainSpace, creator_status: MemberStatus, at: datetime) -> InvitationState:
    """Revoked first, then a dead creator, then time: the most specific reason wins."""
    if inv.revoked_at is not None:
        return InvitationState.REVOKED
    if creator_status is not MemberStatus.ACTIVE:
        return InvitationState.CREATOR_RESIGNED
    if at >= expires_at(inv.created_at, chain):
        return InvitationState.EXPIRED
    return InvitationState.ACTIVE


async def joined_leader_group_path(member_id: int | None, chain_id: int) -> str | None:
    """The group of the member's corp when the member is a JOINED leader of it in this chain."""
    if member_id is None:
        return None
    rows = cast(list[str], await ChainContact.filter(
        chain_id=chain_id,
        member_id=member_id,
        role=ContactRole.LEADER.value,
        status=ContactStatus.JOINED.value,
        chain_corp__status=ChainCorpStatus.JOINED.value,
    ).values_list("chain_corp__group__path", flat=True))
    return rows[0] if rows else None


async def create_invitation(
    viewer: Viewer, chain_id: int, group_id: int | None = None, *, origin: Origin | None = None
) -> Invitation:
    """Chain admins invite anywhere in their range; a joined leader into its own group
    (its own group is also the default when it names none)."""
    if not can_see_chain(viewer, chain_id):
        raise NotFound("chainId")
    chain = await ChainSpace.get(id=chain_id)
    leader_path = await joined_leader_group_path(viewer.member_id, chain_id)
    access = viewer.chain(chain_id)
    group: ChainGroup | None
    if group_id is not None:
        group = await ChainGroup.get_or_none(id=group_id, chain_id=chain_id)
        if group is None or not can_see_group(viewer, GroupFacts(group.id, group.chain_id, group.path)):
            raise NotFound("groupId")
    elif leader_path is not None and not (access is not None and access.admin_all):
        group = await ChainGroup.get(chain_id=chain_id, path=leader_path)
    else:
        group = await ChainGroup.get(chain_id=chain_id, parent_id=None)
    if not actions.can_invite(viewer, chain_id, group.path, own_leader_group_path=leader_path):
        raise Forbidden("You may not invite into this group.", "groupId")
    async with in_transaction():
        inv = await Invitation.create(
            chain_id=chain_id,
            # An invitation into the root group is an invitation into the chain as a whole.
            group_id=group.id if group.parent_id is not None else None,
            code=new_code(),
            created_by_id=viewer.member_id,
        )
        await record(
            viewer, "invitation.create", "Invitation", inv.id, corp_id=chain.owner_corp_id,
            after={"group": inv.group_id}, origin=origin,
        )
    return inv


async def revoke_invitation(viewer: Viewer, invitation_id: int, *, origin: Origin | None = None) -> Invitation:
    """Its creator or a chain admin over its group withdraws it; the code stops working at once."""
    inv = await access_invitation(viewer, invitation_id)
    chain = await ChainSpace.get(id=inv.chain_id)
    async with in_transaction():
        revoked = await Invitation.filter(id=inv.id, revoked_at=None).update(revoked_at=now())
        if not revoked:
            raise FlowError("ALREADY_REVOKED", "This invitation was already withdrawn.", "id")
        await record(viewer, "invitation.revoke", "Invitation", inv.id, corp_id=chain.owner_corp_id, origin=origin)
    return await Invitation.get(id=inv.id)


@dataclass
class Entry:
    """What a code opens: a chain, maybe a group, and the invitation or personal link behind it."""

    chain: ChainSpace
    group: ChainGroup | None
    invitation: Invitation | None
    contact: ChainContact | None
    expires_at: datetime
    # The corp of the invitation's creator (an owner member becomes the joiner's connector).
    creator_corp_id: int | None = None


async def open_code(code: str) -> Entry:
    """Resolve a join code; unknown codes are NOT_FOUND, unusable ones get their own refusal."""
    code = code.strip()
    if not plausible_code(code):
        raise NotFound("code")
    inv = await Invitation.get_or_none(code=code).prefetch_related("chain", "group")
    if inv is not None:
        creator = await Member.get(id=inv.created_by_id)
        state = invitation_state(inv, inv.chain, creator.status, now())
        if state is not InvitationState.ACTIVE:
            raise FlowError(*REFUSALS[state], "code")
        return Entry(inv.chain, inv.group, inv, None, expires_at(inv.created_at, inv.chain), creator.corp_id)
    contact = await ChainContact.get_or_none(join_code=code).prefetch_related("chain")
    if contact is None:
        raise NotFound("code")
    issued = contact.invited_at or contact.created_at
    if now() >= expires_at(issued, contact.chain):
        raise FlowError(*REFUSALS[InvitationState.EXPIRED], "code")
    return Entry(contact.chain, None, None, contact, expires_at(issued, contact.chain))


@dataclass(frozen=True)
class Landing:
    """What the public join page (GET /join/{code}) shows of a code, to whoever holds it.

    The code is the secret, as for its QR code. A personal notification code shows nothing
    personal (no contact name, no imported corp): someone else who holds it could read it."""

    state: InvitationState
    chain_name: str
    owner_name: str
    # Who invites: the invitation's creator and its corp; for a personal code, the owner corp.
    inviter_name: str | None
    inviter_corp_name: str
    # The group an invitation leads into; None: the chain as a whole (or a personal code).
    group_name: str | None
    expires_at: datetime
    personal: bool
    import_only: bool


async def landing(code: str) -> Landing | None:
    """The join page's facts for a code, in any state; None for a code that names nothing."""
    code = code.strip()
    if not plausible_code(code):
        return None
    inv = await Invitation.get_or_none(code=code).prefetch_related("chain", "group")
    if inv is not None:
        creator = await Member.get(id=inv.created_by_id).prefetch_related("corp")
        owner = await Corp.get(id=inv.chain.owner_corp_id)
        return Landing(
            invitation_state(inv, inv.chain, creator.status, now()), inv.chain.name, owner.name, creator.name,
            creator.corp.name, inv.group.name if inv.group is not None else None,
            expires_at(inv.created_at, inv.chain), False, inv.chain.import_only,
        )
    contact = await ChainContact.get_or_none(join_code=code).prefetch_related("chain")
    if contact is None:
        return None
    owner = await Corp.get(id=contact.chain.owner_corp_id)
    until = expires_at(contact.invited_at or contact.created_at, contact.chain)
    state = InvitationState.EXPIRED if now() >= until else InvitationState.ACTIVE
    return Landing(state, contact.chain.name, owner.name, None, owner.name, None, until, True, contact.chain.import_only)
