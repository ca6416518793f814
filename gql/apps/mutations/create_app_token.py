from __future__ import annotations

from datetime import datetime
from typing import Annotated

import strawberry
from strawberry import relay

from flows.app_tokens import IssuedToken
from flows.app_tokens import create_app_token as create_app_token_flow
from gql.apps.types import AppScope, AppTokenNode
from gql.context import Info
from gql.errors import UserError, run_flow
from gql.relay import decode_id


@strawberry.input(description="A partner-app token to issue (SPEC §1 AppToken).")
class CreateAppTokenInput:
    corp_id: relay.GlobalID = strawberry.field(description="Global id of the Corp that issues it.")
    name: str = strawberry.field(description="A name to recognise it by, 1-64 characters.")
    scopes: list[AppScope] = strawberry.field(description=(
        "At least one; a write or export scope needs its read scope; a chain-bound token holds chain and "
        "fields:sensitive scopes only."))
    chain_id: relay.GlobalID | None = strawberry.field(
        default=None, description="Bind the token to one chain the corp owns or has joined."
    )
    expires_at: datetime | None = strawberry.field(default=None, description="Without a zone: UTC.")


@strawberry.type(description="What createAppToken did.")
class CreateAppTokenPayload:
    app_token: AppTokenNode | None = strawberry.field(description="The new token; null on error.")
    secret: str | None = strawberry.field(
        description="The token's secret (Authorization: Bearer …). Shown this once: store it now."
    )
    user_errors: list[UserError] = strawberry.field(description="Why nothing was issued; empty on success.")


async def create_app_token(
    info: Info, input: Annotated[CreateAppTokenInput, strawberry.argument(description="The token to issue.")]
) -> CreateAppTokenPayload:
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
