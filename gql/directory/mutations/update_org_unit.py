from __future__ import annotations

import strawberry
from strawberry import relay

from flows.units import update_org_unit as update_org_unit_flow
from gql.context import Info
from gql.directory.queries import unit_node
from gql.directory.types import OrgUnitNode
from gql.enums import Scope
from gql.errors import UserError, run_flow
from gql.relay import decode_id
from models.enums import Scope as ScopeValue


@strawberry.input(description="Omitted fields stay as they are.")
class UpdateOrgUnitInput:
    id: relay.GlobalID
    name: str | None = None
    parent_id: relay.GlobalID | None = None
    order: int | None = None
    scope: Scope | None = None
    whitelist: list[relay.GlobalID] | None = None
    exclude: list[relay.GlobalID] | None = None
    leader_ids: list[relay.GlobalID] | None = None


@strawberry.type
class UpdateOrgUnitPayload:
    unit: OrgUnitNode | None
    user_errors: list[UserError]


def _ids(gids: list[relay.GlobalID] | None, type_name: str, field: str) -> list[int] | None:
    return [decode_id(g, type_name, field) for g in gids] if gids is not None else None


async def update_org_unit(info: Info, input: UpdateOrgUnitInput) -> UpdateOrgUnitPayload:
    ctx = info.context

    async def flow() -> int:
        unit = await update_org_unit_flow(
            ctx.viewer,
            decode_id(input.id, "OrgUnit", "id"),
            name=input.name,
            parent_id=decode_id(input.parent_id, "OrgUnit", "parentId") if input.parent_id else None,
            order=input.order,
            scope=ScopeValue(input.scope.value) if input.scope else None,
            whitelist=_ids(input.whitelist, "OrgUnit", "whitelist"),
            exclude=_ids(input.exclude, "OrgUnit", "exclude"),
            leader_ids=_ids(input.leader_ids, "Member", "leaderIds"),
            origin=ctx.origin,
        )
        return unit.id

    unit_id, errors = await run_flow(flow())
    return UpdateOrgUnitPayload(unit=await unit_node(info, unit_id) if unit_id else None, user_errors=errors)
