"""Files handed back to users: an import's error report, and the directory export.

The error report (sheet `REPORT_SHEET`) holds the original columns of every refused row, the
row's number in the submitted file and its reasons, one per line in the cell, so the user
finds each row in the original, fixes it in place and imports the report again: the import
reads the two added columns as notes, not data, and says so (flows/import_pipeline.py). The export
writes the import template's columns, so export -> edit -> re-import (UPSERT) round-trips.
Both are written by flows.spreadsheets: string cells, nothing a spreadsheet would run as a
formula.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from flows.audit import Origin, record
from flows.directory_import import COLUMNS, PATH_SEPARATOR, TEMPLATE_HEADERS
from flows.errors import FlowError, NotFound
from flows.import_pipeline import read_source
from flows.profile import GENDER_LABELS
from flows.spreadsheets import xlsx_bytes
from flows.tabular import REPORT_REASON_HEADER, REPORT_ROW_HEADER, CellError, excel_datetime, report_columns
from flows.xlsx_stream import ErrorCell, ExcelDate, FormulaCell
from models import ImportJob, ImportJobError, ImportSource, Member, OrgUnit, Placement
from models.enums import PROFILE_FIELDS, MemberStatus
from permissions import actions
from permissions.facts import MemberFacts
from permissions.fields import visible_fields
from permissions.loading import field_settings
from permissions.members import visible_members_q
from permissions.sql import members_placed_under
from permissions.viewer import Viewer

REASON_HEADER = REPORT_REASON_HEADER
ROW_HEADER = REPORT_ROW_HEADER
REPORT_SHEET = "导入错误 errors"


async def error_report(job: ImportJob) -> bytes:
    """Only call for a job the viewer may see (permissions.jobs.can_see_import_job)."""
    by_row: dict[int | None, list[str]] = defaultdict(list)
    for row, column, code, message in await ImportJobError.filter(job_id=job.id).order_by("id").values_list(
        "row", "column", "code", "message"
    ):
        where = f"[{column}] " if column else ""
        by_row[row].append(f"{code}: {where}{message}")
    source = await ImportSource.get_or_none(job_id=job.id)
    return xlsx_bytes(await _report_rows(source, by_row), title=REPORT_SHEET)


async def _report_rows(source: ImportSource | None, by_row: dict[int | None, list[str]]) -> list[list[Any]]:
    def reasons(row: int | None) -> str:
        return "\n".join(by_row.get(row, []))

    if source is None:  # deleted after the retention (flows.jobs.prune_sources): reasons alone
        return [[ROW_HEADER, REASON_HEADER], *([row if row is not None else "", reasons(row)] for row in sorted(
            by_row, key=lambda r: -1 if r is None else r))]
    try:
        table = await read_source(source)
    except FlowError:  # the file itself was refused: the report carries that reason alone
        return [[ROW_HEADER, REASON_HEADER], ["", reasons(None)]]
    # A report of an imported report: its old notes give way to the new ones.
    notes = set(report_columns(table.headers))
    keep = [i for i in range(len(table.headers)) if i not in notes]
    rows: list[list[Any]] = [[*(table.headers[i] for i in keep), ROW_HEADER, REASON_HEADER]]
    if None in by_row:
        rows.append([*([""] * len(keep)), "", reasons(None)])
    try:
        async for number, cells in table.rows:
            if number in by_row:
                rows.append([*(_report_cell(cells[i]) for i in keep), number, reasons(number)])
    except FlowError:
        pass  # the file failed part-way (a budget): the rows read so far are what the job saw
    finally:
        await table.close()
    return rows


def _report_cell(value: Any) -> Any:
    """A cell written back as the user wrote it: dates as dates, unreadable cells blank."""
    if isinstance(value, ExcelDate):
        try:
            return excel_datetime(value)
        except CellError:
            return value.serial
    if isinstance(value, (FormulaCell, ErrorCell)):
        return None
    return value


async def export_directory(viewer: Viewer, corp_id: int, *, origin: Origin | None = None) -> bytes:
    """The members this viewer sees and may export, in the template's columns, as text."""
    if not actions.can_export_directory(viewer, corp_id):
        raise NotFound("corpId")
    query = Member.filter(visible_members_q(viewer), corp_id=corp_id).exclude(status=MemberStatus.RESIGNED.value)
    limit = actions.export_range(viewer)
    if limit is not None:
        query = query.filter(id__in=members_placed_under(limit))
    units = {u["id"]: u for u in await OrgUnit.filter(corp_id=corp_id).values("id", "parent_id", "name", "path")}

    def unit_path(unit_id: int) -> str:
        names = []
        u = units.get(unit_id)
        while u is not None and u["parent_id"] is not None:
            names.append(u["name"])
            u = units.get(u["parent_id"])
        return PATH_SEPARATOR.join(reversed(names))

    members = await query.order_by("id")
    seats: dict[int, list[int]] = defaultdict(list)
    ids = [m.id for m in members]
    for start in range(0, len(ids), 5000):
        chunk = ids[start: start + 5000]
        for member_id, unit_id in await Placement.filter(member_id__in=chunk).order_by("-is_main", "id").values_list("member_id", "unit_id"):
            seats[member_id].append(unit_id)

    keys = list(COLUMNS)
    settings = (await field_settings([corp_id]))[corp_id]
    shown: dict[int, frozenset[str]] = {
        m.id: visible_fields(viewer, MemberFacts(m.id, corp_id, m.status, m.hidden_from_directory,
                                                 tuple(units[u]["path"] for u in seats[m.id] if u in units)), settings)
        for m in members
    }

    def value(m: Member, key: str) -> Any:
        # A field withheld from the exporter stays blank, which a re-import leaves unchanged.
        if key in PROFILE_FIELDS and key not in shown[m.id]:
            return ""
        if key == "departments":
            return ";".join(p for p in (unit_path(u) for u in seats[m.id]) if p)
        if key == "gender":
            return GENDER_LABELS[m.gender]
        attr = {"wechatId": "wechat_id", "hireDate": "hire_date"}.get(key, key)
        return getattr(m, attr)

    data = xlsx_bytes([[TEMPLATE_HEADERS[k] for k in keys], *([value(m, k) for k in keys] for m in members)])
    await record(viewer, "directory.export", "Corp", corp_id, corp_id=corp_id, after={"members": len(members)}, origin=origin)
    return data
