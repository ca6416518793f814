"""Shared steps of joining: a corp's place in a chain, its contacts, approval requests.

Concurrency is decided by the database, never by Python locks: the winner of a race is the
transaction whose *conditional* UPDATE (`... WHERE corp_id IS NULL AND status = 'IMPORTED'`)
changed a row; the loser sees zero rows changed, raises `Retry`, its transaction rolls
back and the caller plans again from what the database now says. Unique indexes
((chain, corp), (chain, mobile), one open request per contact) back the same guarantee.
"""

from __future__ import annotations

from tortoise.expressions import Q

from flows import chain_notices as notices
from flows.audit import Origin
from flows.chain_notices import now
from flows.identity import bind, ensure_person, identity_member
from flows.members import MemberInput, create_member
from flows.names import normalise_corp_name
from models import ChainContact, ChainCorp, ChainRule, ChainSpace, Corp, Member, OrgUnit
from models.chain import JoinRequest, JoinRequestKind, JoinRequestStatus
from models.enums import ChainCorpStatus, ContactStatus
from permissions.viewer import Viewer


class Retry(Exception):
    """Another transaction changed what this one planned on: roll back and plan again."""


def corp_name_keys(corp: Corp) -> set[str]:
    """The keys a corp answers to: its normalised full name and short name."""
    keys = {corp.name_key or normalise_corp_name(corp.name)}
    if corp.short_name:
        keys.add(normalise_corp_name(corp.short_name))
    return keys


def compatible_ids(a: ChainCorp, b: ChainCorp) -> bool:
    """Whether chain corps `a` and `b` may be the same corp by their customCorpIds: unless both have one and they differ (SPEC §3.2, §3.4)."""
    # Two different customCorpIds say "two different corps", whatever the names.
    return a.custom_corp_id is None or b.custom_corp_id is None or a.custom_corp_id == b.custom_corp_id


async def joined_namesake(place: ChainCorp) -> ChainCorp | None:
    """Rule 1 by name: a JOINED place of the same chain whose corp's full or short name
    equals this place's imported name (normalised)."""
    key = place.name_key
    # Short names are stored as typed: the SQL narrows to likely spellings, Python decides.
    candidates = await ChainCorp.filter(
        Q(corp__name_key=key) | Q(corp__short_name=place.imported_name) | Q(corp__short_name=key),
        chain_id=place.chain_id,
        status=ChainCorpStatus.JOINED.value,
    ).exclude(id=place.id).prefetch_related("corp")
    for c in candidates:
        if c.corp is not None and key in corp_name_keys(c.corp) and compatible_ids(place, c):
            return c
    return None


async def merge_place(source: ChainCorp, target: ChainCorp) -> bool:
    """Fold an IMPORTED place into the JOINED place of the same corp: contacts, rules and
    requests move over, the customCorpId too when the target has none. False when another
    transaction decided the source first (the claim is a conditional UPDATE)."""
    claimed = await ChainCorp.filter(
        id=source.id, corp_id=None, status=ChainCorpStatus.IMPORTED.value
    ).update(status=ChainCorpStatus.REMOVED.value)
    if not claimed:
        return False
    await ChainContact.filter(chain_corp_id=source.id).update(chain_corp_id=target.id)
    await ChainRule.filter(object_chain_corp_id=source.id).update(object_chain_corp_id=target.id)
    await JoinRequest.filter(chain_corp_id=source.id).update(chain_corp_id=target.id)
    await ChainCorp.filter(id=source.id).delete()
    if source.custom_corp_id and target.custom_corp_id is None:
        await ChainCorp.filter(id=target.id).update(custom_corp_id=source.custom_corp_id)
        target.custom_corp_id = source.custom_corp_id
    return True


async def absorb_namesakes(target: ChainCorp, corp: Corp) -> int:
    """A corp just took its place: IMPORTED places of the chain carrying its name join it (rule 1)."""
    keys = sorted(corp_name_keys(corp))
    merged = 0
    for place in await ChainCorp.filter(
        chain_id=target.chain_id, status=ChainCorpStatus.IMPORTED.value, name_key__in=keys
    ).exclude(id=target.id):
        if compatible_ids(place, target) and await merge_place(place, target):
            merged += 1
    return merged


async def link_contact(contact_id: int, member_id: int, place_id: int, decided_by: int | None = None) -> None:
    """The contact is JOINED as this member; reminders stop and an open request is settled."""
    moment = now()
    await ChainContact.filter(id=contact_id).update(
        status=ContactStatus.JOINED.value, member_id=member_id, chain_corp_id=place_id, joined_at=moment
    )
    await notices.drop_unsent([contact_id], notices.EVERY_KIND)
    await JoinRequest.filter(contact_id=contact_id, status=JoinRequestStatus.PENDING.value).update(
        status=JoinRequestStatus.APPROVED.value, open_key=None, decided_at=moment, decided_by_id=decided_by
    )


async def open_request(
    contact: ChainContact,
    place: ChainCorp,
    kind: JoinRequestKind,
    *,
    requested_by_member: int | None = None,
    requested_by_person: int | None = None,
) -> tuple[JoinRequest, bool]:
    """The contact's open approval request, created (with notifications) if it has none.
    The unique open_key makes a duplicate impossible even under concurrent calls."""
    existing = await JoinRequest.get_or_none(open_key=contact.id)
    if existing is not None:
        return existing, False
    assert place.corp_id is not None
    request = await JoinRequest.create(
        chain_id=place.chain_id,
        chain_corp_id=place.id,
        contact_id=contact.id,
        corp_id=place.corp_id,
        kind=kind,
        requested_by_member_id=requested_by_member,
        requested_by_person_id=requested_by_person,
        open_key=contact.id,
    )
    await ChainContact.filter(id=contact.id).update(status=ContactStatus.PENDING_CONFIRM.value)
    await notices.drop_unsent([contact.id])
    await notices.request_approval(request, contact, await ChainSpace.get(id=place.chain_id))
    return request, True


async def _free_account(corp_id: int, base: str) -> str:
    candidate, n = base, 1
    while await Member.filter(corp_id=corp_id, account_key=candidate.lower()).exists():
        n += 1
        candidate = f"{base}_{n}"
    return candidate


async def ensure_member(viewer: Viewer, corp_id: int, contact: ChainContact, *, origin: Origin | None) -> Member:
    """The person's ACTIVE member in the corp, or a new one in the root unit, named as imported.
    `viewer` is the corp's super admin approving it (the directory write is theirs)."""
    person = await ensure_person(contact.mobile)
    existing = await identity_member(person, corp_id)
    if existing is not None:
        await bind(existing, person)  # joining a chain as it activates the member
        return existing
    root = await OrgUnit.get(corp_id=corp_id, parent_id=None)
    account = await _free_account(corp_id, f"u{person.id}")
    member = await create_member(
        viewer, corp_id, MemberInput(account=account, name=contact.name, unit_ids=[root.id], mobile=contact.mobile),
        origin=origin,
    )
    await Member.filter(id=member.id).update(person_id=person.id)
    return member
