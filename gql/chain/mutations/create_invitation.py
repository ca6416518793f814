from __future__ import annotations

from typing import Annotated

import strawberry
from strawberry import relay

from flows.invitations import create_invitation as create_invitation_flow
from gql.chain.types import InvitationNode, invitation_nodes
from gql.context import Info
from gql.errors import UserError, run_flow
from gql.relay import decode_id


@strawberry.input(description="A new invitation link into a chain space (SPEC §3.3).")
class CreateInvitationInput:
    chain_id: relay.GlobalID = strawberry.field(description="Global id of the ChainSpace.")
    group_id: relay.GlobalID | None = strawberry.field(
        default=None, description="Invite into this group; a joined leader's default is its own group."
    )


@strawberry.type(description="What createInvitation did.")
class CreateInvitationPayload:
    invitation: InvitationNode | None = strawberry.field(description="The new invitation, with its URL and QR code; null on error.")
    user_errors: list[UserError] = strawberry.field(description="Why nothing was created; empty on success.")


async def create_invitation(
    info: Info, input: Annotated[CreateInvitationInput, strawberry.argument(description="Where the invitation leads.")]
) -> CreateInvitationPayload:
    ctx = info.context

    async def flow() -> InvitationNode:
        inv = await create_invitation_flow(
            ctx.viewer,
            decode_id(input.chain_id, "ChainSpace", "chainId"),
            decode_id(input.group_id, "ChainGroup", "groupId") if input.group_id else None,
            origin=ctx.origin,
        )
        return (await invitation_nodes([inv]))[0]

    node, errors = await run_flow(flow())
    return CreateInvitationPayload(invitation=node, user_errors=errors)
