from __future__ import annotations

from datetime import datetime

import strawberry
from strawberry import relay

from flows.app_tokens import IssuedToken
from flows.app_tokens import create_app_token as create_app_token_flow
from gql.apps.types import AppScope, AppTokenNode
from gql.context import Info
from gql.errors import UserError, run_flow
from gql.relay import decode_id


@strawberry.input
class CreateAppTokenInput:
    corp_id: relay.GlobalID
    name: str
    scopes: list[AppScope]
    chain_id: relay.GlobalID | None = strawberry.field(
        default=None, description="Bind the token to one chain the corp owns or has joined."
    )
    expires_at: datetime | None = strawberry.field(default=None, description="Without a zone: UTC.")


@strawberry.type
class CreateAppTokenPayload:
    app_token: AppTokenNode | None
    secret: str | None = strawberry.field(
        description="The token's secret (Authorization: Bearer …). Shown this once: store it now."
    )
    user_errors: list[UserError]


async def create_app_token(info: Info, input: CreateAppTokenInput) -> CreateAppTokenPayload:
    ctx = info.context

    async def flow() -> IssuedToken:
        return await create_app_token_flow(
            ctx.viewer,
            decode_id(input.corp_id, "Corp", "corpId"),
            input.name,
            input.scopes,
            chain_id=decode_id(input.chain_id, "ChainSpace", "chainId") if input.chain_id else None,
            expires_at=input.expires_at,
            origin=ctx.origin,
        )

    issued, errors = await run_flow(flow())
    if issued is None:
        return CreateAppTokenPayload(app_token=None, secret=None, user_errors=errors)
    node = AppTokenNode(pk=issued.token.id, _t=issued.token)
    return CreateAppTokenPayload(app_token=node, secret=issued.secret, user_errors=[])
