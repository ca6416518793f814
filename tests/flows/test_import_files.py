"""Uploaded files are read the way the user sees them, defensively (issue 13, points 3-4).

Each real-world case file of tests/data/cases (from the shared cases README) goes through
the real import: GraphQL importDirectory multipart, the job, the database. Generated files
stand for each budget: a value in the far corner, millions of empty rows, a one-cell bomb,
and a file the budgets let through that the reader's memory limit still stops."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Iterable
from datetime import date
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from flows import table_reader
from flows.table_budget import Budget
from models import Member, OrgUnit, Placement
from tests.flows.test_directory_import import HEADERS, codes, counts, finished, upload, world, xlsx

CASES = Path(__file__).parents[1] / "data" / "cases"
VIEWER = "{ viewer { member { name } } }"


def case(name: str) -> bytes:
    return (CASES / name).read_bytes()


async def run(client: Any, gql: Any, w: dict[str, Any], name: str, content: bytes, mode: str = "UPSERT") -> dict[str, Any]:
    result = await upload(client, w["t"], w["corp"].id, name, content, mode=mode)
    assert result["userErrors"] == []
    return await finished(gql, w["t"], result["job"]["id"])


async def member(w: dict[str, Any], account: str) -> Member | None:
    return await Member.get_or_none(corp_id=w["corp"].id, account=account)


async def unit_names(m: Member) -> list[str]:
    ids = await Placement.filter(member_id=m.id).values_list("unit_id", flat=True)
    return sorted(await OrgUnit.filter(id__in=ids).values_list("name", flat=True))


def errors_of(job: dict[str, Any], row: int | None) -> list[tuple[str | None, str]]:
    return [(e["column"], e["code"]) for e in job["errors"] if e["row"] == row]


# --- real Excel, read the way the user sees it -------------------------------------------


async def test_the_active_visible_sheet_is_read_never_a_hidden_first_sheet(client, gql):
    w = await world()
    job = await run(client, gql, w, "br-c.xlsx", case("br-c-hidden-first-sheet.xlsx"))
    assert job["status"] == "SUCCEEDED" and job["errors"] == []
    assert await member(w, "br-c-new") is not None
    assert await member(w, "br-c-old") is None


async def test_several_visible_sheets_say_which_one_was_read(client, gql):
    w = await world()
    book = openpyxl.Workbook()
    book.active.title = "说明"
    book.active.append(["这一页是说明"])
    sheet = book.create_sheet("通讯录")
    sheet.append(["姓名", "账号", "手机"])
    sheet.append(["多表甲", "multi_a", "13900007001"])
    book.active = 1
    out = io.BytesIO()
    book.save(out)
    job = await run(client, gql, w, "two-sheets.xlsx", out.getvalue())
    assert job["status"] == "SUCCEEDED" and counts(job)["created"] == 1
    # A notice, not an error: no failed row, nothing in errorCount, no error report to fetch.
    assert job["errors"] == [] and job["errorCount"] == 0 and counts(job)["failed"] == 0 and job["reportUrl"] is None
    [notice] = job["notices"]
    assert notice["code"] == "SHEET_CHOSEN" and "通讯录" in notice["message"] and "说明" in notice["message"]


async def test_an_error_report_s_own_columns_are_read_as_notes_and_said_so(client, gql):
    w = await world()
    content = xlsx([
        ["", "", "", "", "", "", "", "", "", "", "FILE_TOO_LARGE: the old file-level reason"],
        ["报告甲", "report_a", "13900007101", "", "", "", "", "", "", 7, "INVALID_MOBILE: [手机] fixed since"],
    ], headers=[*HEADERS, "原行号 row", "错误原因 reason"])
    job = await run(client, gql, w, "errors.xlsx", content)
    assert job["status"] == "SUCCEEDED" and job["errors"] == [] and job["totalRows"] == 1
    assert counts(job)["created"] == 1 and counts(job)["failed"] == 0
    [notice] = job["notices"]
    assert notice["code"] == "REPORT_COLUMNS_IGNORED"
    assert "J '原行号 row'" in notice["message"] and "K '错误原因 reason'" in notice["message"]
    assert (await member(w, "report_a")) is not None


async def test_a_merged_cell_gives_its_value_to_every_row_it_covers(client, gql):
    w = await world()
    job = await run(client, gql, w, "br-d.xlsx", case("br-d-merged-department.xlsx"))
    assert job["status"] == "SUCCEEDED" and job["errors"] == [] and counts(job)["created"] == 3
    for account in ("br-d1", "br-d2", "br-d3"):
        m = await member(w, account)
        assert m is not None and await unit_names(m) == ["研发中心"], account


async def test_a_formula_without_a_stored_value_is_a_row_error_that_says_so(client, gql):
    w = await world()
    job = await run(client, gql, w, "br-e.xlsx", case("br-e-formula-no-cache.xlsx"))
    assert job["status"] == "SUCCEEDED"
    assert codes(job) == {2: ["FORMULA_WITHOUT_VALUE"], 3: ["FORMULA_WITHOUT_VALUE"]}
    assert errors_of(job, 2) == [("手机", "FORMULA_WITHOUT_VALUE")]
    assert errors_of(job, 3) == [("电话", "FORMULA_WITHOUT_VALUE")]
    assert "formula" in job["errors"][0]["message"]
    assert await member(w, "br-e1") is None and await member(w, "br-e2") is None


async def test_a_formula_in_a_required_column_is_reported_once(client, gql):
    w = await world()
    book = openpyxl.Workbook()
    book.active.append(["姓名", "账号", "手机"])
    book.active.append(["=A1", "=B1", "13900007201"])
    out = io.BytesIO()
    book.save(out)  # openpyxl stores formulas without a calculated value
    job = await run(client, gql, w, "formulas.xlsx", out.getvalue())
    assert errors_of(job, 2) == [("姓名", "FORMULA_WITHOUT_VALUE"), ("账号", "FORMULA_WITHOUT_VALUE")]


async def test_the_mobile_column_takes_mobile_numbers_only(client, gql):
    w = await world()
    job = await run(client, gql, w, "br-g.xlsx", case("br-g-landline-as-mobile.xlsx"))
    assert job["status"] == "SUCCEEDED" and counts(job)["created"] == 0
    assert {row: errors_of(job, row) for row in range(2, 7)} == {row: [("手机", "NOT_A_MOBILE")] for row in range(2, 7)}


@pytest.mark.parametrize("name", ["br-i-utf16le-bom.csv", "br-i-utf16le-nobom.csv"])
async def test_utf16_csv_is_read_with_or_without_bom(client, gql, name):
    w = await world()
    job = await run(client, gql, w, name, case(name))
    assert job["status"] == "SUCCEEDED" and job["errors"] == [] and counts(job)["created"] == 1
    m = await member(w, "br-i1")
    assert m is not None and m.name == "宽字符甲" and m.mobile == "+8613900000901"
    assert await unit_names(m) == ["研发中心"]


async def test_a_numeric_account_that_lost_its_leading_zeros_is_refused_never_a_second_member(client, gql):
    w = await world()
    first = await run(client, gql, w, "br-o2a.csv", case("br-o2a-text-account.csv"))
    assert first["errors"] == [] and counts(first)["created"] == 1
    job = await run(client, gql, w, "br-o2b.xlsx", case("br-o2b-numeric-account-upsert.xlsx"))
    assert errors_of(job, 2) == [("账号", "LEADING_ZEROS_LOST")]
    assert "0042" in job["errors"][0]["message"]
    people = await Member.filter(corp_id=w["corp"].id, name="零号甲")
    assert [(m.account, m.position) for m in people] == [("0042", "原职位")]


async def test_a_zero_padded_number_is_the_text_it_shows(client, gql):
    w = await world()
    await run(client, gql, w, "br-o2a.csv", case("br-o2a-text-account.csv"))
    book = openpyxl.Workbook()
    book.active.append(["姓名", "账号", "手机", "职位"])
    book.active.append(["零号甲", 42, "13900001901", "显示为0042"])
    book.active["B2"].number_format = "0000"
    out = io.BytesIO()
    book.save(out)
    job = await run(client, gql, w, "padded.xlsx", out.getvalue())
    assert job["errors"] == [] and counts(job)["updated"] == 1
    m = await member(w, "0042")
    assert m is not None and m.position == "显示为0042"


async def test_a_numeric_telephone_that_lost_its_leading_zero_is_refused(client, gql):
    w = await world()
    content = xlsx([["座机甲", "tel_a", "13900007101", 1065529988], ["分机乙", "tel_b", "13900007102", 8001]],
                   ["姓名", "账号", "手机", "电话"])
    job = await run(client, gql, w, "tel.xlsx", content)
    assert codes(job) == {2: ["LEADING_ZEROS_LOST"]} and errors_of(job, 2) == [("电话", "LEADING_ZEROS_LOST")]
    assert "01065529988" in job["errors"][0]["message"]
    extension = await member(w, "tel_b")
    assert extension is not None and extension.telephone == "8001"


async def test_invisible_characters_are_stripped_and_paths_keep_their_separator(client, gql):
    w = await world()
    job = await run(client, gql, w, "br-p.xlsx", case("br-p-invisible-chars-and-paths.xlsx"))
    assert job["status"] == "SUCCEEDED"
    assert codes(job) == {4: ["BAD_DEPARTMENT_PATH"], 6: ["BAD_DEPARTMENT_PATH"]}
    assert errors_of(job, 4) == [("部门", "BAD_DEPARTMENT_PATH")] and "->" in job["errors"][0]["message"]
    first = await member(w, "br-p1")
    assert first is not None and first.name == "曾小明" and first.pinyin_full.startswith("zeng")
    second = await member(w, "br-p2")  # the account had a zero-width space at its end
    assert second is not None and second.name == "曾小明"
    arrow = await member(w, "br-p4")  # 研发中心－＞软件部: the full-width arrow is the separator
    assert arrow is not None and await unit_names(arrow) == ["软件部"]
    software = await OrgUnit.get(corp_id=w["corp"].id, name="软件部")
    assert (await OrgUnit.get(id=software.parent_id)).name == "研发中心"
    names = await OrgUnit.filter(corp_id=w["corp"].id).values_list("name", flat=True)
    assert not [n for n in names if "/" in n or ">" in n]


async def test_excel_date_serials_and_datetime_text_are_the_dates_excel_shows(client, gql):
    w = await world()
    job = await run(client, gql, w, "br-q.xlsx", case("br-q-excel-dates.xlsx"))
    assert codes(job) == {3: ["INVALID_DATE"]} and errors_of(job, 3) == [("生日", "INVALID_DATE")]
    assert "1900-02-29" in job["errors"][0]["message"]
    birthdays = {m.account: m.birthday for m in await Member.filter(corp_id=w["corp"].id, account__startswith="br-dt")}
    assert birthdays == {
        "br-dt1": date(1900, 2, 28),   # serial 59, date-formatted
        "br-dt3": date(1900, 3, 1),    # serial 61: after Excel's fictional 29 February
        "br-dt4": date(2023, 3, 15),   # serial 45000 in a General cell
        "br-dt5": date(2023, 1, 5),    # text 2023-01-05 00:00:00
        "br-dt6": date(2023, 1, 5),    # text 2023/1/5
        "br-dt7": date(2023, 3, 15),   # 45000.75 formatted as a datetime
    }


# --- budgets: a hostile file fails its own job, fast, and nothing else ------------------


def workbook(sheet: Iterable[bytes], shared: Iterable[bytes] | None = None, level: int = 6) -> bytes:
    """A minimal .xlsx whose sheet XML (and shared strings) are written chunk by chunk, so
    a file that unpacks to hundreds of MB is built without holding them."""
    main = b'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'
    rel = b"http://schemas.openxmlformats.org/officeDocument/2006/relationships"
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=level) as z:
        z.writestr("[Content_Types].xml", b'<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"/>')
        z.writestr("xl/workbook.xml", b'<workbook ' + main + b' xmlns:r="' + rel + b'"><sheets><sheet name="S" sheetId="1" r:id="rId1"/></sheets></workbook>')
        rels = b'<Relationship Id="rId1" Type="' + rel + b'/worksheet" Target="worksheets/sheet1.xml"/>'
        if shared is not None:
            rels += b'<Relationship Id="rId2" Type="' + rel + b'/sharedStrings" Target="sharedStrings.xml"/>'
        z.writestr("xl/_rels/workbook.xml.rels", b'<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">' + rels + b"</Relationships>")
        for part, chunks in (("xl/worksheets/sheet1.xml", sheet), ("xl/sharedStrings.xml", shared)):
            if chunks is None:
                continue
            with z.open(part, "w", force_zip64=True) as stream:
                for chunk in chunks:
                    stream.write(chunk)
    return out.getvalue()


def inline(ref: str, text: str) -> bytes:
    return f'<c r="{ref}" t="inlineStr"><is><t>{text}</t></is></c>'.encode()


HEAD = b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>'
HEADER_ROW = b'<row r="1">' + inline("A1", "姓名") + inline("B1", "账号") + inline("C1", "手机") + b"</row>"
DATA_ROW = b'<row r="2">' + inline("A2", "预算甲") + inline("B2", "budget_a") + inline("C2", "13900008001") + b"</row>"
TAIL = b"</sheetData></worksheet>"
MB = 1024 * 1024


def long_text(megabytes: int) -> Iterable[bytes]:
    block = b"A" * MB
    for _ in range(megabytes):
        yield block


@pytest.fixture(scope="module")
def one_cell_bomb() -> bytes:
    """400 MB of one shared string, about 400 KB on disk."""
    return workbook([HEAD, HEADER_ROW, b'<row r="2"><c r="A2" t="s"><v>0</v></c></row>', TAIL],
                    [b'<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><si><t>', *long_text(400), b"</t></si></sst>"], level=9)


@pytest.fixture(scope="module")
def long_cell() -> bytes:
    """One inline cell of 200 MB: below the part budget, far above a cell's."""
    return workbook([HEAD, HEADER_ROW, b'<row r="2"><c r="A2" t="inlineStr"><is><t>', *long_text(200), b"</t></is></c></row>", TAIL], level=9)


async def failed_with(client: Any, gql: Any, w: dict[str, Any], content: bytes) -> dict[str, Any]:
    result = await upload(client, w["t"], w["corp"].id, "hostile.xlsx", content)
    # The API answers while the job reads the file (the parser is another process).
    assert (await gql.ok(VIEWER, {}, w["t"]))["viewer"]["member"]["name"]
    job = await finished(gql, w["t"], result["job"]["id"])
    assert job["status"] == "FAILED" and list(codes(job)) == [None], job["errors"]
    assert await Member.filter(corp_id=w["corp"].id).count() == 1  # the boss alone
    return job


async def test_a_value_in_the_far_corner_cell_fails_the_job_naming_the_cell(client, gql):
    w = await world()
    corner = b'<row r="1048576">' + inline("XFD1048576", "x") + b"</row>"
    job = await failed_with(client, gql, w, workbook([HEAD, HEADER_ROW, DATA_ROW, corner, TAIL]))
    assert codes(job) == {None: ["FILE_TOO_COMPLEX"]} and "XFD1048576" in job["failure"]
    real = await failed_with(client, gql, w, case("br-a4-far-corner-cell.xlsx"))
    assert codes(real) == {None: ["FILE_TOO_COMPLEX"]} and "XFD1048576" in real["failure"]


async def test_millions_of_empty_rows_fail_the_job(client, gql):
    w = await world()
    empty = b"<row/>" * 100_000
    job = await failed_with(client, gql, w, workbook([HEAD, HEADER_ROW, DATA_ROW, *([empty] * 50), TAIL]))
    assert codes(job) == {None: ["FILE_TOO_COMPLEX"]} and "rows" in job["failure"]


async def test_a_one_cell_bomb_fails_the_job_before_it_unpacks(client, gql, one_cell_bomb):
    w = await world()
    assert len(one_cell_bomb) < 2 * MB
    job = await failed_with(client, gql, w, one_cell_bomb)
    assert codes(job) == {None: ["FILE_TOO_LARGE"]} and "sharedStrings" in job["failure"]


async def test_a_cell_longer_than_excel_allows_fails_the_job(client, gql, long_cell):
    w = await world()
    job = await failed_with(client, gql, w, long_cell)
    assert codes(job) == {None: ["FILE_TOO_LARGE"]} and "32,767" in job["failure"]


async def test_the_reader_memory_limit_stops_what_the_budgets_let_through(client, gql, long_cell, monkeypatch):
    # Budgets as if they had not foreseen this file: only the child's address-space limit
    # stands between 200 MB of one cell and the process that reads it.
    blind = Budget(max_cell_chars=10**10, max_part_bytes=10**10, max_total_bytes=10**10, max_row_bytes=10**10,
                   memory_bytes=256 * MB)
    monkeypatch.setattr(table_reader, "BUDGET", blind)
    w = await world()
    job = await failed_with(client, gql, w, long_cell)
    assert codes(job) == {None: ["FILE_TOO_COMPLEX"]} and "256 MB" in job["failure"]
    # The next import reads normally.
    monkeypatch.undo()
    ok = await run(client, gql, w, "ok.xlsx", workbook([HEAD, HEADER_ROW, DATA_ROW, TAIL]))
    assert ok["status"] == "SUCCEEDED" and counts(ok)["created"] == 1


@given(
    rows=st.lists(
        st.tuples(st.text(alphabet="张王李赵刘陈杨黄周吴三四五六七八九", min_size=1, max_size=4),
                  st.from_regex(r"1[3-9][0-9]{9}", fullmatch=True)),
        min_size=1, max_size=20,
    ),
    nuls=st.integers(min_value=1, max_value=3),
)
@settings(max_examples=300)
def test_utf16_is_told_from_utf8_with_stray_nuls(rows, nuls):
    from flows.table_reader import _csv_encoding

    text = "姓名,手机\n" + "".join(f"{name},{mobile}\n" for name, mobile in rows)
    assert _csv_encoding(text.encode("utf-16-le")) == ("utf-16-le", 0)
    assert _csv_encoding(text.encode("utf-16-be")) == ("utf-16-be", 0)
    # A few NULs typed into UTF-8 cells leave the file UTF-8: the cells are refused one by one.
    stray = text.replace(",", ",\x00", nuls)
    assert _csv_encoding(stray.encode("utf-8")) == ("utf-8", 0)
