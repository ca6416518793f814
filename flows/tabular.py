"""Reading uploaded tables (.xlsx, .csv) row by row, and the cell rules every import shares.

A table is a header row and data rows numbered as the user sees them in a spreadsheet
(the header is row 1), so every error can point at "row 7, column 手机". Nothing a user
submitted is dropped silently: an unknown column refuses the file, and a value in a column
without a header is a row error.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from python_calamine import CalamineWorkbook

from flows.errors import FlowError
from flows.phones import normalise_mobile
from flows.spreadsheets import strip_inert_quote

Cell = str | int | float | bool | date | datetime | None


class CellError(Exception):
    """One cell's value breaks a rule; the import records it against the row and goes on."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass
class RowError:
    """One broken rule of one row, as every import reports it: {row, column, code, message}."""

    row: int
    column: str | None
    code: str
    message: str

    def as_dict(self) -> dict[str, Any]:
        return {"row": self.row, "column": self.column, "code": self.code, "message": self.message}


@dataclass
class Table:
    headers: list[str]
    # (spreadsheet row number, cells padded to the header width); blank rows are skipped.
    rows: Iterator[tuple[int, list[Cell]]]
    # Data rows to expect (blank rows included), for progress reporting before the end.
    size_hint: int = 0


def column_letter(index: int) -> str:
    """0 -> A, 25 -> Z, 26 -> AA: how a spreadsheet names a column."""
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def _blank(value: Cell) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _decode_csv(content: bytes) -> str:
    # UTF-8 (with or without BOM) first: GB18030 would also "decode" most UTF-8 bytes, wrongly.
    if content.startswith(codecs.BOM_UTF8):
        return content[len(codecs.BOM_UTF8):].decode("utf-8")
    try:
        return content.decode("utf-8")
    except UnicodeDecodeError:
        pass
    try:
        return content.decode("gb18030")
    except UnicodeDecodeError as exc:
        raise FlowError("BAD_ENCODING", "A .csv file must be UTF-8, UTF-8 with BOM, or GB18030.", "file") from exc


def _csv_rows(content: bytes) -> Iterator[list[Cell]]:
    yield from csv.reader(io.StringIO(_decode_csv(content), newline=""))


def _xlsx_sheet(content: bytes) -> Any:
    try:
        return CalamineWorkbook.from_filelike(io.BytesIO(content)).get_sheet_by_index(0)
    except Exception as exc:  # calamine raises several unrelated types for a damaged workbook
        raise FlowError("BAD_FILE", f"This is not a readable .xlsx workbook ({exc}).", "file") from exc


def read_table(file_name: str, content: bytes) -> Table:
    """Open an .xlsx (first sheet) or .csv upload. The first non-blank row is the header."""
    lower = file_name.lower()
    if lower.endswith(".xlsx"):
        sheet = _xlsx_sheet(content)
        raw = iter(sheet.iter_rows())
        lines = sheet.height
    elif lower.endswith(".csv"):
        raw = _csv_rows(content)
        lines = content.count(b"\n") + (0 if content.endswith(b"\n") else 1)
    else:
        raise FlowError("UNSUPPORTED_FILE", "Upload an .xlsx or a .csv file.", "file")
    # The quote a chaingate spreadsheet puts before a formula character is not part of the value.
    numbered = enumerate(([strip_inert_quote(c) for c in cells] for cells in raw), start=1)
    for number, cells in numbered:
        if not all(_blank(c) for c in cells):
            headers = [str(c).strip() if c is not None else "" for c in cells]
            if any("\x00" in h for h in headers):
                raise FlowError("NUL_CHARACTER", "The header row holds a NUL character, which no value may hold.", "file")
            while headers and not headers[-1]:
                headers.pop()
            return Table(headers, _data_rows(numbered, len(headers)), max(lines - number, 0))
    raise FlowError("EMPTY_FILE", "The file has no header row.", "file")


def _data_rows(numbered: Iterator[tuple[int, list[Cell]]], width: int) -> Iterator[tuple[int, list[Cell]]]:
    for number, cells in numbered:
        if all(_blank(c) for c in cells):
            continue
        cells = list(cells)
        if len(cells) < width:
            cells.extend([None] * (width - len(cells)))
        yield number, cells


def header_key(header: str) -> str:
    """Header matching ignores case, spaces and the template's required-marker `*`."""
    return re.sub(r"[\s*＊]", "", header).lower()


def map_columns(headers: list[str], aliases: dict[str, str], required: set[str]) -> dict[int, str]:
    """Column index -> canonical field; refuses unknown, repeated and missing columns."""
    mapping: dict[int, str] = {}
    for index, header in enumerate(headers):
        if not header:
            continue
        key = aliases.get(header_key(header))
        if key is None:
            raise FlowError(
                "UNKNOWN_COLUMN", f"Column {column_letter(index)} '{header}' is not a column this import knows.", header
            )
        if key in mapping.values():
            raise FlowError("DUPLICATE_COLUMN", f"Column {column_letter(index)} '{header}' repeats an earlier column.", header)
        mapping[index] = key
    missing = sorted(required - set(mapping.values()))
    if missing:
        raise FlowError("MISSING_COLUMN", f"Required column(s) missing: {', '.join(missing)}.", missing[0])
    return mapping


def stray_cells(cells: list[Cell], mapping: dict[int, str]) -> list[int]:
    """Indexes of non-blank cells in columns without a header: reported, never ignored."""
    return [i for i, c in enumerate(cells) if i not in mapping and not _blank(c)]


def nul_cell_errors(number: int, cells: list[Cell], headers: list[str]) -> list[RowError]:
    """A NUL character is refused in every cell: no text column may hold one (PostgreSQL
    refuses it outright), so such a row is reported, never sent to the database."""
    return [
        RowError(number, headers[i] if i < len(headers) and headers[i] else column_letter(i), "NUL_CHARACTER",
                 "This cell holds a NUL character, which no value may hold.")
        for i, c in enumerate(cells) if isinstance(c, str) and "\x00" in c
    ]


def text_cell(value: Cell) -> str | None:
    """A cell as trimmed text; None when blank. Whole numbers lose the spreadsheet's `.0`."""
    if _blank(value):
        return None
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == datetime.min.time() else value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return str(value).strip()


_SCIENTIFIC = re.compile(r"^[+-]?\d+(\.\d+)?[eE][+-]?\d+$")


def mobile_cell(value: Cell) -> str | None:
    """A mobile number must arrive as text. A numeric cell is accepted only when it is an
    exact integer that still has its digits: Excel shows long numbers as 1.38E+10, and a
    value that went through that display (13800000000) has lost them."""
    if _blank(value):
        return None
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        if isinstance(value, float) and not value.is_integer():
            raise CellError("MOBILE_NOT_TEXT", f"{value!r} is not a whole number: store mobiles as text.")
        digits = str(int(value))
        if len(digits) >= 10 and len(digits.rstrip("0")) <= 6:
            raise CellError(
                "MOBILE_NOT_TEXT", f"{digits} looks like a number shown as {float(value):.2E}: its digits were lost; store mobiles as text."
            )
        text = digits
    else:
        text = str(value).strip()
        if _SCIENTIFIC.match(text):
            raise CellError("MOBILE_NOT_TEXT", f"{text} is a number in scientific notation: its digits were lost; store mobiles as text.")
    mobile = normalise_mobile(text)
    if mobile is None:
        raise CellError("INVALID_MOBILE", f"{text} is not a valid mobile number (use +CC for numbers outside China).")
    return mobile


_DATE_FORMATS = ("%Y-%m-%d", "%Y/%m/%d", "%Y.%m.%d", "%Y年%m月%d日")


def date_cell(value: Cell) -> date | None:
    if _blank(value):
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    text = str(value).strip()
    for fmt in _DATE_FORMATS:
        try:
            return datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    raise CellError("INVALID_DATE", f"{text} is not a date (write 2024-03-01).")
