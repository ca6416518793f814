from __future__ import annotations

import strawberry
from strawberry import relay

from auth.tokens import issue_member_token
from flows.identity import identity_in
from gql.context import Info
from gql.errors import UserError, run_flow
from gql.relay import decode_id


@strawberry.type
class ActAsPayload:
    token: str | None
    member_id: relay.GlobalID | None
    user_errors: list[UserError]


async def act_as(info: Info, corp_id: relay.GlobalID) -> ActAsPayload:
    """Exchange a person token for a member token of one of the person's corps."""

    async def flow() -> tuple[str, int]:
        member = await identity_in(info.context.viewer, decode_id(corp_id, "Corp", "corpId"))
        return issue_member_token(member.id), member.id

    result, errors = await run_flow(flow())
    if result is None:
        return ActAsPayload(token=None, member_id=None, user_errors=errors)
    token, member_id = result
    return ActAsPayload(token=token, member_id=relay.GlobalID("Member", str(member_id)), user_errors=[])
