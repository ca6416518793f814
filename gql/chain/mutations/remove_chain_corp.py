from __future__ import annotations

from typing import Annotated

import strawberry
from strawberry import relay

from flows.chain import remove_chain_corp as remove_chain_corp_flow
from gql.chain.types import ChainCorpNode, chain_corp_node
from gql.context import Info
from gql.errors import UserError, run_flow
from gql.relay import decode_id


@strawberry.input(description="The corp to remove from its chain.")
class RemoveChainCorpInput:
    id: relay.GlobalID = strawberry.field(description="Global id of the ChainCorp.")


@strawberry.type(description="What removeChainCorp did.")
class RemoveChainCorpPayload:
    chain_corp: ChainCorpNode | None = strawberry.field(description="Status REMOVED; visible to the chain's admins only.")
    user_errors: list[UserError] = strawberry.field(description="Why nothing was removed; empty on success.")


async def remove_chain_corp(
    info: Info, input: Annotated[RemoveChainCorpInput, strawberry.argument(description="The corp to remove.")]
) -> RemoveChainCorpPayload:
    ctx = info.context

    async def flow() -> int:
        place = await remove_chain_corp_flow(ctx.viewer, decode_id(input.id, "ChainCorp", "id"), origin=ctx.origin)
        return place.id

    place_id, errors = await run_flow(flow())
    return RemoveChainCorpPayload(
        chain_corp=await chain_corp_node(info, place_id) if place_id else None, user_errors=errors
    )
