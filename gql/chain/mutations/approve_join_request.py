from __future__ import annotations

from typing import Annotated

import strawberry
from strawberry import relay

from flows.chain_approvals import approve_join_request as approve_join_request_flow
from gql.chain.joining_types import JoinRequestNode, join_request_node
from gql.context import Info
from gql.errors import UserError, run_flow
from gql.relay import decode_id


@strawberry.input(description="A super admin of the corp lets the person into the corp and the chain, or not.")
class ApproveJoinRequestInput:
    id: relay.GlobalID = strawberry.field(description="Global id of the JoinRequest.")
    approve: bool = strawberry.field(default=True, description="True to let the person in, false to reject.")


@strawberry.type(description="What approveJoinRequest did.")
class ApproveJoinRequestPayload:
    join_request: JoinRequestNode | None = strawberry.field(description="The request, now decided; null on error.")
    user_errors: list[UserError] = strawberry.field(description="Why nothing was decided; empty on success.")


async def approve_join_request(
    info: Info, input: Annotated[ApproveJoinRequestInput, strawberry.argument(description="The request and the decision.")]
) -> ApproveJoinRequestPayload:
    ctx = info.context

    async def flow() -> int:
        request = await approve_join_request_flow(
            ctx.viewer, decode_id(input.id, "JoinRequest", "id"), input.approve, origin=ctx.origin
        )
        return request.id

    request_id, errors = await run_flow(flow())
    return ApproveJoinRequestPayload(
        join_request=await join_request_node(info, request_id) if request_id else None, user_errors=errors
    )
