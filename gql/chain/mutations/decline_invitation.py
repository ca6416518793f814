from __future__ import annotations

from typing import Annotated

import strawberry

from flows.joining import decline_invitation as decline_invitation_flow
from gql.context import Info
from gql.enums import ContactStatus
from gql.errors import UserError, run_flow


@strawberry.input(description="With a person token: the code of the invitation or notification being declined.")
class DeclineInvitationInput:
    code: str = strawberry.field(description="The code from the invitation link or notification.")


@strawberry.type(description="What declineInvitation did.")
class DeclineInvitationPayload:
    status: ContactStatus | None = strawberry.field(description="DECLINED: the reminders stop.")
    user_errors: list[UserError] = strawberry.field(description="Why nothing was declined; empty on success.")


async def decline_invitation(
    info: Info, input: Annotated[DeclineInvitationInput, strawberry.argument(description="The code being declined.")]
) -> DeclineInvitationPayload:
    ctx = info.context
    contact, errors = await run_flow(decline_invitation_flow(ctx.viewer, input.code, origin=ctx.origin))
    return DeclineInvitationPayload(status=contact.status if contact else None, user_errors=errors)
