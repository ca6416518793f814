from __future__ import annotations

from typing import Annotated

import strawberry
from strawberry import relay

from flows.units import delete_org_unit as delete_org_unit_flow
from gql.acting import act_on_id
from gql.context import Info
from gql.errors import UserError


@strawberry.input(description="The unit to delete.")
class DeleteOrgUnitInput:
    id: relay.GlobalID = strawberry.field(description="Global id of the OrgUnit.")


@strawberry.type(description="What deleteOrgUnit did.")
class DeleteOrgUnitPayload:
    deleted_id: relay.GlobalID | None = strawberry.field(description="Global id of the deleted OrgUnit; null on error.")
    user_errors: list[UserError] = strawberry.field(description="Why nothing was deleted; empty on success.")


async def delete_org_unit(
    info: Info, input: Annotated[DeleteOrgUnitInput, strawberry.argument(description="The unit to delete.")]
) -> DeleteOrgUnitPayload:
    """Only a unit without subunits and (non-resigned) members: else UNIT_NOT_EMPTY."""
    deleted, errors = await act_on_id(info, input.id, "OrgUnit", "id", delete_org_unit_flow)
    return DeleteOrgUnitPayload(deleted_id=input.id if deleted else None, user_errors=errors)
