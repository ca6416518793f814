"""ImportJob: status, progress, counts and per-row errors of a directory or chain import."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import strawberry
from strawberry import relay

from flows.access import access_import_job
from flows.import_pipeline import rows_handled
from gql.context import Info
from gql.enums import ImportJobStatus, ImportKind, ImportMode
from gql.protection.limits import SIZE_ARGUMENTS
from gql.relay import or_none
from models import ImportJob, ImportJobError
from models.enums import ImportMode as ImportModeValue
from models.settings import public_link

MAX_ERRORS_PAGE = SIZE_ARGUMENTS["limit"]


@strawberry.type(description="One named count of an import job (the older form of ImportTotals).")
class ImportCount:
    name: str = strawberry.field(description="What is counted, e.g. created, updated, failed, unitsCreated.")
    value: int = strawberry.field(description="How many.")


@strawberry.type(description="Why one row (or the whole file) was refused: the row changed nothing.")
class ImportRowError:
    row: int | None = strawberry.field(description="Spreadsheet row (the header is row 1); null for a file-level error.")
    column: str | None = strawberry.field(description=(
        "The column at fault, by its header in the file (e.g. 手机), or its letter when it has none; null for the "
        "whole row."))
    code: str = strawberry.field(description="Stable UPPER_SNAKE code, e.g. INVALID_MOBILE, DUPLICATE_ACCOUNT, OUT_OF_SCOPE.")
    message: str = strawberry.field(description="What is wrong with the row and how to fix it.")


@strawberry.type(description=(
    "Something the user should know about the whole file that refused nothing: e.g. which of several visible "
    "sheets was read (SHEET_CHOSEN), an error report's own columns read as notes (REPORT_COLUMNS_IGNORED)."))
class ImportNotice:
    column: str | None = strawberry.field(description="The column it concerns, by its header in the file; null for none.")
    code: str = strawberry.field(description="Stable UPPER_SNAKE code, e.g. SHEET_CHOSEN.")
    message: str = strawberry.field(description="What the import did, in words.")


@strawberry.type(description="What an import job did so far; each count is 0 where it does not apply to the job's kind.")
class ImportTotals:
    created: int = strawberry.field(description="Members (directory) or contacts (chain) created.")
    updated: int = strawberry.field(description="Members or contacts changed.")
    unchanged: int = strawberry.field(description="Rows that matched what was already there.")
    failed: int = strawberry.field(description="Rows refused (see errors).")
    resigned: int = strawberry.field(description="Directory REPLACE: members resigned because the file left them out.")
    units_created: int = strawberry.field(description="Directory: departments created from the 部门 paths.")
    corps_created: int = strawberry.field(description="Chain: imported corps created.")
    corps_updated: int = strawberry.field(description="Chain: imported corps changed (name, customCorpId, group).")
    groups_created: int = strawberry.field(description="Chain: groups created from the 上下游分组 paths.")
    invited: int = strawberry.field(description="Chain: leaders sent their invitation.")


def report_path(job_id: int) -> str:
    """The error report's path, keyed by the job's global id (as GraphQL hands it out)."""
    return f"/imports/{relay.GlobalID('ImportJob', str(job_id))}/errors.xlsx"


@strawberry.type(name="ImportJob", description=(
    "One directory or chain import (SPEC §3.1, §3.2, §3.8), run by a worker: status, progress, counts and row "
    "errors. Seen by whoever started it, and by the corp's super admins (directory) or the chain's managers (chain)."))
class ImportJobNode(relay.Node):
    pk: relay.NodeID[int]
    _j: strawberry.Private[ImportJob]

    @strawberry.field(description="DIRECTORY or CHAIN_CONTACTS.")
    def kind(self) -> ImportKind:
        return self._j.kind

    @strawberry.field(description="The directory import's mode; null for a chain import.")
    def mode(self) -> ImportMode | None:
        return ImportModeValue(self._j.mode) if self._j.mode else None

    @strawberry.field(description="QUEUED, RUNNING, SUCCEEDED or FAILED.")
    def status(self) -> ImportJobStatus:
        return self._j.status

    @strawberry.field(description="The uploaded file's name; null for rows sent in the mutation.")
    def file_name(self) -> str | None:
        return self._j.file_name

    @strawberry.field(description="Data rows in the file: an estimate while running, exact when done.")
    def total_rows(self) -> int:
        return self._j.total_rows

    @strawberry.field(description="Rows handled so far (applied, unchanged or refused); moves within a batch, "
                                  "at least every second of work.")
    def rows_done(self) -> int:
        return max(self._j.rows_done, rows_handled(self._j.counts))

    @strawberry.field(description="Every row up to this spreadsheet row is committed; a retry resumes after it.")
    def last_committed_row(self) -> int:
        return self._j.processed_rows

    @strawberry.field(description="The counts by name.", deprecation_reason="Use `totals`: the same counts as typed fields.")
    def counts(self) -> list[ImportCount]:
        return [ImportCount(name=k, value=v) for k, v in sorted(self._j.counts.items())]

    @strawberry.field(description="Rows and objects created, updated, refused… so far, as typed fields.")
    def totals(self) -> ImportTotals:
        c = self._j.counts
        return ImportTotals(
            created=c.get("created", 0), updated=c.get("updated", 0), unchanged=c.get("unchanged", 0),
            failed=c.get("failed", 0), resigned=c.get("resigned", 0), units_created=c.get("unitsCreated", 0),
            corps_created=c.get("corpsCreated", 0), corps_updated=c.get("corpsUpdated", 0),
            groups_created=c.get("groupsCreated", 0), invited=c.get("invited", 0),
        )

    @strawberry.field(description="File-level notices (not errors: neither in errorCount nor failed rows).")
    def notices(self) -> list[ImportNotice]:
        return [ImportNotice(column=n.get("column"), code=n["code"], message=n["message"]) for n in self._j.notices]

    @strawberry.field(description="How many errors `errors` holds (row errors and any file-level failure).")
    async def error_count(self) -> int:
        return await ImportJobError.filter(job_id=self._j.id).count()

    @strawberry.field(description=f"Row errors in the order found; `limit` at most {MAX_ERRORS_PAGE.largest}.")
    async def errors(
        self,
        offset: Annotated[int, strawberry.argument(description="How many errors to skip, in the order found.")] = 0,
        limit: Annotated[int, strawberry.argument(
            description=f"How many errors to return, 0-{MAX_ERRORS_PAGE.largest}.")] = MAX_ERRORS_PAGE.default,
    ) -> list[ImportRowError]:
        # The query limits refuse a limit out of range before execution; this holds without them.
        limit = max(0, min(limit, MAX_ERRORS_PAGE.largest))
        if not limit:
            return []
        rows = await ImportJobError.filter(job_id=self._j.id).order_by("id").offset(max(offset, 0)).limit(limit).values(
            "row", "column", "code", "message"
        )
        return [ImportRowError(**r) for r in rows]

    @strawberry.field(description="Why the whole job stopped, when it did.")
    def failure(self) -> str | None:
        return self._j.failure

    @strawberry.field(description="The error report (.xlsx: original columns plus a reason); Bearer auth.")
    async def report_url(self) -> str | None:
        if not await ImportJobError.filter(job_id=self._j.id).exists():
            return None
        return public_link(report_path(self._j.id))

    @strawberry.field(description="When it was queued (UTC).")
    def created_at(self) -> datetime:
        return self._j.created_at

    @strawberry.field(description="When a worker last started it (UTC); null while queued.")
    def started_at(self) -> datetime | None:
        return self._j.started_at

    @strawberry.field(description="When it succeeded or failed (UTC); null until then.")
    def finished_at(self) -> datetime | None:
        return self._j.finished_at


async def import_job_node(info: Info, job_id: int) -> ImportJobNode | None:
    job = await or_none(access_import_job(info.context.viewer, job_id))
    return ImportJobNode(pk=job.id, _j=job) if job is not None else None
