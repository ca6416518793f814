from __future__ import annotations

from typing import Annotated

import strawberry
from strawberry import relay

from flows.directory import set_field_settings as set_field_settings_flow
from gql.context import Info
from gql.directory.queries import corp_node
from gql.directory.types import PROFILE_FIELD_NAME, FieldSetting
from gql.errors import UserError, run_flow
from gql.relay import decode_id
from permissions.fields import can_read_field_settings


@strawberry.input(description="How the corp treats one profile field (SPEC §2.2).")
class FieldSettingInput:
    field: str = strawberry.field(description=PROFILE_FIELD_NAME)
    visible_to_members: bool = strawberry.field(description="Members who see a colleague also read this field (显示).")
    self_editable: bool = strawberry.field(description="Members may change this field of their own profile (成员自行修改).")


@strawberry.input(description="A corp and the field settings to change.")
class SetFieldSettingsInput:
    corp_id: relay.GlobalID = strawberry.field(description="Global id of the Corp.")
    settings: list[FieldSettingInput] = strawberry.field(description=(
        "The fields to set; fields not listed keep their settings."))
    search_by_mobile: bool | None = strawberry.field(default=None, description=(
        "Whether searchMembers matches members' mobile numbers (SPEC §3.7), and then only where the "
        "searcher reads that member's mobile; null or omitted leaves it as it is (off for a new corp)."))


@strawberry.type(description="What setFieldSettings did.")
class SetFieldSettingsPayload:
    field_settings: list[FieldSetting] | None = strawberry.field(description=(
        "All of the corp's field settings after the change; null on error."))
    search_by_mobile: bool | None = strawberry.field(
        description="The corp's switch for searching members by mobile, as now set; null on errors."
    )
    user_errors: list[UserError] = strawberry.field(description="Why nothing was changed; empty on success.")


async def set_field_settings(
    info: Info,
    input: Annotated[SetFieldSettingsInput, strawberry.argument(description="The corp and its field settings.")],
) -> SetFieldSettingsPayload:
    ctx = info.context

    async def flow() -> int:
        pk = decode_id(input.corp_id, "Corp", "corpId")
        await set_field_settings_flow(
            ctx.viewer, pk, {s.field: (s.visible_to_members, s.self_editable) for s in input.settings},
            search_by_mobile=input.search_by_mobile, origin=ctx.origin,
        )
        return pk

    pk, errors = await run_flow(flow())
    if pk is None:
        return SetFieldSettingsPayload(field_settings=None, search_by_mobile=None, user_errors=errors)
    ctx.directory.forget_corp(pk)
    corp = await corp_node(info, pk)
    # The fields' own ShownOnlyTo rule, which calling their resolvers here would skip.
    shown = corp is not None and can_read_field_settings(ctx.viewer, pk)
    return SetFieldSettingsPayload(
        field_settings=await corp.field_settings(info) if shown else ([] if corp else None),  # type: ignore[misc,union-attr]
        search_by_mobile=corp.search_by_mobile() if shown else None,  # type: ignore[union-attr]
        user_errors=[],
    )
