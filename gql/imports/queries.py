"""importJob: the query, and the subscription that follows a job's progress."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator

import strawberry
from strawberry import relay

from gql.context import Info
from gql.imports.types import ImportJobNode, import_job_node
from gql.relay import parse_id
from models.enums import ImportJobStatus

POLL_SECONDS = 0.25
FINISHED = (ImportJobStatus.SUCCEEDED, ImportJobStatus.FAILED)


@strawberry.type
class ImportQuery:
    @strawberry.field(description="An import job you started or administer; null alike for unknown ones.")
    async def import_job(self, info: Info, id: relay.GlobalID) -> ImportJobNode | None:
        pk = parse_id(id, "ImportJob")
        return await import_job_node(info, pk) if pk is not None else None


@strawberry.type
class ImportSubscription:
    @strawberry.subscription(description="Progress of an import job: a message on every change, the last when it ends.")
    async def import_job(self, info: Info, id: relay.GlobalID) -> AsyncGenerator[ImportJobNode | None, None]:
        # The job row is the shared truth, so polling it works whichever worker runs the job.
        pk = parse_id(id, "ImportJob")
        last = None
        while True:
            node = await import_job_node(info, pk) if pk is not None else None
            if node is None:
                yield None
                return
            job = node._j
            state = (job.status, job.processed_rows, job.rows_done, tuple(sorted(job.counts.items())))
            if state != last:
                last = state
                yield node
            if job.status in FINISHED:
                return
            await asyncio.sleep(POLL_SECONDS)
