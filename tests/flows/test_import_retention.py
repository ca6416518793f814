"""The uploaded file of an import is kept while the job may need it (to resume, to quote rows
in its error report) and deleted once the job has ended longer ago than the retention
(CHAINGATE_IMPORT_SOURCE_RETENTION_DAYS, 30 days): a sheet names people who may since have
been deleted (SPEC §3.5 deleteMember: personal data erased). The job, its counts and its row
errors stay."""

from __future__ import annotations

import io
from datetime import timedelta
from typing import Any

import pytest
from python_calamine import CalamineWorkbook
from strawberry import relay

from flows import jobs
from flows.reports import REASON_HEADER, ROW_HEADER
from flows.worker import prune_duty
from models import ImportJob, ImportSource
from tests.flows.test_directory_import import MIXED_ROWS, RETRY, finished, upload, world, xlsx

pytestmark = pytest.mark.usefixtures("database")


async def submitted(client: Any, w: dict[str, Any]) -> int:
    job = (await upload(client, w["t"], w["corp"].id, "people.xlsx", xlsx(MIXED_ROWS)))["job"]
    return int(relay.GlobalID.from_id(job["id"]).node_id)


async def ended_days_ago(job_id: int, days: float, **values: Any) -> None:
    await ImportJob.filter(id=job_id).update(finished_at=jobs.now() - timedelta(days=days), **values)


async def test_an_ended_job_loses_its_file_after_the_retention_and_keeps_its_row_errors(client, gql):
    w = await world()
    old = await submitted(client, w)
    done = await finished(gql, w["t"], str(relay.GlobalID("ImportJob", str(old))))
    assert done["status"] == "SUCCEEDED" and done["errorCount"] == 10
    recent = await submitted(client, w)
    await jobs.run_pending_jobs()
    waiting = await submitted(client, w)  # queued, never run: a worker still needs its file
    await ended_days_ago(old, 31)
    await ended_days_ago(recent, 29)
    await ImportJob.filter(id=waiting).update(created_at=jobs.now() - timedelta(days=60))

    await prune_duty().run()
    assert not await ImportSource.exists(job_id=old)
    assert await ImportSource.exists(job_id=recent) and await ImportSource.exists(job_id=waiting)
    job = (await gql.ok("query($id: ID!) { importJob(id: $id) { status errorCount counts { name value } } }",
                        {"id": done["id"]}, w["t"]))["importJob"]
    assert job["status"] == "SUCCEEDED" and job["errorCount"] == 10 and job["counts"] == done["counts"]
    # The report still gives each bad row's number and reasons, without the cells it no longer has.
    path = done["reportUrl"].split("://", 1)[1].split("/", 1)[1]
    response = await client.get(f"/{path}", headers={"Authorization": f"Bearer {w['t']}"})
    assert response.status_code == 200
    rows = CalamineWorkbook.from_filelike(io.BytesIO(response.content)).get_sheet_by_index(0).to_python()
    assert rows[0] == [ROW_HEADER, REASON_HEADER]
    assert [int(r[0]) for r in rows[1:]] == [4, 5, 6, 7, 8, 9, 10, 11, 12]
    assert "MOBILE_NOT_TEXT" in rows[1][1] and "INVALID_EMAIL" in rows[8][1] and "INVALID_DATE" in rows[8][1]


async def test_a_failed_job_past_the_retention_cannot_be_retried_and_says_why(client, gql):
    w = await world()
    job_id = await submitted(client, w)
    await ended_days_ago(job_id, 31, status="FAILED", failure="JOB_CRASHED: the disk was full")
    assert await jobs.prune_sources() == 1
    data = await gql.ok(RETRY, {"id": str(relay.GlobalID("ImportJob", str(job_id)))}, w["t"])
    assert [(e["code"], e["field"]) for e in data["retryImportJob"]["userErrors"]] == [("IMPORT_SOURCE_EXPIRED", "id")]
    assert (await ImportJob.get(id=job_id)).status.value == "FAILED"
