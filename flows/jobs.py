"""Background import jobs: queued in the database, run one at a time per queue.

A job row is the truth: QUEUED -> RUNNING -> SUCCEEDED | FAILED. A handler commits its work
in batches and moves `processed_rows` forward in the same transaction as the batch, so a
job that dies at row k has exactly rows < k applied and says so; `retry` resumes it there.

Queues: directory imports queue per corp, chain imports per chain (SPEC §3.2: concurrent
imports into one chain are serialised, never lost). The claim is a conditional UPDATE, so
a job runs once even when several processes see it queued.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from datetime import datetime, timezone
from typing import Any

from flows.audit import Origin, record
from flows.errors import FlowError, NotFound
from models import ImportJob
from models.enums import ImportJobStatus, ImportKind
from observability.metrics import observe_import_job
from permissions.jobs import JobFacts, can_see_import_job
from permissions.viewer import Viewer

log = logging.getLogger("chaingate.jobs")

Handler = Callable[[ImportJob], Awaitable[None]]

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
            if job is None:
                return
            await run(job.id)


async def fail(job_id: int, code: str, message: str, column: str | None = None) -> None:
    """Stop a job for a reason that concerns the whole file; committed rows stay committed."""
    job = await ImportJob.get(id=job_id)
    errors = [*job.errors, {"row": None, "column": column, "code": code, "message": message}]
    await ImportJob.filter(id=job_id).update(
        status=ImportJobStatus.FAILED.value, failure=f"{code}: {message}", errors=errors, finished_at=now()
    )


async def run(job_id: int) -> None:
    """Claim and run one queued job. Never raises: the outcome is written on the job."""
    claimed = await ImportJob.filter(id=job_id, status=ImportJobStatus.QUEUED.value).update(
        status=ImportJobStatus.RUNNING.value, started_at=now(), failure=None
    )
    if not claimed:
        return
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
