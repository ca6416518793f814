from __future__ import annotations

from typing import Annotated

import strawberry

from flows.members import update_my_profile as update_my_profile_flow
from gql.context import Info
from gql.directory.inputs import PROFILE_ATTRS, ProfileChanges, given_fields
from gql.directory.types import MemberNode, member_node
from gql.errors import UserError, run_flow


@strawberry.type(description="What updateMyProfile did.")
class UpdateMyProfilePayload:
    member: MemberNode | None = strawberry.field(description="The caller after the change; null on error.")
    user_errors: list[UserError] = strawberry.field(description="Why nothing was changed; empty on success.")


async def update_my_profile(
    info: Info, input: Annotated[ProfileChanges, strawberry.argument(description=(
        "The fields to change, each one the corp marks self-editable."))]
) -> UpdateMyProfilePayload:
    """Only the fields the corp marks self-editable; any other is FIELD_NOT_EDITABLE."""
    ctx = info.context

    async def flow() -> int:
        member = await update_my_profile_flow(ctx.viewer, given_fields(input, PROFILE_ATTRS), origin=ctx.origin)
        return member.id

    member_id, errors = await run_flow(flow())
    return UpdateMyProfilePayload(member=await member_node(info, member_id) if member_id else None, user_errors=errors)
