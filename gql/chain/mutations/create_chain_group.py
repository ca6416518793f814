from __future__ import annotations

from typing import Annotated

import strawberry
from strawberry import relay

from flows.chain import create_chain_group as create_chain_group_flow
from gql.chain.types import ChainGroupNode, group_node
from gql.context import Info
from gql.errors import UserError, run_flow
from gql.relay import decode_id


@strawberry.input(description="A new group in a chain space (上下游分组).")
class CreateChainGroupInput:
    chain_id: relay.GlobalID = strawberry.field(description="Global id of the ChainSpace.")
    name: str = strawberry.field(description="Name, 1-32 characters, unique among its siblings.")
    parent_id: relay.GlobalID | None = strawberry.field(default=None, description=(
        "Global id of the parent ChainGroup of the same chain; default the chain's root group."))
    peers_visible: bool = strawberry.field(default=False, description="Whether corps of this group see each other.")
    order: int = strawberry.field(default=0, description="Position among its siblings: smaller first.")


@strawberry.type(description="What createChainGroup did.")
class CreateChainGroupPayload:
    group: ChainGroupNode | None = strawberry.field(description="The new group; null on error.")
    user_errors: list[UserError] = strawberry.field(description="Why nothing was created; empty on success.")


async def create_chain_group(
    info: Info, input: Annotated[CreateChainGroupInput, strawberry.argument(description="The group to create.")]
) -> CreateChainGroupPayload:
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
