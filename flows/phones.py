"""Mobile numbers: parsed and normalised to E.164 with phonenumbers (mainland China by default)."""

from __future__ import annotations

import phonenumbers

DEFAULT_REGION = "CN"


def normalise_mobile(raw: str) -> str | None:
    """E.164 form of a valid number, or None when it is not a valid phone number."""
    text = raw.strip()
    if not text:
        return None
    try:
        number = phonenumbers.parse(text, None if text.startswith("+") else DEFAULT_REGION)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


# Number types a mobile column accepts: where the numbering plan cannot tell mobiles from
# landlines (the US, Canada), phonenumbers says FIXED_LINE_OR_MOBILE and the number passes.
_MOBILE_TYPES = frozenset({phonenumbers.PhoneNumberType.MOBILE, phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE})


def is_mobile(e164: str) -> bool:
    """Whether a valid number (E.164) is a mobile number: not a landline (021-52066273),
    nor a 400 / toll-free / premium service number."""
    return phonenumbers.number_type(phonenumbers.parse(e164, None)) in _MOBILE_TYPES


def lost_leading_zero(digits: str) -> bool:
    """Whether digits read from a number cell are a domestic landline without its trunk 0
    (1065529988 is 010-65529988): a number cell cannot hold the 0 every such number is
    dialled and written with."""
    if not digits.isdigit() or digits.startswith("0"):
        return False
    try:
        number = phonenumbers.parse(digits, DEFAULT_REGION)
    except phonenumbers.NumberParseException:
        return False
    return phonenumbers.is_valid_number(number) and phonenumbers.number_type(number) == phonenumbers.PhoneNumberType.FIXED_LINE
