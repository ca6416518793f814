from __future__ import annotations

from typing import Annotated

import strawberry
from strawberry import relay

from flows.jobs import retry
from gql.acting import act_on_id
from gql.context import Info
from gql.errors import UserError
from gql.imports.types import ImportJobNode, import_job_node


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
    job, errors = await act_on_id(info, input.id, "ImportJob", "id", retry)
    return RetryImportJobPayload(job=await import_job_node(info, job.id) if job else None, user_errors=errors)
