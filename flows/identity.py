"""Persons and their corp identities (企业身份)."""

from __future__ import annotations

from flows.errors import FlowError, NotFound
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


async def identity_in(viewer: Viewer, corp_id: int) -> Member:
    """The person's ACTIVE member in the corp (same normalised mobile); linked to the person on first use."""
    if viewer.kind is not ViewerKind.PERSON or viewer.person_id is None:
        raise FlowError("PERSON_TOKEN_REQUIRED", "actAs needs a person token.")
    person = await Person.get(id=viewer.person_id)
    member = await Member.filter(corp_id=corp_id, mobile=person.mobile, status=MemberStatus.ACTIVE).first()
    if member is None:
        raise NotFound("corpId")
    if member.person_id != person.id:
        member.person_id = person.id
        await member.save(update_fields=["person_id"])
    return member
