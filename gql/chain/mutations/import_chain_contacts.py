from __future__ import annotations

from typing import Annotated

import strawberry
from strawberry import relay
from strawberry.file_uploads import Upload

from flows.chain_import import TEMPLATE_HEADERS, submit_chain_import
from gql.context import Info
from gql.errors import UserError, run_flow
from gql.imports.types import ImportJobNode, import_job_node
from gql.imports.upload import submitted_file
from gql.relay import decode_id


@strawberry.input(description="One chain contact row as text, as it would stand in the file.")
class ChainContactRowInput:
    name: str | None = strawberry.field(default=None, description="联系人姓名: the contact's name, 1-32 characters (required).")
    role: str | None = strawberry.field(default=None, description="负责人 / 成员, or LEADER / MEMBER.")
    mobile: str | None = strawberry.field(default=None, description=(
        "手机号: +CC… or a mainland mobile, stored in E.164 (required); keys the contact in the chain."))
    corp_name: str | None = strawberry.field(default=None, description=(
        "企业名称: 1-32 characters of CJK, letters, digits, space and -_()（） (required)."))
    group: str | None = strawberry.field(default=None, description="Group path `A->B`, created if missing.")
    custom_corp_id: str | None = strawberry.field(default=None, description=(
        "自定义企业id: the owner's own id for the corp, unique in the chain; keys the corp when given."))


_ROW_FIELDS = {key: "corp_name" if key == "corpName" else "custom_corp_id" if key == "customCorpId" else key
               for key in TEMPLATE_HEADERS}


@strawberry.input(description="Contacts to import into a chain space (SPEC §3.2): a file or rows, not both.")
class ImportChainContactsInput:
    chain_id: relay.GlobalID = strawberry.field(description="Global id of the ChainSpace.")
    file: Upload | None = strawberry.field(default=None, description=".xlsx or .csv (UTF-8, UTF-8-BOM, GB18030).")
    rows: list[ChainContactRowInput] | None = strawberry.field(default=None, description=(
        "The rows themselves, instead of a file."))


@strawberry.type(description="What importChainContacts did.")
class ImportChainContactsPayload:
    job: ImportJobNode | None = strawberry.field(description="The queued import job (follow it with importJob(id)); null on error.")
    user_errors: list[UserError] = strawberry.field(description="Why nothing was queued; empty on success.")


async def import_chain_contacts(
    info: Info, input: Annotated[ImportChainContactsInput, strawberry.argument(description="The chain and the contacts.")]
) -> ImportChainContactsPayload:
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
