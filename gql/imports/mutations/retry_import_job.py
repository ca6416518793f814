from __future__ import annotations

from typing import Annotated

import strawberry
from strawberry import relay

from flows.jobs import retry
from gql.context import Info
from gql.errors import UserError, run_flow
from gql.imports.types import ImportJobNode, import_job_node
from gql.relay import decode_id


@strawberry.input(description="The import job to resume.")
class RetryImportJobInput:
    id: relay.GlobalID = strawberry.field(description="Global id of the FAILED ImportJob to resume.")


@strawberry.type(description="What retryImportJob did.")
class RetryImportJobPayload:
    job: ImportJobNode | None = strawberry.field(description="The job, queued again; null on error.")
    user_errors: list[UserError] = strawberry.field(description="Why nothing was queued; empty on success.")


async def retry_import_job(
    info: Info,
    input: Annotated[RetryImportJobInput, strawberry.argument(description="The import job to resume.")],
) -> RetryImportJobPayload:
    """Resume a failed import after its last committed row: nothing lost, nothing twice."""
    ctx = info.context

    async def flow() -> int:
        job = await retry(ctx.viewer, decode_id(input.id, "ImportJob", "id"), origin=ctx.origin)
        return job.id

    job_id, errors = await run_flow(flow())
    return RetryImportJobPayload(job=await import_job_node(info, job_id) if job_id else None, user_errors=errors)
