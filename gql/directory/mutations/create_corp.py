from __future__ import annotations

import strawberry
from strawberry import relay

from flows.directory import create_corp as create_corp_flow
from gql.auth.queries import CorpIdentity
from gql.context import Info
from gql.errors import UserError, run_flow


@strawberry.input
class CreateCorpInput:
    name: str
    short_name: str | None = None


@strawberry.type
class CreateCorpPayload:
    identity: CorpIdentity | None
    user_errors: list[UserError]


async def create_corp(info: Info, input: CreateCorpInput) -> CreateCorpPayload:
    """A person creates a corp and becomes its first member and super admin; `actAs` then gives a member token."""
    ctx = info.context
    member, errors = await run_flow(create_corp_flow(ctx.viewer, input.name, input.short_name, origin=ctx.origin))
    if member is None:
        return CreateCorpPayload(identity=None, user_errors=errors)
    identity = CorpIdentity(
        corp_id=relay.GlobalID("Corp", str(member.corp_id)), corp_name=input.name.strip(), member_name=member.name
    )
    return CreateCorpPayload(identity=identity, user_errors=[])
