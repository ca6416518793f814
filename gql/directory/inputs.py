"""Inputs shared by several directory mutations."""

from __future__ import annotations

from datetime import date
from typing import Any

import strawberry

from flows.profile import ATTRIBUTES
from gql.enums import Gender
from models.enums import Gender as GenderValue

# Python attribute of the inputs below -> the API field name the flows speak.
_API_NAME = {attr: api for api, attr in ATTRIBUTES.items()}


@strawberry.input(description="Profile fields to change: omitted fields stay, null clears.")
class ProfileChanges:
    alias: str | None = strawberry.field(default=strawberry.UNSET, description="Nickname (别名).")
    mobile: str | None = strawberry.field(default=strawberry.UNSET, description=(
        "Mobile: +CC… or a mainland number, stored in E.164 (e.g. +8613800000000); unique in the corp. "
        "Refused (MOBILE_BOUND) once the member is activated: it then changes it with changeMyMobile."))
    email: str | None = strawberry.field(default=strawberry.UNSET, description="Email address.")
    wechat_id: str | None = strawberry.field(default=strawberry.UNSET, description=(
        "WeChat id (微信号): at most 64 characters, not all digits."))
    telephone: str | None = strawberry.field(default=strawberry.UNSET, description=(
        "Landline (座机) as written, e.g. 021-12345678 or 0755-8888 8888 转 123; +CC outside China."))
    gender: Gender | None = strawberry.field(default=strawberry.UNSET, description="Gender.")
    position: str | None = strawberry.field(default=strawberry.UNSET, description="Job title (职位).")
    address: str | None = strawberry.field(default=strawberry.UNSET, description="Postal or office address.")
    birthday: date | None = strawberry.field(default=strawberry.UNSET, description="Birthday, ISO date (YYYY-MM-DD).")
    hire_date: date | None = strawberry.field(default=strawberry.UNSET, description=(
        "Date of joining the corp (入职日期), ISO date."))


def given_fields(data: Any, attrs: tuple[str, ...]) -> dict[str, Any]:
    """The fields a client actually sent, keyed by API name (UNSET ones are left out)."""
    out: dict[str, Any] = {}
    for attr in attrs:
        value = getattr(data, attr)
        if value is strawberry.UNSET:
            continue
        if attr == "gender" and value is not None:
            value = GenderValue(value.value)
        out[_API_NAME[attr]] = value
    return out


PROFILE_ATTRS = ("alias", "mobile", "email", "wechat_id", "telephone", "gender", "position", "address",
                 "birthday", "hire_date")
