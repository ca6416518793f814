"""Spreadsheets chaingate hands out are data, never code: the one writer every file goes
through (the directory export, the error report, the rows a mutation sends as a table).

Formula injection (OWASP "CSV Injection"; ASVS 1.2.10 extends it to .xlsx): a value that
starts with `=`, `+`, `-`, `@`, tab or carriage return is read by Excel, LibreOffice or
Google Sheets as a formula, which can call HYPERLINK/WEBSERVICE or DDE on the machine of
whoever opens the export. The decision here:

- Every .xlsx cell is written as a string cell (data_type 's', numbers and dates as their
  text): a string cell is never evaluated when the file is opened.
- A value starting with one of those characters also gets the cell's "quote prefix" style,
  what Excel itself sets when a user types `'`: editing the cell keeps it text.
- And, as OWASP says, such a value is written with a leading `'`, so it stays inert even
  after the sheet is saved as CSV or the cell copied elsewhere. The one exception is a
  plain international phone number (`+` then digits and spaces, as `+8613900000000` or
  `+86 21 1234 5678`): it cannot reference a cell or call anything, and its reader
  expects to see it as it is, so it keeps only the string type and the quote-prefix style.
- A value that itself starts with `'` followed by one of those characters, or by `'`,
  gets one more `'`, so the reader's rule (`strip_inert_quote`: drop one leading `'` before
  such a character) gives back exactly the value written: export -> edit -> re-import
  changes nothing.
- Characters an .xlsx file cannot hold (control characters, NUL among them) are written
  as U+FFFD instead of failing the whole download.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable
from datetime import date, datetime
from typing import Any

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
QUOTE = "'"
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
_PLAIN_PHONE = re.compile(r"\+[0-9][0-9 ]*")


def as_text(value: Any, sep: str = "T") -> str:
    """A cell value as the text a user typed: "" for None, TRUE / FALSE, whole numbers
    without `.0`, dates ISO (a datetime at midnight as its date, else with `sep` between
    date and time)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == datetime.min.time() else value.isoformat(sep=sep)
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def starts_formula(text: str) -> bool:
    """Whether a spreadsheet would read `text` as a formula (it starts with one of
    FORMULA_TRIGGERS: = + - @, tab, carriage return); such text is written inert (inert_text)."""
    return text.startswith(FORMULA_TRIGGERS)


def inert_text(text: str) -> str:
    """`text` as written to a spreadsheet: a leading `'` where a formula could start (see
    the module docstring for the phone-number exception and the round trip)."""
    if starts_formula(text) and not _PLAIN_PHONE.fullmatch(text):
        return QUOTE + text
    if text.startswith(QUOTE) and text[1:2] and (starts_formula(text[1:]) or text[1] == QUOTE):
        return QUOTE + text
    return text


def strip_inert_quote(value: Any) -> Any:
    """The reader's half of `inert_text`: one leading `'` before a formula character or
    another `'` is dropped (Excel's own "this is text" mark); anything else is unchanged."""
    if isinstance(value, str) and value.startswith(QUOTE) and value[1:2] and (
        starts_formula(value[1:]) or value[1] == QUOTE
    ):
        return value[1:]
    return value


def xlsx_bytes(rows: Iterable[Iterable[Any]], title: str | None = None) -> bytes:
    """One sheet (named `title`, else openpyxl's default) of string cells, every value made
    inert (streamed: write-only workbook)."""
    book = Workbook(write_only=True)
    sheet = book.create_sheet(title)

    def cell(value: Any) -> WriteOnlyCell:
        text = ILLEGAL_CHARACTERS_RE.sub("\ufffd", as_text(value))
        out = WriteOnlyCell(sheet, value=inert_text(text))
        out.data_type = "s"  # openpyxl would take a leading "=" for a formula
        if starts_formula(text):
            out.quotePrefix = True
        return out

    for row in rows:
        sheet.append([cell(v) for v in row])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def csv_bytes(rows: Iterable[Iterable[Any]]) -> bytes:
    """UTF-8 CSV with every value made inert, as `xlsx_bytes` does."""
    out = io.StringIO()
    writer = csv.writer(out)
    for row in rows:
        writer.writerow([inert_text(as_text(v)) for v in row])
    return out.getvalue().encode("utf-8")
