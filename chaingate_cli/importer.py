"""`chaingate import FILE --corp ID [--mode M] [--as MEMBER_ID] [--report PATH]`: a directory
import run in this process, with a progress bar, acting as a super admin of the corp.

The job is queued like any other and then claimed by this process, under the same lease
as a worker's (flows/jobs.py): killed midway, a worker takes it over; while a worker runs
another job of the corp, this command waits for its turn.

Exit status: 0 every row imported; 1 the job FAILED (a file-level error: nothing after its
last committed row was imported); 2 nothing was queued (a missing file, an unknown corp or
member, a refused request such as CONFIRMATION_REQUIRED); 3 the job succeeded but some
rows were refused (listed, and in the `--report` file)."""

from __future__ import annotations

import argparse
import asyncio
from pathlib import Path

from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from chaingate_cli.ids import id_of

out = Console()
err = Console(stderr=True)

EXIT_OK = 0
EXIT_JOB_FAILED = 1
EXIT_NOT_QUEUED = 2
EXIT_ROWS_FAILED = 3


async def _importer_id(corp_id: int, member_id: int | None) -> int | None:
    from models import AdminGrant, Member
    from models.enums import AdminKind, MemberStatus

    if member_id is not None:
        return member_id if await Member.filter(id=member_id, corp_id=corp_id).exists() else None
    grant = await AdminGrant.filter(
        corp_id=corp_id, kind=AdminKind.SUPER_ADMIN.value, member__status=MemberStatus.ACTIVE.value
    ).order_by("id").first()
    return grant.member_id if grant else None


async def _run(args: argparse.Namespace) -> int:
    from flows import jobs
    from flows.directory_import import submit_directory_import
    from flows.errors import FlowError
    from flows.import_pipeline import rows_handled
    from flows.reports import error_report
    from models import Corp, ImportJob, ImportJobError
    from models.db import close_db, init_db
    from models.enums import ImportJobStatus, ImportMode
    from permissions.loading import member_viewer

    path = Path(args.file)
    try:
        content = path.read_bytes()
    except OSError as exc:
        err.print(f"[red]Cannot read {escape(args.file)}:[/red] {escape(exc.strerror or str(exc))}")
        return EXIT_NOT_QUEUED
    await init_db()
    try:
        if not await Corp.exists(id=args.corp):
            err.print(f"[red]No such corp: {args.corp}[/red]")
            return EXIT_NOT_QUEUED
        member_id = await _importer_id(args.corp, args.as_member)
        viewer = await member_viewer(member_id) if member_id is not None else None
        if viewer is None:
            if args.as_member is not None:
                err.print(f"[red]Member {args.as_member} is no active member of corp {args.corp}.[/red]")
            else:
                err.print(f"[red]Corp {args.corp} has no active super admin to import as[/red] (give --as MEMBER_ID).")
            return EXIT_NOT_QUEUED
        try:
            job = await submit_directory_import(
                viewer, args.corp, path.name, content, ImportMode(args.mode),
                confirm_replace=args.confirm_replace, force=args.force,
            )
        except FlowError as exc:
            err.print(f"[red]{exc.code}[/red]: {escape(exc.message)}")
            return EXIT_NOT_QUEUED
        columns = (TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
        with Progress(*columns, console=err, transient=False) as progress:
            task = progress.add_task(f"import {path.name}", total=None)
            running = asyncio.create_task(jobs.run_job_here(job.id))
            while not running.done():
                current = await ImportJob.get(id=job.id)
                # rows_done moves within a batch, at least every PROGRESS_SECONDS of work.
                progress.update(task, completed=max(current.rows_done, rows_handled(current.counts)),
                                total=current.total_rows or None)
                await asyncio.wait({running}, timeout=0.2)
            job = await running
            progress.update(task, completed=rows_handled(job.counts), total=job.total_rows or None)
        errors = await ImportJobError.filter(job_id=job.id).order_by("id").limit(21)
        summary = Table(title=f"import job {job.id}: {job.status.value}")
        for key in ("created", "updated", "unchanged", "failed", "resigned", "unitsCreated"):
            summary.add_column(key, justify="right")
        summary.add_row(*(str(job.counts.get(k, 0)) for k in ("created", "updated", "unchanged", "failed", "resigned", "unitsCreated")))
        out.print(summary)
        for n in job.notices:
            out.print(f"  note {n['code']}: {escape(n['message'])}")
        for e in errors[:20]:
            where = f"row {e.row}" if e.row else "file"
            out.print(f"  {where} [{escape(e.column or '')}] {e.code}: {escape(e.message)}")
        if len(errors) > 20:
            out.print(f"  … and {await ImportJobError.filter(job_id=job.id).count() - 20} more")
        if errors and args.report:
            Path(args.report).write_bytes(await error_report(job))
            out.print(f"error report written to {escape(args.report)}")
        if job.status is not ImportJobStatus.SUCCEEDED:
            return EXIT_JOB_FAILED
        return EXIT_ROWS_FAILED if job.counts.get("failed", 0) else EXIT_OK
    finally:
        await close_db()


def cmd_import(args: argparse.Namespace) -> int:
    return asyncio.run(_run(args))


def add_parser(commands: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = commands.add_parser(
        "import", help="import a directory file (.xlsx/.csv) into a corp, with progress",
        epilog=f"exit status: {EXIT_OK} every row imported, {EXIT_ROWS_FAILED} some rows refused, "
               f"{EXIT_JOB_FAILED} the job failed, {EXIT_NOT_QUEUED} nothing was queued",
    )
    p.add_argument("file", metavar="FILE")
    p.add_argument("--corp", required=True, type=id_of("Corp"), metavar="ID",
                   help="the corp's global id (as the API returns it) or number")
    p.add_argument("--mode", choices=["CREATE", "UPSERT", "REPLACE"], default="UPSERT")
    p.add_argument("--as", dest="as_member", type=id_of("Member"), metavar="MEMBER_ID",
                   help="act as this member (default: the corp's first active super admin)")
    p.add_argument("--confirm-replace", action="store_true", help="required with --mode REPLACE")
    p.add_argument("--force", action="store_true", help="REPLACE past the mass-resignation guard")
    p.add_argument("--report", metavar="PATH", help="write the error report (.xlsx) here when rows fail; fix its "
                   "cells and import it as it is (its row and reason columns are ignored)")
    p.set_defaults(func=cmd_import)
