from __future__ import annotations

import strawberry
from strawberry import relay
from strawberry.file_uploads import Upload

from flows.chain_import import TEMPLATE_HEADERS, submit_chain_import
from gql.context import Info
from gql.imports.upload import submitted_file
from gql.errors import UserError, run_flow
from gql.imports.types import ImportJobNode, import_job_node
from gql.relay import decode_id


@strawberry.input(description="One chain contact row as text, as it would stand in the file.")
class ChainContactRowInput:
    name: str | None = None
    role: str | None = strawberry.field(default=None, description="负责人 / 成员, or LEADER / MEMBER.")
    mobile: str | None = None
    corp_name: str | None = None
    group: str | None = strawberry.field(default=None, description="Group path `A->B`, created if missing.")
    custom_corp_id: str | None = None


_ROW_FIELDS = {key: "corp_name" if key == "corpName" else "custom_corp_id" if key == "customCorpId" else key
               for key in TEMPLATE_HEADERS}


@strawberry.input
class ImportChainContactsInput:
    chain_id: relay.GlobalID
    file: Upload | None = strawberry.field(default=None, description=".xlsx or .csv (UTF-8, UTF-8-BOM, GB18030).")
    rows: list[ChainContactRowInput] | None = None


@strawberry.type
class ImportChainContactsPayload:
    job: ImportJobNode | None
    user_errors: list[UserError]


async def import_chain_contacts(info: Info, input: ImportChainContactsInput) -> ImportChainContactsPayload:
    """Queue the import; follow it with `importJob(id)`. Imports into one chain run in turn."""
    ctx = info.context

    async def flow() -> int:
        name, content = await submitted_file(input.file, input.rows, _ROW_FIELDS)
        job = await submit_chain_import(
            ctx.viewer, decode_id(input.chain_id, "ChainSpace", "chainId"), name, content, origin=ctx.origin
        )
        return job.id

    job_id, errors = await run_flow(flow())
    return ImportChainContactsPayload(job=await import_job_node(info, job_id) if job_id else None, user_errors=errors)
