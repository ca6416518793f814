from __future__ import annotations

from typing import Annotated

import strawberry
from strawberry import relay

from auth.tokens import issue_member_token
from flows.identity import identity_in
from flows.sessions import token_instant
from gql.context import Info
from gql.errors import UserError, run_flow
from gql.relay import decode_id


@strawberry.input(description="The corp to act in.")
class ActAsInput:
    corp_id: relay.GlobalID = strawberry.field(description=(
        "Global id of a Corp where the person has a member (see viewer.identities)."))


@strawberry.type(description="What actAs did.")
class ActAsPayload:
    token: str | None = strawberry.field(description=(
        "A member token (JWT) for the corp: send it as Authorization: Bearer …; null on error."))
    member_id: relay.GlobalID | None = strawberry.field(description="Global id of the Member the token acts as.")
    user_errors: list[UserError] = strawberry.field(description="Why no token was issued; empty on success.")


async def act_as(
    info: Info, input: Annotated[ActAsInput, strawberry.argument(description="The corp to act in.")]
) -> ActAsPayload:
    """Exchange a person token for a member token of one of the person's corps: its member
    bound to the person, else the not yet activated member holding its number, which this binds
    (SPEC §1). Errors: PERSON_TOKEN_REQUIRED, NOT_FOUND (corpId)."""

    async def flow() -> tuple[str, int]:
        member = await identity_in(info.context.viewer, decode_id(input.corp_id, "Corp", "corpId"))
        return issue_member_token(member.id, issued_ms=token_instant(member)), member.id

    result, errors = await run_flow(flow())
    if result is None:
        return ActAsPayload(token=None, member_id=None, user_errors=errors)
    token, member_id = result
    return ActAsPayload(token=token, member_id=relay.GlobalID("Member", str(member_id)), user_errors=[])
