from __future__ import annotations

from typing import Annotated

import strawberry
from strawberry import relay

from flows.directory import grant_admin as grant_admin_flow
from gql.context import Info
from gql.enums import AdminKind, AdminRight
from gql.errors import UserError, run_flow
from gql.relay import decode_id
from models.enums import AdminKind as AdminKindValue
from models.enums import AdminRight as AdminRightValue


@strawberry.input(description="An admin grant for an ACTIVE member of the caller's corp (SPEC §2.4).")
class GrantAdminInput:
    member_id: relay.GlobalID = strawberry.field(description="Global id of the Member.")
    kind: AdminKind = strawberry.field(description="SUPER_ADMIN, DIRECTORY_ADMIN or CHAIN_ADMIN.")
    unit_ids: list[relay.GlobalID] | None = strawberry.field(default=None, description=(
        "DIRECTORY_ADMIN only, required: global ids of the OrgUnits whose subtrees are its ranges."))
    rights: list[AdminRight] | None = strawberry.field(default=None, description=(
        "DIRECTORY_ADMIN only: its rights in those ranges; default READ (always held)."))
    chain_id: relay.GlobalID | None = strawberry.field(default=None, description=(
        "CHAIN_ADMIN only, required: global id of a ChainSpace the corp owns."))
    group_ids: list[relay.GlobalID] | None = strawberry.field(default=None, description=(
        "CHAIN_ADMIN only: global ids of the ChainGroups it is limited to (with their subgroups); "
        "none for the whole chain."))


@strawberry.type(description="An admin grant held by a member (SPEC §1 AdminGrant).")
class AdminGrant:
    id: strawberry.ID = strawberry.field(description="The grant's id (a plain number), for revokeAdmin.")
    kind: AdminKind = strawberry.field(description="What kind of admin it makes the member.")
    rights: list[AdminRight] = strawberry.field(description="A directory admin's rights in its ranges; empty for other kinds.")


@strawberry.type(description="What grantAdmin did.")
class GrantAdminPayload:
    grant: AdminGrant | None = strawberry.field(description="The new grant; null on error.")
    user_errors: list[UserError] = strawberry.field(description="Why nothing was granted; empty on success.")


async def grant_admin(
    info: Info, input: Annotated[GrantAdminInput, strawberry.argument(description="The grant to make.")]
) -> GrantAdminPayload:
    ctx = info.context

    async def flow() -> AdminGrant:
        grant = await grant_admin_flow(
            ctx.viewer,
            decode_id(input.member_id, "Member", "memberId"),
            AdminKindValue(input.kind.value),
            unit_ids=[decode_id(g, "OrgUnit", "unitIds") for g in input.unit_ids or []],
            rights=[AdminRightValue(r.value) for r in input.rights or []],
            chain_id=decode_id(input.chain_id, "ChainSpace", "chainId") if input.chain_id else None,
            group_ids=[decode_id(g, "ChainGroup", "groupIds") for g in input.group_ids or []],
            origin=ctx.origin,
        )
        return AdminGrant(
            id=strawberry.ID(str(grant.id)), kind=grant.kind, rights=[AdminRightValue(r) for r in grant.rights]
        )

    grant, errors = await run_flow(flow())
    return GrantAdminPayload(grant=grant, user_errors=errors)
