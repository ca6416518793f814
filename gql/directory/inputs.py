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
    alias: str | None = strawberry.UNSET
    mobile: str | None = strawberry.UNSET
    email: str | None = strawberry.UNSET
    wechat_id: str | None = strawberry.UNSET
    telephone: str | None = strawberry.UNSET
    gender: Gender | None = strawberry.UNSET
    position: str | None = strawberry.UNSET
    address: str | None = strawberry.UNSET
    birthday: date | None = strawberry.UNSET
    hire_date: date | None = strawberry.UNSET


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
