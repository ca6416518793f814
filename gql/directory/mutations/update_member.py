from __future__ import annotations

from typing import Annotated

import strawberry
from strawberry import relay

from flows.members import update_member as update_member_flow
from gql.context import Info
from gql.directory.inputs import PROFILE_ATTRS, ProfileChanges, given_fields
from gql.directory.types import MemberNode, member_node
from gql.errors import UserError, run_flow
from gql.relay import decode_id


@strawberry.input(description="A member and the fields to change: omitted fields stay, null clears.")
class UpdateMemberInput(ProfileChanges):
    id: relay.GlobalID = strawberry.field(description="Global id of the Member.")
    name: str | None = strawberry.field(default=strawberry.UNSET, description="Full name (姓名), 1-64 characters.")
    hidden_from_directory: bool | None = strawberry.field(default=strawberry.UNSET, description=(
        "Seen only by itself and its admins (SPEC §2.1)."))
    account: str | None = strawberry.field(default=None, description="Accounts are immutable: a different value is refused.")
    unit_ids: list[relay.GlobalID] | None = strawberry.field(default=None, description=(
        "Global ids of the OrgUnits it sits in from now on (at least one); omitted: its seats stay."))
    main_unit_id: relay.GlobalID | None = strawberry.field(default=None, description=(
        "Global id of its main unit, one of its units."))


@strawberry.type(description="What updateMember did.")
class UpdateMemberPayload:
    member: MemberNode | None = strawberry.field(description="The member after the change; null on error.")
    user_errors: list[UserError] = strawberry.field(description="Why nothing was changed; empty on success.")


async def update_member(
    info: Info, input: Annotated[UpdateMemberInput, strawberry.argument(description="The member and its changes.")]
) -> UpdateMemberPayload:
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
