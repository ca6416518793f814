from __future__ import annotations

from typing import Annotated

import strawberry
from strawberry import relay

from flows.chain import update_chain_group as update_chain_group_flow
from gql.chain.refresh import refresh_viewer
from gql.chain.types import ChainGroupNode, group_node
from gql.context import Info
from gql.errors import UserError, run_flow
from gql.relay import decode_id


@strawberry.input(description="Unset fields stay as they are.")
class UpdateChainGroupInput:
    id: relay.GlobalID = strawberry.field(description="Global id of the ChainGroup.")
    name: str | None = strawberry.field(default=None, description="New name, 1-32 characters, unique among siblings.")
    parent_id: relay.GlobalID | None = strawberry.field(
        default=None, description="Move the group (and its subgroups) under this group of the same chain."
    )
    peers_visible: bool | None = strawberry.field(default=None, description="Whether corps of this group see each other.")
    order: int | None = strawberry.field(default=None, description="Position among its siblings: smaller first.")


@strawberry.type(description="What updateChainGroup did.")
class UpdateChainGroupPayload:
    group: ChainGroupNode | None = strawberry.field(description="The group after the change; null on error.")
    user_errors: list[UserError] = strawberry.field(description="Why nothing was changed; empty on success.")


async def update_chain_group(
    info: Info, input: Annotated[UpdateChainGroupInput, strawberry.argument(description="The group and its changes.")]
) -> UpdateChainGroupPayload:
    ctx = info.context

    async def flow() -> int:
        group = await update_chain_group_flow(
            ctx.viewer,
            decode_id(input.id, "ChainGroup", "id"),
            name=input.name,
            parent_id=decode_id(input.parent_id, "ChainGroup", "parentId") if input.parent_id else None,
            peers_visible=input.peers_visible,
            order=input.order,
            origin=ctx.origin,
        )
        return group.id

    group_id, errors = await run_flow(flow())
    if group_id is None:
        return UpdateChainGroupPayload(group=None, user_errors=errors)
    # A move changes group paths the viewer's access was resolved with.
    await refresh_viewer(ctx)
    return UpdateChainGroupPayload(group=await group_node(info, group_id), user_errors=[])
