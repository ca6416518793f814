"""Reading uploaded tables (.xlsx, .csv) row by row, and the cell rules every import shares.

A table is a header row and data rows numbered as the user sees them in a spreadsheet
(the header is row 1), so every error can point at "row 7, column 手机". Nothing a user
submitted is dropped silently: an unknown column refuses the file, and a value in a column
without a header is a row error.

The file itself is parsed in a child process under a memory and CPU limit, streaming and
within budgets (flows/table_reader.py, flows/xlsx_stream.py, flows/table_budget.py): an
import holds one row at a time, and a hostile file ends as a file-level error
(FILE_TOO_LARGE, FILE_TOO_COMPLEX, PARSER_CRASHED, BAD_FILE, BAD_ENCODING), never as a
dead server. Every text cell arrives without invisible characters (zero-width spaces,
BOMs; no-break spaces become spaces).

Interface for the imports:

    table = await read_table(file_name, content)      # FlowError for a file-level error
    table.headers                                     # ["姓名", "账号", ...]
    async for number, cells in table.rows:            # FlowError mid-file, past a budget
        ...                                           # cells: list[Cell], header-wide
    await table.close()                               # only when stopping early

Cells are str, int, float, bool, None, or ExcelDate / FormulaCell / ErrorCell; read them
with `text_cell`, `mobile_cell`, `telephone_cell`, `date_cell` (which raise CellError with
a row-error code), after `unreadable_cells` has reported the cells that cannot be read.
"""

from __future__ import annotations

import re
from collections.abc import AsyncGenerator, Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from flows.errors import FlowError
from flows.phones import is_mobile, lost_leading_zero, normalise_mobile
from flows.spreadsheets import as_text, strip_inert_quote
from flows.table_budget import FileRefused, column_letter
from flows.table_reader import stream_table
from flows.xlsx_stream import ErrorCell, ExcelDate, FormulaCell

Cell = str | int | float | bool | date | datetime | ExcelDate | FormulaCell | ErrorCell | None


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
        """The error as the job lists it: {row, column, code, message} (row and column None
            for a file-level note)."""
        return {"row": self.row, "column": self.column, "code": self.code, "message": self.message}


@dataclass
class Table:
    """An import file opened for reading (SPEC §3.1): its header row, its data rows (an async
    generator of (row number, cells padded to the header width)), how many to expect, and
    file-level notes. The reader is released by reading the rows to the end or close()."""
    headers: list[str]
    # (spreadsheet row number, cells padded to the header width); blank rows are skipped.
    rows: AsyncGenerator[tuple[int, list[Cell]], None]
    # Data rows to expect (blank rows included), for progress reporting before the end.
    size_hint: int = 0
    # File-level notes for the job's list ({row: None, column, code, message}), e.g. which
    # of several visible sheets was read (SHEET_CHOSEN).
    notices: list[dict[str, Any]] = field(default_factory=list)

    async def close(self) -> None:
        """Stop reading (kills the reader process); reading to the end does this too."""
        await self.rows.aclose()


def _blank(value: Cell) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


async def _messages(file_name: str, content: bytes, job_id: int | None) -> AsyncGenerator[Any, None]:
    """The reader's messages, its file-level refusals turned into the imports' FlowError."""
    stream = stream_table(file_name, content, job_id=job_id)
    try:
        async for message in stream:
            yield message
    except FileRefused as exc:
        raise FlowError(exc.code, exc.message, "file") from exc
    finally:
        await stream.aclose()


async def read_table(file_name: str, content: bytes, job_id: int | None = None) -> Table:
    """Open an .xlsx (the sheet the user sees) or .csv upload, for job `job_id` (names its
    spool file). The first non-blank row is the header. Raises FlowError with a file-level code."""
    messages = _messages(file_name, content, job_id)
    try:
        meta = await anext(messages)
        async for number, cells in messages:
            if not all(_blank(c) for c in cells):
                headers = [str(strip_inert_quote(c)).strip() if c is not None else "" for c in cells]
                if any("\x00" in h for h in headers):
                    raise FlowError("NUL_CHARACTER", "The header row holds a NUL character, which no value may hold.", "file")
                while headers and not headers[-1]:
                    headers.pop()
                notices = []
                if len(meta["visible"]) > 1:
                    notices.append({
                        "row": None, "column": None, "code": "SHEET_CHOSEN",
                        "message": f"Read sheet '{meta['sheet']}' (the active one) of the visible sheets "
                                   f"{', '.join(repr(v) for v in meta['visible'])}; the others were not imported.",
                    })
                hint = max(meta["hint"] - number, 0)
                return Table(headers, _data_rows(messages, len(headers)), hint, notices)
    except BaseException:
        await messages.aclose()
        raise
    await messages.aclose()
    raise FlowError("EMPTY_FILE", "The file has no header row.", "file")


async def _data_rows(messages: AsyncGenerator[Any, None], width: int) -> AsyncGenerator[tuple[int, list[Cell]], None]:
    try:
        async for number, cells in messages:
            if all(_blank(c) for c in cells):
                continue
            if len(cells) < width:
                cells.extend([None] * (width - len(cells)))
            # The quote a chaingate spreadsheet puts before a formula character is not part of the value.
            yield number, [strip_inert_quote(c) for c in cells]
    finally:
        await messages.aclose()


def header_key(header: str) -> str:
    """Header matching ignores case, spaces and the template's required-marker `*`."""
    return re.sub(r"[\s*＊]", "", header).lower()


# The columns an error report (flows/reports.py) adds to the file's own: a report, its cells
# fixed, is imported as it is, these two read as notes and never as data.
REPORT_ROW_HEADER = "原行号 row"
REPORT_REASON_HEADER = "错误原因 reason"
_REPORT_KEYS = {header_key(REPORT_ROW_HEADER), header_key(REPORT_REASON_HEADER)}


def report_columns(headers: list[str]) -> list[int]:
    """Indexes of the error report's own columns among `headers`."""
    return [i for i, h in enumerate(headers) if h and header_key(h) in _REPORT_KEYS]


def report_columns_notice(headers: list[str], ignored: list[int]) -> dict[str, Any]:
    """The file-level note (code REPORT_COLUMNS_IGNORED, row and column None) that the
    columns at `ignored` (indexes into `headers`) are an error report's own notes and were not
    imported (SPEC §3.1: a corrected error report can be imported as it is)."""
    names = ", ".join(f"{column_letter(i)} '{headers[i]}'" for i in ignored)
    return {"row": None, "column": None, "code": "REPORT_COLUMNS_IGNORED",
            "message": f"Column(s) {names} are an error report's notes (the original row and the reason): "
                       "they were not imported."}


def map_columns(headers: list[str], aliases: dict[str, str], required: set[str]) -> dict[int, str]:
    """Column index -> canonical field; refuses unknown, repeated and missing columns. An
    error report's own columns (report_columns) are no field: the pipeline blanks them."""
    mapping: dict[int, str] = {}
    notes = set(report_columns(headers))
    for index, header in enumerate(headers):
        if not header or index in notes:
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


def unreadable_cells(cells: list[Cell], mapping: dict[int, str]) -> list[tuple[int, CellError]]:
    """Mapped cells whose value the file does not hold: a formula never calculated
    (FORMULA_WITHOUT_VALUE) or an error value such as #N/A (CELL_ERROR_VALUE). The import
    reports them and reads the cell as blank, so no other rule misreads an empty field."""
    found = []
    for index in mapping:
        value = cells[index]
        if isinstance(value, FormulaCell):
            formula = f" ={value.formula}" if value.formula else ""
            found.append((index, CellError(
                "FORMULA_WITHOUT_VALUE",
                f"The cell holds a formula{formula} but no calculated value (the file was written by a program): "
                "open it in Excel or WPS, save it, and import again.",
            )))
        elif isinstance(value, ErrorCell):
            found.append((index, CellError("CELL_ERROR_VALUE", f"The cell shows the error {value.shown}, not a value.")))
    return found


def nul_cell_errors(number: int, cells: list[Cell], headers: list[str]) -> list[RowError]:
    """A NUL character is refused in every cell: no text column may hold one (PostgreSQL
    refuses it outright), so such a row is reported, never sent to the database."""
    return [
        RowError(number, headers[i] if i < len(headers) and headers[i] else column_letter(i), "NUL_CHARACTER",
                 "This cell holds a NUL character, which no value may hold.")
        for i, c in enumerate(cells) if isinstance(c, str) and "\x00" in c
    ]


@dataclass
class RowFailures:
    """The RowErrors of one row being planned: `fail(key, code, message)` records one against
    the column mapped to `key` (an API key), once per unreadable cell (a cell already
    reported as unreadable gets no second error reading it as blank)."""

    number: int
    column: Callable[[str], str | None]
    errors: list[RowError] = field(default_factory=list)
    unreadable: set[str] = field(default_factory=set)

    def fail(self, key: str | None, code: str, message: str) -> None:
        """Record RowError `code` / `message` on this row, in the column mapped to `key` (None: the row)."""
        if key not in self.unreadable:
            self.errors.append(RowError(self.number, self.column(key) if key else None, code, message))


def open_row(
    number: int, cells: list[Cell], headers: list[str], mapping: dict[int, str], column: Callable[[str], str | None]
) -> tuple[dict[str, Cell], RowFailures] | list[RowError]:
    """The first checks every import plan makes of row `number` (`cells` padded to the
    headers, `mapping` column index -> API key, `column` API key -> header): its NUL_CHARACTER
    errors alone when a cell holds one; else its cells by API key (unreadable ones blanked)
    and its RowFailures, holding UNKNOWN_COLUMN for stray cells and the unreadable cells'
    FORMULA_WITHOUT_VALUE / CELL_ERROR_VALUE. Blanks unreadable cells in `cells`."""
    refused = nul_cell_errors(number, cells, headers)
    if refused:
        return refused
    row = RowFailures(number, column)
    for index in stray_cells(cells, mapping):
        row.errors.append(RowError(number, column_letter(index), "UNKNOWN_COLUMN", "A value in a column without a header."))
    for index, problem in unreadable_cells(cells, mapping):
        row.fail(mapping[index], problem.code, problem.message)
        row.unreadable.add(mapping[index])
        cells[index] = None
    return {key: cells[i] for i, key in mapping.items()}, row


def text_cell(value: Cell) -> str | None:
    """A cell as trimmed text; None when blank. Whole numbers lose the spreadsheet's `.0`;
    a date-formatted number is the date it shows."""
    if _blank(value):
        return None
    if isinstance(value, (FormulaCell, ErrorCell)):
        raise CellError("FORMULA_WITHOUT_VALUE", "The cell holds no value.")  # unreadable_cells reports these first
    if isinstance(value, ExcelDate):
        value = excel_datetime(value)
    return as_text(value, sep=" ").strip()


def _number(value: Cell) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def telephone_cell(value: Cell) -> str | None:
    """A telephone must keep the text the user typed. A number cell cannot hold a leading
    0, and every domestic landline starts with one (010…, 0755…): a number that is a valid
    landline once its 0 is put back lost it, and is refused with LEADING_ZEROS_LOST."""
    text = text_cell(value)
    if text is not None and _number(value) and lost_leading_zero(text):
        raise CellError(
            "LEADING_ZEROS_LOST",
            f"{text} was stored as a number and lost its leading 0 (0{text}); format the column as text and type it again.",
        )
    return text


_SCIENTIFIC = re.compile(r"^[+-]?\d+(\.\d+)?[eE][+-]?\d+$")


def mobile_cell(value: Cell) -> str | None:
    """A mobile number (手机) must arrive as text and be a mobile number. A numeric cell is
    accepted only when it is an exact integer that still has its digits: Excel shows long
    numbers as 1.38E+10, and a value that went through that display (13800000000) has lost
    them. A valid landline, 400 or other service number is NOT_A_MOBILE (phonenumbers'
    number type), an invalid number INVALID_MOBILE."""
    if _blank(value):
        return None
    if _number(value):
        assert isinstance(value, (int, float))
        if isinstance(value, float) and not value.is_integer():
            raise CellError("MOBILE_NOT_TEXT", f"{value!r} is not a whole number: store mobiles as text.")
        digits = str(int(value))
        if len(digits) >= 10 and len(digits.rstrip("0")) <= 6:
            raise CellError(
                "MOBILE_NOT_TEXT", f"{digits} looks like a number shown as {float(value):.2E}: its digits were lost; store mobiles as text."
            )
        text = digits
    else:
        text = str(text_cell(value))
        if _SCIENTIFIC.match(text):
            raise CellError("MOBILE_NOT_TEXT", f"{text} is a number in scientific notation: its digits were lost; store mobiles as text.")
    mobile = normalise_mobile(text)
    if mobile is None:
        raise CellError("INVALID_MOBILE", f"{text} is not a valid mobile number (use +CC for numbers outside China).")
    if not is_mobile(mobile):
        raise CellError("NOT_A_MOBILE", f"{text} is a landline or service number, not a mobile number; put landlines under 电话.")
    return mobile


# Excel's day 0 in each date system. The 1900 system counts a 29 February 1900 that never
# was (serial 60, kept from Lotus 1-2-3): serials after it are one day ahead.
_EXCEL_1900 = datetime(1899, 12, 31)
_EXCEL_1904 = datetime(1904, 1, 1)
_EXCEL_MAX_SERIAL = 2_958_465  # 9999-12-31


def excel_datetime(value: ExcelDate) -> datetime:
    """The date and time Excel shows for a serial; CellError INVALID_DATE for serials that
    name no day (0 and below, 60 in the 1900 system, past 9999)."""
    serial = value.serial
    if not 1 <= serial <= _EXCEL_MAX_SERIAL:
        raise CellError("INVALID_DATE", f"{serial:g} is not a date Excel can show.")
    if value.date1904:
        day = _EXCEL_1904
    else:
        if 60 <= serial < 61:
            raise CellError("INVALID_DATE", "Serial 60 is Excel's 1900-02-29, a day that does not exist.")
        day = _EXCEL_1900 if serial < 60 else _EXCEL_1900 - timedelta(days=1)
    # Rounded to the second as Excel displays it (serials are binary fractions of a day).
    return day + timedelta(seconds=round(serial * 86400))


_DATE_FORMATS = ("%Y-%m-%d", "%Y/%m/%d", "%Y.%m.%d", "%Y年%m月%d日")
# The commonest of them written in full (2024-03-01): read without strptime, the same day.
_ISO_DAY = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_TIME_SUFFIX = re.compile(r"^(?P<day>\S+)(?:[ T]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?)$")


def date_cell(value: Cell) -> date | None:
    """A date as Excel shows it: a date-formatted cell, an Excel serial number in a General
    cell (45000 is 2023-03-15), or text `2024-03-01`, `2024/3/1`, `2024.3.1`, `2024年3月1日`,
    optionally followed by a time (`2023-01-05 00:00:00`). The time of day is dropped."""
    if _blank(value):
        return None
    if isinstance(value, ExcelDate):
        return excel_datetime(value).date()
    if _number(value):
        assert isinstance(value, (int, float))
        return excel_datetime(ExcelDate(float(value))).date()
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    text = str(text_cell(value))
    match = _TIME_SUFFIX.match(text)
    day = match.group("day") if match else text
    if _ISO_DAY.fullmatch(day):
        try:
            return date(int(day[:4]), int(day[5:7]), int(day[8:]))
        except ValueError:
            pass  # no such day: the formats below refuse it too
    for fmt in _DATE_FORMATS:
        try:
            return datetime.strptime(day, fmt).date()
        except ValueError:
            continue
    raise CellError("INVALID_DATE", f"{text} is not a date (write 2024-03-01).")


# Department and group paths: `A->B`, several separated by `;`. Full-width and spaced
# variants of the separators are the same separators; anything else that separates names
# in other tools is refused, so `研发中心/软件部` never becomes a top-level unit of that name.
_FULL_WIDTH_ARROW = re.compile(r"\s*[-－—–]\s*[>＞]\s*")
_PATH_LIST = re.compile(r"[;；]")
_FOREIGN_SEPARATOR = re.compile(r"[/／\\>＞→|｜]")


def split_paths(text: str) -> list[list[str]]:
    """`营销中心－＞大客户部；研发部` -> [["营销中心", "大客户部"], ["研发部"]] (names trimmed,
    empty parts of the list dropped). Names are not otherwise checked here."""
    text = _FULL_WIDTH_ARROW.sub("->", text)
    return [[name.strip() for name in part.split("->")] for part in _PATH_LIST.split(text) if part.strip()]


def foreign_separator(name: str) -> str | None:
    """The separator-like character in a unit name (`/`, `>`, `→`, `|`…), if any."""
    match = _FOREIGN_SEPARATOR.search(name)
    return match.group(0) if match else None
