from __future__ import annotations

import strawberry
from strawberry import relay

from flows.chain import create_chain_space as create_chain_space_flow
from gql.chain.refresh import refresh_viewer
from gql.chain.types import ChainSpaceNode, chain_space_node
from gql.context import Info
from gql.errors import UserError, run_flow
from gql.relay import decode_id


@strawberry.input
class CreateChainSpaceInput:
    corp_id: relay.GlobalID
    name: str
    import_only: bool = False


@strawberry.type
class CreateChainSpacePayload:
    chain_space: ChainSpaceNode | None
    user_errors: list[UserError]


async def create_chain_space(info: Info, input: CreateChainSpaceInput) -> CreateChainSpacePayload:
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
