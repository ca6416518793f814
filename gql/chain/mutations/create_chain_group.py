from __future__ import annotations

import strawberry
from strawberry import relay

from flows.chain import create_chain_group as create_chain_group_flow
from gql.chain.types import ChainGroupNode, group_node
from gql.context import Info
from gql.errors import UserError, run_flow
from gql.relay import decode_id


@strawberry.input
class CreateChainGroupInput:
    chain_id: relay.GlobalID
    name: str
    parent_id: relay.GlobalID | None = None
    peers_visible: bool = False
    order: int = 0


@strawberry.type
class CreateChainGroupPayload:
    group: ChainGroupNode | None
    user_errors: list[UserError]


async def create_chain_group(info: Info, input: CreateChainGroupInput) -> CreateChainGroupPayload:
    ctx = info.context

    async def flow() -> int:
        group = await create_chain_group_flow(
            ctx.viewer,
            decode_id(input.chain_id, "ChainSpace", "chainId"),
            input.name,
            parent_id=decode_id(input.parent_id, "ChainGroup", "parentId") if input.parent_id else None,
            peers_visible=input.peers_visible,
            order=input.order,
            origin=ctx.origin,
        )
        return group.id

    group_id, errors = await run_flow(flow())
    return CreateChainGroupPayload(group=await group_node(info, group_id) if group_id else None, user_errors=errors)
