"""Mobile numbers: parsed and normalised to E.164 with phonenumbers (mainland China by default)."""

from __future__ import annotations

import re

import phonenumbers

DEFAULT_REGION = "CN"

# A mainland mobile as people type it (11 digits, 13x-19x) is the number parse() makes of
# it, +86 and those digits: built directly, without parse (most of an import's phone checks
# went there). Validity and type are still phonenumbers' own. 179.. is left to parse: CN's
# national prefix for parsing strips carrier-selection codes (17951...), as it does 11.. and
# 12... tests/flows/test_phones.py holds the two readings together.
_MAINLAND = re.compile(r"1[3-9][0-9]{9}")


# Number types a mobile column accepts: where the numbering plan cannot tell mobiles from
# landlines (the US, Canada), phonenumbers says FIXED_LINE_OR_MOBILE and the number passes.
_MOBILE_TYPES = frozenset({phonenumbers.PhoneNumberType.MOBILE, phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE})

# Text -> (E.164 or None, is a mobile), for the last numbers read. An import checks each
# number three times (its cell, its type, the profile rule): parsed once, the E.164 form
# is known too, so the later checks are look-ups. Bounded: cleared when full.
_READ: dict[str, tuple[str | None, bool]] = {}
_READ_MAX = 4096


def _read(text: str) -> tuple[str | None, bool]:
    known = _READ.get(text)
    if known is not None:
        return known
    try:
        number = _parse(text)
    except phonenumbers.NumberParseException:
        number = None
    if number is None or not phonenumbers.is_valid_number(number):
        known = (None, False)
    else:
        e164 = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
        known = (e164, phonenumbers.number_type(number) in _MOBILE_TYPES)
    if len(_READ) >= _READ_MAX:
        _READ.clear()
    _READ[text] = known
    if known[0] is not None:
        _READ[known[0]] = known  # the E.164 form reads the same
    return known


def _parse(text: str) -> phonenumbers.PhoneNumber:
    if _MAINLAND.fullmatch(text) and not text.startswith("179"):
        return phonenumbers.PhoneNumber(country_code=86, national_number=int(text))
    return phonenumbers.parse(text, None if text.startswith("+") else DEFAULT_REGION)


def normalise_mobile(raw: str) -> str | None:
    """E.164 form of a valid number, or None when it is not a valid phone number."""
    text = raw.strip()
    return _read(text)[0] if text else None


def is_mobile(e164: str) -> bool:
    """Whether a valid number (E.164) is a mobile number: not a landline (021-52066273),
    nor a 400 / toll-free / premium service number."""
    return _read(e164)[1]


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
