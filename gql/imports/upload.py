"""What an import mutation received: an uploaded file, or rows sent in the mutation."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from strawberry.file_uploads import Upload

from flows.errors import FlowError
from flows.spreadsheets import csv_bytes

MAX_FILE_NAME = 255


async def submitted_file(
    file: Upload | None, rows: list[Any] | None, columns: Mapping[str, str]
) -> tuple[str, bytes]:
    """(file name, content). Rows take the same road as a file: one validation, one report;
    `columns` maps each header of the template to the row attribute that fills it."""
    if (file is None) == (rows is None):
        raise FlowError("FILE_OR_ROWS", "Send either a file or rows.", "file")
    if file is not None:
        name = getattr(file, "filename", None) or "upload"
        if "\x00" in name:
            raise FlowError("BAD_FILE", "The file's name holds a NUL character.", "file")
        # The job keeps 255 characters of it: the end, where the extension is.
        return name[-MAX_FILE_NAME:], await file.read()
    return "rows.csv", rows_as_csv(rows or [], columns)


def rows_as_csv(rows: list[Any], columns: Mapping[str, str]) -> bytes:
    """The rows as the table the importer reads back (written inert, as every table chaingate
    writes: the reader drops exactly the quotes the writer adds, so values arrive unchanged)."""
    return csv_bytes([list(columns), *([getattr(row, attr) or "" for attr in columns.values()] for row in rows)])
