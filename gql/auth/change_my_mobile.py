from __future__ import annotations

from typing import Annotated

import strawberry

from auth.backend import AuthenticationFailed, authenticate
from flows.identity import change_my_mobile as change_my_mobile_flow
from gql.context import Info
from gql.directory.types import MemberNode, member_node
from gql.errors import UserError, run_flow
from permissions.viewer import ViewerKind


@strawberry.input(description="The proof of the new mobile number.")
class ChangeMyMobileInput:
    person_token: str = strawberry.field(description="A person token for the new number: the proof that it is yours.")


@strawberry.type(description="What changeMyMobile did.")
class ChangeMyMobilePayload:
    member: MemberNode | None = strawberry.field(description="The caller with its new mobile; null on error.")
    user_errors: list[UserError] = strawberry.field(description="Why nothing was changed; empty on success.")


async def _proven_person(token: str) -> int | None:
    """The Person a person token vouches for, checked exactly as a bearer token is (signature,
    expiry, revocation); None for anything else, a member token included."""
    try:
        proof = await authenticate(f"Bearer {token.strip()}")
    except AuthenticationFailed:
        return None
    return proof.person_id if proof.kind is ViewerKind.PERSON else None


async def change_my_mobile(
    info: Info, input: Annotated[ChangeMyMobileInput, strawberry.argument(description="The proof of the new number.")]
) -> ChangeMyMobilePayload:
    ctx = info.context

    async def flow() -> int:
        member = await change_my_mobile_flow(ctx.viewer, await _proven_person(input.person_token), origin=ctx.origin)
        return member.id

    member_id, errors = await run_flow(flow())
    return ChangeMyMobilePayload(member=await member_node(info, member_id) if member_id else None, user_errors=errors)
