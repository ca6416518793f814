"""Invitation links into a chain (SPEC §3.3): shown to chain admins and to their creators."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Annotated

import strawberry
from strawberry import relay

from flows import chain_notices
from flows.access import access_invitation
from flows.invitations import expires_at, invitation_state
from gql.chain.enums import InvitationState
from gql.context import Info
from gql.directory.types import MemberNode, member_node
from gql.relay import or_none
from models import ChainSpace, Invitation, Member
from models.enums import MemberStatus as MemberStatusValue

if TYPE_CHECKING:
    from gql.chain.types import ChainGroupNode


@strawberry.type(name="Invitation", description=(
    "A link and QR code into a chain space, optionally into one group (SPEC §3.3); seen by the chain's admins "
    "(within their groups) and by its creator."))
class InvitationNode(relay.Node):
    pk: relay.NodeID[int]
    _i: strawberry.Private[Invitation]
    _chain: strawberry.Private[ChainSpace]
    _creator_status: strawberry.Private[MemberStatusValue]

    @strawberry.field(description="The secret the link and QR code carry.")
    def code(self) -> str:
        return self._i.code

    @strawberry.field(description="The join page a person opens: <public base>/join/<code>.")
    def url(self) -> str:
        return chain_notices.join_url(self._i.code)

    @strawberry.field(description="PNG of the QR code for the link.")
    def qr_code_url(self) -> str:
        return chain_notices.qr_url(self._i.code)

    @strawberry.field(description="When it was created (UTC).")
    def created_at(self) -> datetime:
        return self._i.created_at

    @strawberry.field(description="7 days after creation; 90 while the chain is importOnly (follows the current setting).")
    def expires_at(self) -> datetime:
        return expires_at(self._i.created_at, self._chain)

    @strawberry.field(description="When it was revoked (UTC); null while not revoked.")
    def revoked_at(self) -> datetime | None:
        return self._i.revoked_at

    @strawberry.field(description="Whether it still works; when several reasons apply, revoked wins, then the creator.")
    def state(self) -> InvitationState:
        return invitation_state(self._i, self._chain, self._creator_status, chain_notices.now())

    @strawberry.field(description="The group new corps land in; null for the chain as a whole.")
    async def group(self, info: Info) -> Annotated[ChainGroupNode, strawberry.lazy("gql.chain.types")] | None:
        from gql.chain.types import group_node

        return await group_node(info, self._i.group_id) if self._i.group_id else None

    @strawberry.field(description="The member who created it; null when this viewer may not see that member.")
    async def created_by(self, info: Info) -> MemberNode | None:
        return await member_node(info, self._i.created_by_id)


async def invitation_nodes(rows: Sequence[Invitation], chain_row: ChainSpace | None = None) -> list[InvitationNode]:
    creators = dict(
        await Member.filter(id__in=sorted({r.created_by_id for r in rows})).values_list("id", "status")
    ) if rows else {}
    chains = {chain_row.id: chain_row} if chain_row is not None else {
        c.id: c for c in await ChainSpace.filter(id__in=sorted({r.chain_id for r in rows}))
    }
    return [
        InvitationNode(pk=r.id, _i=r, _chain=chains[r.chain_id], _creator_status=MemberStatusValue(creators[r.created_by_id]))
        for r in rows
    ]


async def invitation_node(info: Info, invitation_id: int) -> InvitationNode | None:
    inv = await or_none(access_invitation(info.context.viewer, invitation_id))
    return (await invitation_nodes([inv]))[0] if inv is not None else None
