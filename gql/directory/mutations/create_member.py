from __future__ import annotations

from datetime import date
from typing import Annotated

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


@strawberry.input(description="A new member (SPEC §1): at least one of mobile, email and wechatId.")
class CreateMemberInput:
    corp_id: relay.GlobalID = strawberry.field(description="Global id of the Corp.")
    account: str = strawberry.field(description=(
        "账号 (userid): [A-Za-z0-9_.@-]{1,64}, unique in the corp ignoring case; immutable afterwards."))
    name: str = strawberry.field(description="Full name (姓名), 1-64 characters.")
    unit_ids: list[relay.GlobalID] = strawberry.field(description=(
        "Global ids of the OrgUnits it sits in (at least one), each one the caller manages."))
    main_unit_id: relay.GlobalID | None = strawberry.field(default=None, description=(
        "Global id of its main unit, one of unitIds; default the first."))
    leader_of: list[relay.GlobalID] | None = strawberry.field(default=None, description=(
        "Global ids of the unitIds it leads (部门负责人)."))
    alias: str | None = strawberry.field(default=None, description="Nickname (别名).")
    mobile: str | None = strawberry.field(default=None, description=(
        "Mobile: +CC… or a mainland number, stored in E.164 (e.g. +8613800000000); unique in the corp."))
    email: str | None = strawberry.field(default=None, description="Email address.")
    wechat_id: str | None = strawberry.field(default=None, description=(
        "WeChat id (微信号): at most 64 characters, not all digits."))
    telephone: str | None = strawberry.field(default=None, description=(
        "Landline (座机) as written, e.g. 021-12345678; +CC outside China."))
    gender: Gender = strawberry.field(default=GenderValue.UNKNOWN, description="Gender; default UNKNOWN.")
    position: str | None = strawberry.field(default=None, description="Job title (职位).")
    address: str | None = strawberry.field(default=None, description="Postal or office address.")
    birthday: date | None = strawberry.field(default=None, description="Birthday, ISO date (YYYY-MM-DD).")
    hire_date: date | None = strawberry.field(default=None, description="Date of joining (入职日期), ISO date.")
    hidden_from_directory: bool = strawberry.field(default=False, description=(
        "Seen only by itself and its admins (SPEC §2.1)."))


@strawberry.type(description="What createMember did.")
class CreateMemberPayload:
    member: MemberNode | None = strawberry.field(description="The new member; null on error.")
    user_errors: list[UserError] = strawberry.field(description="Why nothing was created; empty on success.")


async def create_member(
    info: Info, input: Annotated[CreateMemberInput, strawberry.argument(description="The member to create.")]
) -> CreateMemberPayload:
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
