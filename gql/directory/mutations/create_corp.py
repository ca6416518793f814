from __future__ import annotations

from typing import Annotated

import strawberry
from strawberry import relay

from flows.directory import create_corp as create_corp_flow
from gql.auth.queries import CorpIdentity
from gql.context import Info
from gql.errors import UserError, run_flow


@strawberry.input(description="A new corp (SPEC §4 createCorp).")
class CreateCorpInput:
    name: str = strawberry.field(description="Full name, 1-64 characters (trimmed).")
    short_name: str | None = strawberry.field(default=None, description="Short name (简称); optional.")


@strawberry.type(description="What createCorp did.")
class CreateCorpPayload:
    identity: CorpIdentity | None = strawberry.field(description=(
        "The caller's identity in the new corp (pass its corpId to actAs); null when userErrors is not empty."))
    user_errors: list[UserError] = strawberry.field(description="Why nothing was created; empty on success.")


async def create_corp(
    info: Info, input: Annotated[CreateCorpInput, strawberry.argument(description="The corp to create.")]
) -> CreateCorpPayload:
    """A person creates a corp and becomes its first member and super admin; `actAs` then gives a member token."""
    ctx = info.context
    member, errors = await run_flow(create_corp_flow(ctx.viewer, input.name, input.short_name, origin=ctx.origin))
    if member is None:
        return CreateCorpPayload(identity=None, user_errors=errors)
    identity = CorpIdentity(
        corp_id=relay.GlobalID("Corp", str(member.corp_id)), corp_name=input.name.strip(), member_name=member.name
    )
    return CreateCorpPayload(identity=identity, user_errors=[])
