from __future__ import annotations

import strawberry
from strawberry import relay

from flows.chain_approvals import approve_join_request as approve_join_request_flow
from gql.chain.joining_types import JoinRequestNode, join_request_node
from gql.context import Info
from gql.errors import UserError, run_flow
from gql.relay import decode_id


@strawberry.input(description="A super admin of the corp lets the person into the corp and the chain, or not.")
class ApproveJoinRequestInput:
    id: relay.GlobalID
    approve: bool = True


@strawberry.type
class ApproveJoinRequestPayload:
    join_request: JoinRequestNode | None
    user_errors: list[UserError]


async def approve_join_request(info: Info, input: ApproveJoinRequestInput) -> ApproveJoinRequestPayload:
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
