from __future__ import annotations

from typing import Annotated

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


@strawberry.input(description="A new department under an existing one.")
class CreateOrgUnitInput:
    parent_id: relay.GlobalID = strawberry.field(description="Global id of the parent OrgUnit (at most 15 levels deep).")
    name: str = strawberry.field(description=(
        "Name: at most 50 display columns (a CJK character counts 2), unique among siblings, none of \\:*?\"<>|."))
    order: int = strawberry.field(default=0, description="Position among its siblings: smaller first.")
    scope: Scope = strawberry.field(default=ScopeValue.INHERIT, description="Whom its members see (SPEC §2.1).")
    whitelist: list[relay.GlobalID] | None = strawberry.field(default=None, description=(
        "Global ids of OrgUnits of the corp whose subtrees members under this scope see besides."))
    exclude: list[relay.GlobalID] | None = strawberry.field(default=None, description=(
        "Global ids of OrgUnits of the corp whose subtrees members under this scope do not see."))


@strawberry.type(description="What createOrgUnit did.")
class CreateOrgUnitPayload:
    unit: OrgUnitNode | None = strawberry.field(description="The new unit; null on error.")
    user_errors: list[UserError] = strawberry.field(description="Why nothing was created; empty on success.")


async def create_org_unit(
    info: Info, input: Annotated[CreateOrgUnitInput, strawberry.argument(description="The unit to create.")]
) -> CreateOrgUnitPayload:
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
