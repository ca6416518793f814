"""The rules for a member's own data, in one place for createMember, updateMember,
updateMyProfile and the directory import (which turns each FlowError into a row error)."""

from __future__ import annotations

import re
from datetime import date
from typing import Any

from flows.errors import FlowError
from flows.phones import normalise_mobile
from models.enums import Gender

ACCOUNT_RE = re.compile(r"^[A-Za-z0-9_.@-]{1,64}$")
EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")

# GraphQL / import field name -> model attribute.
ATTRIBUTES = {
    "name": "name",
    "alias": "alias",
    "mobile": "mobile",
    "email": "email",
    "wechatId": "wechat_id",
    "telephone": "telephone",
    "gender": "gender",
    "position": "position",
    "address": "address",
    "birthday": "birthday",
    "hireDate": "hire_date",
    "hiddenFromDirectory": "hidden_from_directory",
}

_GENDER_WORDS = {
    "男": Gender.MALE, "m": Gender.MALE, "male": Gender.MALE,
    "女": Gender.FEMALE, "f": Gender.FEMALE, "female": Gender.FEMALE,
    "未知": Gender.UNKNOWN, "unknown": Gender.UNKNOWN,
}
GENDER_LABELS = {Gender.MALE: "男", Gender.FEMALE: "女", Gender.UNKNOWN: "未知"}


def clean_account(account: str) -> str:
    account = account.strip()
    if not ACCOUNT_RE.match(account):
        raise FlowError("INVALID_ACCOUNT", "An account is 1-64 of A-Z a-z 0-9 _ . @ -.", "account")
    return account


def _text(field: str, limit: int) -> Any:
    def clean(value: Any) -> str | None:
        if value is None or not str(value).strip():
            return None
        text = str(value).strip()
        if len(text) > limit:
            raise FlowError("TOO_LONG", f"{field} has at most {limit} characters.", field)
        return text

    return clean


def clean_name(value: Any) -> str:
    name = str(value or "").strip()
    if not 1 <= len(name) <= 64:
        raise FlowError("INVALID_NAME", "A name has 1 to 64 characters.", "name")
    return name


def clean_mobile(value: Any) -> str | None:
    if value is None or not str(value).strip():
        return None
    mobile = normalise_mobile(str(value))
    if mobile is None:
        raise FlowError("INVALID_MOBILE", f"{value} is not a valid mobile number (use +CC outside China).", "mobile")
    return mobile


def clean_email(value: Any) -> str | None:
    if value is None or not str(value).strip():
        return None
    email = str(value).strip()
    if len(email) > 128 or not EMAIL_RE.match(email):
        raise FlowError("INVALID_EMAIL", f"{email} is not an email address.", "email")
    return email


def clean_wechat_id(value: Any) -> str | None:
    if value is None or not str(value).strip():
        return None
    wechat = str(value).strip()
    if wechat.isdigit():
        raise FlowError("INVALID_WECHAT_ID", "A wechatId may not be all digits.", "wechatId")
    if len(wechat) > 64:
        raise FlowError("TOO_LONG", "wechatId has at most 64 characters.", "wechatId")
    return wechat


def clean_gender(value: Any) -> Gender:
    if value is None or value == "":
        return Gender.UNKNOWN
    if isinstance(value, Gender):
        return value
    found = _GENDER_WORDS.get(str(value).strip().lower())
    if found is None:
        raise FlowError("INVALID_GENDER", f"{value} is not a gender (男/女/未知 or MALE/FEMALE/UNKNOWN).", "gender")
    return found


def clean_date(field: str) -> Any:
    def clean(value: Any) -> date | None:
        if value is None or isinstance(value, date):
            return value
        raise FlowError("INVALID_DATE", f"{field} must be a date.", field)

    return clean


def clean_flag(value: Any) -> bool:
    return bool(value)


CLEANERS: dict[str, Any] = {
    "name": clean_name,
    "alias": _text("alias", 64),
    "mobile": clean_mobile,
    "email": clean_email,
    "wechatId": clean_wechat_id,
    "telephone": _text("telephone", 32),
    "gender": clean_gender,
    "position": _text("position", 128),
    "address": _text("address", 255),
    "birthday": clean_date("birthday"),
    "hireDate": clean_date("hireDate"),
    "hiddenFromDirectory": clean_flag,
}


def clean_profile(changes: dict[str, Any]) -> dict[str, Any]:
    """Validated model attributes for the given API fields (unknown fields are refused)."""
    out: dict[str, Any] = {}
    for field, value in changes.items():
        cleaner = CLEANERS.get(field)
        if cleaner is None:
            raise FlowError("UNKNOWN_FIELD", f"{field} is not a profile field.", field)
        out[ATTRIBUTES[field]] = cleaner(value)
    return out


def require_contact(mobile: str | None, email: str | None, wechat_id: str | None) -> None:
    if not (mobile or email or wechat_id):
        raise FlowError("CONTACT_REQUIRED", "Give at least one of mobile, email, wechatId.", "mobile")
