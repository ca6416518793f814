from __future__ import annotations

import strawberry
from strawberry import relay

from flows.invitations import revoke_invitation as revoke_invitation_flow
from gql.chain.types import InvitationNode, invitation_nodes
from gql.context import Info
from gql.errors import UserError, run_flow
from gql.relay import decode_id


@strawberry.input
class RevokeInvitationInput:
    id: relay.GlobalID


@strawberry.type
class RevokeInvitationPayload:
    invitation: InvitationNode | None
    user_errors: list[UserError]


async def revoke_invitation(info: Info, input: RevokeInvitationInput) -> RevokeInvitationPayload:
    ctx = info.context

    async def flow() -> InvitationNode:
        inv = await revoke_invitation_flow(ctx.viewer, decode_id(input.id, "Invitation", "id"), origin=ctx.origin)
        return (await invitation_nodes([inv]))[0]

    node, errors = await run_flow(flow())
    return RevokeInvitationPayload(invitation=node, user_errors=errors)
