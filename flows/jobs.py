"""Import jobs: a lease-based queue in the database, run by `chaingate worker` processes.

The API only enqueues (a QUEUED row plus its file in `import_source`); workers, on any
machine sharing the database, claim and run the jobs. A job row is the truth:

    QUEUED -> RUNNING (leased by one worker) -> SUCCEEDED | FAILED
    RUNNING -> QUEUED       the worker stopped gracefully (SIGTERM) after a committed batch
    RUNNING, lease expired  the worker died: the next worker to poll takes it over
    FAILED -> QUEUED        `retryImportJob` (a file-level failure, or a crash)

**Leases, not hopes.** A claim sets `lease_owner` and `lease_expires_at` (now +
CHAINGATE_JOB_LEASE_SECONDS, 15 s by default); the running worker renews it every third of
that. Every batch commits its rows, its row errors and the job's progress (the last
committed row) in one transaction whose progress UPDATE is *fenced* on the lease
(`WHERE lease_owner = me`): a worker that lost its lease (paused past it, or its job was
taken over) cannot commit another row, so a job's rows land exactly once. A worker taking
a job over resumes after `processed_rows`; nobody has to press retry.

**Queues.** Directory imports queue per corp, chain imports per chain (SPEC §3.2: imports
into one chain are serialised, never lost): a job is claimed only while no other job of
its queue holds a live lease, oldest first. Claims are safe with any number of workers:
on PostgreSQL the claim locks the queue's owner row (`FOR UPDATE SKIP LOCKED`: a worker
skips a queue another is claiming from instead of waiting); on SQLite there is one writer,
and a claim that loses the race to another process fails its transaction and is not taken.
Whatever the database, the claiming UPDATE is a compare-and-set on the state read.

**Why our own table and not procrastinate.** procrastinate is a fine PostgreSQL job
engine, but PostgreSQL only (LISTEN/NOTIFY, PL/pgSQL procedures): SQLite, the default
and the quick start, would need a second engine and would be the path nobody tests. What
chaingate needs is small: one running job per queue, a renewable lease, and a progress
write fenced on that lease in the batch's own transaction, which an external engine's job
lock could not join. A job row with a lease works identically on both databases; one
interface (`claim`, `execute`, `Worker`), tested on both.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import logging
import os
import socket
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from tortoise.exceptions import OperationalError, TransactionManagementError
from tortoise.expressions import Q, Subquery
from tortoise.transactions import in_transaction

from flows.access import access_import_job
from flows.audit import Origin, record
from flows.errors import FlowError
from models import ChainSpace, Corp, ImportJob, ImportJobError, ImportSource
from models.enums import ImportJobStatus, ImportKind
from models.settings import get_settings
from observability.metrics import observe_import_job
from permissions.viewer import Viewer

log = logging.getLogger("chaingate.jobs")

RUNNING = ImportJobStatus.RUNNING.value
QUEUED = ImportJobStatus.QUEUED.value
# Jobs looked at per claim: enough to find a free queue behind a few busy ones.
CLAIM_WINDOW = 50


class LeaseLost(Exception):
    """This worker no longer holds the job's lease: another worker owns it now."""


class Stopping(Exception):
    """The worker is stopping: the handler returns after a committed batch, the job is released."""


def now() -> datetime:
    """The current time, an aware UTC datetime (leases and job timestamps are compared in UTC)."""
    return datetime.now(UTC)


def lease_seconds() -> float:
    """How long a worker's claim on a job lasts without renewal, in seconds (settings
    job_lease_seconds; SPEC §3.8)."""
    return get_settings().job_lease_seconds


def new_worker_id(label: str = "worker") -> str:
    """Who holds a lease: readable in the database (host, pid) and unique per worker run."""
    return f"{label}:{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


def queue_of(corp_id: int, chain_id: int | None) -> str:
    """The queue a job runs in (SPEC §3.2: imports into one corp or one chain run one at a
    time): 'chain:<chain_id>' for a chain import, else 'corp:<corp_id>'."""
    return f"chain:{chain_id}" if chain_id is not None else f"corp:{corp_id}"


@dataclass
class Lease:
    """One worker's claim on one RUNNING job. `stop` asks the handler to return after its
    next committed batch (graceful shutdown)."""

    job_id: int
    owner: str
    seconds: float
    stop: asyncio.Event = field(default_factory=asyncio.Event)

    def mine(self) -> Any:
        """A queryset of this lease's job while this worker still holds it RUNNING (empty once the
            lease is lost), for conditional updates."""
        return ImportJob.filter(id=self.job_id, lease_owner=self.owner, status=RUNNING)

    def until(self) -> datetime:
        """When a lease renewed now runs out: now + `seconds` (aware UTC datetime)."""
        return now() + timedelta(seconds=self.seconds)

    async def renew(self) -> bool:
        """Push the lease's expiry to until(); False when the lease was lost (another worker
            took the job, or it finished)."""
        return bool(await self.mine().update(lease_expires_at=self.until()))

    async def write(self, **values: Any) -> None:
        """Update the job, only while the lease is ours (it renews the lease too). Called in a
        batch's transaction, a lost lease rolls the whole batch back."""
        if not await self.mine().update(**{"lease_expires_at": self.until(), **values}):
            raise LeaseLost(f"job {self.job_id}: lease of {self.owner} lost")


Handler = Callable[[ImportJob, Lease], Awaitable[None]]
_handlers: dict[ImportKind, Handler] = {}
# Where each kind's handler registers itself (imported on first use: those modules import this one).
HANDLER_MODULES = {ImportKind.DIRECTORY: "flows.directory_import", ImportKind.CHAIN_CONTACTS: "flows.chain_import"}


def register(kind: ImportKind, handler: Handler) -> None:
    """Make `handler` (async (job, lease) -> None) run jobs of `kind`; each import module
    registers its own on import (HANDLER_MODULES)."""
    _handlers[kind] = handler


def handler_for(kind: ImportKind) -> Handler:
    """The handler registered for `kind`, importing its module (HANDLER_MODULES) on first
    use. Raises KeyError for a kind with no handler module."""
    if kind not in _handlers:
        importlib.import_module(HANDLER_MODULES[kind])
    return _handlers[kind]


def _claimable(moment: datetime) -> Q:
    # QUEUED, or RUNNING under a lease that ran out (or never had one: a job left RUNNING by
    # a process of a version without leases).
    return Q(status=QUEUED) | Q(status=RUNNING, lease_expires_at__lt=moment) | Q(status=RUNNING, lease_expires_at=None)


def _locks_rows() -> bool:
    return bool(ImportJob._meta.db.capabilities.dialect == "postgres")


async def claim(owner: str, *, job_id: int | None = None, seconds: float | None = None) -> tuple[ImportJob, Lease] | None:
    """Take the oldest claimable job of a free queue (or job `job_id` only) for `owner`;
    None when there is none."""
    moment = now()
    candidates = ImportJob.filter(_claimable(moment))
    if job_id is not None:
        candidates = candidates.filter(id=job_id)
    seen: set[str] = set()
    for c in await candidates.order_by("id").limit(CLAIM_WINDOW).values("id", "queue", "corp_id", "chain_id"):
        if c["queue"] in seen:
            continue  # only a queue's oldest claimable job may go
        seen.add(c["queue"])
        lease = Lease(c["id"], owner, seconds or lease_seconds())
        try:
            won = await _claim_one(c, lease)
        except (OperationalError, TransactionManagementError):
            # SQLite: another process wrote between this claim's read and its write.
            won = False
        if won:
            return await ImportJob.get(id=c["id"]), lease
    return None


async def _claim_one(c: dict[str, Any], lease: Lease) -> bool:
    moment = now()
    async with in_transaction():
        if _locks_rows():
            owner = ChainSpace.filter(id=c["chain_id"]) if c["chain_id"] is not None else Corp.filter(id=c["corp_id"])
            # Model rows, not values_list: Tortoise drops FOR UPDATE from a values query.
            if not await owner.select_for_update(skip_locked=True).only("id"):
                return False  # another worker is claiming from this queue right now
        busy = ImportJob.filter(queue=c["queue"], status=RUNNING, lease_expires_at__gte=moment).exclude(id=c["id"])
        if await busy.exists():
            return False
        earlier = ImportJob.filter(queue=c["queue"], status=QUEUED, id__lt=c["id"])
        if await earlier.exists():
            return False  # FIFO per queue, even when the window above started later
        return bool(await ImportJob.filter(_claimable(moment), id=c["id"]).update(
            status=RUNNING, lease_owner=lease.owner, lease_expires_at=lease.until(), started_at=moment, failure=None,
        ))


async def _heartbeat(lease: Lease) -> None:
    while True:
        await asyncio.sleep(lease.seconds / 3)
        try:
            if not await lease.renew():
                return  # taken over: the handler's next fenced write stops it
        except Exception:  # a database hiccup: try again before the lease runs out
            log.warning("job %s: lease renewal failed", lease.job_id, exc_info=True)


async def execute(job: ImportJob, lease: Lease) -> str:
    """Run a claimed job to its end (or to a graceful stop) while renewing its lease.
    Returns the outcome: succeeded, failed, crashed, released or lost. Never raises."""
    beat = asyncio.create_task(_heartbeat(lease), name=f"lease-{job.id}")
    started, outcome = time.monotonic(), "succeeded"
    try:
        await handler_for(job.kind)(job, lease)
        await lease.write(status=ImportJobStatus.SUCCEEDED.value, finished_at=now(), lease_owner=None, lease_expires_at=None)
    except Stopping:
        outcome = "released"
        await _release(lease)
    except LeaseLost:
        outcome = "lost"
        log.warning("import job %s was taken over by another worker; %s stops working on it", job.id, lease.owner)
    except FlowError as exc:
        outcome = "failed"
        await _fail_quietly(lease, exc.code, exc.message, exc.field)
    except Exception:  # a crash must leave a job that says so, not one stuck RUNNING
        outcome = "crashed"
        log.exception("import job %s crashed", job.id)
        await _fail_quietly(lease, "JOB_CRASHED",
                            "The import stopped unexpectedly; rows before the reported progress are saved. Retry to resume.")
    finally:
        beat.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await beat
    if outcome not in ("released", "lost"):
        observe_import_job(job.kind.value, outcome, time.monotonic() - started)
    return outcome


async def _release(lease: Lease) -> None:
    """Back to the queue at once: any worker resumes it after its last committed row."""
    with contextlib.suppress(LeaseLost):
        await lease.write(status=QUEUED, lease_owner=None, lease_expires_at=None)


async def _fail_quietly(lease: Lease, code: str, message: str, column: str | None = None) -> None:
    try:
        await fail(lease, code, message, column)
    except LeaseLost:
        log.warning("import job %s: not marked %s, its lease is gone", lease.job_id, code)


async def fail(lease: Lease, code: str, message: str, column: str | None = None) -> None:
    """Stop a job for a reason that concerns the whole file; committed rows stay committed."""
    async with in_transaction():
        await lease.write(status=ImportJobStatus.FAILED.value, failure=f"{code}: {message}", finished_at=now(),
                          lease_owner=None, lease_expires_at=None)
        await ImportJobError.create(job_id=lease.job_id, row=None, column=column, code=code, message=message)


async def run_pending_jobs(owner: str | None = None) -> int:
    """Run, in this process and one after another, every job that can be claimed now, until
    none is left (tests, benchmarks). Returns how many ran."""
    owner = owner or new_worker_id("inline")
    ran = 0
    while (claimed := await claim(owner)) is not None:
        await execute(*claimed)
        ran += 1
    return ran


async def run_job_here(job_id: int, *, poll: float = 0.5) -> ImportJob:
    """Run one job in this process (the CLI's `chaingate import`), through the same claim and
    lease as a worker; while another worker holds it or its queue, wait for that one."""
    owner = new_worker_id("cli")
    while True:
        claimed = await claim(owner, job_id=job_id)
        if claimed is not None:
            await execute(*claimed)
        job = await ImportJob.get(id=job_id)
        if job.status in (ImportJobStatus.SUCCEEDED, ImportJobStatus.FAILED):
            return job
        await asyncio.sleep(poll)


async def requeue(job_id: int) -> bool:
    """A FAILED job goes back to the queue; its handler resumes after `processed_rows`."""
    async with in_transaction():
        updated = await ImportJob.filter(id=job_id, status=ImportJobStatus.FAILED.value).update(
            status=QUEUED, finished_at=None, failure=None, lease_owner=None, lease_expires_at=None
        )
        if updated:
            # The file-level failure goes; row errors of committed batches stay with their rows.
            await ImportJobError.filter(job_id=job_id, row=None).delete()
    return bool(updated)


async def prune_sources(retention_days: float | None = None) -> int:
    """Delete the uploaded files (`import_source`) of jobs that ended (SUCCEEDED or FAILED)
    more than `retention_days` ago (default CHAINGATE_IMPORT_SOURCE_RETENTION_DAYS, 30): a
    sheet names people who may since have been erased (SPEC §3.5 deleteMember). The job, its
    counts and its row errors stay; its error report then gives row numbers and reasons
    without the cells, and `retry` refuses it with IMPORT_SOURCE_EXPIRED. QUEUED and RUNNING
    jobs keep their files however old. Returns the number of files deleted. Run by the
    worker's retention duty (flows.worker.prune_duty)."""
    days = retention_days if retention_days is not None else get_settings().import_source_retention_days
    ended = ImportJob.filter(status__in=[ImportJobStatus.SUCCEEDED.value, ImportJobStatus.FAILED.value],
                             finished_at__lt=now() - timedelta(days=days))
    return int(await ImportSource.filter(job_id__in=Subquery(ended.values("id"))).delete())


async def retry(viewer: Viewer, job_id: int, *, origin: Origin | None = None) -> ImportJob:
    """Resume a FAILED job after its last committed row (nothing is applied twice)."""
    job = await access_import_job(viewer, job_id)
    if job.status is ImportJobStatus.FAILED and not await ImportSource.exists(job_id=job.id):
        raise FlowError("IMPORT_SOURCE_EXPIRED", "The file of this import was deleted "
                        f"{get_settings().import_source_retention_days:g} days after the job ended; submit it again.", "id")
    if not await requeue(job.id):
        raise FlowError("JOB_NOT_FAILED", "Only a failed job can be retried.", "id")
    await record(viewer, "import.retry", "ImportJob", job.id, corp_id=job.corp_id,
                 after={"resumeAfterRow": job.processed_rows}, origin=origin)
    return await ImportJob.get(id=job.id)
