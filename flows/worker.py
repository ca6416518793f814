"""The worker: runs import jobs and the notification outbox, beside (never inside) the API.

`chaingate worker [--concurrency N]` runs a `Worker` until SIGTERM. Each poll it claims
queued jobs up to N at a time (flows/jobs.py: leases, one job per queue) and, on its own
schedule, delivers due notifications — invitations, the daily chain reminders, approval
requests — through the outbox's claim (flows/notifications/dispatch.py), so any number of
workers may run on any machines sharing the database.

Stopping (SIGTERM, Ctrl-C): no new claims; each running job finishes the batch it is on,
commits it and goes back to the queue with its lease released, where any worker resumes
it after its last committed row. A worker killed outright (SIGKILL, a lost machine)
leaves its jobs RUNNING under a lease nobody renews; once it runs out (15 s by default),
the next worker to poll takes them over. A worker starting removes the spool files
(flows/table_reader.py) that processes killed that way left behind.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from flows import jobs
from flows.table_reader import sweep_spool
from models.settings import get_settings

log = logging.getLogger("chaingate.worker")


@dataclass
class Duty:
    """A periodic task of the worker: `run` every `every` seconds (a failure is logged and
    tried again next time)."""

    name: str
    every: float
    run: Callable[[], Awaitable[object]]
    next_at: float = 0.0


def outbox_duty(sender: object, every: float = 5.0) -> Duty:
    """Deliver due notifications (the daily reminders are rows due on their day)."""
    from flows.notifications import dispatch_due

    async def run() -> object:
        result = await dispatch_due(sender)  # type: ignore[arg-type]
        if result.claimed:
            log.info("notifications: sent %s, retrying %s, gave up %s",
                     len(result.sent), len(result.retrying), len(result.gave_up))
        return result

    return Duty("notifications", every, run)


def prune_duty(every: float | None = None) -> Duty:
    """Delete what is past its retention: change-feed rows (flows.feed.prune, SPEC §3.9) and
    the uploaded files of ended import jobs (flows.jobs.prune_sources), every
    CHAINGATE_CHANGE_PRUNE_SECONDS (default an hour) and once when the worker starts.
    Any number of workers may run it: a prune is one DELETE by age."""
    from flows import feed

    async def run() -> object:
        deleted = await feed.prune()
        if deleted:
            log.info("change feed: pruned %s rows past the retention", deleted)
        files = await jobs.prune_sources()
        if files:
            log.info("import jobs: deleted the files of %s jobs ended before the retention", files)
        return deleted + files

    return Duty("retention", every if every is not None else get_settings().change_prune_seconds, run)


class Worker:
    """Runs import jobs and periodic duties (SPEC §3.8): up to `concurrency` jobs at a time,
    claimed under leases held as `owner`, polling every `poll` seconds; `duties` run on their
    own intervals. Stopped by setting `stop`."""

    def __init__(self, *, concurrency: int = 1, poll: float | None = None, duties: list[Duty] | None = None,
                 owner: str | None = None) -> None:
        self.owner = owner or jobs.new_worker_id()
        self.concurrency = max(concurrency, 1)
        self.poll = poll if poll is not None else get_settings().worker_poll_seconds
        self.duties = duties or []
        self.stop = asyncio.Event()
        self._running: dict[asyncio.Task[str], jobs.Lease] = {}

    async def run(self) -> None:
        """Until `stop` is set; then each running job stops after its batch and is released."""
        log.info("worker %s started (concurrency %s)", self.owner, self.concurrency)
        for path in sweep_spool():
            log.info("removed %s, left by a process that is gone", path)
        # A stop reaches the running jobs at once, whatever the loop is awaiting (a duty can
        # take longer than a whole import).
        relay = asyncio.create_task(self._stop_jobs_when_stopped(), name="worker-stop")
        try:
            while not self.stop.is_set():
                await self._claim_free_slots()
                await self._run_due_duties()
                # Wake for a stop, a finished job (a free slot) or the next poll.
                stopped = asyncio.ensure_future(self.stop.wait())
                await asyncio.wait({stopped, *self._running}, timeout=self.poll, return_when=asyncio.FIRST_COMPLETED)
                stopped.cancel()
        finally:
            relay.cancel()
            self._stop_jobs()  # in case the relay was cancelled before it woke
            if self._running:
                await asyncio.gather(*self._running, return_exceptions=True)
            log.info("worker %s stopped", self.owner)

    async def _stop_jobs_when_stopped(self) -> None:
        await self.stop.wait()
        self._stop_jobs()

    def _stop_jobs(self) -> None:
        """Each running job stops after the batch it is on and is released."""
        for lease in self._running.values():
            lease.stop.set()

    async def _claim_free_slots(self) -> None:
        while len(self._running) < self.concurrency and not self.stop.is_set():
            try:
                claimed = await jobs.claim(self.owner)
            except Exception:  # a long-running worker outlives a database hiccup
                log.exception("claiming a job failed")
                return
            if claimed is None:
                return
            job, lease = claimed
            log.info("job %s (%s) claimed by %s, resuming after row %s", job.id, job.kind.value, self.owner, job.processed_rows)
            task = asyncio.create_task(jobs.execute(job, lease), name=f"import-job-{job.id}")
            self._running[task] = lease
            task.add_done_callback(self._finished)
            if self.stop.is_set():  # stopped while this claim was in flight
                lease.stop.set()

    def _finished(self, task: asyncio.Task[str]) -> None:
        lease = self._running.pop(task, None)
        if lease is not None and not task.cancelled():
            log.info("job %s: %s", lease.job_id, task.result())

    async def _run_due_duties(self) -> None:
        moment = time.monotonic()
        for duty in self.duties:
            if moment < duty.next_at:
                continue
            duty.next_at = moment + duty.every
            try:
                await duty.run()
            except Exception:
                log.exception("worker duty %s failed", duty.name)


@contextlib.asynccontextmanager
async def background_worker(**options: object):  # type: ignore[no-untyped-def]
    """A worker running in this event loop for the block's duration (tests, the demo)."""
    worker = Worker(**options)  # type: ignore[arg-type]
    task = asyncio.create_task(worker.run(), name="background-worker")
    try:
        yield worker
    finally:
        worker.stop.set()
        await task
