from __future__ import annotations

from typing import Annotated

import strawberry
from strawberry import relay

from flows.joining import Choice, JoinResult
from flows.joining import join_chain as join_chain_flow
from gql.chain.enums import JoinOutcome
from gql.chain.joining_types import CorpChoice, corp_gid
from gql.context import Info
from gql.errors import UserError, run_flow
from gql.relay import decode_id


@strawberry.input(description="With a person token. Rule 3 needs corpId (one of your corps) or newCorpName.")
class JoinChainInput:
    code: str = strawberry.field(description="The code from the invitation link or import notification.")
    corp_id: relay.GlobalID | None = strawberry.field(default=None, description=(
        "Global id of one of your corps to join as (see previewJoin's identities)."))
    new_corp_name: str | None = strawberry.field(default=None, description="Create a corp (you become its super admin).")
    new_corp_short_name: str | None = strawberry.field(default=None, description="Short name of that new corp.")


@strawberry.type(description="What joinChain did.")
class JoinChainPayload:
    outcome: JoinOutcome | None = strawberry.field(description="JOINED or PENDING_APPROVAL; null on error.")
    corp: CorpChoice | None = strawberry.field(description="The corp identity the person joined (or waits to join) as.")
    member_id: relay.GlobalID | None = strawberry.field(description="The person's member in that corp, once joined.")
    chain_corp_id: relay.GlobalID | None = strawberry.field(description="Global id of the corp's ChainCorp.")
    contact_id: relay.GlobalID | None = strawberry.field(description="Global id of the person's ChainContact.")
    join_request_id: relay.GlobalID | None = strawberry.field(description="The approval request while PENDING_APPROVAL.")
    user_errors: list[UserError] = strawberry.field(description="Why the person did not join; empty on success.")


async def join_chain(
    info: Info, input: Annotated[JoinChainInput, strawberry.argument(description="The code and the corp identity.")]
) -> JoinChainPayload:
    """Then `actAs(input: {corpId})` gives the member token to act in the chain."""
    ctx = info.context

    async def flow() -> JoinResult:
        choice = Choice(
            corp_id=decode_id(input.corp_id, "Corp", "corpId") if input.corp_id else None,
            new_corp_name=input.new_corp_name,
            new_corp_short_name=input.new_corp_short_name,
        )
        return await join_chain_flow(ctx.viewer, input.code, choice, origin=ctx.origin)

    result, errors = await run_flow(flow())
    if result is None:
        return JoinChainPayload(
            outcome=None, corp=None, member_id=None, chain_corp_id=None, contact_id=None, join_request_id=None,
            user_errors=errors,
        )
    return JoinChainPayload(
        outcome=result.outcome,
        corp=CorpChoice(
            corp_id=corp_gid(result.corp.id), corp_name=result.corp.name, is_super_admin=result.is_super_admin
        ),
        member_id=relay.GlobalID("Member", str(result.member_id)) if result.member_id else None,
        chain_corp_id=relay.GlobalID("ChainCorp", str(result.place_id)),
        contact_id=relay.GlobalID("ChainContact", str(result.contact_id)),
        join_request_id=relay.GlobalID("JoinRequest", str(result.request.id)) if result.request else None,
        user_errors=[],
    )
