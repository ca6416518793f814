from __future__ import annotations

from typing import Annotated

import strawberry
from strawberry import relay

from flows.chain_approvals import Confirmation
from flows.chain_approvals import confirm_chain_members as confirm_chain_members_flow
from gql.chain.joining_types import JoinRequestNode, join_request_nodes
from gql.chain.types import ChainContactNode, contact_node
from gql.context import Info
from gql.errors import UserError, run_flow
from gql.relay import decode_id


@strawberry.input(description="The first leader (or a super admin) of a joined corp confirms its imported colleagues.")
class ConfirmChainMembersInput:
    chain_corp_id: relay.GlobalID = strawberry.field(description="Global id of the joined ChainCorp of the caller's corp.")
    contact_ids: list[relay.GlobalID] = strawberry.field(description="Global ids of its ChainContacts to confirm (at least one).")


@strawberry.type(description="What became of one confirmed contact.")
class ConfirmedContact:
    contact: ChainContactNode | None = strawberry.field(description="The contact; null when the caller may not see it.")
    joined: bool = strawberry.field(description="True when the person is now in the corp and the chain.")
    join_request: JoinRequestNode | None = strawberry.field(
        description="When the confirming leader is not a super admin: the approval request sent to them."
    )


@strawberry.type(description="What confirmChainMembers did.")
class ConfirmChainMembersPayload:
    results: list[ConfirmedContact] = strawberry.field(description="One per confirmed contact; empty on error.")
    user_errors: list[UserError] = strawberry.field(description="Why nothing was confirmed; empty on success.")


async def confirm_chain_members(
    info: Info, input: Annotated[ConfirmChainMembersInput, strawberry.argument(description="The corp and the contacts.")]
) -> ConfirmChainMembersPayload:
    ctx = info.context

    async def flow() -> list[Confirmation]:
        return await confirm_chain_members_flow(
            ctx.viewer,
            decode_id(input.chain_corp_id, "ChainCorp", "chainCorpId"),
            [decode_id(c, "ChainContact", "contactIds") for c in input.contact_ids],
            origin=ctx.origin,
        )

    done, errors = await run_flow(flow())
    if done is None:
        return ConfirmChainMembersPayload(results=[], user_errors=errors)
    requests = {r.pk: r for r in await join_request_nodes([c.request for c in done if c.request is not None])}
    return ConfirmChainMembersPayload(
        results=[
            ConfirmedContact(
                contact=await contact_node(info, c.contact_id),
                joined=c.joined,
                join_request=requests.get(c.request.id) if c.request else None,
            )
            for c in done
        ],
        user_errors=[],
    )
