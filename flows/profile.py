"""The rules for a member's own data, in one place for createMember, updateMember,
updateMyProfile and the directory import (which turns each FlowError into a row error)."""

from __future__ import annotations

import re
from datetime import date
from typing import Any

import phonenumbers

from flows.errors import FlowError
from flows.names import bounded_name
from flows.phones import DEFAULT_REGION, normalise_mobile
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
    """`account` stripped; 1-64 of A-Z a-z 0-9 _ . @ -. Code: INVALID_ACCOUNT (account). SPEC §3.1."""
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
    """The name as text, stripped, 1-64 characters. Code: INVALID_NAME (name)."""
    return bounded_name(str(value or ""), 64, "A name")


def clean_mobile(value: Any) -> str | None:
    """The mobile normalised to E.164 (a number without +CC is read as Chinese), None when empty.
    Code: INVALID_MOBILE (mobile). SPEC §3.1."""
    if value is None or not str(value).strip():
        return None
    mobile = normalise_mobile(str(value))
    if mobile is None:
        raise FlowError("INVALID_MOBILE", f"{value} is not a valid mobile number (use +CC outside China).", "mobile")
    return mobile


# A telephone (座机) as people write it: the number (digits, spaces, dashes, parentheses, a
# leading + for another country), then maybe an extension after 转 / 分机 / ext / x / # / ",".
_TELEPHONE = re.compile(
    r"(?P<number>\+?[0-9(][0-9 ()\-]*?)\s*(?:(?:转|分机|ext\.?|x|#|,)\s*(?P<extension>[0-9]{1,6}))?",
    re.IGNORECASE,
)
# An internal extension on its own (分机号, 2 to 6 digits): common in corporate directories,
# where colleagues dial each other through the switchboard.
_INTERNAL_EXTENSION = re.compile(r"[0-9]{2,6}")
TELEPHONE_MAX = 32


def clean_telephone(value: Any) -> str | None:
    """A telephone number, kept as written (trimmed): a number phonenumbers finds valid
    (mainland China unless it starts with +CC: landlines with their area code, mobiles,
    400/800 numbers), optionally followed by an extension. `021-12345678`,
    `0755-8888 8888 转 123`, `+86 21 1234 5678`, `(010) 12345678 ext. 12` pass, and so does an
    internal extension alone (`8001`, 2 to 6 digits); letters or a formula (`=2+3`) are
    INVALID_TELEPHONE; over 32 characters is TOO_LONG."""
    if value is None or not str(value).strip():
        return None
    text = str(value).strip()
    if len(text) > TELEPHONE_MAX:
        raise FlowError("TOO_LONG", f"telephone has at most {TELEPHONE_MAX} characters.", "telephone")
    if _INTERNAL_EXTENSION.fullmatch(text):
        return text
    shape = _TELEPHONE.fullmatch(text)
    if shape is None or not _valid_number(shape.group("number")):
        raise FlowError(
            "INVALID_TELEPHONE",
            f"{text} is not a telephone number (write 021-12345678, 0755-8888 8888 转 123 or +CC outside China).",
            "telephone",
        )
    return text


def _valid_number(number: str) -> bool:
    try:
        parsed = phonenumbers.parse(number, None if number.startswith("+") else DEFAULT_REGION)
    except phonenumbers.NumberParseException:
        return False
    return phonenumbers.is_valid_number(parsed)


def clean_email(value: Any) -> str | None:
    """The email stripped (at most 128 characters), None when empty. Code: INVALID_EMAIL (email)."""
    if value is None or not str(value).strip():
        return None
    email = str(value).strip()
    if len(email) > 128 or not EMAIL_RE.match(email):
        raise FlowError("INVALID_EMAIL", f"{email} is not an email address.", "email")
    return email


def clean_wechat_id(value: Any) -> str | None:
    """The WeChat id stripped, None when empty. Codes: INVALID_WECHAT_ID (all digits), TOO_LONG (over 64)."""
    if value is None or not str(value).strip():
        return None
    wechat = str(value).strip()
    if wechat.isdigit():
        raise FlowError("INVALID_WECHAT_ID", "A wechatId may not be all digits.", "wechatId")
    if len(wechat) > 64:
        raise FlowError("TOO_LONG", "wechatId has at most 64 characters.", "wechatId")
    return wechat


def clean_gender(value: Any) -> Gender:
    """A Gender from 男/女/未知, MALE/FEMALE/UNKNOWN (any case) or a Gender; empty is UNKNOWN. Code: INVALID_GENDER."""
    if value is None or value == "":
        return Gender.UNKNOWN
    if isinstance(value, Gender):
        return value
    found = _GENDER_WORDS.get(str(value).strip().lower())
    if found is None:
        raise FlowError("INVALID_GENDER", f"{value} is not a gender (男/女/未知 or MALE/FEMALE/UNKNOWN).", "gender")
    return found


def clean_date(field: str) -> Any:
    """A cleaner for date field `field`: a date or None passes, anything else is INVALID_DATE (field `field`)."""
    def clean(value: Any) -> date | None:
        if value is None or isinstance(value, date):
            return value
        raise FlowError("INVALID_DATE", f"{field} must be a date.", field)

    return clean


def clean_flag(value: Any) -> bool:
    """A yes/no profile field as a bool (Python truthiness)."""
    return bool(value)


CLEANERS: dict[str, Any] = {
    "name": clean_name,
    "alias": _text("alias", 64),
    "mobile": clean_mobile,
    "email": clean_email,
    "wechatId": clean_wechat_id,
    "telephone": clean_telephone,
    "gender": clean_gender,
    "position": _text("position", 128),
    "address": _text("address", 255),
    "birthday": clean_date("birthday"),
    "hireDate": clean_date("hireDate"),
    "hiddenFromDirectory": clean_flag,
}


def birth_month_of(birthday: date | None) -> int | None:
    """The month (1-12) stored next to a birthday, which searchMembers(birthdayMonth:) filters on."""
    return birthday.month if birthday is not None else None


def clean_profile(changes: dict[str, Any]) -> dict[str, Any]:
    """Validated model attributes for the given API fields (unknown fields are refused).
    A birthday brings its month (`birth_month`): every write of a birthday goes through here."""
    out: dict[str, Any] = {}
    for field, value in changes.items():
        cleaner = CLEANERS.get(field)
        if cleaner is None:
            raise FlowError("UNKNOWN_FIELD", f"{field} is not a profile field.", field)
        out[ATTRIBUTES[field]] = cleaner(value)
    if "birthday" in out:
        out["birth_month"] = birth_month_of(out["birthday"])
    return out


def require_contact(mobile: str | None, email: str | None, wechat_id: str | None) -> None:
    """Code CONTACT_REQUIRED (field mobile) unless one of mobile, email, wechatId is given (SPEC §3.1)."""
    if not (mobile or email or wechat_id):
        raise FlowError("CONTACT_REQUIRED", "Give at least one of mobile, email, wechatId.", "mobile")
