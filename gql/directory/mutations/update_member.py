from __future__ import annotations

import strawberry
from strawberry import relay

from flows.members import update_member as update_member_flow
from gql.context import Info
from gql.directory.inputs import PROFILE_ATTRS, ProfileChanges, given_fields
from gql.directory.types import MemberNode, member_node
from gql.errors import UserError, run_flow
from gql.relay import decode_id


@strawberry.input
class UpdateMemberInput(ProfileChanges):
    id: relay.GlobalID
    name: str | None = strawberry.UNSET
    hidden_from_directory: bool | None = strawberry.UNSET
    account: str | None = strawberry.field(default=None, description="Accounts are immutable: a different value is refused.")
    unit_ids: list[relay.GlobalID] | None = None
    main_unit_id: relay.GlobalID | None = None


@strawberry.type
class UpdateMemberPayload:
    member: MemberNode | None
    user_errors: list[UserError]


async def update_member(info: Info, input: UpdateMemberInput) -> UpdateMemberPayload:
    ctx = info.context

    async def flow() -> int:
        member = await update_member_flow(
            ctx.viewer,
            decode_id(input.id, "Member", "id"),
            given_fields(input, (*PROFILE_ATTRS, "name", "hidden_from_directory")),
            account=input.account,
            unit_ids=[decode_id(g, "OrgUnit", "unitIds") for g in input.unit_ids] if input.unit_ids is not None else None,
            main_unit_id=decode_id(input.main_unit_id, "OrgUnit", "mainUnitId") if input.main_unit_id else None,
            origin=ctx.origin,
        )
        return member.id

    member_id, errors = await run_flow(flow())
    return UpdateMemberPayload(member=await member_node(info, member_id) if member_id else None, user_errors=errors)
