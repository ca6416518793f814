"""Chain entry points, including the partner-app status lookups (SPEC §3.6)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated

import strawberry
from strawberry import relay

from flows.joining import plan_join
from flows.phones import normalise_mobile
from gql.chain.enums import JoinRequestStatus
from gql.chain.joining_types import JoinPreview, JoinRequestNode, join_preview, join_request_nodes
from gql.chain.types import ChainContactNode, ChainCorpNode, ChainSpaceNode, chain_space_node, contact_nodes
from gql.context import Info
from gql.errors import UserError, run_flow
from gql.relay import Connection, paginate, parse_id
from models import ChainContact, ChainCorp, ChainSpace
from models.chain import JoinRequest
from models.chain import JoinRequestStatus as JoinRequestStatusValue
from models.enums import ContactStatus
from permissions import chain
from permissions.restricted import restricted


async def _status_chain(info: Info, chain_id: relay.GlobalID) -> int | None:
    pk = parse_id(chain_id, "ChainSpace")
    if pk is None:
        return None
    owner = await ChainSpace.filter(id=pk).values_list("owner_corp_id", flat=True)
    if not owner or not chain.can_query_status(info.context.viewer, pk, owner[0]):
        return None
    return pk


@strawberry.type(description="What previewJoin found.")
class PreviewJoinPayload:
    preview: JoinPreview | None = strawberry.field(description="What joining would do; null on error.")
    user_errors: list[UserError] = strawberry.field(description=(
        "Why the code cannot be used (the codes joinChain would return); empty otherwise."))


@strawberry.type
class ChainQuery:
    @strawberry.field(description="With a person token: which corp identity this invitation or notification code lets you join as.")
    async def preview_join(
        self,
        info: Info,
        code: Annotated[str, strawberry.argument(description="The code of an invitation link or import notification.")],
    ) -> PreviewJoinPayload:
        plan, errors = await run_flow(plan_join(info.context.viewer, code))
        return PreviewJoinPayload(preview=await join_preview(plan) if plan else None, user_errors=errors)

    @strawberry.field(description="Approval requests to join the viewer's corp (super admins only; empty otherwise).")
    async def join_requests(
        self,
        info: Info,
        status: Annotated[JoinRequestStatus | None, strawberry.argument(
            description="Only requests in this status (default PENDING); null for all.")] = JoinRequestStatusValue.PENDING,
        first: Annotated[int | None, strawberry.argument(description="Page size, 0-100; default 20.")] = None,
        after: Annotated[str | None, strawberry.argument(description="endCursor of the previous page.")] = None,
    ) -> Connection[JoinRequestNode]:
        query = restricted(JoinRequest, info.context.viewer)
        if status is not None:
            query = query.filter(status=JoinRequestStatusValue(status.value).value)

        async def build(rows: Sequence[JoinRequest]) -> list[JoinRequestNode]:
            return await join_request_nodes(rows)

        return await paginate(query.order_by("id"), first, after, build)

    @strawberry.field(description="A chain space this viewer may see; null for unknown and invisible ones alike.")
    async def chain_space(
        self, info: Info, id: Annotated[relay.GlobalID, strawberry.argument(description="Global id of a ChainSpace.")]
    ) -> ChainSpaceNode | None:
        pk = parse_id(id, "ChainSpace")
        return await chain_space_node(info, pk) if pk is not None else None

    @strawberry.field(
        description="Partner-app lookup (scope chain:status; the chain's admins too): an imported corp and its "
        "join status. `customCorpId` is matched exactly, case included, as the import keys it."
    )
    async def chain_corp_by_custom_id(
        self,
        info: Info,
        chain_id: Annotated[relay.GlobalID, strawberry.argument(description="Global id of the ChainSpace.")],
        custom_corp_id: Annotated[str, strawberry.argument(description="The customCorpId given at import.")],
    ) -> ChainCorpNode | None:
        pk = await _status_chain(info, chain_id)
        if pk is None:
            return None
        c = await ChainCorp.get_or_none(chain_id=pk, custom_corp_id=custom_corp_id)
        return ChainCorpNode(pk=c.id, _c=c) if c is not None else None

    @strawberry.field(description="Partner-app lookup (scope chain:status): the joined contact, null while not joined.")
    async def chain_member_by_mobile(
        self,
        info: Info,
        chain_id: Annotated[relay.GlobalID, strawberry.argument(description="Global id of the ChainSpace.")],
        mobile: Annotated[str, strawberry.argument(description=(
            "The contact's mobile: +CC… or a mainland number, normalised to E.164 before matching."))],
    ) -> ChainContactNode | None:
        # Keyed by a contact's mobile by design (SPEC §3.6): the caller brings the number, and
        # only the owner's chain:status apps and the chain's admins may ask (_status_chain). The
        # contact's own mobile in the answer still follows contact_shows_mobile (SPEC §2.2).
        pk = await _status_chain(info, chain_id)
        normalised = normalise_mobile(mobile)
        if pk is None or normalised is None:
            return None
        c = await ChainContact.get_or_none(chain_id=pk, mobile=normalised, status=ContactStatus.JOINED.value)
        return (await contact_nodes(info, [c]))[0] if c is not None else None
