from __future__ import annotations

from typing import Annotated

import strawberry
from strawberry import relay

from flows.chain import update_chain_space as update_chain_space_flow
from gql.chain.types import ChainSpaceNode, chain_space_node
from gql.context import Info
from gql.errors import UserError, run_flow
from gql.relay import decode_id


@strawberry.input(description="Unset fields stay as they are.")
class UpdateChainSpaceInput:
    id: relay.GlobalID = strawberry.field(description="Global id of the ChainSpace.")
    name: str | None = strawberry.field(default=None, description="New name, 1-64 characters.")
    import_only: bool | None = strawberry.field(
        default=None, description="仅导入的企业可加入: only imported corps may join; links then live 90 days."
    )
    corps_see_each_other: bool | None = strawberry.field(
        default=None, description="Chain-wide switch: corps of one group see each other (never other groups)."
    )


@strawberry.type(description="What updateChainSpace did.")
class UpdateChainSpacePayload:
    chain_space: ChainSpaceNode | None = strawberry.field(description="The chain space after the change; null on error.")
    user_errors: list[UserError] = strawberry.field(description="Why nothing was changed; empty on success.")


async def update_chain_space(
    info: Info, input: Annotated[UpdateChainSpaceInput, strawberry.argument(description="The chain space and its changes.")]
) -> UpdateChainSpacePayload:
    ctx = info.context

    async def flow() -> int:
        chain = await update_chain_space_flow(
            ctx.viewer,
            decode_id(input.id, "ChainSpace", "id"),
            name=input.name,
            import_only=input.import_only,
            corps_see_each_other=input.corps_see_each_other,
            origin=ctx.origin,
        )
        return chain.id

    chain_id, errors = await run_flow(flow())
    return UpdateChainSpacePayload(
        chain_space=await chain_space_node(info, chain_id) if chain_id else None, user_errors=errors
    )
