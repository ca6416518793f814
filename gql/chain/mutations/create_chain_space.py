from __future__ import annotations

from typing import Annotated

import strawberry
from strawberry import relay

from flows.chain import create_chain_space as create_chain_space_flow
from gql.chain.refresh import refresh_viewer
from gql.chain.types import ChainSpaceNode, chain_space_node
from gql.context import Info
from gql.errors import UserError, run_flow
from gql.relay import decode_id


@strawberry.input(description="A new chain space owned by the caller's corp.")
class CreateChainSpaceInput:
    corp_id: relay.GlobalID = strawberry.field(description="Global id of the owner Corp.")
    name: str = strawberry.field(description="Name, 1-64 characters.")
    import_only: bool = strawberry.field(default=False, description=(
        "仅导入的企业可加入: only imported corps may join; links then live 90 days."))


@strawberry.type(description="What createChainSpace did.")
class CreateChainSpacePayload:
    chain_space: ChainSpaceNode | None = strawberry.field(description="The new chain space; null on error.")
    user_errors: list[UserError] = strawberry.field(description="Why nothing was created; empty on success.")


async def create_chain_space(
    info: Info, input: Annotated[CreateChainSpaceInput, strawberry.argument(description="The chain space to create.")]
) -> CreateChainSpacePayload:
    ctx = info.context

    async def flow() -> int:
        chain = await create_chain_space_flow(
            ctx.viewer, decode_id(input.corp_id, "Corp", "corpId"), input.name,
            import_only=input.import_only, origin=ctx.origin,
        )
        return chain.id

    chain_id, errors = await run_flow(flow())
    if chain_id is None:
        return CreateChainSpacePayload(chain_space=None, user_errors=errors)
    # The viewer was resolved before the chain existed: re-resolve so the payload shows it.
    await refresh_viewer(ctx)
    return CreateChainSpacePayload(chain_space=await chain_space_node(info, chain_id), user_errors=[])
