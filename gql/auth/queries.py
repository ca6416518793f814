"""Who am I: the viewer, and for a person, the corp identities it can act as."""

from __future__ import annotations

import strawberry
from strawberry import relay

from flows.identity import active_identities
from gql.context import Info
from gql.directory.queries import corp_node
from gql.directory.types import CorpNode, MemberNode, member_node
from models import Corp, Person


@strawberry.type(description="A person's active member in one corp (企业身份), for actAs.")
class CorpIdentity:
    corp_id: relay.GlobalID = strawberry.field(description="Global id of the Corp.")
    corp_name: str = strawberry.field(description="The corp's full name.")
    member_name: str = strawberry.field(description="The member's name in that corp.")


@strawberry.type(description="Who the request's token says the caller is.")
class ViewerInfo:
    kind: str = strawberry.field(description=(
        "The credential: MEMBER (member token), PERSON (person token), APP (partner-app token) or ANONYMOUS (none)."))
    is_super_admin: bool = strawberry.field(description="True for a member who is a super admin of its corp.")
    scopes: list[str] | None = strawberry.field(description=(
        "An app token's scopes, e.g. directory:read (SPEC §2.4); null for other credentials."))
    _member_id: strawberry.Private[int | None]
    _corp_id: strawberry.Private[int | None]
    _person_id: strawberry.Private[int | None]

    @strawberry.field(description="The caller's own member (member tokens); null otherwise.")
    async def member(self, info: Info) -> MemberNode | None:
        return await member_node(info, self._member_id) if self._member_id else None

    @strawberry.field(description="The caller's corp (member and app tokens); null otherwise.")
    async def corp(self, info: Info) -> CorpNode | None:
        return await corp_node(info, self._corp_id) if self._corp_id else None

    @strawberry.field(description="A person token's verified mobile, E.164 (e.g. +8613800000000); null otherwise.")
    async def mobile(self) -> str | None:
        if self._person_id is None:
            return None
        return await Person.filter(id=self._person_id).first().values_list("mobile", flat=True)

    @strawberry.field(description="For a person: the corps where it has an active member, for actAs.")
    async def identities(self) -> list[CorpIdentity]:
        if self._person_id is None:
            return []
        person = await Person.get(id=self._person_id)
        rows = await active_identities(person)
        names = dict(await Corp.filter(id__in=[m.corp_id for m in rows]).values_list("id", "name"))
        return [
            CorpIdentity(corp_id=relay.GlobalID("Corp", str(m.corp_id)), corp_name=names[m.corp_id], member_name=m.name)
            for m in rows
        ]


@strawberry.type
class AuthQuery:
    @strawberry.field(description="The caller, as its token says; anyone may ask, without a token too.")
    def viewer(self, info: Info) -> ViewerInfo:
        v = info.context.viewer
        return ViewerInfo(
            kind=v.kind.value,
            is_super_admin=v.is_super_admin,
            scopes=sorted(v.scopes) if v.scopes is not None else None,
            _member_id=v.member_id,
            _corp_id=v.corp_id,
            _person_id=v.person_id,
        )
