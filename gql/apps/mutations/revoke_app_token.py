from __future__ import annotations

import strawberry
from strawberry import relay

from flows.app_tokens import revoke_app_token as revoke_app_token_flow
from gql.apps.types import AppTokenNode
from gql.context import Info
from gql.errors import UserError, run_flow
from gql.relay import decode_id


@strawberry.input
class RevokeAppTokenInput:
    id: relay.GlobalID


@strawberry.type
class RevokeAppTokenPayload:
    app_token: AppTokenNode | None
    user_errors: list[UserError]


async def revoke_app_token(info: Info, input: RevokeAppTokenInput) -> RevokeAppTokenPayload:
    ctx = info.context

    async def flow() -> AppTokenNode:
        token = await revoke_app_token_flow(ctx.viewer, decode_id(input.id, "AppToken", "id"), origin=ctx.origin)
        return AppTokenNode(pk=token.id, _t=token)

    node, errors = await run_flow(flow())
    return RevokeAppTokenPayload(app_token=node, user_errors=errors)
