"""ImportJob: status, progress, counts and per-row errors of a directory or chain import."""

from __future__ import annotations

from datetime import datetime

import strawberry
from strawberry import relay

from flows.import_pipeline import rows_handled
from gql.context import Info
from gql.enums import ImportJobStatus, ImportKind
from gql.protection.limits import SIZE_ARGUMENTS
from models import ImportJob, ImportJobError
from models.settings import get_settings
from permissions.jobs import JobFacts, can_see_import_job

MAX_ERRORS_PAGE = SIZE_ARGUMENTS["limit"]


@strawberry.type
class ImportCount:
    name: str
    value: int


@strawberry.type
class ImportRowError:
    row: int | None = strawberry.field(description="Spreadsheet row (the header is row 1); null for a file-level error.")
    column: str | None
    code: str
    message: str


def report_path(job_id: int) -> str:
    return f"/imports/{job_id}/errors.xlsx"


@strawberry.type(name="ImportJob")
class ImportJobNode(relay.Node):
    pk: relay.NodeID[int]
    _j: strawberry.Private[ImportJob]

    @strawberry.field
    def kind(self) -> ImportKind:
        return self._j.kind

    @strawberry.field
    def mode(self) -> str | None:
        return self._j.mode

    @strawberry.field
    def status(self) -> ImportJobStatus:
        return self._j.status

    @strawberry.field
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

    @strawberry.field
    def counts(self) -> list[ImportCount]:
        return [ImportCount(name=k, value=v) for k, v in sorted(self._j.counts.items())]

    @strawberry.field
    async def error_count(self) -> int:
        return await ImportJobError.filter(job_id=self._j.id).count()

    @strawberry.field(description=f"Row errors in the order found; `limit` at most {MAX_ERRORS_PAGE.largest}.")
    async def errors(self, offset: int = 0, limit: int = MAX_ERRORS_PAGE.default) -> list[ImportRowError]:
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
        return f"{get_settings().public_url.rstrip('/')}{report_path(self._j.id)}"

    @strawberry.field
    def created_at(self) -> datetime:
        return self._j.created_at

    @strawberry.field
    def started_at(self) -> datetime | None:
        return self._j.started_at

    @strawberry.field
    def finished_at(self) -> datetime | None:
        return self._j.finished_at


def job_facts(job: ImportJob) -> JobFacts:
    return JobFacts(job.corp_id, job.chain_id, job.actor_kind, job.actor_id)


async def visible_job(info: Info, job_id: int) -> ImportJob | None:
    job = await ImportJob.get_or_none(id=job_id)
    if job is None or not can_see_import_job(info.context.viewer, job_facts(job)):
        return None
    return job


async def import_job_node(info: Info, job_id: int) -> ImportJobNode | None:
    job = await visible_job(info, job_id)
    return ImportJobNode(pk=job.id, _j=job) if job is not None else None
