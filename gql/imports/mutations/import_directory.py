from __future__ import annotations

import strawberry
from strawberry import relay
from strawberry.file_uploads import Upload

from flows.directory_import import TEMPLATE_HEADERS, submit_directory_import
from gql.context import Info
from gql.imports.upload import submitted_file
from gql.enums import ImportMode
from gql.errors import UserError, run_flow
from gql.imports.types import ImportJobNode, import_job_node
from gql.relay import decode_id
from models.enums import ImportMode as ImportModeValue


@strawberry.input(description="One directory row as text, as it would stand in the file.")
class DirectoryRowInput:
    name: str | None = None
    account: str | None = None
    alias: str | None = None
    wechat_id: str | None = None
    mobile: str | None = None
    email: str | None = None
    telephone: str | None = None
    departments: str | None = strawberry.field(default=None, description="`A->B->C`, several separated by `;`.")
    position: str | None = None
    gender: str | None = None
    address: str | None = None
    birthday: str | None = None
    hire_date: str | None = None


_ROW_FIELDS = {key: key if key != "wechatId" else "wechat_id" for key in TEMPLATE_HEADERS}
_ROW_FIELDS["hireDate"] = "hire_date"


@strawberry.input
class ImportDirectoryInput:
    corp_id: relay.GlobalID
    mode: ImportMode = ImportModeValue.UPSERT
    file: Upload | None = strawberry.field(default=None, description=".xlsx or .csv (UTF-8, UTF-8-BOM, GB18030).")
    rows: list[DirectoryRowInput] | None = None
    confirm_replace: bool = strawberry.field(default=False, description="Required for REPLACE.")
    force: bool = strawberry.field(default=False, description="REPLACE even past the mass-resignation guard.")


@strawberry.type
class ImportDirectoryPayload:
    job: ImportJobNode | None
    user_errors: list[UserError]


async def import_directory(info: Info, input: ImportDirectoryInput) -> ImportDirectoryPayload:
    """Queue an import job; follow it with `importJob(id)` (query or subscription)."""
    ctx = info.context

    async def flow() -> int:
        name, content = await submitted_file(input.file, input.rows, _ROW_FIELDS)
        job = await submit_directory_import(
            ctx.viewer, decode_id(input.corp_id, "Corp", "corpId"), name, content,
            ImportModeValue(input.mode.value), confirm_replace=input.confirm_replace, force=input.force,
            origin=ctx.origin,
        )
        return job.id

    job_id, errors = await run_flow(flow())
    return ImportDirectoryPayload(job=await import_job_node(info, job_id) if job_id else None, user_errors=errors)
