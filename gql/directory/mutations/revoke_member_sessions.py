from __future__ import annotations

from typing import Annotated

import strawberry
from strawberry import relay

from flows.sessions import revoke_member_sessions as revoke_member_sessions_flow
from gql.acting import act_on_id
from gql.context import Info
from gql.directory.types import MemberNode, member_node
from gql.errors import UserError


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
    member, errors = await act_on_id(info, input.member_id, "Member", "memberId", revoke_member_sessions_flow)
    return RevokeMemberSessionsPayload(member=await member_node(info, member.id) if member else None, user_errors=errors)
