"""Background import jobs: queued in the database, run one at a time per queue.

A job row is the truth: QUEUED -> RUNNING -> SUCCEEDED | FAILED. A handler commits its work
in batches and moves `processed_rows` forward in the same transaction as the batch, so a
job that dies at row k has exactly rows < k applied and says so; `retry` resumes it there.

Queues: directory imports queue per corp, chain imports per chain (SPEC §3.2: concurrent
imports into one chain are serialised, never lost). The claim locks the queue's owner row
and refuses while another job of the queue runs, so a job runs once and a queue runs one
job at a time even when several worker processes see it.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta, timezone
from typing import Any

from tortoise.transactions import in_transaction

from flows.audit import Origin, record
from flows.errors import FlowError, NotFound
from models import ChainSpace, Corp, ImportJob
from models.enums import ImportJobStatus, ImportKind
from observability.metrics import observe_import_job
from permissions.jobs import JobFacts, can_see_import_job
from permissions.viewer import Viewer

log = logging.getLogger("chaingate.jobs")

Handler = Callable[[ImportJob], Awaitable[None]]

# A job RUNNING for longer than this is taken for one whose process died: it no longer
# holds its queue (a 100 000-row import takes about a minute).
STALE_AFTER = timedelta(hours=1)

_handlers: dict[ImportKind, Handler] = {}
_queue_locks: dict[str, asyncio.Lock] = {}
_tasks: set[asyncio.Task[None]] = set()


def register(kind: ImportKind, handler: Handler) -> None:
    _handlers[kind] = handler


def queue_key(job: ImportJob) -> str:
    return f"chain:{job.chain_id}" if job.chain_id is not None else f"corp:{job.corp_id}"


def _queue_filter(key: str) -> dict[str, Any]:
    kind, _, ident = key.partition(":")
    return {"chain_id": int(ident)} if kind == "chain" else {"corp_id": int(ident), "chain_id": None}


def now() -> datetime:
    return datetime.now(timezone.utc)


async def submit(job_id: int) -> None:
    """Start draining the job's queue in the background (returns at once)."""
    job = await ImportJob.get(id=job_id)
    task = asyncio.create_task(_drain(queue_key(job)), name=f"import-queue-{queue_key(job)}")
    _tasks.add(task)
    task.add_done_callback(_tasks.discard)


async def wait_idle() -> None:
    """Wait until every queue drained (tests, the CLI, shutdown)."""
    while _tasks:
        await asyncio.gather(*list(_tasks), return_exceptions=True)


async def _drain(key: str) -> None:
    lock = _queue_locks.setdefault(key, asyncio.Lock())
    async with lock:
        while True:
            job = await ImportJob.filter(status=ImportJobStatus.QUEUED.value, **_queue_filter(key)).order_by("id").first()
            if job is None or not await run(job.id):
                # Nothing queued, or another process runs this queue's job: that process
                # drains the queue when it finishes.
                return


async def fail(job_id: int, code: str, message: str, column: str | None = None) -> None:
    """Stop a job for a reason that concerns the whole file; committed rows stay committed."""
    job = await ImportJob.get(id=job_id)
    errors = [*job.errors, {"row": None, "column": column, "code": code, "message": message}]
    await ImportJob.filter(id=job_id).update(
        status=ImportJobStatus.FAILED.value, failure=f"{code}: {message}", errors=errors, finished_at=now()
    )


async def _claim(job_id: int) -> bool:
    """QUEUED -> RUNNING, unless another job of the same queue is running, in this process
    or another worker. The queue's owner row (the chain, or the corp) is locked meanwhile,
    so two workers cannot both find the queue idle (PostgreSQL row lock; SQLite has one writer)."""
    job = await ImportJob.get_or_none(id=job_id)
    if job is None:
        return False
    key = queue_key(job)
    async with in_transaction():
        owner = ChainSpace.filter(id=job.chain_id) if job.chain_id is not None else Corp.filter(id=job.corp_id)
        await owner.select_for_update().values_list("id", flat=True)
        running = ImportJob.filter(
            status=ImportJobStatus.RUNNING.value, started_at__gt=now() - STALE_AFTER, **_queue_filter(key)
        ).exclude(id=job_id)
        if await running.exists():
            return False
        claimed = await ImportJob.filter(id=job_id, status=ImportJobStatus.QUEUED.value).update(
            status=ImportJobStatus.RUNNING.value, started_at=now(), failure=None
        )
    return bool(claimed)


async def run(job_id: int) -> bool:
    """Claim and run one queued job; False when it could not be claimed. Never raises: the
    outcome is written on the job."""
    if not await _claim(job_id):
        return False
    job = await ImportJob.get(id=job_id)
    started, outcome = time.monotonic(), "succeeded"
    try:
        await _handlers[job.kind](job)
    except FlowError as exc:
        outcome = "failed"
        await fail(job_id, exc.code, exc.message, exc.field)
    except Exception:  # a crash must leave a job that says so, not one stuck RUNNING
        outcome = "crashed"
        log.exception("import job %s crashed", job_id)
        await fail(job_id, "JOB_CRASHED", "The import stopped unexpectedly; rows before the reported progress are saved. Retry to resume.")
    else:
        await ImportJob.filter(id=job_id, status=ImportJobStatus.RUNNING.value).update(
            status=ImportJobStatus.SUCCEEDED.value, finished_at=now()
        )
    observe_import_job(job.kind.value, outcome, time.monotonic() - started)
    return True


async def requeue(job_id: int) -> bool:
    """A FAILED job goes back to the queue; its handler resumes after `processed_rows`."""
    job = await ImportJob.get_or_none(id=job_id)
    if job is None:
        return False
    # The file-level failure goes; row errors of committed batches stay with their rows.
    row_errors = [e for e in job.errors if e.get("row") is not None]
    updated = await ImportJob.filter(id=job_id, status=ImportJobStatus.FAILED.value).update(
        status=ImportJobStatus.QUEUED.value, finished_at=None, failure=None, errors=row_errors
    )
    return bool(updated)


async def resume_queued() -> None:
    """At start-up: queues whose jobs were waiting when the last process stopped."""
    rows = await ImportJob.filter(status=ImportJobStatus.QUEUED.value).order_by("id")
    for key in dict.fromkeys(queue_key(j) for j in rows):
        task = asyncio.create_task(_drain(key), name=f"import-queue-{key}")
        _tasks.add(task)
        task.add_done_callback(_tasks.discard)


async def retry(viewer: Viewer, job_id: int, *, origin: Origin | None = None) -> ImportJob:
    """Resume a FAILED job after its last committed row (nothing is applied twice)."""
    job = await ImportJob.get_or_none(id=job_id)
    if job is None or not can_see_import_job(viewer, JobFacts(job.corp_id, job.chain_id, job.actor_kind, job.actor_id)):
        raise NotFound("id")
    if not await requeue(job.id):
        raise FlowError("JOB_NOT_FAILED", "Only a failed job can be retried.", "id")
    await record(viewer, "import.retry", "ImportJob", job.id, corp_id=job.corp_id,
                 after={"resumeAfterRow": job.processed_rows}, origin=origin)
    await submit(job.id)
    return await ImportJob.get(id=job.id)
