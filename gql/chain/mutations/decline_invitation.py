from __future__ import annotations

import strawberry

from flows.joining import decline_invitation as decline_invitation_flow
from gql.context import Info
from gql.enums import ContactStatus
from gql.errors import UserError, run_flow


@strawberry.input(description="With a person token: the code of the invitation or notification being declined.")
class DeclineInvitationInput:
    code: str


@strawberry.type
class DeclineInvitationPayload:
    status: ContactStatus | None = strawberry.field(description="DECLINED: the reminders stop.")
    user_errors: list[UserError]


async def decline_invitation(info: Info, input: DeclineInvitationInput) -> DeclineInvitationPayload:
    ctx = info.context
    contact, errors = await run_flow(decline_invitation_flow(ctx.viewer, input.code, origin=ctx.origin))
    return DeclineInvitationPayload(status=contact.status if contact else None, user_errors=errors)
