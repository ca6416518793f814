from __future__ import annotations

import strawberry
from strawberry import relay

from flows.directory import set_field_settings as set_field_settings_flow
from gql.context import Info
from gql.directory.queries import corp_node
from gql.directory.types import FieldSetting
from gql.errors import UserError, run_flow
from gql.relay import decode_id


@strawberry.input
class FieldSettingInput:
    field: str
    visible_to_members: bool
    self_editable: bool


@strawberry.type
class SetFieldSettingsPayload:
    field_settings: list[FieldSetting] | None
    user_errors: list[UserError]


async def set_field_settings(
    info: Info, corp_id: relay.GlobalID, settings: list[FieldSettingInput]
) -> SetFieldSettingsPayload:
    ctx = info.context

    async def flow() -> int:
        pk = decode_id(corp_id, "Corp", "corpId")
        await set_field_settings_flow(
            ctx.viewer, pk, {s.field: (s.visible_to_members, s.self_editable) for s in settings}, origin=ctx.origin
        )
        return pk

    pk, errors = await run_flow(flow())
    if pk is None:
        return SetFieldSettingsPayload(field_settings=None, user_errors=errors)
    ctx.directory.settings.clear(pk)
    corp = await corp_node(info, pk)
    return SetFieldSettingsPayload(
        field_settings=await corp.field_settings(info) if corp else None, user_errors=[]  # type: ignore[misc]
    )
