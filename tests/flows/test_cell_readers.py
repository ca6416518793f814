"""The cell readers' fast paths read what their general rule reads: a date written in full
(2024-03-01) is the day strptime's `%Y-%m-%d` gives, and refused when it gives none."""

from __future__ import annotations

from datetime import date, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from flows.tabular import CellError, date_cell


def _by_strptime(text: str) -> date | None:
    try:
        return datetime.strptime(text, "%Y-%m-%d").date()
    except ValueError:
        return None


@given(
    year=st.integers(0, 9999),
    month=st.integers(0, 19),
    day=st.integers(0, 39),
    time=st.sampled_from(["", " 00:00:00", "T12:30", " 9:05:07.25"]),
)
def test_a_full_iso_day_reads_as_strptime_reads_it(year: int, month: int, day: int, time: str) -> None:
    text = f"{year:04d}-{month:02d}-{day:02d}"
    expected = _by_strptime(text)
    if expected is None:
        with pytest.raises(CellError) as refused:
            date_cell(text + time)
        assert refused.value.code == "INVALID_DATE"
    else:
        assert date_cell(text + time) == expected
