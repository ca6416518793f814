"""Types of the join flow: what previewJoin tells a person, and approval requests."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import strawberry
from strawberry import relay

from flows.access import access_join_request
from flows.joining import JoinPlan
from gql.chain.enums import JoinRequestKind, JoinRequestStatus, JoinRule
from gql.chain.types import ChainContactNode, contact_node
from gql.context import Info
from gql.enums import ContactRole, ContactStatus
from gql.relay import or_none
from models import ChainContact, ChainSpace, Corp
from models.chain import JoinRequest


def corp_gid(corp_id: int) -> relay.GlobalID:
    return relay.GlobalID("Corp", str(corp_id))


@strawberry.type(description="A corp the person may or must join as.")
class CorpChoice:
    corp_id: relay.GlobalID = strawberry.field(description="Global id of the Corp (for joinChain's corpId).")
    corp_name: str = strawberry.field(description="The corp's full name.")
    is_super_admin: bool = strawberry.field(
        default=False, description="Whether the person is a super admin of this corp (false while it is no member)."
    )


@strawberry.type(description="What joinChain would do for this person with this code (SPEC §3.4); changes nothing.")
class JoinPreview:
    chain_name: str = strawberry.field(description="The chain space's name.")
    owner_corp_name: str = strawberry.field(description="The upstream corp that owns the chain.")
    expires_at: datetime = strawberry.field(description="When the code stops working (UTC).")
    rule: JoinRule = strawberry.field(description="Which corp identity the person must or may join as.")
    role: ContactRole | None = strawberry.field(description="As imported; null when the person was not imported.")
    contact_name: str | None = strawberry.field(description="The person's name as imported; null when not imported.")
    contact_status: ContactStatus | None = strawberry.field(description=(
        "The person's status in the chain; null when not imported."))
    imported_corp_name: str | None = strawberry.field(description="The corp name as imported; null when not imported.")
    required_corp: CorpChoice | None = strawberry.field(
        description="The corp the person must join as (rules 1 and 2), or already joined as."
    )
    needs_approval: bool = strawberry.field(description="Joining needs the required corp's super admins to approve.")
    identities: list[CorpChoice] = strawberry.field(description="The person's corps it may choose from (rule 3).")
    can_create_corp: bool = strawberry.field(description="The person may create a new corp to join as (rule 3).")
    default_corp_name: str | None = strawberry.field(description="Suggested name for a new corp: the imported corp name.")


async def join_preview(plan: JoinPlan) -> JoinPreview:
    owner = await Corp.get(id=plan.entry.chain.owner_corp_id)
    required = plan.required_corp
    admin_of = {i.corp.id for i in plan.identities if i.is_super_admin}
    return JoinPreview(
        chain_name=plan.entry.chain.name,
        owner_corp_name=owner.name,
        expires_at=plan.entry.expires_at,
        rule=plan.rule,
        role=plan.contact.role if plan.contact else None,
        contact_name=plan.contact.name if plan.contact else None,
        contact_status=plan.contact.status if plan.contact else None,
        imported_corp_name=plan.place.imported_name if plan.place else None,
        required_corp=CorpChoice(
            corp_id=corp_gid(required.id), corp_name=required.name, is_super_admin=required.id in admin_of
        ) if required else None,
        needs_approval=plan.needs_approval,
        identities=[
            CorpChoice(corp_id=corp_gid(i.corp.id), corp_name=i.corp.name, is_super_admin=i.is_super_admin)
            for i in plan.identities
        ],
        can_create_corp=plan.rule is JoinRule.CHOOSE_OR_CREATE,
        default_corp_name=plan.default_corp_name,
    )


@strawberry.type(name="JoinRequest", description=(
    "A request that a corp's super admins let a person in (SPEC §3.4); seen by that corp's super admins only."))
class JoinRequestNode(relay.Node):
    pk: relay.NodeID[int]
    _r: strawberry.Private[JoinRequest]
    _contact: strawberry.Private[ChainContact]
    _chain_name: strawberry.Private[str]

    @strawberry.field(description="JOIN (the person asks) or CONFIRM (a leader asks for a colleague).")
    def kind(self) -> JoinRequestKind:
        return self._r.kind

    @strawberry.field(description="PENDING until a super admin decides.")
    def status(self) -> JoinRequestStatus:
        return self._r.status

    @strawberry.field(description="When it was made (UTC).")
    def created_at(self) -> datetime:
        return self._r.created_at

    @strawberry.field(description="When it was decided or cancelled (UTC); null while pending.")
    def decided_at(self) -> datetime | None:
        return self._r.decided_at

    @strawberry.field(description="The chain space the person joins through.")
    def chain_name(self) -> str:
        return self._chain_name

    @strawberry.field(description="Who asks to be let in, as imported: the approver needs to know whom it adds.")
    def person_name(self) -> str:
        return self._contact.name

    @strawberry.field(description="The person's mobile as imported, E.164 (e.g. +8613800000000).")
    def person_mobile(self) -> str:
        return self._contact.mobile

    @strawberry.field(description="The person's role as imported.")
    def role(self) -> ContactRole:
        return self._contact.role

    @strawberry.field(description="The person's chain contact; null when this viewer may not see it.")
    async def contact(self, info: Info) -> ChainContactNode | None:
        return await contact_node(info, self._contact.id)


async def join_request_nodes(rows: Sequence[JoinRequest]) -> list[JoinRequestNode]:
    if not rows:
        return []
    contacts = {c.id: c for c in await ChainContact.filter(id__in=sorted({r.contact_id for r in rows}))}
    names = dict(await ChainSpace.filter(id__in=sorted({r.chain_id for r in rows})).values_list("id", "name"))
    return [JoinRequestNode(pk=r.id, _r=r, _contact=contacts[r.contact_id], _chain_name=names[r.chain_id]) for r in rows]


async def join_request_node(info: Info, request_id: int) -> JoinRequestNode | None:
    r = await or_none(access_join_request(info.context.viewer, request_id))
    return (await join_request_nodes([r]))[0] if r is not None else None
