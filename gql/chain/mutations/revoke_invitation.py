from __future__ import annotations

from typing import Annotated

import strawberry
from strawberry import relay

from flows.invitations import revoke_invitation as revoke_invitation_flow
from gql.acting import act_on_id
from gql.chain.types import InvitationNode, invitation_nodes
from gql.context import Info
from gql.errors import UserError


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
    inv, errors = await act_on_id(info, input.id, "Invitation", "id", revoke_invitation_flow)
    return RevokeInvitationPayload(invitation=(await invitation_nodes([inv]))[0] if inv else None, user_errors=errors)
