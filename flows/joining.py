"""Joining a chain (SPEC §3.4): which corp identity a person must or may join as, and the join.

The three matching rules, for a person imported into place C of the chain:
1. C's corp is already decided (C is JOINED — matched by customCorpId at import, or chosen
   by an earlier leader), or C's imported name is the full or short name of a corp JOINED
   in the chain → the person joins as that corp; a non-member needs its super admins' approval.
2. else C's imported name is the name of a corp the person belongs to → it joins as that corp.
3. else it picks one of its corp identities, or creates a corp (default: the imported name).
Only a LEADER decides (rules 2, 3) or asks to be let in (rule 1); a MEMBER waits for the
first leader's confirmation. When several leaders decide at once, the first conditional
UPDATE of C wins; the others plan again and attach to the winner (see chain_places).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import cast

from tortoise.exceptions import IntegrityError, OperationalError
from tortoise.transactions import in_transaction

from flows import chain_notices as notices
from flows.audit import Origin, record
from flows.chain_notices import now
from flows.chain_places import (
    Retry,
    absorb_namesakes,
    compatible_ids,
    corp_name_keys,
    joined_namesake,
    link_contact,
    merge_place,
    open_request,
)
from flows.directory import create_corp
from flows.errors import FlowError, NotFound
from flows.identity import active_identities, bind, identity_member
from flows.invitations import Entry, open_code
from models import AdminGrant, ChainContact, ChainCorp, ChainGroup, Corp, Member, Person
from models.chain import JoinRequest, JoinRequestKind, JoinRequestStatus
from models.enums import AdminKind, ChainCorpStatus, ContactRole, ContactStatus
from permissions.viewer import Viewer, ViewerKind

# How often a join is planned again after losing a race before giving up.
MAX_ATTEMPTS = 5


class JoinRule(str, Enum):
    """Which join path applies to a person opening an invitation (SPEC §3.4), decided by the join plan."""

    ALREADY_JOINED = "ALREADY_JOINED"
    AWAITING_APPROVAL = "AWAITING_APPROVAL"
    MUST_JOIN_CHAIN_CORP = "MUST_JOIN_CHAIN_CORP"
    MUST_JOIN_OWN_CORP = "MUST_JOIN_OWN_CORP"
    CHOOSE_OR_CREATE = "CHOOSE_OR_CREATE"
    WAIT_FOR_LEADER = "WAIT_FOR_LEADER"


class JoinOutcome(str, Enum):
    """How a join ended: joined now, or waiting for a super admin's approval (SPEC §3.4)."""

    JOINED = "JOINED"
    PENDING_APPROVAL = "PENDING_APPROVAL"


@dataclass(frozen=True)
class Identity:
    """One of the person's corp identities (an ACTIVE member with its mobile)."""

    corp: Corp
    member_id: int
    is_super_admin: bool


@dataclass
class JoinPlan:
    """What the join page shows and confirming will do, for one person and one invitation (SPEC §3.4)."""

    entry: Entry
    person: Person
    contact: ChainContact | None
    place: ChainCorp | None
    rule: JoinRule
    identities: list[Identity]
    required_corp: Corp | None = None
    # Rule 1 by name: the JOINED place this person's imported place folds into.
    merge_into: ChainCorp | None = None
    default_corp_name: str | None = None
    needs_approval: bool = False


@dataclass
class Choice:
    """The person's choice on confirming: an existing corp of theirs (`corp_id`), or a new corp's names."""

    corp_id: int | None = None
    new_corp_name: str | None = None
    new_corp_short_name: str | None = None


@dataclass
class JoinResult:
    """What confirming a join did (SPEC §3.4): outcome, contact, place, corp and, when joined, the member."""

    outcome: JoinOutcome
    contact_id: int
    place_id: int
    corp: Corp
    member_id: int | None = None
    request: JoinRequest | None = None
    # Whether that member is a super admin of `corp` (a new corp's creator is).
    is_super_admin: bool = False


async def require_person(viewer: Viewer) -> Person:
    """The Person behind a person token. Code: PERSON_TOKEN_REQUIRED for any other viewer (SPEC §3.4)."""
    if viewer.kind is not ViewerKind.PERSON or viewer.person_id is None:
        raise FlowError("PERSON_TOKEN_REQUIRED", "Joining a chain needs a person token.")
    return await Person.get(id=viewer.person_id)


async def identities_of(person: Person) -> list[Identity]:
    """The person's identities: its ACTIVE member in each corp (see flows.identity), with the
    corp and whether that member is a super admin there. Empty when it has none."""
    members = await active_identities(person)
    if not members:
        return []
    corps = {c.id: c for c in await Corp.filter(id__in=[m.corp_id for m in members])}
    admins = set(cast(list[int],
        await AdminGrant.filter(
            member_id__in=[m.id for m in members], kind=AdminKind.SUPER_ADMIN.value
        ).values_list("member_id", flat=True)
    ))
    return [Identity(corps[m.corp_id], m.id, m.id in admins) for m in members]


async def plan_join(viewer: Viewer, code: str) -> JoinPlan:
    """Read-only: what `joinChain` would do for this person with this code (previewJoin)."""
    person = await require_person(viewer)
    entry = await open_code(code)
    if entry.contact is not None and entry.contact.mobile != person.mobile:
        # A notification link is personal: for anyone else it opens nothing.
        raise NotFound("code")
    contact, place = await _contact_and_place(entry.chain.id, person.mobile)
    identities = await identities_of(person)
    if contact is None or place is None:
        if entry.chain.import_only:
            raise FlowError("IMPORT_ONLY", "Only corps imported by the chain's owner may join this chain.", "code")
        return JoinPlan(entry, person, None, None, JoinRule.CHOOSE_OR_CREATE, identities)
    if contact.status is ContactStatus.REMOVED or place.status is ChainCorpStatus.REMOVED:
        raise FlowError("REMOVED_FROM_CHAIN", "You were removed from this chain.", "code")
    plan = JoinPlan(entry, person, contact, place, JoinRule.CHOOSE_OR_CREATE, identities)
    if place.corp_id is not None:
        plan.required_corp = await Corp.get(id=place.corp_id)
    if contact.status is ContactStatus.JOINED:
        plan.rule = JoinRule.ALREADY_JOINED
        return plan
    if await JoinRequest.filter(contact_id=contact.id, status=JoinRequestStatus.PENDING.value).exists():
        plan.rule = JoinRule.AWAITING_APPROVAL
        return plan
    if place.status is ChainCorpStatus.JOINED:
        plan.rule = JoinRule.MUST_JOIN_CHAIN_CORP
    elif (namesake := await joined_namesake(place)) is not None:
        plan.rule, plan.merge_into = JoinRule.MUST_JOIN_CHAIN_CORP, namesake
        plan.required_corp = await Corp.get(id=namesake.corp_id)
    elif own := [
        i for i in identities
        if place.name_key in corp_name_keys(i.corp) and i.corp.id != entry.chain.owner_corp_id
    ]:
        plan.rule, plan.required_corp = JoinRule.MUST_JOIN_OWN_CORP, own[0].corp
    else:
        plan.default_corp_name = place.imported_name
    if plan.rule is JoinRule.MUST_JOIN_CHAIN_CORP:
        assert plan.required_corp is not None
        plan.needs_approval = plan.required_corp.id not in {i.corp.id for i in identities}
    if contact.role is ContactRole.MEMBER:
        # Only a leader decides the corp identity or asks in; a member is confirmed by the first leader.
        plan.rule = JoinRule.WAIT_FOR_LEADER
    return plan


async def _contact_and_place(chain_id: int, mobile: str) -> tuple[ChainContact | None, ChainCorp | None]:
    """The person's contact in the chain and its place, read consistently: a place folded into
    another between the two reads has moved the contact, so read again."""
    for _ in range(MAX_ATTEMPTS):
        contact = await ChainContact.get_or_none(chain_id=chain_id, mobile=mobile)
        if contact is None:
            return None, None
        place = await ChainCorp.get_or_none(id=contact.chain_corp_id)
        if place is not None:
            return contact, place
    raise FlowError("TRY_AGAIN", "The chain changed while you were joining; try again.")


async def join_chain(viewer: Viewer, code: str, choice: Choice, *, origin: Origin | None = None) -> JoinResult:
    """Join as the plan says; a lost race (another leader decided first) means: plan again.
    The chain's owner corp is refused (OWNER_CORP_CANNOT_JOIN); the result says whether the
    person is a super admin of the corp it joined as."""
    for attempt in range(1, MAX_ATTEMPTS + 1):
        plan = await plan_join(viewer, code)
        try:
            result = await _carry_out(viewer, plan, choice, origin)
        except (Retry, IntegrityError, OperationalError):
            # IntegrityError: a unique index caught a concurrent twin; OperationalError: a
            # deadlock victim. Either way the transaction rolled back and nothing was applied.
            if attempt == MAX_ATTEMPTS:
                raise FlowError("TRY_AGAIN", "The chain changed while you were joining; try again.") from None
            continue
        if result.member_id is not None:
            result.is_super_admin = await AdminGrant.exists(
                member_id=result.member_id, corp_id=result.corp.id, kind=AdminKind.SUPER_ADMIN.value
            )
        return result
    raise AssertionError("unreachable")


def _refuse_owner(plan: JoinPlan, corp_id: int | None) -> None:
    """The chain's owner corp runs the chain: it is never also one of its downstream corps."""
    if corp_id == plan.entry.chain.owner_corp_id:
        raise FlowError(
            "OWNER_CORP_CANNOT_JOIN",
            "This corp owns the chain: it cannot also join it as a downstream corp. Choose another corp or create one.",
            "corpId",
        )


async def _carry_out(viewer: Viewer, plan: JoinPlan, choice: Choice, origin: Origin | None) -> JoinResult:
    if plan.rule is JoinRule.ALREADY_JOINED:
        raise FlowError("ALREADY_JOINED", "You have already joined this chain.", "code")
    if plan.rule is JoinRule.WAIT_FOR_LEADER:
        raise FlowError(
            "NEEDS_LEADER_CONFIRMATION",
            "You were imported as a member: the first leader of your corp to join confirms you.",
            "code",
        )
    if plan.rule is JoinRule.AWAITING_APPROVAL:
        assert plan.contact is not None and plan.place is not None and plan.required_corp is not None
        request = await JoinRequest.get_or_none(contact_id=plan.contact.id, status=JoinRequestStatus.PENDING.value)
        if request is None:
            raise Retry()  # decided since the plan was read
        return JoinResult(JoinOutcome.PENDING_APPROVAL, plan.contact.id, plan.place.id, plan.required_corp, request=request)
    if plan.rule in (JoinRule.MUST_JOIN_CHAIN_CORP, JoinRule.MUST_JOIN_OWN_CORP):
        _refuse_owner(plan, plan.required_corp.id if plan.required_corp else None)
    else:
        _refuse_owner(plan, choice.corp_id)
    if plan.rule is JoinRule.MUST_JOIN_CHAIN_CORP:
        # The corp is decided (by rule 1, or by a leader who came first): whatever this person
        # chose, it attaches to that corp. A choice planned before a lost race lands here too.
        return await _attach(viewer, plan, origin)
    if plan.rule is JoinRule.MUST_JOIN_OWN_CORP:
        assert plan.required_corp is not None
        if choice.new_corp_name or choice.corp_id not in (None, plan.required_corp.id):
            raise FlowError(
                "MUST_JOIN_AS", f"The imported corp name matches {plan.required_corp.name}: join as that corp.", "corpId"
            )
        return await _decide(viewer, plan, Choice(corp_id=plan.required_corp.id), origin)
    _check_choice(plan, choice)
    if plan.contact is None:
        return await _join_uninvited(viewer, plan, choice, origin)
    return await _decide(viewer, plan, choice, origin)


def _check_choice(plan: JoinPlan, choice: Choice) -> None:
    if (choice.corp_id is None) == (choice.new_corp_name is None):
        raise FlowError("IDENTITY_REQUIRED", "Choose one of your corps (corpId) or name a new corp (newCorpName).", "corpId")
    if choice.corp_id is not None and choice.corp_id not in {i.corp.id for i in plan.identities}:
        raise NotFound("corpId")


async def _identity_member(viewer: Viewer, plan: JoinPlan, choice: Choice, origin: Origin | None) -> Member:
    """The member the person joins as: an existing identity, or the creator of a new corp."""
    if choice.new_corp_name is not None:
        member = await create_corp(viewer, choice.new_corp_name, choice.new_corp_short_name, origin=origin)
        if plan.person.name is None and plan.contact is not None:
            # A new corp's first member is named as imported when the token carried no name.
            await Member.filter(id=member.id).update(name=plan.contact.name)
        return member
    member = await Member.get(id=next(i.member_id for i in plan.identities if i.corp.id == choice.corp_id))
    await bind(member, plan.person)  # joining a chain as it activates the member
    return member


def _owner_inviter(plan: JoinPlan, owner_corp_id: int) -> int | None:
    """The owner member behind the invitation used: it becomes the new corp's connector."""
    inv = plan.entry.invitation
    return inv.created_by_id if inv is not None and plan.entry.creator_corp_id == owner_corp_id else None


async def _decide(viewer: Viewer, plan: JoinPlan, choice: Choice, origin: Origin | None) -> JoinResult:
    """A leader chooses the corp identity of its imported place: first conditional UPDATE wins."""
    assert plan.contact is not None and plan.place is not None
    chain = plan.entry.chain
    async with in_transaction():
        member = await _identity_member(viewer, plan, choice, origin)
        corp = await Corp.get(id=member.corp_id)
        existing = await ChainCorp.get_or_none(chain_id=chain.id, corp_id=corp.id)
        if existing is not None:
            # The chosen corp already sits in the chain: this place folds into it.
            if existing.status is ChainCorpStatus.REMOVED:
                raise FlowError("CORP_REMOVED", f"{corp.name} was removed from this chain.", "corpId")
            if not compatible_ids(plan.place, existing):
                raise FlowError(
                    "CORP_ALREADY_IN_CHAIN",
                    f"{corp.name} is already in this chain under another customCorpId.",
                    "corpId",
                )
            if not await merge_place(plan.place, existing):
                raise Retry()
            target = existing
        else:
            won = await ChainCorp.filter(
                id=plan.place.id, corp_id=None, status=ChainCorpStatus.IMPORTED.value
            ).update(
                corp_id=corp.id,
                status=ChainCorpStatus.JOINED.value,
                decided_by_id=member.id,
                joined_at=now(),
                invited_by_id=plan.place.invited_by_id or _owner_inviter(plan, chain.owner_corp_id),
            )
            if not won:
                raise Retry()
            target = plan.place
            await absorb_namesakes(target, corp)
        await link_contact(plan.contact.id, member.id, target.id)
        await record(
            viewer, "chain.join", "ChainCorp", target.id, corp_id=chain.owner_corp_id,
            after={"corp": corp.id, "contact": plan.contact.id, "rule": plan.rule.value, "decided": existing is None},
            origin=origin,
        )
    return JoinResult(JoinOutcome.JOINED, plan.contact.id, target.id, corp, member.id)


async def _attach(viewer: Viewer, plan: JoinPlan, origin: Origin | None) -> JoinResult:
    """A leader joins a place whose corp is decided: at once when it is that corp's member,
    else through an approval request to the corp's super admins."""
    assert plan.contact is not None and plan.place is not None and plan.required_corp is not None
    chain = plan.entry.chain
    async with in_transaction():
        target = plan.place
        if plan.merge_into is not None:
            if not await merge_place(plan.place, plan.merge_into):
                raise Retry()
            target = plan.merge_into
        # The contact row lock serialises one person's concurrent taps on "join".
        contact = await ChainContact.filter(id=plan.contact.id).select_for_update().get()
        if contact.chain_corp_id != target.id or contact.status is ContactStatus.JOINED:
            raise Retry()
        corp = plan.required_corp
        member = await identity_member(plan.person, corp.id)
        if member is not None:
            await bind(member, plan.person)  # joining a chain as it activates the member
            await link_contact(contact.id, member.id, target.id)
            outcome, request = JoinOutcome.JOINED, None
        else:
            request, _ = await open_request(contact, target, JoinRequestKind.JOIN, requested_by_person=plan.person.id)
            outcome = JoinOutcome.PENDING_APPROVAL
        await record(
            viewer, "chain.join", "ChainCorp", target.id, corp_id=chain.owner_corp_id,
            after={"corp": corp.id, "contact": contact.id, "rule": plan.rule.value, "outcome": outcome.value},
            origin=origin,
        )
    return JoinResult(outcome, contact.id, target.id, corp, member.id if member else None, request)


async def _join_uninvited(viewer: Viewer, plan: JoinPlan, choice: Choice, origin: Origin | None) -> JoinResult:
    """A person nobody imported joins through an invitation (the chain is not importOnly)."""
    chain = plan.entry.chain
    async with in_transaction():
        member = await _identity_member(viewer, plan, choice, origin)
        corp = await Corp.get(id=member.corp_id)
        place = await ChainCorp.get_or_none(chain_id=chain.id, corp_id=corp.id)
        if place is not None and place.status is ChainCorpStatus.REMOVED:
            raise FlowError("CORP_REMOVED", f"{corp.name} was removed from this chain.", "corpId")
        role = ContactRole.MEMBER
        if place is None:
            group = plan.entry.group or await ChainGroup.get(chain_id=chain.id, parent_id=None)
            place = await ChainCorp.create(
                chain_id=chain.id,
                group_id=group.id,
                corp_id=corp.id,
                imported_name=corp.name[:64],
                name_key=corp.name_key,
                status=ChainCorpStatus.JOINED,
                invited_by_id=_owner_inviter(plan, chain.owner_corp_id),
                decided_by_id=member.id,
                joined_at=now(),
            )
            role = ContactRole.LEADER
            await absorb_namesakes(place, corp)
        contact = await ChainContact.create(
            chain_id=chain.id,
            chain_corp_id=place.id,
            name=member.name[:64],
            mobile=plan.person.mobile,
            role=role,
            status=ContactStatus.JOINED,
            member_id=member.id,
            joined_at=now(),
        )
        await record(
            viewer, "chain.join", "ChainCorp", place.id, corp_id=chain.owner_corp_id,
            after={"corp": corp.id, "contact": contact.id, "invitation": plan.entry.invitation.id if plan.entry.invitation else None},
            origin=origin,
        )
    return JoinResult(JoinOutcome.JOINED, contact.id, place.id, corp, member.id)


async def decline_invitation(viewer: Viewer, code: str, *, origin: Origin | None = None) -> ChainContact:
    """The person says no: status DECLINED, its reminders stop, an open request is withdrawn."""
    plan = await plan_join(viewer, code)
    if plan.contact is None or plan.place is None:
        raise FlowError("NOT_IMPORTED", "There is nothing to decline: you were not imported into this chain.", "code")
    if plan.rule is JoinRule.ALREADY_JOINED:
        raise FlowError("ALREADY_JOINED", "You have already joined this chain.", "code")
    async with in_transaction():
        await ChainContact.filter(id=plan.contact.id).update(status=ContactStatus.DECLINED.value, declined_at=now())
        await notices.drop_unsent([plan.contact.id], notices.EVERY_KIND)
        await JoinRequest.filter(contact_id=plan.contact.id, status=JoinRequestStatus.PENDING.value).update(
            status=JoinRequestStatus.CANCELLED.value, open_key=None, decided_at=now()
        )
        await record(
            viewer, "chain.decline", "ChainContact", plan.contact.id, corp_id=plan.entry.chain.owner_corp_id,
            before={"status": plan.contact.status.value}, after={"status": ContactStatus.DECLINED.value}, origin=origin,
        )
    return await ChainContact.get(id=plan.contact.id)

