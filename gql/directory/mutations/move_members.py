from __future__ import annotations

from typing import Annotated

import strawberry
from strawberry import relay

from flows.members import move_members as move_members_flow
from gql.context import Info
from gql.directory.types import MemberNode, member_nodes
from gql.errors import UserError, run_flow
from gql.relay import decode_id
from models import Member


@strawberry.input(description="Members to move to another unit of their corp.")
class MoveMembersInput:
    member_ids: list[relay.GlobalID] = strawberry.field(description="Global ids of the Members (at least one).")
    to_unit_id: relay.GlobalID = strawberry.field(description="Global id of the OrgUnit they move to.")
    from_unit_id: relay.GlobalID | None = strawberry.field(
        default=None, description="Move only this seat; without it the target becomes each member's only unit."
    )


@strawberry.type(description="What moveMembers did.")
class MoveMembersPayload:
    members: list[MemberNode] = strawberry.field(description="The moved members; empty on error.")
    user_errors: list[UserError] = strawberry.field(description="Why nothing was moved; empty on success.")


async def move_members(
    info: Info, input: Annotated[MoveMembersInput, strawberry.argument(description="Who moves where.")]
) -> MoveMembersPayload:
    ctx = info.context

    async def flow() -> list[Member]:
        return await move_members_flow(
            ctx.viewer,
            [decode_id(g, "Member", "memberIds") for g in input.member_ids],
            decode_id(input.to_unit_id, "OrgUnit", "toUnitId"),
            from_unit_id=decode_id(input.from_unit_id, "OrgUnit", "fromUnitId") if input.from_unit_id else None,
            origin=ctx.origin,
        )

    moved, errors = await run_flow(flow())
    return MoveMembersPayload(members=await member_nodes(info, moved) if moved else [], user_errors=errors)
