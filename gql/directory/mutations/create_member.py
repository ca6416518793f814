from __future__ import annotations

from datetime import date

import strawberry
from strawberry import relay

from flows.members import MemberInput
from flows.members import create_member as create_member_flow
from gql.context import Info
from gql.directory.types import MemberNode, member_node
from gql.enums import Gender
from gql.errors import UserError, run_flow
from gql.relay import decode_id
from models.enums import Gender as GenderValue


@strawberry.input
class CreateMemberInput:
    corp_id: relay.GlobalID
    account: str
    name: str
    unit_ids: list[relay.GlobalID]
    main_unit_id: relay.GlobalID | None = None
    leader_of: list[relay.GlobalID] | None = None
    alias: str | None = None
    mobile: str | None = None
    email: str | None = None
    wechat_id: str | None = None
    telephone: str | None = None
    gender: Gender = GenderValue.UNKNOWN
    position: str | None = None
    address: str | None = None
    birthday: date | None = None
    hire_date: date | None = None
    hidden_from_directory: bool = False


@strawberry.type
class CreateMemberPayload:
    member: MemberNode | None
    user_errors: list[UserError]


async def create_member(info: Info, input: CreateMemberInput) -> CreateMemberPayload:
    ctx = info.context

    async def flow() -> int:
        data = MemberInput(
            account=input.account,
            name=input.name,
            unit_ids=[decode_id(g, "OrgUnit", "unitIds") for g in input.unit_ids],
            main_unit_id=decode_id(input.main_unit_id, "OrgUnit", "mainUnitId") if input.main_unit_id else None,
            leader_of=[decode_id(g, "OrgUnit", "leaderOf") for g in input.leader_of or []],
            alias=input.alias,
            mobile=input.mobile,
            email=input.email,
            wechat_id=input.wechat_id,
            telephone=input.telephone,
            gender=GenderValue(input.gender.value),
            position=input.position,
            address=input.address,
            birthday=input.birthday,
            hire_date=input.hire_date,
            hidden_from_directory=input.hidden_from_directory,
        )
        member = await create_member_flow(ctx.viewer, decode_id(input.corp_id, "Corp", "corpId"), data, origin=ctx.origin)
        return member.id

    member_id, errors = await run_flow(flow())
    return CreateMemberPayload(member=await member_node(info, member_id) if member_id else None, user_errors=errors)
