"""flows.phones keeps what it read of a number (an import checks each number three times):
whatever was read before, in whichever form, the answers are phonenumbers' own."""

from __future__ import annotations

from collections.abc import Callable

import phonenumbers
from hypothesis import given
from hypothesis import strategies as st

from flows import phones

NUMBERS = st.one_of(
    st.from_regex(r"1[3-9][0-9]{9}", fullmatch=True),  # mainland mobiles, mostly valid
    st.from_regex(r"0[1-9][0-9]{1,2}-?[0-9]{7,8}", fullmatch=True),  # landlines
    st.from_regex(r"\+(1|44|852|86)[0-9]{6,11}", fullmatch=True),
    st.text(alphabet="0123456789+- ", max_size=16),
)


def fresh(text: str) -> tuple[str | None, bool]:
    """What phonenumbers says of `text`, read from scratch (the rule before it was kept)."""
    text = text.strip()
    if not text:
        return None, False
    try:
        number = phonenumbers.parse(text, None if text.startswith("+") else phones.DEFAULT_REGION)
    except phonenumbers.NumberParseException:
        return None, False
    if not phonenumbers.is_valid_number(number):
        return None, False
    e164 = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    mobile = phonenumbers.number_type(phonenumbers.parse(e164, None)) in phones._MOBILE_TYPES
    return e164, mobile


@given(st.lists(NUMBERS, min_size=1, max_size=6), st.booleans())
def test_kept_readings_answer_as_a_fresh_reading_would(texts: list[str], clear: bool) -> None:
    if clear:
        phones._READ.clear()
    for text in texts + texts:  # the second time from what was kept
        e164, mobile = fresh(text)
        assert phones.normalise_mobile(text) == e164
        if e164 is not None:
            assert phones.is_mobile(e164) is mobile
            assert phones.normalise_mobile(e164) == e164


def _outcome(read: Callable[[str], phonenumbers.PhoneNumber], text: str) -> object:
    try:
        return read(text)
    except phonenumbers.NumberParseException as exc:
        return exc.error_type


@given(
    st.one_of(
        st.from_regex(r"1[0-9]{10}", fullmatch=True),
        st.from_regex(r"17[0-9]{9}", fullmatch=True),
        st.from_regex(r"1[0-9]{8,12}", fullmatch=True),
    )
)
def test_a_mainland_mobile_built_without_parse_is_the_number_parse_makes(text: str) -> None:
    # The fast path's number, field by field, is parse()'s (validity and type then come from it).
    assert _outcome(phones._parse, text) == _outcome(lambda t: phonenumbers.parse(t, phones.DEFAULT_REGION), text)


def test_every_mainland_prefix_reads_as_parse_reads_it() -> None:
    for prefix in range(1000, 2000):
        for rest in ("0000000", "1234567", "9999999", "5000001"):
            text = f"{prefix}{rest}"
            assert _outcome(phones._parse, text) == _outcome(
                lambda t: phonenumbers.parse(t, phones.DEFAULT_REGION), text
            )
