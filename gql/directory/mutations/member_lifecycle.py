"""resignMember, reinstateMember, deleteMember (SPEC §3.5): three small resolvers over flows/lifecycle.py."""

from __future__ import annotations

import strawberry
from strawberry import relay

from flows.lifecycle import delete_member as delete_member_flow
from flows.lifecycle import reinstate_member as reinstate_member_flow
from flows.lifecycle import resign_member as resign_member_flow
from gql.context import Info
from gql.directory.types import MemberNode, member_node
from gql.errors import UserError, run_flow
from gql.relay import decode_id


@strawberry.type
class MemberPayload:
    member: MemberNode | None
    user_errors: list[UserError]


@strawberry.type
class DeleteMemberPayload:
    deleted_id: relay.GlobalID | None
    user_errors: list[UserError]


async def resign_member(info: Info, id: relay.GlobalID, handover_to: relay.GlobalID | None = None) -> MemberPayload:
    """离职: gone from every view and its tokens refused at once; leadership, chain-rule
    subjecthood and open invitations pass to `handoverTo` when given."""
    ctx = info.context

    async def flow() -> int:
        heir = decode_id(handover_to, "Member", "handoverTo") if handover_to else None
        member = await resign_member_flow(ctx.viewer, decode_id(id, "Member", "id"), handover_to=heir, origin=ctx.origin)
        return member.id

    member_id, errors = await run_flow(flow())
    return MemberPayload(member=await member_node(info, member_id) if member_id else None, user_errors=errors)


async def reinstate_member(info: Info, id: relay.GlobalID) -> MemberPayload:
    """复职: ACTIVE again in the units it had that still exist, else in the root unit."""
    ctx = info.context

    async def flow() -> int:
        member = await reinstate_member_flow(ctx.viewer, decode_id(id, "Member", "id"), origin=ctx.origin)
        return member.id

    member_id, errors = await run_flow(flow())
    return MemberPayload(member=await member_node(info, member_id) if member_id else None, user_errors=errors)


async def delete_member(info: Info, id: relay.GlobalID) -> DeleteMemberPayload:
    """Irreversible erasure of the member's personal data; audit rows keep a tombstone."""
    async def flow() -> int:
        return await delete_member_flow(info.context.viewer, decode_id(id, "Member", "id"), origin=info.context.origin)

    deleted, errors = await run_flow(flow())
    return DeleteMemberPayload(deleted_id=id if deleted else None, user_errors=errors)
