from __future__ import annotations

from typing import Annotated

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
    id: relay.GlobalID = strawberry.field(description="Global id of the OrgUnit.")
    name: str | None = strawberry.field(default=None, description=(
        "New name: at most 50 display columns (a CJK character counts 2), unique among siblings."))
    parent_id: relay.GlobalID | None = strawberry.field(default=None, description=(
        "Global id of the new parent OrgUnit: not inside the unit's own subtree, at most 15 levels deep."))
    order: int | None = strawberry.field(default=None, description="Position among its siblings: smaller first.")
    scope: Scope | None = strawberry.field(default=None, description="Whom its members see (SPEC §2.1).")
    whitelist: list[relay.GlobalID] | None = strawberry.field(default=None, description=(
        "Global ids of OrgUnits whose subtrees members under this scope see besides (replaces the list)."))
    exclude: list[relay.GlobalID] | None = strawberry.field(default=None, description=(
        "Global ids of OrgUnits whose subtrees members under this scope do not see (replaces the list)."))
    leader_ids: list[relay.GlobalID] | None = strawberry.field(default=None, description=(
        "Global ids of the Members seated in the unit who lead it (部门负责人), replacing the leaders."))


@strawberry.type(description="What updateOrgUnit did.")
class UpdateOrgUnitPayload:
    unit: OrgUnitNode | None = strawberry.field(description="The unit after the change; null on error.")
    user_errors: list[UserError] = strawberry.field(description="Why nothing was changed; empty on success.")


def _ids(gids: list[relay.GlobalID] | None, type_name: str, field: str) -> list[int] | None:
    return [decode_id(g, type_name, field) for g in gids] if gids is not None else None


async def update_org_unit(
    info: Info, input: Annotated[UpdateOrgUnitInput, strawberry.argument(description="The unit and its changes.")]
) -> UpdateOrgUnitPayload:
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
