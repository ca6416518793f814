"""Streaming .xlsx reading: the sheet a user sees, row by row, within a budget.

Why our own reader over the zip and its XML rather than a library:

- python-calamine loads a sheet into a dense range sized by the sheet's extent, so one
  stray character in XFD1048576 asks for 17 billion cells (half a terabyte) before a row
  is read, and nothing can be checked first;
- openpyxl's read-only mode streams, but pads every row to the sheet's widest column and
  fills every gap between rows (the same far-corner file yields a million rows of 16 384
  cells), and it ignores merged cells in that mode.

SpreadsheetML is small enough to read directly: expat (stdlib) parses each part in chunks
as it is decompressed, so memory holds one row, the shared strings and the merged ranges;
every size is checked against a Budget before or while it is read, never after; document
type declarations (entity expansion) are refused.

What "the way the user sees it" means here:

- the sheet: the active tab when it is visible, else the first visible sheet (a hidden
  first sheet is never read); several visible sheets are named in a notice;
- a merged range's value belongs to every cell it covers (rows it covers are produced even
  when the file has no row element for them);
- a number whose format is a date is an ExcelDate (its serial and the workbook's date
  system); a number formatted with zero padding (`0000`) is the text it shows (`0042`);
- a formula without a stored value is a FormulaCell, an error value (`#N/A`) an ErrorCell:
  the import reports them per row instead of reading them as empty.
"""

from __future__ import annotations

import contextlib
import math
import posixpath
import re
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import IO, Any
from xml.parsers import expat

from flows.table_budget import Budget, FileRefused, clean_text, outside

CHUNK = 1024 * 1024
MAX_PARTS = 10_000

# Built-in number formats that show dates (Excel, including the CJK locale ids).
_DATE_FORMAT_IDS = frozenset({*range(14, 23), *range(27, 37), *range(45, 48), *range(50, 59)})
_FORMAT_LITERALS = re.compile(r'"[^"]*"|\[[^\]]*\]|\\.|_.|\*.')
_CELL_REF = re.compile(r"^([A-Z]{1,3})([0-9]{1,7})$")
_MERGE = re.compile(rb'<(?:[A-Za-z_][\w.-]*:)?mergeCell\b[^>]*?\bref="([^"]*)"')


@dataclass(frozen=True)
class ExcelDate:
    """A date-formatted number: the serial Excel stores and the workbook's date system."""

    serial: float
    date1904: bool = False


@dataclass(frozen=True)
class FormulaCell:
    """A formula whose value was never computed and stored (files written by scripts)."""

    formula: str


@dataclass(frozen=True)
class ErrorCell:
    """An error value as Excel shows it (`#N/A`, `#REF!`)."""

    shown: str


XlsxCell = str | int | float | bool | ExcelDate | FormulaCell | ErrorCell | None


def _local(name: str) -> str:
    return name.rsplit(":", 1)[-1]


def _column_index(letters: str) -> int:
    index = 0
    for ch in letters:
        index = index * 26 + ord(ch) - 64
    return index - 1


def _ref(text: str) -> tuple[int, int]:
    """`B7` -> (row 7, column 1)."""
    match = _CELL_REF.match(text.replace("$", "").upper())
    if match is None:
        raise FileRefused("BAD_FILE", f"The workbook names a cell '{text[:20]}' that does not exist.")
    return int(match.group(2)), _column_index(match.group(1))


class Workbook:
    """One .xlsx opened for reading; every part read counts against the budget."""

    def __init__(self, path: str, budget: Budget) -> None:
        self.budget = budget
        self.read_bytes = 0
        try:
            self.zip = zipfile.ZipFile(path)
        except (zipfile.BadZipFile, OSError) as exc:
            raise FileRefused("BAD_FILE", "This is not a readable .xlsx workbook (it is not a zip archive).") from exc
        self.parts = {info.filename: info for info in self.zip.infolist()}
        if "xl/workbook.xml" not in self.parts:
            raise FileRefused("BAD_FILE", "This is not a readable .xlsx workbook (xl/workbook.xml is missing).")
        if len(self.parts) > MAX_PARTS:
            raise FileRefused("FILE_TOO_COMPLEX", f"The workbook holds more than {MAX_PARTS:,} parts.")

    # --- parts -------------------------------------------------------------------------

    def _open(self, name: str) -> IO[bytes]:
        info = self.parts[name]
        if info.file_size > self.budget.max_part_bytes or self.read_bytes + info.file_size > self.budget.max_total_bytes:
            raise FileRefused(
                "FILE_TOO_LARGE",
                f"The part {name} unpacks to {info.file_size // 2**20:,} MB; an import reads at most "
                f"{self.budget.max_part_bytes // 2**20:,} MB per part and {self.budget.max_total_bytes // 2**20:,} MB in all.",
            )
        self.read_bytes += info.file_size
        return self.zip.open(info)

    def chunks(self, name: str) -> Iterator[bytes]:
        """The bytes of part `name` (its uncompressed content) in chunks of CHUNK bytes, under
        the budget's per-part and total sizes. Raises FileRefused BAD_FILE for a damaged part,
        FILE_TOO_LARGE past the budget (SPEC §3.1)."""
        # zipfile stops at the declared size and checks the CRC, so a part that lies about
        # its size is cut there and then refused as damaged.
        try:
            with self._open(name) as stream:
                while chunk := stream.read(CHUNK):
                    yield chunk
        except (zipfile.BadZipFile, EOFError, OSError, NotImplementedError) as exc:
            raise FileRefused("BAD_FILE", f"The workbook is damaged ({name}: {exc}).") from exc

    def parse(self, name: str, handler: _Handler) -> None:
        """Stream part `name` (XML) through expat into `handler`'s start/end/text callbacks; a
        handler may end the parse early by raising _Done. Raises FileRefused BAD_FILE for
        malformed XML or a DOCTYPE / entity declaration (never expanded)."""
        parser = _hardened_parser(handler.start, handler.end, handler.text)
        with _parse_errors(name):
            for chunk in self.chunks(name):
                parser.Parse(chunk, False)
            parser.Parse(b"", True)

    def relationships(self, part: str) -> dict[str, tuple[str, str]]:
        """rId -> (type, part path) for a part's .rels file."""
        folder, base = posixpath.split(part)
        rels = posixpath.join(folder, "_rels", base + ".rels")
        found: dict[str, tuple[str, str]] = {}
        if rels not in self.parts:
            return found

        def start(name: str, attrs: dict[str, str]) -> None:
            if _local(name) == "Relationship" and attrs.get("TargetMode") != "External":
                target = attrs.get("Target", "")
                path = target.lstrip("/") if target.startswith("/") else posixpath.normpath(posixpath.join(folder, target))
                found[attrs.get("Id", "")] = (attrs.get("Type", ""), path)

        self.parse(rels, _Handler(start=start))
        return found


class _Done(Exception):
    """Everything needed from a part has been read."""


def _refuse_doctype(*_: Any) -> None:
    raise FileRefused("BAD_FILE", "The workbook holds an XML document type declaration, which no spreadsheet writes.")


def _hardened_parser(start: Callable[[str, dict[str, str]], None], end: Callable[[str], None],
                     text: Callable[[str], None]) -> Any:
    """An expat parser calling start(name, attrs) / end(name) / text(data), with text runs
    joined, that refuses (FileRefused BAD_FILE) a DOCTYPE or an entity declaration instead of
    expanding it: the one parser set-up every part of a workbook is read with."""
    parser = expat.ParserCreate()
    parser.buffer_text = True
    parser.StartElementHandler = start
    parser.EndElementHandler = end
    parser.CharacterDataHandler = text
    parser.StartDoctypeDeclHandler = _refuse_doctype
    parser.EntityDeclHandler = _refuse_doctype
    return parser


@contextlib.contextmanager
def _parse_errors(part: str) -> Iterator[None]:
    """Around a parse of `part`: a handler's _Done ends it quietly; malformed XML becomes
    FileRefused BAD_FILE naming the part."""
    try:
        yield
    except _Done:
        return
    except expat.ExpatError as exc:
        raise FileRefused("BAD_FILE", f"The workbook is damaged ({part}: {exc}).") from exc


class _Handler:
    def __init__(self, start: Any = None, end: Any = None, text: Any = None) -> None:
        self.start = start or (lambda name, attrs: None)
        self.end = end or (lambda name: None)
        self.text = text or (lambda data: None)


@dataclass
class SheetChoice:
    """The sheet an import reads: its `name`, its `part` (path inside the .xlsx) and the
    names of every `visible` sheet (for the note when the workbook has several)."""
    name: str
    part: str
    visible: list[str]


def choose_sheet(book: Workbook) -> tuple[SheetChoice, bool, str | None]:
    """The active sheet when it is visible, else the first visible one; the workbook's date
    system; the shared strings part."""
    sheets: list[tuple[str, str, str]] = []
    active = [0]
    date1904 = [False]

    def start(name: str, attrs: dict[str, str]) -> None:
        tag = _local(name)
        if tag == "sheet":
            rid = next((v for k, v in attrs.items() if _local(k) == "id"), "")
            sheets.append((attrs.get("name", ""), attrs.get("state", "visible"), rid))
        elif tag == "workbookView" and attrs.get("activeTab", "").isdigit():
            active[0] = int(attrs["activeTab"])
        elif tag == "workbookPr":
            date1904[0] = attrs.get("date1904", "").lower() in ("1", "true")

    book.parse("xl/workbook.xml", _Handler(start=start))
    rels = book.relationships("xl/workbook.xml")
    visible = [i for i, (_, state, _) in enumerate(sheets) if state == "visible"]
    if not visible:
        raise FileRefused("BAD_FILE", "The workbook has no visible sheet.")
    index = active[0] if active[0] in visible else visible[0]
    name, _, rid = sheets[index]
    if rid not in rels or rels[rid][1] not in book.parts:
        raise FileRefused("BAD_FILE", f"The workbook's sheet '{name}' is missing.")
    shared = next((path for kind, path in rels.values() if kind.endswith("/sharedStrings") and path in book.parts), None)
    return SheetChoice(name, rels[rid][1], [sheets[i][0] for i in visible]), date1904[0], shared


def shared_strings(book: Workbook, part: str | None) -> list[str]:
    """The workbook's shared strings (cleaned text, by index) from `part` (None: the
    workbook has none, so []); phonetic guides are left out. Raises FileRefused
    FILE_TOO_LARGE past the budget's count, characters per text or characters in all."""
    budget = book.budget
    strings: list[str] = []
    parts: list[str] = []
    state = {"depth_rph": 0, "in_t": False, "chars": 0, "total": 0}

    def start(name: str, attrs: dict[str, str]) -> None:
        tag = _local(name)
        if tag == "si":
            parts.clear()
            state["chars"] = 0
        elif tag == "rPh":
            state["depth_rph"] += 1  # phonetic guides (furigana) are not part of the text
        elif tag == "t" and not state["depth_rph"]:
            state["in_t"] = True

    def end(name: str) -> None:
        tag = _local(name)
        if tag == "si":
            strings.append(clean_text("".join(parts)))
            if len(strings) > budget.max_shared_strings:
                raise FileRefused("FILE_TOO_LARGE", f"The workbook holds more than {budget.max_shared_strings:,} distinct texts.")
        elif tag == "rPh":
            state["depth_rph"] -= 1
        elif tag == "t":
            state["in_t"] = False

    def text(data: str) -> None:
        if not state["in_t"]:
            return
        state["chars"] += len(data)
        state["total"] += len(data)
        if state["chars"] > budget.max_cell_chars:
            raise FileRefused("FILE_TOO_LARGE", f"A text in the workbook is longer than the {budget.max_cell_chars:,} characters a cell may hold.")
        if state["total"] > budget.max_shared_chars:
            raise FileRefused("FILE_TOO_LARGE", f"The workbook's texts add up to more than {budget.max_shared_chars:,} characters.")
        parts.append(data)

    if part is not None:
        book.parse(part, _Handler(start, end, text))
    return strings


def cell_formats(book: Workbook) -> list[str | int | None]:
    """Per cell style index: "date", a zero-padding width (int), or None (shown as is)."""
    if "xl/styles.xml" not in book.parts:
        return []
    codes: dict[int, str] = {}
    xfs: list[int] = []
    inside = [False]

    def start(name: str, attrs: dict[str, str]) -> None:
        tag = _local(name)
        if tag == "numFmt" and attrs.get("numFmtId", "").isdigit():
            codes[int(attrs["numFmtId"])] = attrs.get("formatCode", "")
        elif tag == "cellXfs":
            inside[0] = True
        elif tag == "xf" and inside[0]:
            xfs.append(int(attrs.get("numFmtId", "0") or 0) if attrs.get("numFmtId", "0").isdigit() else 0)

    def end(name: str) -> None:
        if _local(name) == "cellXfs":
            inside[0] = False

    book.parse("xl/styles.xml", _Handler(start, end))

    def kind(fmt: int) -> str | int | None:
        if fmt in _DATE_FORMAT_IDS:
            return "date"
        code = codes.get(fmt)
        if not code or code.lower() == "general":
            return None
        section = _FORMAT_LITERALS.sub("", code.split(";")[0])
        if re.fullmatch(r"0{2,}", section):
            return len(section)
        if re.search(r"[ymdhs]", section, re.IGNORECASE):
            return "date"
        return None

    return [kind(f) for f in xfs]


class SheetRows:
    """The chosen sheet's rows as (row number, cells), merged ranges filled in."""

    def __init__(self, book: Workbook, part: str, strings: list[str], formats: list[str | int | None], date1904: bool) -> None:
        self.book, self.budget, self.part = book, book.budget, part
        self.strings, self.formats, self.date1904 = strings, formats, date1904
        self.ready: list[tuple[int, list[XlsxCell]]] = []
        self.row_number = 0
        self.physical = 0
        self.cells: dict[int, XlsxCell] = {}
        self.column = -1
        self.cell: dict[str, str] = {}
        self.value: list[str] = []
        self.formula: list[str] = []
        self.has_formula = False
        self.capture: str | None = None
        self.chars = 0
        self.in_rph = 0
        self.merges = self._merges()
        self.next_merge = 0
        self.active: list[list[Any]] = []  # [r1, c1, r2, c2, anchor value]
        self.last_emitted = 0

    def _merges(self) -> list[tuple[int, int, int, int]]:
        """Merged ranges come after the rows in the sheet part: a first pass finds them."""
        found: list[tuple[int, int, int, int]] = []
        tail = b""
        for chunk in self.book.chunks(self.part):
            buffer = tail + chunk
            last = 0
            for match in _MERGE.finditer(buffer):
                last = match.end()
                first, _, second = match.group(1).decode("ascii", "replace").partition(":")
                if not second:
                    continue
                (r1, c1), (r2, c2) = _ref(first), _ref(second)
                found.append((min(r1, r2), min(c1, c2), max(r1, r2), max(c1, c2)))
                if len(found) > self.budget.max_merges:
                    raise FileRefused("FILE_TOO_COMPLEX", f"The sheet holds more than {self.budget.max_merges:,} merged ranges.")
            tail = buffer[max(last, len(buffer) - 512):]
        self.book.read_bytes -= self.book.parts[self.part].file_size  # the second read is the same part
        return sorted(found)

    def __iter__(self) -> Iterator[tuple[int, list[XlsxCell]]]:
        for batch in self._parse():
            yield from batch

    def _parse(self) -> Iterator[list[tuple[int, list[XlsxCell]]]]:
        parser = _hardened_parser(self.start, self.end, self.text)
        with _parse_errors(self.part):
            for chunk in self.book.chunks(self.part):
                parser.Parse(chunk, False)
                if self.ready:
                    batch, self.ready = self.ready, []
                    yield batch
            parser.Parse(b"", True)
        self._fill_gap(self.budget.max_rows + 2)
        if self.ready:
            yield self.ready

    # --- expat handlers ------------------------------------------------------------------

    def start(self, name: str, attrs: dict[str, str]) -> None:
        """expat callback for an opening tag: a cell, its value or formula, a row (rows past
        budget.max_rows raise FileRefused FILE_TOO_COMPLEX), the sheet's data."""
        tag = _local(name)
        if tag == "c":
            ref = attrs.get("r")
            self.column = _ref(ref)[1] if ref else self.column + 1
            self.cell = attrs
            self.value, self.formula, self.chars, self.has_formula = [], [], 0, False
        elif tag == "v" or tag == "t" and not self.in_rph:
            self.capture = "v"
        elif tag == "rPh":
            self.in_rph += 1
        elif tag == "f":
            self.capture = "f"
            self.has_formula = True
        elif tag == "row":
            self.physical += 1
            if self.physical > self.budget.max_rows:
                raise FileRefused("FILE_TOO_COMPLEX", f"The sheet has more than {self.budget.max_rows:,} rows (empty ones included); delete the unused rows and save again.")
            ref = attrs.get("r", "")
            number = int(ref) if ref.isdigit() else self.row_number + 1
            self._fill_gap(number)
            self.row_number = number
            self.cells = {}
            self.column = -1
        elif tag == "sheetData":
            self.row_number = 0

    def text(self, data: str) -> None:
        """expat callback for character data inside a value or formula being captured.
        Raises FileRefused FILE_TOO_LARGE for a cell past budget.max_cell_chars."""
        if self.capture is None:
            return
        self.chars += len(data)
        if self.chars > self.budget.max_cell_chars:
            raise FileRefused(
                "FILE_TOO_LARGE",
                f"A cell in row {self.row_number} holds more than the {self.budget.max_cell_chars:,} characters a cell may hold.",
            )
        (self.value if self.capture == "v" else self.formula).append(data)

    def end(self, name: str) -> None:
        """expat callback for a closing tag: ends a capture, and completes a cell or a row."""
        tag = _local(name)
        if tag in ("v", "t", "f"):
            self.capture = None
        elif tag == "rPh":
            self.in_rph -= 1
        elif tag == "c":
            value = self._cell_value()
            if value is not None and value != "":
                if self.column >= self.budget.max_columns or self.row_number > self.budget.max_rows:
                    raise outside(self.budget, self.row_number, self.column)
                self.cells[self.column] = value
        elif tag == "row":
            self._emit(self.row_number, self.cells)
        elif tag == "sheetData":
            raise _Done

    def _cell_value(self) -> XlsxCell:
        kind = self.cell.get("t", "n")
        raw = "".join(self.value)
        if not raw:
            if self.has_formula:
                return FormulaCell("".join(self.formula)[:200])
            return None
        if kind == "s":
            index = int(raw) if raw.strip().isdigit() else -1
            if not 0 <= index < len(self.strings):
                raise FileRefused("BAD_FILE", f"The workbook is damaged (row {self.row_number} points at a text that does not exist).")
            return self.strings[index]
        if kind in ("inlineStr", "str"):
            return clean_text(raw)
        if kind == "b":
            return raw.strip() in ("1", "true")
        if kind == "e":
            return ErrorCell(raw.strip())
        if kind == "d":
            return clean_text(raw)  # an ISO 8601 date written as text by the file
        try:
            number: int | float = int(raw) if re.fullmatch(r"-?\d{1,15}", raw.strip()) else float(raw)
        except ValueError:
            number = math.nan
        if not math.isfinite(number):
            raise FileRefused("BAD_FILE", f"The workbook is damaged (row {self.row_number} holds '{raw[:20]}' as a number).")
        style = self.cell.get("s", "0")
        shown = self.formats[int(style)] if style.isdigit() and int(style) < len(self.formats) else None
        if shown == "date":
            return ExcelDate(float(number), self.date1904)
        if isinstance(shown, int) and float(number).is_integer() and number >= 0:
            return str(int(number)).zfill(shown)
        return number

    # --- merged ranges -------------------------------------------------------------------

    def _emit(self, number: int, cells: dict[int, XlsxCell]) -> None:
        while self.next_merge < len(self.merges) and self.merges[self.next_merge][0] <= number:
            r1, c1, r2, c2 = self.merges[self.next_merge]
            self.next_merge += 1
            anchor = cells.get(c1) if r1 == number else None
            if anchor is not None:
                self.active.append([r1, c1, r2, c2, anchor])
        self.active = [m for m in self.active if m[2] >= number]
        for r1, c1, _, c2, anchor in self.active:
            if c2 >= self.budget.max_columns:
                raise outside(self.budget, number, c2)
            for column in range(c1, c2 + 1):
                if (number, column) != (r1, c1):
                    cells[column] = anchor
        self.last_emitted = number
        if cells:
            width = max(cells) + 1
            self.ready.append((number, [cells.get(i) for i in range(width)]))

    def _fill_gap(self, up_to: int) -> None:
        """Rows the file skipped but a merged range covers hold the range's value."""
        number = self.last_emitted + 1
        while number < up_to:
            self.active = [m for m in self.active if m[2] >= number]
            if not self.active:
                return
            if number > self.budget.max_rows:
                raise outside(self.budget, number, self.active[0][1])
            self.physical += 1
            if self.physical > self.budget.max_rows:
                raise FileRefused("FILE_TOO_COMPLEX", f"The sheet has more than {self.budget.max_rows:,} rows (merged ones included).")
            self._emit(number, {})
            number += 1


def read_xlsx(path: str, budget: Budget) -> tuple[SheetChoice, int, Iterator[tuple[int, list[XlsxCell]]]]:
    """(the sheet read, a row-count hint, its rows). Raises FileRefused."""
    book = Workbook(path, budget)
    choice, date1904, shared_part = choose_sheet(book)
    formats = cell_formats(book)
    strings = shared_strings(book, shared_part)
    rows = SheetRows(book, choice.part, strings, formats, date1904)
    return choice, _dimension_hint(book, choice.part, budget), iter(rows)


def _dimension_hint(book: Workbook, part: str, budget: Budget) -> int:
    """The rows the sheet says it spans (capped by the budget): for progress only."""
    with book.zip.open(book.parts[part]) as stream:
        head = stream.read(4096)
    match = re.search(rb'<(?:\w+:)?dimension\s+ref="[A-Z]+(\d+)(?::[A-Z]+(\d+))?"', head)
    if match is None:
        return 0
    return min(int(match.group(2) or match.group(1)), budget.max_rows)
