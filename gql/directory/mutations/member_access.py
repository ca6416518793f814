"""disableMember, enableMember (禁用 / 启用, SPEC §1 DISABLED): two small resolvers over flows/lifecycle.py."""

from __future__ import annotations

from typing import Annotated

import strawberry

from flows.lifecycle import disable_member as disable_member_flow
from flows.lifecycle import enable_member as enable_member_flow
from gql.context import Info
from gql.directory.mutations.member_lifecycle import MemberIdInput, MemberPayload, member_status_change


async def disable_member(
    info: Info, input: Annotated[MemberIdInput, strawberry.argument(description="The member to disable.")]
) -> MemberPayload:
    """禁用: the member keeps its data and seats but cannot sign in and leaves non-admin views."""
    return await member_status_change(info, input.id, disable_member_flow)


async def enable_member(
    info: Info, input: Annotated[MemberIdInput, strawberry.argument(description="The member to enable.")]
) -> MemberPayload:
    """启用: ACTIVE again; it gets a fresh member token through actAs."""
    return await member_status_change(info, input.id, enable_member_flow)
