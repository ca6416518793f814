"""importJob: the query, and the subscription that follows a job's progress."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator
from typing import Annotated

import strawberry
from strawberry import relay

from gql.context import Info
from gql.errors import unauthenticated
from gql.imports.types import ImportJobNode, import_job_node
from gql.relay import parse_id
from models.enums import ImportJobStatus

POLL_SECONDS = 0.25
FINISHED = (ImportJobStatus.SUCCEEDED, ImportJobStatus.FAILED)


@strawberry.type
class ImportQuery:
    @strawberry.field(description="An import job you started or administer; null alike for unknown ones.")
    async def import_job(self, info: Info, id: Annotated[relay.GlobalID, strawberry.argument(description="Global id of the ImportJob.")]) -> ImportJobNode | None:
        pk = parse_id(id, "ImportJob")
        return await import_job_node(info, pk) if pk is not None else None


def _state(node: ImportJobNode) -> tuple[object, ...]:
    job = node._j
    return (job.status, job.processed_rows, job.rows_done, tuple(sorted(job.counts.items())))


@strawberry.type
class ImportSubscription:
    @strawberry.subscription(description="Progress of an import job: a message on every change, the last when it ends.")
    async def import_job(
        self, info: Info, id: Annotated[relay.GlobalID, strawberry.argument(description="Global id of the ImportJob.")]
    ) -> AsyncGenerator[ImportJobNode | None, None]:
        # The job row is the shared truth, so polling it works whichever worker runs the job.
        pk = parse_id(id, "ImportJob")
        last = None
        while True:
            node = await import_job_node(info, pk) if pk is not None else None
            if node is not None and _state(node) != last:
                # About to send: a socket's token is checked again (it may have died while the job
                # ran), and the job read again as the viewer is now.
                if not await info.context.still_signed_in():
                    raise unauthenticated("Your session has ended: sign in again.")
                node = await import_job_node(info, pk)
            if node is None:
                yield None
                return
            job = node._j
            state = _state(node)
            if state != last:
                last = state
                yield node
            if job.status in FINISHED:
                return
            await asyncio.sleep(POLL_SECONDS)
