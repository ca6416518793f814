"""Chain entry points, including the partner-app status lookups (SPEC §3.6)."""

from __future__ import annotations

import strawberry
from strawberry import relay

from flows.phones import normalise_mobile
from gql.chain.types import ChainContactNode, ChainCorpNode, ChainSpaceNode, chain_space_node, contact_nodes
from gql.context import Info
from gql.relay import parse_id
from models import ChainContact, ChainCorp, ChainSpace
from models.enums import ContactStatus
from permissions import chain


async def _status_chain(info: Info, chain_id: relay.GlobalID) -> int | None:
    pk = parse_id(chain_id, "ChainSpace")
    if pk is None:
        return None
    owner = await ChainSpace.filter(id=pk).values_list("owner_corp_id", flat=True)
    if not owner or not chain.can_query_status(info.context.viewer, pk, owner[0]):
        return None
    return pk


@strawberry.type
class ChainQuery:
    @strawberry.field
    async def chain_space(self, info: Info, id: relay.GlobalID) -> ChainSpaceNode | None:
        pk = parse_id(id, "ChainSpace")
        return await chain_space_node(info, pk) if pk is not None else None

    @strawberry.field(description="Partner-app lookup (scope chain:status): an imported corp and its join status.")
    async def chain_corp_by_custom_id(
        self, info: Info, chain_id: relay.GlobalID, custom_corp_id: str
    ) -> ChainCorpNode | None:
        pk = await _status_chain(info, chain_id)
        if pk is None:
            return None
        c = await ChainCorp.get_or_none(chain_id=pk, custom_corp_id=custom_corp_id)
        return ChainCorpNode(pk=c.id, _c=c) if c is not None else None

    @strawberry.field(description="Partner-app lookup (scope chain:status): the joined contact, null while not joined.")
    async def chain_member_by_mobile(
        self, info: Info, chain_id: relay.GlobalID, mobile: str
    ) -> ChainContactNode | None:
        pk = await _status_chain(info, chain_id)
        normalised = normalise_mobile(mobile)
        if pk is None or normalised is None:
            return None
        c = await ChainContact.get_or_none(chain_id=pk, mobile=normalised, status=ContactStatus.JOINED.value)
        return (await contact_nodes(info, [c]))[0] if c is not None else None
