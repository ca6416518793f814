"""Import jobs run in worker processes under leases (flows/jobs.py, flows/worker.py): the API
only queues; a killed worker's job is taken over and finishes exactly once; SIGTERM finishes
the batch and releases the job; the worker also delivers notifications. Real `chaingate
worker` processes against the test database, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import contextlib
import io
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from python_calamine import CalamineWorkbook

from flows import directory_import, import_pipeline, jobs, table_reader
from flows.directory_import import Importer, submit_directory_import
from flows.reports import REPORT_SHEET, ROW_HEADER, error_report
from flows.worker import Duty, Worker
from models import AuditEvent, ImportJob, ImportJobError, Member, Notification
from models.enums import ImportJobStatus, ImportMode
from models.settings import get_settings
from permissions.loading import member_viewer
from tests import factories as f
from tests.servers import ROOT, child_database_url

IMPORT = """
mutation($input: ImportDirectoryInput!) { importDirectory(input: $input) {
  job { id status } userErrors { code field message } } }"""
JOB = """
query($id: ID!) { importJob(id: $id) {
  status rowsDone lastCommittedRow errorCount reportUrl errors(limit: 50) { row column code message } } }"""

pytestmark = pytest.mark.usefixtures("database")

# Short leases and small batches, so that a test kills a worker mid-import within seconds.
LEASE_SECONDS = 2
BATCH_ROWS = 10
ROWS = 2000


def people_csv(n: int, prefix: str) -> bytes:
    lines = ["姓名,账号,邮箱"] + [f"员工{i},{prefix}{i:05d},{prefix}{i}@x.cn" for i in range(n)]
    return ("\n".join(lines) + "\n").encode()


async def queued_import(prefix: str, n: int = ROWS) -> tuple[ImportJob, int]:
    corp, root = await f.corp()
    admin = await f.super_admin(root)
    viewer = await member_viewer(admin.id)
    assert viewer is not None
    job = await submit_directory_import(viewer, corp.id, "people.csv", people_csv(n, prefix), ImportMode.CREATE)
    return job, corp.id


@contextlib.contextmanager
def worker_process(**env: str) -> Iterator[subprocess.Popen[bytes]]:
    """A real `chaingate worker` on the test database; its stderr is shown if the test fails."""
    inherited = {k: v for k, v in os.environ.items() if k != "PROMETHEUS_MULTIPROC_DIR"}
    settings = {"DATABASE_URL": child_database_url(), "CHAINGATE_JOB_LEASE_SECONDS": str(LEASE_SECONDS),
                "CHAINGATE_IMPORT_BATCH_ROWS": str(BATCH_ROWS), "CHAINGATE_WORKER_POLL_SECONDS": "0.2", **env}
    with tempfile.TemporaryFile() as log:
        process = subprocess.Popen([sys.executable, "-m", "chaingate_cli.main", "worker"], cwd=ROOT,
                                   env={**inherited, **settings}, stdout=subprocess.DEVNULL, stderr=log)
        try:
            yield process
        except BaseException:
            log.seek(0)
            print("--- worker stderr", log.read().decode(errors="replace")[-4000:], sep="\n")
            raise
        finally:
            if process.poll() is None:
                process.kill()
            process.wait()


# Only a guard against a hung worker, never the expected wait: a worker runs at a lower CPU
# priority (--nice 10), so on a loaded machine (load average above 10 on two cores) its start
# and a 2000-row import can take minutes. The tests wait on the event itself (a row in the
# database, the process's exit) and fail at once when the worker exits before it.
HANG_SECONDS = 600


async def wait_for(check: Any, what: str, worker: subprocess.Popen[bytes] | None = None) -> Any:
    """`check()`'s first truthy value, polled every 50 ms; fails when `worker` (if given) exits
    first, or after HANG_SECONDS."""
    deadline = time.monotonic() + HANG_SECONDS
    while time.monotonic() < deadline:
        value = await check()
        if value:
            return value
        if worker is not None and worker.poll() is not None:
            pytest.fail(f"the worker exited with status {worker.returncode} before {what}")
        await asyncio.sleep(0.05)
    pytest.fail(f"no {what} after {HANG_SECONDS} s: the worker hangs")


def stopped(worker: subprocess.Popen[bytes]) -> int:
    """SIGTERM `worker` and wait for its exit (it finishes its batch first); its exit status."""
    worker.send_signal(signal.SIGTERM)
    return worker.wait(timeout=HANG_SECONDS)


async def job_row(job_id: int) -> ImportJob:
    return await ImportJob.get(id=job_id)


async def assert_imported_exactly_once(job_id: int, corp_id: int, prefix: str, n: int = ROWS) -> None:
    job = await job_row(job_id)
    assert job.status is ImportJobStatus.SUCCEEDED, job.failure
    # CREATE mode: a row applied twice would be a DUPLICATE_ACCOUNT error, a skipped one a gap.
    assert job.counts["created"] == n and job.counts["failed"] == 0
    assert not await ImportJobError.filter(job_id=job_id).exists()
    accounts = await Member.filter(corp_id=corp_id, account__startswith=prefix).values_list("account", flat=True)
    assert sorted(accounts) == [f"{prefix}{i:05d}" for i in range(n)]
    assert await AuditEvent.filter(corp_id=corp_id, action="member.import").count() == n
    assert job.processed_rows == n + 1 and job.rows_done == n and job.lease_owner is None


async def test_a_killed_worker_s_job_is_taken_over_and_finishes_exactly_once_without_retry():
    job, corp_id = await queued_import("kill")
    with worker_process() as first:
        running = await wait_for(
            lambda: ImportJob.filter(id=job.id, status="RUNNING", processed_rows__gt=0).first(), "the first batch", first)
        first.send_signal(signal.SIGKILL)
        first.wait()
    dead = await job_row(job.id)
    assert dead.status is ImportJobStatus.RUNNING and dead.lease_owner == running.lease_owner
    assert 0 < dead.processed_rows <= ROWS, "the worker must die mid-import"
    with worker_process() as second:
        await wait_for(lambda: ImportJob.filter(id=job.id, status="SUCCEEDED").exists(), "the takeover", second)
        taken = await job_row(job.id)
        assert stopped(second) == 0
    assert taken.started_at is not None and taken.started_at > dead.started_at
    await assert_imported_exactly_once(job.id, corp_id, "kill")


async def test_sigterm_finishes_the_batch_releases_the_lease_and_the_job_resumes_elsewhere():
    job, corp_id = await queued_import("term")
    with worker_process() as worker:
        # SIGTERM as soon as the job is claimed, not after its first batch: a worker on a fast
        # database can commit all 200 batches between two polls of the first one, and the job
        # would end SUCCEEDED before the signal. Claimed, it has its reader to start and every
        # batch ahead of it; the signal lands on whichever batch is in flight.
        await wait_for(lambda: ImportJob.filter(id=job.id, status="RUNNING").exists(), "the claim", worker)
        assert stopped(worker) == 0
    released = await job_row(job.id)
    assert released.status is ImportJobStatus.QUEUED and released.lease_owner is None
    assert released.lease_expires_at is None and released.processed_rows <= ROWS + 1
    # Exactly the committed rows are in the database: whole batches, nothing half-done.
    landed = await Member.filter(corp_id=corp_id, account__startswith="term").count()
    assert landed == released.counts["created"] == released.processed_rows - 1
    assert landed % BATCH_ROWS == 0 or released.processed_rows == ROWS + 1
    # Another worker (here: this process) resumes at once, without waiting for a lease.
    assert await jobs.run_pending_jobs() >= 1
    await assert_imported_exactly_once(job.id, corp_id, "term")


async def test_a_stop_reaches_the_running_job_while_a_duty_is_still_running(monkeypatch):
    # A worker runs its duties (the change-feed prune, the outbox) right after its first claim;
    # on a big database they take longer than an import. A stop asked meanwhile must reach the
    # job at its next batch, not once the duties return (by then the job had run to its end).
    monkeypatch.setattr(get_settings(), "import_batch_rows", BATCH_ROWS)
    job, corp_id = await queued_import("duty")
    in_duty, leave_duty = asyncio.Event(), asyncio.Event()

    async def slow_duty() -> None:
        in_duty.set()
        await leave_duty.wait()

    worker = Worker(duties=[Duty("slow", 60, slow_duty)], poll=0.05)
    running = asyncio.create_task(worker.run())
    try:
        await asyncio.wait_for(in_duty.wait(), HANG_SECONDS)
        assert (await job_row(job.id)).status is ImportJobStatus.RUNNING
        worker.stop.set()
        released = await wait_for(lambda: ImportJob.filter(id=job.id).exclude(status="RUNNING").first(), "the release")
    finally:
        leave_duty.set()
        await running
    assert released.status is ImportJobStatus.QUEUED and released.lease_owner is None
    assert released.processed_rows < ROWS + 1
    assert await jobs.run_pending_jobs() == 1
    await assert_imported_exactly_once(job.id, corp_id, "duty")


async def test_the_api_only_queues_imports_and_a_worker_started_later_runs_them(client, gql):
    corp, root = await f.corp()
    admin = await f.super_admin(root)
    rows = [{"name": f"排队{i}", "account": f"later{i}", "email": f"l{i}@x.cn"} for i in range(30)]
    data = await gql.ok(IMPORT, {"input": {"corpId": f.gid("Corp", corp.id), "rows": rows}}, f.token(admin))
    job_gid = data["importDirectory"]["job"]["id"]
    await asyncio.sleep(0.5)  # had the API process started it, it would be running by now
    job = (await gql.ok(JOB, {"id": job_gid}, f.token(admin)))["importJob"]
    assert job["status"] == "QUEUED" and job["rowsDone"] == 0
    assert not await Member.filter(corp_id=corp.id).exclude(id=admin.id).exists()
    # A daily reminder that fell due while no worker ran: the worker delivers it as well.
    reminder = await Notification.create(kind="CHAIN_REMINDER", recipient_mobile=f.unique_mobile(),
                                         payload={"day": 1}, due_at=jobs.now() - timedelta(minutes=1))
    with worker_process() as worker:
        await wait_for(lambda: ImportJob.filter(status="SUCCEEDED", corp_id=corp.id).exists(), "the import", worker)
        await wait_for(lambda: Notification.filter(id=reminder.id, sent_at__isnull=False).exists(), "the reminder",
                       worker)
        assert stopped(worker) == 0
    job = (await gql.ok(JOB, {"id": job_gid}, f.token(admin)))["importJob"]
    assert job["status"] == "SUCCEEDED" and job["rowsDone"] == 30
    assert await Member.filter(corp_id=corp.id, account__startswith="later").count() == 30


async def test_a_job_whose_lease_ran_out_is_taken_over_and_a_live_lease_is_not():
    job, corp_id = await queued_import("lease", 25)
    await ImportJob.filter(id=job.id).update(status="RUNNING", lease_owner="worker:gone",
                                             lease_expires_at=jobs.now() + timedelta(minutes=5))
    assert await jobs.run_pending_jobs() == 0
    await ImportJob.filter(id=job.id).update(lease_expires_at=jobs.now() - timedelta(seconds=1))
    assert await jobs.run_pending_jobs() == 1
    await assert_imported_exactly_once(job.id, corp_id, "lease", 25)


async def test_a_worker_that_lost_its_lease_commits_nothing_more(monkeypatch):
    job, corp_id = await queued_import("lost", 25)
    real_apply = Importer.apply

    async def taken_over_meanwhile(self: Importer, plans: list[Any]) -> Any:
        # Another worker takes the job over while this one writes its batch.
        await ImportJob.filter(id=job.id).update(lease_owner="worker:other")
        return await real_apply(self, plans)

    monkeypatch.setattr(Importer, "apply", taken_over_meanwhile)
    assert await jobs.run_pending_jobs() == 1
    after = await job_row(job.id)
    # The batch rolled back whole and the job was neither finished nor failed by this worker.
    assert after.status is ImportJobStatus.RUNNING and after.processed_rows == 0 and after.counts == {}
    assert not await Member.filter(corp_id=corp_id, account__startswith="lost").exists()
    await ImportJob.filter(id=job.id).delete()


async def test_progress_moves_within_a_batch(monkeypatch):
    job, _ = await queued_import("prog", 300)
    monkeypatch.setattr(import_pipeline, "PROGRESS_SECONDS", 0.0)
    seen: list[tuple[int, int]] = []
    runner = asyncio.create_task(jobs.run_pending_jobs())
    while not runner.done():
        row = await job_row(job.id)
        seen.append((row.rows_done, row.processed_rows))
        await asyncio.sleep(0)
    await runner
    # One batch (1000 rows) holds the whole file, yet rows_done moved before it committed.
    assert any(0 < done < 300 and committed == 0 for done, committed in seen), seen[:20]
    final = await job_row(job.id)
    assert (final.rows_done, final.processed_rows) == (300, 301)


async def test_row_errors_live_in_their_own_table_and_the_report_gives_row_sheet_and_one_reason_a_line(client, gql):
    corp, root = await f.corp()
    admin = await f.super_admin(root)
    rows = [
        {"name": "好", "account": "rep_ok", "email": "ok@x.cn"},
        {"name": "坏", "account": "rep bad", "email": "not-an-email"},  # two broken rules
        {"name": "好二", "account": "rep_ok2", "email": "ok2@x.cn"},
        {"name": "坏二", "account": "rep_ok", "email": "dup@x.cn"},  # duplicate in the file
    ]
    data = await gql.ok(IMPORT, {"input": {"corpId": f.gid("Corp", corp.id), "rows": rows}}, f.token(admin))
    await jobs.run_pending_jobs()
    job = (await gql.ok(JOB, {"id": data["importDirectory"]["job"]["id"]}, f.token(admin)))["importJob"]
    job_id = int(await ImportJob.filter(corp_id=corp.id).first().values_list("id", flat=True))
    stored = await ImportJobError.filter(job_id=job_id).order_by("id").values_list("row", "code")
    assert stored == [(3, "INVALID_ACCOUNT"), (3, "INVALID_EMAIL"), (5, "DUPLICATE_IN_FILE")]
    assert job["errorCount"] == 3 and [(e["row"], e["code"]) for e in job["errors"]] == stored

    book = CalamineWorkbook.from_filelike(io.BytesIO(await error_report(await ImportJob.get(id=job_id))))
    assert book.sheet_names == [REPORT_SHEET]
    sheet = book.get_sheet_by_name(REPORT_SHEET).to_python()
    header = sheet[0]
    assert header[-2:] == [ROW_HEADER, "错误原因 reason"]
    by_row = {int(r[-2]): r[-1].split("\n") for r in sheet[1:]}
    assert set(by_row) == {3, 5}
    assert [line.split(":")[0] for line in by_row[3]] == ["INVALID_ACCOUNT", "INVALID_EMAIL"]
    assert [line.split(":")[0] for line in by_row[5]] == ["DUPLICATE_IN_FILE"]
    assert sheet[1][header.index("account")] == "rep bad"



def reader_processes() -> list[int]:
    """This process's children that are table readers (flows/table_reader.py), zombies included."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError):
            ppid = int(stat.read_text().rsplit(")", 1)[1].split()[1])
            if ppid == os.getpid() and b"table_reader" in (stat.parent / "cmdline").read_bytes():
                found.append(int(stat.parent.name))
    return found


@pytest.mark.parametrize("stop", ["graceful stop", "lease lost", "crash"])
async def test_a_pipeline_that_stops_early_leaves_no_reader_process_or_temp_file(stop, monkeypatch, tmp_path):
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))  # where the reader's temp copy of the file goes
    # A small pipe buffer: the reader is still writing rows when the pipeline stops.
    monkeypatch.setattr(table_reader, "LINE_LIMIT", 4096)
    monkeypatch.setattr(directory_import, "BATCH_ROWS", BATCH_ROWS)
    job, corp_id = await queued_import(f"stop{len(stop)}", 5000)
    alive_while_running: list[int] = []
    real_apply = Importer.apply

    async def apply(self: Importer, plans: list[Any]) -> Any:
        alive_while_running.extend(reader_processes())
        if stop == "lease lost":
            await ImportJob.filter(id=job.id).update(lease_owner="worker:other")
        elif stop == "crash":
            raise RuntimeError("the handler broke")
        return await real_apply(self, plans)

    monkeypatch.setattr(Importer, "apply", apply)
    claimed = await jobs.claim(jobs.new_worker_id("test"))
    assert claimed is not None and claimed[0].id == job.id
    if stop == "graceful stop":
        claimed[1].stop.set()
    outcome = await jobs.execute(*claimed)
    assert outcome == {"graceful stop": "released", "lease lost": "lost", "crash": "crashed"}[stop]
    assert alive_while_running, "the reader must still be running when the pipeline stops"
    assert reader_processes() == []
    assert list((tmp_path / "chaingate-spool").iterdir()) == []
    assert await Member.filter(corp_id=corp_id, account__startswith="stop").count() < 5000
    await ImportJob.filter(id=job.id).delete()


@pytest.fixture
def spool(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """A spool directory of the test's own, for this process and the workers it starts."""
    path = tmp_path / "spool"
    monkeypatch.setattr(get_settings(), "spool_dir", str(path))
    return path


def dead_pid() -> int:
    """The pid of a process that has exited (and been reaped)."""
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    return process.pid


async def test_a_killed_worker_s_spool_file_is_removed_by_the_job_s_next_runner(spool: Path):
    job, corp_id = await queued_import("spool")
    with worker_process(CHAINGATE_SPOOL_DIR=str(spool)) as first:
        await wait_for(lambda: ImportJob.filter(id=job.id, status="RUNNING", processed_rows__gt=0).exists(),
                       "the first batch", first)
        first.send_signal(signal.SIGKILL)
        first.wait()
    left = [p.name for p in spool.iterdir()]
    assert len(left) == 1 and left[0].startswith(f"job-{job.id}-{first.pid}-") and left[0].endswith(".csv"), left
    # Another file of a live process (this one) is not the takeover's to remove.
    live = spool / f"job-{job.id}-{os.getpid()}-0123abcd.csv"
    live.write_bytes(b"")
    # This process takes the job over once the dead worker's lease ran out (no worker start here).
    await ImportJob.filter(id=job.id).update(lease_expires_at=jobs.now() - timedelta(seconds=1))
    # On PostgreSQL the dead worker's backend may still hold the job row in its open batch
    # until it notices the closed socket: a claim skips a locked row, so poll as a worker does.
    assert await wait_for(jobs.run_pending_jobs, "a takeover of the dead worker's job") == 1
    assert sorted(p.name for p in spool.iterdir()) == [live.name]
    await assert_imported_exactly_once(job.id, corp_id, "spool")


async def test_a_worker_starting_removes_spool_files_of_processes_that_are_gone(spool: Path):
    spool.mkdir()
    stale = [spool / f"job-424242-{dead_pid()}-00aa11bb.xlsx", spool / f"job-x-{dead_pid()}-22cc33dd.csv"]
    kept = [spool / f"job-424242-{os.getpid()}-44ee55ff.xlsx", spool / "notes.txt"]
    for path in stale + kept:
        path.write_bytes(b"PK")
    with worker_process(CHAINGATE_SPOOL_DIR=str(spool)) as worker:
        async def swept() -> bool:
            return not any(p.exists() for p in stale)
        await wait_for(swept, "the worker's start-up sweep", worker)
        assert stopped(worker) == 0
    assert all(p.exists() for p in kept)


async def test_a_worker_runs_at_a_lower_cpu_priority_than_whoever_started_it():
    base = os.getpriority(os.PRIO_PROCESS, 0)
    expected = min(base + 10, 19)  # the worker's default --nice
    with worker_process() as worker:
        async def lowered() -> bool:
            return os.getpriority(os.PRIO_PROCESS, worker.pid) == expected
        await wait_for(lowered, "the worker to lower its priority", worker)
