from __future__ import annotations

from typing import Annotated

import strawberry
from strawberry import relay

from flows.sessions import revoke_member_sessions as revoke_member_sessions_flow
from gql.context import Info
from gql.directory.types import MemberNode, member_node
from gql.errors import UserError, run_flow
from gql.relay import decode_id


@strawberry.input(description="The member whose sessions end.")
class RevokeMemberSessionsInput:
    member_id: relay.GlobalID = strawberry.field(description="Global id of the Member (the caller's own, or one it manages).")


@strawberry.type(description="What revokeMemberSessions did.")
class RevokeMemberSessionsPayload:
    member: MemberNode | None = strawberry.field(description="The member whose tokens were revoked; null on error.")
    user_errors: list[UserError] = strawberry.field(description="Why nothing was revoked; empty on success.")


async def revoke_member_sessions(
    info: Info, input: Annotated[RevokeMemberSessionsInput, strawberry.argument(description="Whose sessions end.")]
) -> RevokeMemberSessionsPayload:
    ctx = info.context

    async def flow() -> int:
        member = await revoke_member_sessions_flow(
            ctx.viewer, decode_id(input.member_id, "Member", "memberId"), origin=ctx.origin
        )
        return member.id

    member_id, errors = await run_flow(flow())
    return RevokeMemberSessionsPayload(member=await member_node(info, member_id) if member_id else None, user_errors=errors)
