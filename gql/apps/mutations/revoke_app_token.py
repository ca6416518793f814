from __future__ import annotations

from typing import Annotated

import strawberry
from strawberry import relay

from flows.app_tokens import revoke_app_token as revoke_app_token_flow
from gql.acting import act_on_id
from gql.apps.types import AppTokenNode
from gql.context import Info
from gql.errors import UserError


@strawberry.input(description="The token to revoke.")
class RevokeAppTokenInput:
    id: relay.GlobalID = strawberry.field(description="Global id of the AppToken.")


@strawberry.type(description="What revokeAppToken did.")
class RevokeAppTokenPayload:
    app_token: AppTokenNode | None = strawberry.field(description="The revoked token; null on error.")
    user_errors: list[UserError] = strawberry.field(description="Why nothing was revoked; empty on success.")


async def revoke_app_token(
    info: Info, input: Annotated[RevokeAppTokenInput, strawberry.argument(description="The token to revoke.")]
) -> RevokeAppTokenPayload:
    token, errors = await act_on_id(info, input.id, "AppToken", "id", revoke_app_token_flow)
    return RevokeAppTokenPayload(app_token=AppTokenNode(pk=token.id, _t=token) if token else None, user_errors=errors)
