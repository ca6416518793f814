"""Bringing a corp's other imported people in (SPEC §3.4): the first leader confirms them;
when that leader is not the corp's super admin, the super admins approve instead."""

from __future__ import annotations

from dataclasses import dataclass

from tortoise.transactions import in_transaction

from flows import chain_notices as notices
from flows.access import access_join_request
from flows.audit import Origin, record
from flows.chain_notices import now
from flows.chain_places import ensure_member, link_contact, open_request
from flows.errors import FlowError, NotFound
from models import ChainContact, ChainCorp, ChainSpace
from models.chain import JoinRequest, JoinRequestKind, JoinRequestStatus
from models.enums import ChainCorpStatus, ContactStatus
from permissions import actions
from permissions.viewer import Viewer, ViewerKind

# Contacts a confirmation can bring in; DECLINED people said no and must change their mind themselves.
CONFIRMABLE = (ContactStatus.IMPORTED, ContactStatus.INVITED, ContactStatus.PENDING_CONFIRM)


@dataclass
class Confirmation:
    """What confirming a join left behind: the contact, whether it joined now, and the approval request when one is pending (SPEC §3.4)."""

    contact_id: int
    joined: bool
    request: JoinRequest | None


async def confirm_chain_members(
    viewer: Viewer, chain_corp_id: int, contact_ids: list[int], *, origin: Origin | None = None
) -> list[Confirmation]:
    """The first leader (the member whose choice decided the place) or a super admin of the
    corp confirms imported colleagues: a super admin adds them to the corp and the chain at
    once; a leader who is not one opens approval requests to the super admins."""
    place = await ChainCorp.get_or_none(id=chain_corp_id)
    if (
        place is None
        or place.corp_id is None
        or place.status is not ChainCorpStatus.JOINED
        or viewer.kind is not ViewerKind.MEMBER
        or viewer.corp_id != place.corp_id
    ):
        raise NotFound("chainCorpId")
    is_admin = actions.can_decide_join_requests(viewer, place.corp_id)
    if not is_admin and viewer.member_id != place.decided_by_id:
        raise NotFound("chainCorpId")
    wanted = sorted(set(contact_ids))
    if not wanted:
        raise FlowError("CONTACTS_REQUIRED", "Name at least one contact to confirm.", "contactIds")
    chain = await ChainSpace.get(id=place.chain_id)
    out: list[Confirmation] = []
    async with in_transaction():
        contacts = await ChainContact.filter(id__in=wanted, chain_corp_id=place.id).select_for_update().order_by("id")
        if len(contacts) != len(wanted):
            raise NotFound("contactIds")
        for contact in contacts:
            if contact.status is ContactStatus.JOINED:
                out.append(Confirmation(contact.id, True, None))
                continue
            if contact.status not in CONFIRMABLE:
                raise FlowError(
                    "CONTACT_DECLINED", f"{contact.name} declined the invitation and must join by themselves.", "contactIds"
                )
            if is_admin:
                member = await ensure_member(viewer, place.corp_id, contact, origin=origin)
                await link_contact(contact.id, member.id, place.id, decided_by=viewer.member_id)
                out.append(Confirmation(contact.id, True, None))
            else:
                request, _ = await open_request(
                    contact, place, JoinRequestKind.CONFIRM, requested_by_member=viewer.member_id
                )
                out.append(Confirmation(contact.id, False, request))
        await record(
            viewer, "chain.confirmMembers", "ChainCorp", place.id, corp_id=chain.owner_corp_id,
            after={"contacts": wanted, "direct": is_admin}, origin=origin,
        )
    return out


async def approve_join_request(
    viewer: Viewer, request_id: int, approve: bool = True, *, origin: Origin | None = None
) -> JoinRequest:
    """A super admin of the corp lets the person in (corp member + chain contact JOINED) or not."""
    request = await access_join_request(viewer, request_id)
    chain = await ChainSpace.get(id=request.chain_id)
    async with in_transaction():
        # The conditional UPDATE is the decision: two admins clicking at once decide once.
        decided = await JoinRequest.filter(id=request.id, status=JoinRequestStatus.PENDING.value).update(
            status=(JoinRequestStatus.APPROVED if approve else JoinRequestStatus.REJECTED).value,
            open_key=None,
            decided_by_id=viewer.member_id,
            decided_at=now(),
        )
        if not decided:
            raise FlowError("REQUEST_CLOSED", "This request was already decided or withdrawn.", "id")
        contact = await ChainContact.filter(id=request.contact_id).select_for_update().get()
        if approve:
            member = await ensure_member(viewer, request.corp_id, contact, origin=origin)
            await link_contact(contact.id, member.id, request.chain_corp_id, decided_by=viewer.member_id)
        else:
            back = ContactStatus.INVITED if contact.invited_at is not None else ContactStatus.IMPORTED
            await ChainContact.filter(id=contact.id).update(status=back.value)
            await notices.drop_unsent([contact.id], [notices.APPROVAL_REQUEST])
        await record(
            viewer, "chain.approveJoin" if approve else "chain.rejectJoin", "JoinRequest", request.id,
            corp_id=request.corp_id, after={"contact": contact.id, "approved": approve}, origin=origin,
        )
        if chain.owner_corp_id != request.corp_id:
            # The chain's owner sees its chain change in its own audit trail too.
            await record(
                viewer, "chain.approveJoin" if approve else "chain.rejectJoin", "ChainContact", contact.id,
                corp_id=chain.owner_corp_id, after={"approved": approve}, origin=origin,
            )
    return await JoinRequest.get(id=request.id)
