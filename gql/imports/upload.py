"""What an import mutation received: an uploaded file, or rows sent in the mutation."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from strawberry.file_uploads import Upload

from flows.errors import FlowError


async def submitted_file(file: Upload | None, rows: list[Any] | None, rows_as_csv: Callable[[list[Any]], bytes]) -> tuple[str, bytes]:
    """(file name, content). Rows take the same road as a file: one validation, one report."""
    if (file is None) == (rows is None):
        raise FlowError("FILE_OR_ROWS", "Send either a file or rows.", "file")
    if file is not None:
        return getattr(file, "filename", None) or "upload", await file.read()
    return "rows.csv", rows_as_csv(rows or [])
