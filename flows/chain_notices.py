"""Outbox rows the chain flows write: invitations and daily reminders to imported leaders,
approval requests to a corp's super admins. A dispatcher sends them; this module only
decides what is due when, and what a message needs to say.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from strawberry import relay

from models import ChainContact, ChainSpace, Corp, Member, Notification
from models.chain import JoinRequest
from models.directory import Person
from models.enums import AdminKind, ContactRole, MemberStatus
from models.settings import public_link

INVITATION = "CHAIN_INVITATION"
REMINDER = "CHAIN_REMINDER"
APPROVAL_REQUEST = "JOIN_APPROVAL_REQUEST"

# SPEC §3.2: a reminder every day for 7 days until the leader joins or declines.
REMINDER_DAYS = 7


def now() -> datetime:
    """The current time, timezone-aware UTC (the one clock notices and invitations use)."""
    return datetime.now(UTC)


def join_url(code: str) -> str:
    """Where a person opens an invitation or an import notification (the front end's join page)."""
    return public_link(f"/join/{code}")


def qr_url(code: str) -> str:
    """The public URL of the QR image (PNG) for invitation code `code` (SPEC §3.3)."""
    return public_link(f"/invitations/{code}/qr.png")


def _gid(type_name: str, pk: int) -> str:
    return str(relay.GlobalID(type_name, str(pk)))


@dataclass(frozen=True)
class LeaderInvite:
    """An imported leader who gets its invitation now (and so never had one before)."""

    contact_id: int
    mobile: str
    name: str
    role: ContactRole
    code: str
    corp_name: str


async def invite_leaders(leaders: Sequence[LeaderInvite], chain: ChainSpace, owner_name: str) -> None:
    """For each leader: the invitation now and a reminder on each of the next REMINDER_DAYS days."""
    start = now()
    rows: list[Notification] = []
    for leader in leaders:
        payload = {
            "chainId": _gid("ChainSpace", chain.id),
            "chainName": chain.name,
            "ownerCorpName": owner_name,
            "corpName": leader.corp_name,
            "contactName": leader.name,
            "role": leader.role.value,
            "code": leader.code,
            "joinUrl": join_url(leader.code),
        }
        rows += [
            Notification(
                kind=INVITATION if day == 0 else REMINDER,
                recipient_mobile=leader.mobile,
                chain_contact_id=leader.contact_id,
                payload=payload if day == 0 else {**payload, "day": day},
                due_at=start + timedelta(days=day),
            )
            for day in range(REMINDER_DAYS + 1)
        ]
    if rows:
        await Notification.bulk_create(rows)


INVITING = (INVITATION, REMINDER)
EVERY_KIND = (INVITATION, REMINDER, APPROVAL_REQUEST)


async def drop_unsent(contact_ids: Sequence[int], kinds: Sequence[str] = INVITING) -> int:
    """Messages about these contacts that no longer apply and were not sent yet: invitations
    and reminders once the person acted, approval requests once someone decided them."""
    if not contact_ids:
        return 0
    return await Notification.filter(chain_contact_id__in=list(contact_ids), kind__in=list(kinds), sent_at=None).delete()


async def request_approval(request: JoinRequest, contact: ChainContact, chain: ChainSpace) -> int:
    """One approval request to each active super admin of the corp the person would join."""
    corp = await Corp.get(id=request.corp_id)
    admins = await Member.filter(
        corp_id=request.corp_id,
        status=MemberStatus.ACTIVE.value,
        admin_grants__kind=AdminKind.SUPER_ADMIN.value,
    ).distinct()
    requester = None
    if request.requested_by_member_id is not None:
        requester = await Member.filter(id=request.requested_by_member_id).values_list("name", flat=True)
    elif request.requested_by_person_id is not None:
        requester = await Person.filter(id=request.requested_by_person_id).values_list("name", flat=True)
    payload = {
        "requestId": _gid("JoinRequest", request.id),
        "requestKind": request.kind.value,
        "chainId": _gid("ChainSpace", chain.id),
        "chainName": chain.name,
        "corpName": corp.name,
        "contactName": contact.name,
        "contactMobile": contact.mobile,
        "requestedBy": requester[0] if requester else contact.name,
    }
    await Notification.bulk_create(
        [
            Notification(
                kind=APPROVAL_REQUEST,
                chain_contact_id=contact.id,
                recipient_member_id=a.id,
                recipient_mobile=a.mobile,
                payload=payload,
                due_at=now(),
            )
            for a in admins
        ]
    )
    return len(admins)
