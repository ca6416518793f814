"""One import pipeline for every kind of import: read -> normalise -> validate -> apply in
batches -> report.

A kind (directory rows, chain contact rows) plugs in its `ImportSpec`: the columns it
knows, its batch size, who may still run it, and its `RowRules` — how a row is validated
against the state it loaded (no writes), how a batch of valid rows is written, and what
happens after the last batch. The pipeline owns the rest, once:

- read: the job's file from `import_source` (the database, so any worker can run it),
  through `flows.tabular` in one place (`read_source`): parsed in a memory-limited child
  process, streamed; a file-level FlowError (FILE_TOO_LARGE, PARSER_CRASHED...) may come
  mid-file and fails the job after the rows already committed. However the pipeline stops
  (a failure, a graceful stop, a lost lease), the reader is closed (its process killed).
  The reader's file-level notes (SHEET_CHOSEN) become the job's `notices`: told to the
  user, not row errors (errorCount, failed rows);
- normalise: headers mapped to the kind's fields (an unknown, repeated or missing column
  refuses the file). An error report's own columns (original row, reason) are read as
  notes: blanked on every row, said so in a REPORT_COLUMNS_IGNORED notice, and a line
  holding nothing else (the report's file-level reasons) is skipped — so a downloaded
  report, its cells fixed, imports as it is;
- validate: row by row; a row's broken rules become `import_job_error` rows;
- apply: batches of `batch_rows` handled rows, each in one transaction with its row
  errors and the job's progress (`processed_rows`, the last committed row), written under
  the worker's lease (flows/jobs.py), so a job that stops anywhere resumes exactly after
  its last committed row. A batch that hits a unique constraint (someone else wrote the
  same account or mobile meanwhile) is redone row by row inside the same transaction,
  each row under a savepoint, so only the clashing rows fail. A batch commits while the
  next one is validated (the database and the worker's CPU work side by side); batches
  still commit one at a time, in file order, and a row whose verdict could depend on the
  batch in flight (`RowRules.waits`) is validated only once that batch has committed, so
  every row is judged as if the batches had run one after the other;
- report: `rows_done` moves at least every PROGRESS_SECONDS of work, also inside a batch,
  for the `importJob` query, its subscription and the CLI's bar; the counts and the exact
  row total are written at the end.

A resumed job reads the file again and hands the rows it already committed to
`RowRules.replay`, which rebuilds what later rows depend on (accounts or mobiles already
seen in the file) without writing anything.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncGenerator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from flows.errors import FlowError
from flows.jobs import Lease, Stopping
from flows.table_reader import sweep_spool
from flows.tabular import Cell, RowError, Table, map_columns, read_table, report_columns, report_columns_notice
from models import ImportJob, ImportJobError, ImportSource
from models.enums import ImportKind
from models.settings import get_settings
from permissions.loading import actor_viewer
from permissions.viewer import Viewer

# Progress is written at least this often while rows are being handled.
PROGRESS_SECONDS = 0.5
# Rows handled between two yields to the event loop (lease renewal, other jobs).
YIELD_EVERY = 200
# The same while a batch commits beside the validation: its next statement waits for a yield.
YIELD_EVERY_COMMITTING = 10
# The count keys whose sum is the number of rows handled.
HANDLED = ("created", "updated", "unchanged", "failed")

Rows = AsyncGenerator[tuple[int, list[Cell]], None]


class RowRules(Protocol):
    """What one kind of import does with rows; `counts` is saved with every batch."""

    counts: dict[str, int]

    def plan(self, number: int, cells: list[Cell]) -> Any:
        """Validate one row (no writes): a plan for `apply`, or the row's list of RowError."""

    def replay(self, number: int, cells: list[Cell]) -> None:
        """A row committed before this run resumed: remember what later rows check against."""

    def waits(self, cells: list[Cell]) -> bool:
        """Whether the row (`cells`, as `plan` gets them) must be validated after the batch
        being committed has landed (`remember`): True when its verdict could depend on what
        that batch writes. False lets the pipeline validate it while the batch commits."""

    async def apply(self, plans: list[Any]) -> Any:
        """Write the plans (inside the batch's transaction); returns what `remember` needs."""

    def remember(self, plans: list[Any], written: Any) -> None:
        """The batch committed: later rows see what it wrote."""

    async def clash(self, plan: Any) -> RowError:
        """The error of a row that alone broke a unique constraint (it may look at the
        database: it runs in the batch's transaction, after the row's savepoint rolled back)."""

    async def finish(self, lease: Lease) -> None:
        """After the last batch (REPLACE resigns the absent members here)."""


@dataclass(frozen=True)
class ImportSpec:
    """What one kind of import (directory or chain contacts, SPEC §3.1, §3.2) brings to the
    shared pipeline: its column aliases and required columns, its batch size, whether the actor
    may still run the job, and how it loads the state its rows are checked against."""
    kind: ImportKind
    aliases: dict[str, str]
    required: set[str]
    # Rows per batch (read when the job starts; CHAINGATE_IMPORT_BATCH_ROWS overrides it).
    batch_rows: Callable[[], int]
    # Whether the job's actor may still run it (re-checked whenever the job runs).
    may_run: Callable[[Viewer, ImportJob], bool]
    # Load the state the rows are checked against; `reread` opens the file's rows again
    # (an async generator: close it, e.g. with contextlib.aclosing, if not read to its end).
    start: Callable[[ImportJob, Viewer, dict[int, str], list[str], Callable[[], Rows]], Awaitable[RowRules]]


async def read_source(source: ImportSource) -> Table:
    """The one place an import's file is read (the job, its resumption, its error report).
    The caller reads `rows` to the end or awaits `table.close()`."""
    return await read_table(source.file_name, source.content, source.job_id)


async def source_rows(source: ImportSource) -> Rows:
    """The file's data rows, read again from the start; the reader closes with the generator."""
    table = await read_source(source)
    try:
        async for row in table.rows:
            yield row
    finally:
        await table.close()


def rows_handled(counts: dict[str, int]) -> int:
    """Rows the job has finished with, from its `counts` (outcome -> rows): the sum of the
    HANDLED outcomes."""
    return sum(counts.get(k, 0) for k in HANDLED)


@dataclass
class _Batch:
    plans: list[Any] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)
    failed_rows: set[int] = field(default_factory=set)
    last_row: int = 0

    @property
    def size(self) -> int:
        return len(self.plans) + len(self.failed_rows)


def _error_rows(job_id: int, errors: list[RowError]) -> list[ImportJobError]:
    return [ImportJobError(job_id=job_id, row=e.row, column=e.column, code=e.code, message=e.message) for e in errors]


class _Progress:
    """Rows handled (validated: `handled`, counting those committed before this run) and
    when `rows_done` was last written. `rows_done` is written by each batch's commit and,
    between commits, at least every PROGRESS_SECONDS — except while a batch is committing,
    which writes it itself (on SQLite a second writer would only queue behind it)."""

    def __init__(self, lease: Lease, committed: int) -> None:
        self.lease = lease
        self.handled = committed
        self.last = time.monotonic()

    async def row_handled(self, committing: bool) -> None:
        self.handled += 1
        if not committing and time.monotonic() - self.last >= PROGRESS_SECONDS:
            await self.lease.write(rows_done=self.handled)
            self.last = time.monotonic()
        elif self.handled % (YIELD_EVERY_COMMITTING if committing else YIELD_EVERY) == 0:
            await asyncio.sleep(0)

    def written(self) -> None:
        self.last = time.monotonic()


async def run_import(spec: ImportSpec, job: ImportJob, lease: Lease) -> None:
    """Run (or resume after `job.processed_rows`) one import job under `lease`."""
    viewer = await actor_viewer(job.actor_kind, job.actor_id)
    if viewer is None or not spec.may_run(viewer, job):
        raise FlowError("ACTOR_GONE", "The member or app that started this import may no longer run it.")
    source = await ImportSource.get(job_id=job.id)
    sweep_spool(job.id)  # a runner before this one was killed outright: its spool file goes
    table = await read_source(source)
    try:
        await _run_rows(spec, job, lease, viewer, source, table)
    finally:
        await table.close()  # stopped early (failure, stop, lost lease): the reader's process goes too


async def _run_rows(spec: ImportSpec, job: ImportJob, lease: Lease, viewer: Viewer, source: ImportSource,
                    table: Table) -> None:
    mapping = map_columns(table.headers, spec.aliases, spec.required)
    notes = report_columns(table.headers)
    notices = [*table.notices, *([report_columns_notice(table.headers, notes)] if notes else [])]
    committed = rows_handled(job.counts)
    await lease.write(columns=table.headers, total_rows=max(table.size_hint, job.total_rows), rows_done=committed,
                      notices=[{k: n[k] for k in ("code", "message", "column")} for n in notices])
    rules = await spec.start(job, viewer, mapping, table.headers, lambda: source_rows(source))
    progress = _Progress(lease, committed)
    batch_rows = get_settings().import_batch_rows or spec.batch_rows()
    batch = _Batch(last_row=job.processed_rows)
    total = 0
    # The batch committing while the next one is validated (None: none is).
    committing: asyncio.Task[None] | None = None
    try:
        async for number, cells in table.rows:
            if notes and _only_notes(cells, notes):
                continue  # an error report's line about the whole file: nothing to import
            total += 1
            if number <= job.processed_rows:
                rules.replay(number, cells)
                continue
            if committing is not None and (committing.done() or rules.waits(cells)):
                await committing  # raises what stopped it (Stopping, LeaseLost, a database error)
                committing = None
            outcome = rules.plan(number, cells)
            if isinstance(outcome, list):
                batch.errors += outcome
                batch.failed_rows.add(number)
            else:
                batch.plans.append(outcome)
            batch.last_row = number
            await progress.row_handled(committing is not None)
            if batch.size >= batch_rows:
                if committing is not None:
                    await committing
                committing = asyncio.create_task(_commit(job.id, rules, batch, lease, progress))
                batch = _Batch(last_row=number)
        if committing is not None:
            await committing
            committing = None
    finally:
        if committing is not None:
            # The file or a row stopped the run: the batch already sent ends (commits or fails) first.
            await asyncio.wait([committing])
            if not committing.cancelled():
                committing.exception()  # retrieved: the run's own failure is the one raised
    await _commit(job.id, rules, batch, lease, progress, last=True)
    await lease.write(total_rows=total)
    await rules.finish(lease)


def _only_notes(cells: list[Cell], notes: list[int]) -> bool:
    """Blank the error report's note columns of a row (`cells`, in place); True when
    nothing else is left on it."""
    for index in notes:
        cells[index] = None
    return all(c is None or (isinstance(c, str) and not c.strip()) for c in cells)


async def _commit(job_id: int, rules: RowRules, batch: _Batch, lease: Lease, progress: _Progress,
                  *, last: bool = False) -> None:
    """Apply a batch, its row errors and the job's progress in one transaction."""
    rules.counts["failed"] = rules.counts.get("failed", 0) + len(batch.failed_rows)
    before = dict(rules.counts)
    try:
        async with in_transaction():
            written = await rules.apply(batch.plans)
            await _save(job_id, rules, batch, lease, progress, batch.errors)
        rules.remember(batch.plans, written)
    except IntegrityError:
        rules.counts = before
        await _commit_one_by_one(job_id, rules, batch, lease, progress)
    progress.written()
    if lease.stop.is_set() and not last:
        raise Stopping


async def _commit_one_by_one(job_id: int, rules: RowRules, batch: _Batch, lease: Lease, progress: _Progress) -> None:
    clashes: list[RowError] = []
    async with in_transaction():
        for plan in batch.plans:
            before = dict(rules.counts)
            try:
                async with in_transaction():  # a savepoint: a clash undoes this row only
                    written = await rules.apply([plan])
            except IntegrityError:
                rules.counts = before
                rules.counts["failed"] = rules.counts.get("failed", 0) + 1
                clashes.append(await rules.clash(plan))
                continue
            # Later rows of the batch must see it (a unit it created, a corp it added).
            rules.remember([plan], written)
        await _save(job_id, rules, batch, lease, progress, batch.errors + clashes)


async def _save(job_id: int, rules: RowRules, batch: _Batch, lease: Lease, progress: _Progress,
                errors: list[RowError]) -> None:
    if errors:
        await ImportJobError.bulk_create(_error_rows(job_id, errors))
    # rows_done also counts the rows of the next batch validated meanwhile (never fewer than committed).
    done = max(rows_handled(rules.counts), progress.handled)
    await lease.write(processed_rows=batch.last_row, counts=rules.counts, rows_done=done)
