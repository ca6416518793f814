"""resignMember, reinstateMember, deleteMember (SPEC §3.5): three small resolvers over flows/lifecycle.py."""

from __future__ import annotations

from collections.abc import Awaitable
from typing import Annotated

import strawberry
from strawberry import relay

from flows.lifecycle import delete_member as delete_member_flow
from flows.lifecycle import reinstate_member as reinstate_member_flow
from flows.lifecycle import resign_member as resign_member_flow
from gql.acting import ActOnId, act_on_id
from gql.context import Info
from gql.directory.types import MemberNode, member_node
from gql.errors import UserError, run_flow
from gql.relay import decode_id
from models import Member


@strawberry.input(description="The member to act on.")
class MemberIdInput:
    id: relay.GlobalID = strawberry.field(description="Global id of the Member.")


@strawberry.input(description="The member who leaves, and who takes over from it.")
class ResignMemberInput:
    id: relay.GlobalID = strawberry.field(description="Global id of the Member who leaves.")
    handover_to: relay.GlobalID | None = strawberry.field(default=None, description=(
        "Global id of an active Member of the same corp who inherits its unit leadership, chain-rule "
        "subjecthood and open invitations (离职继承); optional."))


@strawberry.type(description="A member after a change of status.")
class MemberPayload:
    member: MemberNode | None = strawberry.field(description="The member as the caller now sees it; null on error.")
    user_errors: list[UserError] = strawberry.field(description="Why nothing was changed; empty on success.")


async def member_payload(info: Info, change: Awaitable[Member]) -> MemberPayload:
    """Run a status change of one member (a flows/lifecycle.py call) and answer with the
    member as the caller now sees it, or with the userErrors it was refused with."""

    async def flow() -> int:
        return (await change).id

    member_id, errors = await run_flow(flow())
    return MemberPayload(member=await member_node(info, member_id) if member_id else None, user_errors=errors)


async def member_status_change(info: Info, global_id: relay.GlobalID, act: ActOnId[Member]) -> MemberPayload:
    """Run flow `act` (a flows/lifecycle.py status change: act(viewer, member id, origin=...))
    on the Member `global_id` names and answer with the member as the caller now sees it, or
    with the userErrors it was refused with (NOT_FOUND on `id` for another type's id)."""
    member, errors = await act_on_id(info, global_id, "Member", "id", act)
    return MemberPayload(member=await member_node(info, member.id) if member else None, user_errors=errors)


@strawberry.type(description="What deleteMember did.")
class DeleteMemberPayload:
    deleted_id: relay.GlobalID | None = strawberry.field(description="Global id of the erased Member; null on error.")
    user_errors: list[UserError] = strawberry.field(description="Why nothing was erased; empty on success.")


async def resign_member(
    info: Info,
    input: Annotated[ResignMemberInput, strawberry.argument(description="The member who leaves, and its heir.")],
) -> MemberPayload:
    """离职: gone from every view and its tokens refused at once; leadership, chain-rule
    subjecthood and open invitations pass to `handoverTo` when given."""
    ctx = info.context

    async def change() -> Member:
        heir = decode_id(input.handover_to, "Member", "handoverTo") if input.handover_to else None
        return await resign_member_flow(
            ctx.viewer, decode_id(input.id, "Member", "id"), handover_to=heir, origin=ctx.origin)

    return await member_payload(info, change())


async def reinstate_member(
    info: Info, input: Annotated[MemberIdInput, strawberry.argument(description="The RESIGNED member to reinstate.")]
) -> MemberPayload:
    """复职: ACTIVE again in the units it had that still exist, else in the root unit."""
    return await member_status_change(info, input.id, reinstate_member_flow)


async def delete_member(
    info: Info, input: Annotated[MemberIdInput, strawberry.argument(description="The member to erase.")]
) -> DeleteMemberPayload:
    """Irreversible erasure of the member's personal data; audit rows keep a tombstone."""
    deleted, errors = await act_on_id(info, input.id, "Member", "id", delete_member_flow)
    return DeleteMemberPayload(deleted_id=input.id if deleted else None, user_errors=errors)
