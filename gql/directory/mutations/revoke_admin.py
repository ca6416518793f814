from __future__ import annotations

from typing import Annotated

import strawberry

from flows.directory import revoke_admin as revoke_admin_flow
from flows.errors import NotFound
from gql.context import Info
from gql.errors import UserError, run_flow


@strawberry.input(description="The admin grant to end.")
class RevokeAdminInput:
    grant_id: strawberry.ID = strawberry.field(description="AdminGrant.id of the grant.")


@strawberry.type(description="What revokeAdmin did.")
class RevokeAdminPayload:
    revoked_grant_id: strawberry.ID | None = strawberry.field(description="Id of the revoked grant; null on error.")
    user_errors: list[UserError] = strawberry.field(description="Why nothing was revoked; empty on success.")


async def revoke_admin(
    info: Info, input: Annotated[RevokeAdminInput, strawberry.argument(description="The admin grant to end.")]
) -> RevokeAdminPayload:
    async def flow() -> int:
        try:
            pk = int(input.grant_id)
        except ValueError as exc:
            raise NotFound("grantId") from exc
        return await revoke_admin_flow(info.context.viewer, pk, origin=info.context.origin)

    revoked, errors = await run_flow(flow())
    return RevokeAdminPayload(revoked_grant_id=input.grant_id if revoked else None, user_errors=errors)
