from __future__ import annotations

from typing import Annotated

import strawberry
from strawberry import relay

from flows.invitations import revoke_invitation as revoke_invitation_flow
from gql.chain.types import InvitationNode, invitation_nodes
from gql.context import Info
from gql.errors import UserError, run_flow
from gql.relay import decode_id


@strawberry.input(description="The invitation to withdraw.")
class RevokeInvitationInput:
    id: relay.GlobalID = strawberry.field(description="Global id of the Invitation.")


@strawberry.type(description="What revokeInvitation did.")
class RevokeInvitationPayload:
    invitation: InvitationNode | None = strawberry.field(description="The invitation, now REVOKED; null on error.")
    user_errors: list[UserError] = strawberry.field(description="Why nothing was revoked; empty on success.")


async def revoke_invitation(
    info: Info, input: Annotated[RevokeInvitationInput, strawberry.argument(description="The invitation to withdraw.")]
) -> RevokeInvitationPayload:
    ctx = info.context

    async def flow() -> InvitationNode:
        inv = await revoke_invitation_flow(ctx.viewer, decode_id(input.id, "Invitation", "id"), origin=ctx.origin)
        return (await invitation_nodes([inv]))[0]

    node, errors = await run_flow(flow())
    return RevokeInvitationPayload(invitation=node, user_errors=errors)
