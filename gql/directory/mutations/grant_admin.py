from __future__ import annotations

import strawberry
from strawberry import relay

from flows.directory import grant_admin as grant_admin_flow
from gql.context import Info
from gql.enums import AdminKind, AdminRight
from gql.errors import UserError, run_flow
from gql.relay import decode_id
from models.enums import AdminKind as AdminKindValue
from models.enums import AdminRight as AdminRightValue


@strawberry.input
class GrantAdminInput:
    member_id: relay.GlobalID
    kind: AdminKind
    unit_ids: list[relay.GlobalID] | None = None
    rights: list[AdminRight] | None = None
    chain_id: relay.GlobalID | None = None
    group_ids: list[relay.GlobalID] | None = None


@strawberry.type
class AdminGrant:
    id: strawberry.ID
    kind: AdminKind
    rights: list[AdminRight]


@strawberry.type
class GrantAdminPayload:
    grant: AdminGrant | None
    user_errors: list[UserError]


async def grant_admin(info: Info, input: GrantAdminInput) -> GrantAdminPayload:
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
