"""Uploaded tables are parsed in a child process that may die without harming anyone.

The import (in whichever process runs the job) calls `stream_table(file_name, content)`:
an async iterator of messages from a child Python process that parses the file under
RLIMIT_AS (address space) and RLIMIT_CPU, with the budgets of flows/table_budget.py
checked as it streams. Whatever a file does to the parser (a bomb, a pathological
structure, a parser bug), the worst outcome is that child's death, which the job reports
as a file-level error; the server keeps answering and other jobs keep running.

The child runs `python -I -S` (no site-packages, no environment): it imports only the
standard library and flows/table_budget.py, flows/xlsx_stream.py and this module.

The parent hands the child the file through a spool file, one per read, in the spool
directory (CHAINGATE_SPOOL_DIR, default `<tmp>/chaingate-spool`), named
`job-<job id>-<pid of the reading process>-<random>.<xlsx|csv>`. The reading process removes
its file when the read ends; a process killed outright (SIGKILL) cannot, so `sweep_spool`
removes the files of processes that are gone: a job's next runner sweeps the job's files
(flows/import_pipeline.py) and a worker sweeps all of them when it starts (flows/worker.py).

Protocol, one JSON document per line on the child's stdout:
  {"sheet": name|null, "visible": [names], "encoding": str|null, "hint": rows}   first
  [row_number, [cell, ...]]                                                          each row with a value
  {"end": true}  or  {"error": CODE, "message": text}                               last
Cells are JSON scalars, or {"d": serial, "y": date1904} (ExcelDate), {"f": text}
(FormulaCell), {"e": shown} (ErrorCell). JSON rather than pickle: the parent never
unpickles what a process fed with hostile input wrote.
"""

from __future__ import annotations

import asyncio
import codecs
import contextlib
import csv
import io
import json
import os
import re
import resource
import secrets
import sys
import tempfile
from collections.abc import AsyncGenerator, Iterator
from pathlib import Path
from typing import Any

from flows.table_budget import Budget, FileRefused, clean_text, outside
from flows.xlsx_stream import ErrorCell, ExcelDate, FormulaCell, XlsxCell, read_xlsx

ROOT = Path(__file__).resolve().parent.parent
# The budget every import reads with (a module attribute, so a test can change it).
BUDGET = Budget()
# The longest line the parent accepts; the child keeps rows below Budget.max_row_bytes.
LINE_LIMIT = 16 * 1024 * 1024


# --- child side --------------------------------------------------------------------------


def _csv_encoding(content: bytes) -> tuple[str, int]:
    """(codec, bytes to skip): BOMs first; UTF-16 without a BOM by the pattern of its NUL
    bytes; then UTF-8, then GB18030."""
    if content.startswith(codecs.BOM_UTF8):
        return "utf-8", len(codecs.BOM_UTF8)
    if content.startswith(codecs.BOM_UTF16_LE):
        return "utf-16-le", 2
    if content.startswith(codecs.BOM_UTF16_BE):
        return "utf-16-be", 2
    sample = content[:65536]
    odd, even = sample[1::2].count(0), sample[0::2].count(0)
    # Every comma, digit and line break of UTF-16 text carries a NUL on the same side of its
    # pair, so even a CSV of Chinese names is a tenth NULs or more, nearly all on one side. A
    # few stray NULs in UTF-8 text are not that: they are refused cell by cell (NUL_CHARACTER).
    if odd + even >= len(sample) // 10 and max(odd, even) >= 0.9 * (odd + even) > 0:
        return ("utf-16-le" if odd >= even else "utf-16-be"), 0
    try:
        content.decode("utf-8")
        return "utf-8", 0
    except UnicodeDecodeError:
        pass
    # UTF-8 is tried first: GB18030 would also "decode" most UTF-8 bytes, wrongly.
    return "gb18030", 0


def read_csv(path: str, budget: Budget) -> tuple[str, int, Iterator[tuple[int, list[XlsxCell]]]]:
    """Read the .csv at `path` under `budget`: (encoding name, data rows to expect capped at
    budget.max_rows, an iterator of (row number, cells)). The delimiter is a tab when the first
    line has tabs and no comma, else a comma. Raises FileRefused BAD_ENCODING when the text is
    none of UTF-8 (with or without BOM), UTF-16, GB18030 (SPEC §3.1)."""
    content = Path(path).read_bytes()
    encoding, skip = _csv_encoding(content)
    try:
        text = content[skip:].decode(encoding)
    except UnicodeDecodeError as exc:
        name = "UTF-16" if encoding.startswith("utf-16") else "UTF-8, UTF-8 with BOM, UTF-16 or GB18030"
        raise FileRefused("BAD_ENCODING", f"This .csv file is not readable as {name} text.") from exc
    del content
    first_line = text[: text.find("\n")] if "\n" in text else text
    delimiter = "\t" if "\t" in first_line and "," not in first_line else ","
    hint = min(text.count("\n") + (0 if text.endswith("\n") else 1), budget.max_rows)
    return encoding, hint, _csv_rows(text, delimiter, budget)


def _csv_rows(text: str, delimiter: str, budget: Budget) -> Iterator[tuple[int, list[XlsxCell]]]:
    csv.field_size_limit(budget.max_cell_chars)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    number = 0
    try:
        for record in reader:
            number += 1
            if number > budget.max_rows:
                raise FileRefused("FILE_TOO_COMPLEX", f"The file has more than {budget.max_rows:,} lines (empty ones included).")
            cells: list[XlsxCell] = [clean_text(c) for c in record]
            while cells and not cells[-1]:
                cells.pop()
            if len(cells) > budget.max_columns:
                raise outside(budget, number, len(cells) - 1)
            if cells:
                yield number, cells
    except csv.Error as exc:
        if "field larger than field limit" in str(exc):
            raise FileRefused("FILE_TOO_LARGE", f"A cell after line {number} holds more than the {budget.max_cell_chars:,} characters a cell may hold.") from exc
        raise FileRefused("BAD_FILE", f"This .csv file is damaged after line {number} ({exc}).") from exc


def _encode_cell(value: XlsxCell) -> Any:
    if isinstance(value, ExcelDate):
        return {"d": value.serial, "y": value.date1904}
    if isinstance(value, FormulaCell):
        return {"f": value.formula}
    if isinstance(value, ErrorCell):
        return {"e": value.shown}
    return value


def _decode_cell(value: dict[str, Any]) -> XlsxCell:
    if "d" in value:
        return ExcelDate(float(value["d"]), bool(value.get("y")))
    if "f" in value:
        return FormulaCell(str(value["f"]))
    if "e" in value:
        return ErrorCell(str(value["e"]))
    raise ValueError(f"unknown cell {value!r}")


def _limit(budget: Budget) -> None:
    resource.setrlimit(resource.RLIMIT_AS, (budget.memory_bytes, budget.memory_bytes))
    resource.setrlimit(resource.RLIMIT_CPU, (budget.cpu_seconds, budget.cpu_seconds + 5))


def child_main(path: str, kind: str, budget_json: str) -> int:
    """Parse one file and write the protocol to stdout (the child's entry point)."""
    budget = Budget.from_json(budget_json)
    _limit(budget)
    out = sys.stdout

    def send(message: Any) -> None:
        line = json.dumps(message, ensure_ascii=False, separators=(",", ":"))
        if len(line) > budget.max_row_bytes:
            raise FileRefused("FILE_TOO_LARGE", f"Row {message[0]} is larger than {budget.max_row_bytes // 2**20} MB.")
        out.write(line)
        out.write("\n")

    try:
        if kind == "xlsx":
            choice, hint, rows = read_xlsx(path, budget)
            send({"sheet": choice.name, "visible": choice.visible, "encoding": None, "hint": hint})
        else:
            encoding, hint, rows = read_csv(path, budget)
            send({"sheet": None, "visible": [], "encoding": encoding, "hint": hint})
        for number, cells in rows:
            send([number, [_encode_cell(c) for c in cells]])
        send({"end": True})
    except FileRefused as exc:
        send({"error": exc.code, "message": exc.message})
    except MemoryError:
        send({"error": "FILE_TOO_COMPLEX", "message": f"Reading this file needs more than the {budget.memory_bytes // 2**20:,} MB an import may use."})
    except Exception as exc:  # noqa: BLE001 - a parser bug refuses the file; the child must answer, not die
        send({"error": "PARSER_CRASHED", "message": f"The file could not be read ({type(exc).__name__}: {str(exc)[:200]})."})
    out.flush()
    return 0


# --- parent side -------------------------------------------------------------------------

# A spool file's name: job id ("x" for a read outside a job), the reading process's pid.
SPOOL_NAME = re.compile(r"^job-(?P<job>\d+|x)-(?P<pid>\d+)-[0-9a-f]+\.(?:xlsx|csv)$")


def spool_dir() -> Path:
    """Where reads keep their spool files (created, owner-only, on first use)."""
    from models.settings import get_settings  # the parent's only: the child imports no package

    path = Path(get_settings().spool_dir or Path(tempfile.gettempdir()) / "chaingate-spool")
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    return path


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's process: alive
    return True


def sweep_spool(job_id: int | None = None) -> list[Path]:
    """Remove the spool files whose reading process is gone (of job `job_id` only, or every
    job's); returns the files removed. A live process's file is left to that process."""
    removed = []
    for path in spool_dir().iterdir():
        match = SPOOL_NAME.match(path.name)
        if match is None or (job_id is not None and match["job"] != str(job_id)):
            continue
        if int(match["pid"]) == os.getpid() or _alive(int(match["pid"])):
            continue
        with contextlib.suppress(FileNotFoundError):
            path.unlink()
            removed.append(path)
    return removed


def _spool_file(kind: str, job_id: int | None) -> tuple[int, str]:
    name = f"job-{job_id if job_id is not None else 'x'}-{os.getpid()}-{secrets.token_hex(4)}.{kind}"
    path = spool_dir() / name
    return os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), str(path)


def file_kind(file_name: str) -> str:
    """'xlsx' or 'csv' by `file_name`'s extension (any case). Raises FileRefused
    UNSUPPORTED_FILE for any other kind (SPEC §3.1: the templates are .xlsx, .csv is taken too)."""
    lower = file_name.lower()
    if lower.endswith(".xlsx"):
        return "xlsx"
    if lower.endswith(".csv"):
        return "csv"
    raise FileRefused("UNSUPPORTED_FILE", "Upload an .xlsx or a .csv file.")


async def stream_table(file_name: str, content: bytes, budget: Budget | None = None,
                       job_id: int | None = None) -> AsyncGenerator[Any, None]:
    """The child's messages, decoded: the first dict, then (row_number, cells) tuples.
    `job_id` names the spool file after the job it is read for.

    Raises FileRefused for a file-level error (the child's, or its death). Closing the
    iterator early kills the child."""
    budget = budget or BUDGET
    kind = file_kind(file_name)
    fd, path = _spool_file(kind, job_id)
    process: asyncio.subprocess.Process | None = None
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(content)
        program = f"import sys; sys.path.insert(0, {str(ROOT)!r}); from flows.table_reader import child_main; sys.exit(child_main(*sys.argv[1:]))"
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-I", "-S", "-c", program, path, kind, budget.to_json(),
            stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.DEVNULL,
            limit=LINE_LIMIT,
        )
        assert process.stdout is not None
        finished = False
        while True:
            try:
                line = await process.stdout.readline()
            except (ValueError, asyncio.LimitOverrunError) as exc:
                raise FileRefused("FILE_TOO_LARGE", "A row of this file is too large to read.") from exc
            if not line:
                break
            message = json.loads(line, object_hook=_decode_cell_or_message)
            if isinstance(message, list):
                yield message[0], message[1]
            elif "error" in message:
                raise FileRefused(message["error"], message["message"])
            elif message.get("end"):
                finished = True
            else:
                yield message
        code = await process.wait()
        if not finished:
            raise _death(code, budget)
    finally:
        if process is not None and process.returncode is None:
            process.kill()
            if process.stdout is not None:
                # wait() returns only once the pipe has closed, and a reader stopped early may
                # have paused it (its buffer full): read what the killed child left, to its end.
                await process.stdout.read()
            await process.wait()
        os.unlink(path)


def _decode_cell_or_message(value: dict[str, Any]) -> Any:
    if value.keys() <= {"d", "y"} and "d" in value or value.keys() == {"f"} or value.keys() == {"e"}:
        return _decode_cell(value)
    return value


def _death(code: int, budget: Budget) -> FileRefused:
    """A child that stopped without its last message was killed (or crashed)."""
    if code in (-9, -24):  # SIGKILL after the hard CPU limit, SIGXCPU at the soft one
        return FileRefused("FILE_TOO_COMPLEX", f"Reading this file took more than the {budget.cpu_seconds} s of CPU an import may use.")
    return FileRefused("PARSER_CRASHED", f"The file reader stopped unexpectedly (exit status {code}); the file cannot be imported as it is.")
