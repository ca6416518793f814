"""Persons and their corp identities (企业身份, SPEC §1, §4).

A member is *bound* to its Person (`person_id`) when activated: on its first actAs, or when
the person joins a chain as it. From then on the binding, not the row's mobile, says whose
identity it is: whoever rewrites the mobile gains nothing. Before activation a member is
the identity of the person whose verified number it holds (mobiles are unique in a corp).
"""

from __future__ import annotations

from tortoise.exceptions import IntegrityError
from tortoise.expressions import Q
from tortoise.transactions import in_transaction

from flows.audit import Origin, record
from flows.errors import FlowError, NotFound
from flows.members import require_free_mobile
from flows.phones import normalise_mobile
from models import Member, Person
from models.enums import MemberStatus
from permissions.viewer import Viewer, ViewerKind


async def ensure_person(mobile: str, name: str | None = None) -> Person:
    """The Person row for a verified mobile, created the first time its token is seen."""
    normalised = normalise_mobile(mobile)
    if normalised is None:
        raise FlowError("INVALID_MOBILE", "Not a valid mobile number.", "mobile")
    person, _ = await Person.get_or_create(mobile=normalised, defaults={"name": name})
    return person


def identities_q(person: Person) -> Q:
    """The members that are this person's identities: bound to it, or not activated yet and
    holding its number. (Combine with a status filter: only ACTIVE ones can be acted as.)"""
    return Q(person_id=person.id) | Q(person_id=None, mobile=person.mobile)


def pick_identity(person: Person, members: list[Member]) -> Member | None:
    """One corp's identity among candidates of identities_q: the bound member wins over a
    not yet activated one holding the number (possible only in rows written before binding)."""
    return next((m for m in members if m.person_id == person.id), members[0] if members else None)


async def identity_member(person: Person, corp_id: int) -> Member | None:
    """The person's ACTIVE member in the corp, if any (not bound yet: see bind)."""
    members = await Member.filter(identities_q(person), corp_id=corp_id, status=MemberStatus.ACTIVE.value)
    return pick_identity(person, list(members))


async def active_identities(person: Person) -> list[Member]:
    """The person's ACTIVE member in each corp where it has one, by corp id (actAs targets)."""
    by_corp: dict[int, list[Member]] = {}
    for m in await Member.filter(identities_q(person), status=MemberStatus.ACTIVE.value).order_by("corp_id", "id"):
        by_corp.setdefault(m.corp_id, []).append(m)
    return [picked for ms in by_corp.values() if (picked := pick_identity(person, ms)) is not None]


async def bind(member: Member, person: Person) -> None:
    """Activation: the member becomes the person's for good (only the member moves it on,
    with change_my_mobile). Conditional, so a member bound meanwhile is never rebound."""
    if member.person_id is None:
        await Member.filter(id=member.id, person_id=None).update(person_id=person.id)
        member.person_id = person.id


async def identity_in(viewer: Viewer, corp_id: int) -> Member:
    """actAs: the person's ACTIVE member in the corp, bound to the person on first use.
    PERSON_TOKEN_REQUIRED for any other viewer; NOT_FOUND when it has none there."""
    if viewer.kind is not ViewerKind.PERSON or viewer.person_id is None:
        raise FlowError("PERSON_TOKEN_REQUIRED", "actAs needs a person token.")
    person = await Person.get(id=viewer.person_id)
    member = await identity_member(person, corp_id)
    if member is None:
        raise NotFound("corpId")
    await bind(member, person)
    if member.person_id != person.id:
        raise NotFound("corpId")  # bound to someone else between our read and our bind
    return member


async def change_my_mobile(viewer: Viewer, proven_person_id: int | None, *, origin: Origin | None = None) -> Member:
    """A member moves its own mobile to a number it proved with a person token for it
    (`proven_person_id`, the Person of that token; None when the token was not a valid person
    token): the member is bound to that person and holds its number (SPEC §1).

    Errors: MEMBER_TOKEN_REQUIRED (field null), PERSON_TOKEN_INVALID (personToken),
    DUPLICATE_MOBILE (personToken: another member of the corp holds the number or is bound
    to that person)."""
    if viewer.kind is not ViewerKind.MEMBER or viewer.member_id is None:
        raise FlowError("MEMBER_TOKEN_REQUIRED", "Only a member (member token) changes its own mobile.")
    if proven_person_id is None:
        raise FlowError("PERSON_TOKEN_INVALID", "Send a valid person token for the new number.", "personToken")
    person = await Person.get(id=proven_person_id)
    member = await Member.get(id=viewer.member_id)
    before = member.mobile
    taken = FlowError("DUPLICATE_MOBILE", "Another member of this corp has this mobile.", "personToken")
    try:
        async with in_transaction():
            try:
                await require_free_mobile(member.corp_id, person.mobile, member.id)
            except FlowError:
                raise taken from None
            if await Member.filter(corp_id=member.corp_id, person_id=person.id).exclude(id=member.id).exists():
                raise taken
            member.mobile = person.mobile
            member.person_id = person.id
            await member.save(update_fields=["mobile", "person_id", "updated_at"])
            await record(viewer, "member.changeMobile", "Member", member.id, corp_id=member.corp_id,
                         before={"mobile": before}, after={"mobile": person.mobile}, origin=origin)
    except IntegrityError as exc:
        raise taken from exc
    return member
