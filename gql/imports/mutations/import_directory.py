from __future__ import annotations

from typing import Annotated

import strawberry
from strawberry import relay
from strawberry.file_uploads import Upload

from flows.directory_import import TEMPLATE_HEADERS, submit_directory_import
from gql.context import Info
from gql.enums import ImportMode
from gql.errors import UserError, run_flow
from gql.imports.types import ImportJobNode, import_job_node
from gql.imports.upload import submitted_file
from gql.relay import decode_id
from models.enums import ImportMode as ImportModeValue


@strawberry.input(description="One directory row as text, as it would stand in the file.")
class DirectoryRowInput:
    name: str | None = strawberry.field(default=None, description="姓名: full name (required).")
    account: str | None = strawberry.field(default=None, description=(
        "账号: [A-Za-z0-9_.@-]{1,64}, unique in the corp ignoring case (required); keys UPSERT and REPLACE."))
    alias: str | None = strawberry.field(default=None, description="别名: nickname.")
    wechat_id: str | None = strawberry.field(default=None, description="微信号: WeChat id, not all digits.")
    mobile: str | None = strawberry.field(default=None, description=(
        "手机: +CC… or a mainland mobile, as text; stored in E.164 (e.g. +8613800000000)."))
    email: str | None = strawberry.field(default=None, description="邮箱: email address.")
    telephone: str | None = strawberry.field(default=None, description="电话: landline as written, e.g. 021-12345678.")
    departments: str | None = strawberry.field(default=None, description="`A->B->C`, several separated by `;`.")
    position: str | None = strawberry.field(default=None, description="职位: job title.")
    gender: str | None = strawberry.field(default=None, description="性别: 男/女/未知 or MALE/FEMALE/UNKNOWN.")
    address: str | None = strawberry.field(default=None, description="地址: postal or office address.")
    birthday: str | None = strawberry.field(default=None, description="生日: a date, e.g. 1990-05-01.")
    hire_date: str | None = strawberry.field(default=None, description="入职日期: a date, e.g. 2020-03-01.")


_ROW_FIELDS = {key: key if key != "wechatId" else "wechat_id" for key in TEMPLATE_HEADERS}
_ROW_FIELDS["hireDate"] = "hire_date"


@strawberry.input(description="A directory to import into a corp (SPEC §3.1): a file or rows, not both.")
class ImportDirectoryInput:
    corp_id: relay.GlobalID = strawberry.field(description="Global id of the Corp.")
    mode: ImportMode = strawberry.field(default=ImportModeValue.UPSERT, description="CREATE, UPSERT (default) or REPLACE.")
    file: Upload | None = strawberry.field(default=None, description=".xlsx or .csv (UTF-8, UTF-8-BOM, GB18030).")
    rows: list[DirectoryRowInput] | None = strawberry.field(default=None, description=(
        "The rows themselves, instead of a file."))
    confirm_replace: bool = strawberry.field(default=False, description="Required for REPLACE.")
    force: bool = strawberry.field(default=False, description="REPLACE even past the mass-resignation guard.")


@strawberry.type(description="What importDirectory did.")
class ImportDirectoryPayload:
    job: ImportJobNode | None = strawberry.field(description=(
        "The queued import job (follow it with importJob(id), query or subscription); null on error."))
    user_errors: list[UserError] = strawberry.field(description="Why nothing was queued; empty on success.")


async def import_directory(
    info: Info,
    input: Annotated[ImportDirectoryInput, strawberry.argument(
        description="The corp, the mode, and either a file (multipart upload) or rows.")],
) -> ImportDirectoryPayload:
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
