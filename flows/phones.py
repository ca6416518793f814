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
