"""Directory entry points."""

from __future__ import annotations

from typing import Annotated

import strawberry
from strawberry import relay

from gql.context import Info
from gql.directory.types import CorpNode, OrgUnitNode
from gql.hints import hint_without_token
from gql.relay import parse_id


async def corp_node(info: Info, corp_id: int) -> CorpNode | None:
    c = await info.context.directory.visible_corp.load(corp_id)
    return CorpNode(pk=c.id, _c=c) if c is not None else None


async def unit_node(info: Info, unit_id: int) -> OrgUnitNode | None:
    u = await info.context.directory.visible_unit.load(unit_id)
    return OrgUnitNode(pk=u.id, _u=u) if u is not None else None


@strawberry.type
class DirectoryQuery:
    @strawberry.field(
        description="A corp this viewer may see; null for unknown and invisible corps alike (and, without a token, "
        "with a hint in the response's `extensions.hints`)."
    )
    async def corp(
        self, info: Info, id: Annotated[relay.GlobalID, strawberry.argument(description="Global id of a Corp.")]
    ) -> CorpNode | None:
        hint_without_token(info, "corp(id)")
        pk = parse_id(id, "Corp")
        return await corp_node(info, pk) if pk is not None else None
