from __future__ import annotations

from typing import Annotated

import strawberry
from strawberry import relay

from flows.chain import remove_chain_corp as remove_chain_corp_flow
from gql.acting import act_on_id
from gql.chain.types import ChainCorpNode, chain_corp_node
from gql.context import Info
from gql.errors import UserError


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
    place, errors = await act_on_id(info, input.id, "ChainCorp", "id", remove_chain_corp_flow)
    return RemoveChainCorpPayload(
        chain_corp=await chain_corp_node(info, place.id) if place else None, user_errors=errors
    )
