from __future__ import annotations

import strawberry
from strawberry import relay

from flows.directory import create_org_unit as create_org_unit_flow
from gql.context import Info
from gql.directory.queries import unit_node
from gql.directory.types import OrgUnitNode
from gql.enums import Scope
from gql.errors import UserError, run_flow
from gql.relay import decode_id
from models.enums import Scope as ScopeValue


@strawberry.input
class CreateOrgUnitInput:
    parent_id: relay.GlobalID
    name: str
    order: int = 0
    scope: Scope = ScopeValue.INHERIT
    whitelist: list[relay.GlobalID] | None = None
    exclude: list[relay.GlobalID] | None = None


@strawberry.type
class CreateOrgUnitPayload:
    unit: OrgUnitNode | None
    user_errors: list[UserError]


async def create_org_unit(info: Info, input: CreateOrgUnitInput) -> CreateOrgUnitPayload:
    ctx = info.context

    async def flow() -> int:
        unit = await create_org_unit_flow(
            ctx.viewer,
            decode_id(input.parent_id, "OrgUnit", "parentId"),
            input.name,
            order=input.order,
            scope=ScopeValue(input.scope.value),
            whitelist=[decode_id(g, "OrgUnit", "whitelist") for g in input.whitelist or []],
            exclude=[decode_id(g, "OrgUnit", "exclude") for g in input.exclude or []],
            origin=ctx.origin,
        )
        return unit.id

    unit_id, errors = await run_flow(flow())
    return CreateOrgUnitPayload(unit=await unit_node(info, unit_id) if unit_id else None, user_errors=errors)
