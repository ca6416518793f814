"""What reading one uploaded table may cost, and how a file is refused as a whole.

Standard library only: this module is imported by the reader's child process, which runs
without site-packages (see flows/table_reader.py).

The design size of an import is 100 000 data rows of about a dozen columns; every budget
is set far above what such a file needs, so that only a broken or hostile file reaches it.

File-level codes (the job ends FAILED, nothing of the file is applied past the point read):

- `FILE_TOO_LARGE`: an uncompressed part, the whole unpacked file, the shared strings, one
  row or one cell (32 767 characters, Excel's own limit) is bigger than its budget.
- `FILE_TOO_COMPLEX`: a value lies beyond the row or column budget (a stray character in
  cell XFD1048576), the sheet holds more physical rows than the budget (millions of empty
  rows), too many merged ranges, or the parser ran out of its memory or CPU limit.
- `PARSER_CRASHED`: the reader process died for any other reason.
- `BAD_FILE`, `BAD_ENCODING`: the file is not a readable workbook / CSV text.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass

MiB = 1024 * 1024


@dataclass(frozen=True)
class Budget:
    """The limits one import file is read under (SPEC §3.1): rows, columns, characters per
    cell, bytes per row and per .xlsx part, shared strings, merges, and the reader process's
    memory (bytes) and CPU (seconds). A file past one is refused with a file-level code."""
    # Physical rows (sheet row elements, CSV records, blank ones included) and the highest
    # row number that may hold a value.
    max_rows: int = 500_000
    # The highest column number that may hold a value (the templates use 13).
    max_columns: int = 1_000
    # Characters in one cell: Excel itself refuses more.
    max_cell_chars: int = 32_767
    # One row as sent from the reader to the import (JSON, UTF-8).
    max_row_bytes: int = 4 * MiB
    # One uncompressed part of an .xlsx (a 100 000-row sheet is about 60 MB) and all parts read.
    max_part_bytes: int = 256 * MiB
    max_total_bytes: int = 512 * MiB
    max_shared_strings: int = 4_000_000
    max_shared_chars: int = 128_000_000
    max_merges: int = 100_000
    # The reader process's address space (RLIMIT_AS) and CPU time (RLIMIT_CPU): the last
    # guard, for whatever the budgets above did not foresee.
    memory_bytes: int = 1024 * MiB
    cpu_seconds: int = 300

    def to_json(self) -> str:
        """The budget as JSON text, to hand to the reader process."""
        return json.dumps(asdict(self))

    @classmethod
    def from_json(cls, text: str) -> Budget:
        """The budget to_json wrote. Raises ValueError / TypeError on other text."""
        return cls(**json.loads(text))


class FileRefused(Exception):
    """The file as a whole cannot be read: a file-level error with a stable code."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def column_letter(index: int) -> str:
    """0 -> A, 25 -> Z, 26 -> AA: how a spreadsheet names a column."""
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def outside(budget: Budget, row: int, column: int) -> FileRefused:
    """A value at (row, 0-based column) beyond the budget: name the cell, say what to do."""
    return FileRefused(
        "FILE_TOO_COMPLEX",
        f"Cell {column_letter(column)}{row} holds a value outside the {budget.max_rows:,} rows × "
        f"{budget.max_columns:,} columns an import reads; delete it (even a stray character) and save again.",
    )


# Characters nobody means to type into a directory: zero-width spaces and joiners, direction
# marks, word joiners, soft hyphens and byte-order marks are removed; no-break spaces become
# plain spaces (then trimmed at the edges like any space).
_INVISIBLE: dict[int, str | None] = {cp: None for cp in (0x00AD, 0x200B, 0x200C, 0x200D, 0x200E, 0x200F, 0x2060, 0xFEFF, *range(0x202A, 0x202F))}
_INVISIBLE.update({0x00A0: " ", 0x2007: " ", 0x202F: " "})


def clean_text(text: str) -> str:
    """A cell's text without invisible characters (every cell of every import passes here)."""
    return text.translate(_INVISIBLE)
