"""Directory import (SPEC §3.1) through GraphQL: files and rows, row errors, modes, the
REPLACE guard, resumption after a failure, the error report and the export round trip."""

from __future__ import annotations

import io
import json
from datetime import date, timedelta
from typing import Any

import openpyxl
import pytest
from python_calamine import CalamineWorkbook

from flows import directory_import, jobs
from models import ImportJob, Member, OrgUnit, Placement
from models.enums import AdminKind, AdminRight, MemberStatus
from tests import factories as f

IMPORT = """
mutation($input: ImportDirectoryInput!) { importDirectory(input: $input) {
  job { id status } userErrors { code field message } } }"""
JOB = """
query($id: ID!) { importJob(id: $id) {
  id status mode totalRows rowsDone lastCommittedRow errorCount failure reportUrl
  counts { name value } errors(limit: 500) { row column code message } notices { column code message } } }"""
RETRY = """
mutation($id: ID!) { retryImportJob(input: {id: $id}) { job { id status } userErrors { code field message } } }"""

HEADERS = ["姓名", "账号", "手机", "邮箱", "微信号", "部门", "职位", "性别", "生日"]


def xlsx(rows: list[list[Any]], headers: list[str] = HEADERS) -> bytes:
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(headers)
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


async def upload(client: Any, token: str, corp_id: int, name: str, content: bytes, **options: Any) -> dict[str, Any]:
    """A GraphQL multipart request (the spec's operations / map / file parts)."""
    variables = {"input": {"corpId": f.gid("Corp", corp_id), "file": None, **options}}
    response = await client.post(
        "/graphql",
        data={"operations": json.dumps({"query": IMPORT, "variables": variables}),
              "map": json.dumps({"0": ["variables.input.file"]})},
        files={"0": (name, content, "application/octet-stream")},
        headers={"Authorization": f"Bearer {token}"},
    )
    body = response.json()
    assert not body.get("errors"), body
    return body["data"]["importDirectory"]


async def finished(gql: Any, token: str, job_gid: str) -> dict[str, Any]:
    await jobs.run_pending_jobs()
    return (await gql.ok(JOB, {"id": job_gid}, token))["importJob"]


def counts(job: dict[str, Any]) -> dict[str, int]:
    return {c["name"]: c["value"] for c in job["counts"]}


def codes(job: dict[str, Any]) -> dict[int | None, list[str]]:
    out: dict[int | None, list[str]] = {}
    for e in job["errors"]:
        out.setdefault(e["row"], []).append(e["code"])
    return out


async def world() -> dict[str, Any]:
    c, root = await f.corp()
    sales = await f.unit(root, "销售部")
    boss = await f.super_admin(root)
    return {"corp": c, "root": root, "sales": sales, "boss": boss, "t": f.token(boss)}


MIXED_ROWS = [
    ["张三", "zhangsan", "13800138000", None, None, "销售部->华东", "经理", "男", date(1990, 1, 2)],   # 2 ok
    ["李四", "lisi", 13800138001, None, None, "研发中心->平台部;销售部", None, "女", "1991-02-03"],   # 3 ok, numeric exact
    ["王五", "wangwu", 13800000000.0, None, None, "销售部", None, None, None],                      # 4 digits lost
    ["赵六", "zhaoliu", "1.38E+10", None, None, "销售部", None, None, None],                        # 5 scientific text
    ["钱七", "qianqi", None, None, "123456", "销售部", None, None, None],                           # 6 wechat all digits
    ["孙八", None, "13800138002", None, None, "销售部", None, None, None],                           # 7 no account
    ["周九", "ZhangSan", "13800138003", None, None, "销售部", None, None, None],                     # 8 dup in file
    ["吴十", "wushi", "13800138004", None, None, "销售部->华:东", None, None, None],                  # 9 bad unit name
    ["郑一", "zhengyi", "13800138005", None, None, "销售部", None, "外星", None],                     # 10 bad gender
    ["冯二", "fenger", "13800138006", "not-an-email", None, "销售部", None, None, "昨天"],            # 11 two errors
    ["陈三", "chensan", None, None, None, "销售部", None, None, None],                               # 12 no contact
    ["褚四", "chusi", "+1 415 555 2671", None, "wx_chusi", None, None, None, None],                  # 13 ok, root
]


async def test_valid_rows_land_invalid_rows_change_nothing_and_reimport_is_idempotent(client, gql):
    w = await world()
    content = xlsx(MIXED_ROWS)
    first = await upload(client, w["t"], w["corp"].id, "people.xlsx", content)
    assert first["userErrors"] == []
    job = await finished(gql, w["t"], first["job"]["id"])
    assert job["status"] == "SUCCEEDED"
    assert codes(job) == {
        4: ["MOBILE_NOT_TEXT"], 5: ["MOBILE_NOT_TEXT"], 6: ["INVALID_WECHAT_ID"], 7: ["REQUIRED"],
        8: ["DUPLICATE_IN_FILE"], 9: ["INVALID_NAME"], 10: ["INVALID_GENDER"],
        11: ["INVALID_EMAIL", "INVALID_DATE"], 12: ["CONTACT_REQUIRED"],
    }
    assert {e["column"] for e in job["errors"] if e["row"] == 4} == {"手机"}
    assert counts(job) == {"created": 3, "updated": 0, "unchanged": 0, "failed": 9, "resigned": 0, "unitsCreated": 3}
    assert job["rowsDone"] == 12 and job["totalRows"] == 12
    accounts = set(await Member.filter(corp_id=w["corp"].id).values_list("account", flat=True))
    assert accounts == {w["boss"].account, "zhangsan", "lisi", "chusi"}
    lisi = await Member.get(corp_id=w["corp"].id, account="lisi")
    assert lisi.mobile == "+8613800138001" and lisi.birthday == date(1991, 2, 3)
    units = {u.name: u for u in await OrgUnit.filter(corp_id=w["corp"].id)}
    assert {"华东", "研发中心", "平台部"} <= set(units)
    seats = await Placement.filter(member_id=lisi.id).order_by("-is_main").values_list("unit_id", flat=True)
    assert seats == [units["平台部"].id, w["sales"].id]
    chusi = await Member.get(corp_id=w["corp"].id, account="chusi")
    assert await Placement.filter(member_id=chusi.id).values_list("unit_id", flat=True) == [w["root"].id]

    again = await upload(client, w["t"], w["corp"].id, "people.xlsx", content)
    job2 = await finished(gql, w["t"], again["job"]["id"])
    assert counts(job2) == {"created": 0, "updated": 0, "unchanged": 3, "failed": 9, "resigned": 0, "unitsCreated": 0}
    assert await Member.filter(corp_id=w["corp"].id).count() == 4


async def test_error_report_lists_each_bad_row_with_its_reason(client, gql):
    w = await world()
    first = await upload(client, w["t"], w["corp"].id, "people.xlsx", xlsx(MIXED_ROWS))
    job = await finished(gql, w["t"], first["job"]["id"])
    assert "/imports/" in job["reportUrl"] and job["reportUrl"].endswith("/errors.xlsx")
    path = job["reportUrl"].split("://", 1)[1].split("/", 1)[1]
    denied = await client.get(f"/{path}")
    assert denied.status_code == 401
    peer = await f.member([w["sales"]])
    hidden = await client.get(f"/{path}", headers={"Authorization": f"Bearer {f.token(peer)}"})
    assert hidden.status_code == 404
    response = await client.get(f"/{path}", headers={"Authorization": f"Bearer {w['t']}"})
    assert response.status_code == 200
    rows = CalamineWorkbook.from_filelike(io.BytesIO(response.content)).get_sheet_by_index(0).to_python()
    assert rows[0][:len(HEADERS)] == HEADERS and rows[0][-1] == "错误原因 reason"
    assert [r[1] for r in rows[1:]] == ["wangwu", "zhaoliu", "qianqi", "", "ZhangSan", "wushi", "zhengyi", "fenger", "chensan"]
    assert "MOBILE_NOT_TEXT" in rows[1][-1] and "INVALID_EMAIL" in rows[8][-1] and "INVALID_DATE" in rows[8][-1]


async def test_csv_in_every_accepted_encoding_and_english_headers(client, gql):
    w = await world()
    text = "name,account,mobile,departments\n测试甲,csv_a,13900139000,华南；华北\n"
    for i, (encoding, prefix) in enumerate([("utf-8", b""), ("utf-8", b"\xef\xbb\xbf"), ("gb18030", b"")]):
        body = prefix + text.replace("csv_a", f"csv_{i}").replace("13900139000", f"1390013900{i}").encode(encoding)
        result = await upload(client, w["t"], w["corp"].id, "people.csv", body)
        job = await finished(gql, w["t"], result["job"]["id"])
        assert job["errors"] == [] and counts(job)["created"] == 1, encoding
    names = set(await Member.filter(corp_id=w["corp"].id, account__startswith="csv_").values_list("name", flat=True))
    assert names == {"测试甲"}
    assert await OrgUnit.filter(corp_id=w["corp"].id, name__in=["华南", "华北"]).count() == 2


async def test_file_level_refusals(client, gql):
    w = await world()
    for headers, code in [(["姓名", "账号", "血型"], "UNKNOWN_COLUMN"), (["姓名", "手机"], "MISSING_COLUMN"),
                          (["姓名", "账号", "Name"], "DUPLICATE_COLUMN")]:
        result = await upload(client, w["t"], w["corp"].id, "x.xlsx", xlsx([["甲", "a", "b"]], headers))
        job = await finished(gql, w["t"], result["job"]["id"])
        assert job["status"] == "FAILED" and codes(job) == {None: [code]}, code
    result = await upload(client, w["t"], w["corp"].id, "x.txt", b"hello")
    job = await finished(gql, w["t"], result["job"]["id"])
    assert codes(job) == {None: ["UNSUPPORTED_FILE"]}
    # Neither UTF-8 nor GB18030; a UTF-16 BOM before an unpaired surrogate.
    for content in (b"\x80\x80bad", b"\xff\xfe\x00\xd8,\x00"):
        result = await upload(client, w["t"], w["corp"].id, "x.csv", content)
        assert codes(await finished(gql, w["t"], result["job"]["id"])) == {None: ["BAD_ENCODING"]}
    assert await Member.filter(corp_id=w["corp"].id).count() == 1


async def test_rows_in_the_mutation_and_create_mode(gql):
    w = await world()
    rows = [{"name": "行甲", "account": "row_a", "mobile": "13700137000", "departments": "销售部"}]
    variables = {"input": {"corpId": f.gid("Corp", w["corp"].id), "mode": "CREATE", "rows": rows}}
    data = await gql.ok(IMPORT, variables, w["t"])
    job = await finished(gql, w["t"], data["importDirectory"]["job"]["id"])
    assert counts(job)["created"] == 1
    data = await gql.ok(IMPORT, variables, w["t"])
    job = await finished(gql, w["t"], data["importDirectory"]["job"]["id"])
    assert codes(job) == {2: ["DUPLICATE_ACCOUNT"]}
    both = await gql.ok(IMPORT, {"input": {"corpId": f.gid("Corp", w["corp"].id)}}, w["t"])
    assert [e["code"] for e in both["importDirectory"]["userErrors"]] == ["FILE_OR_ROWS"]


async def test_directory_admin_imports_only_into_its_ranges(gql):
    w = await world()
    rnd = await f.unit(w["root"], "研发部")
    outsider = await f.member([rnd])
    admin = await f.member([w["sales"]])
    await f.grant(admin, AdminKind.DIRECTORY_ADMIN, unit_ids=[w["sales"].id], rights=[AdminRight.MANAGE.value])
    rows = [
        {"name": "范围内", "account": "in_a", "email": "a@x.cn", "departments": "销售部->新组"},
        {"name": "范围外", "account": "out_a", "email": "b@x.cn", "departments": "研发部"},
        {"name": "根", "account": "out_b", "email": "c@x.cn"},
        {"name": "改别人", "account": outsider.account, "position": "CTO"},
    ]
    data = await gql.ok(IMPORT, {"input": {"corpId": f.gid("Corp", w["corp"].id), "rows": rows}}, f.token(admin))
    job = await finished(gql, f.token(admin), data["importDirectory"]["job"]["id"])
    assert codes(job) == {3: ["OUT_OF_SCOPE"], 4: ["OUT_OF_SCOPE"], 5: ["OUT_OF_SCOPE"]}
    assert (await Member.get(id=outsider.id)).position is None
    reader = await f.member([w["sales"]])
    await f.grant(reader, AdminKind.DIRECTORY_ADMIN, unit_ids=[w["sales"].id], rights=[AdminRight.READ.value])
    data = await gql.ok(IMPORT, {"input": {"corpId": f.gid("Corp", w["corp"].id), "rows": rows}}, f.token(reader))
    assert [e["code"] for e in data["importDirectory"]["userErrors"]] == ["NOT_FOUND"]
    # Somebody else's job is invisible, like one that does not exist.
    assert (await gql.ok(JOB, {"id": job["id"]}, f.token(reader)))["importJob"] is None


async def test_replace_needs_confirmation_and_refuses_mass_resignation(gql):
    w = await world()
    staff = [await f.member([w["sales"]]) for _ in range(60)]
    keep = [{"name": m.name, "account": m.account} for m in staff[:5]]
    corp = f.gid("Corp", w["corp"].id)
    data = await gql.ok(IMPORT, {"input": {"corpId": corp, "mode": "REPLACE", "rows": keep}}, w["t"])
    assert [e["code"] for e in data["importDirectory"]["userErrors"]] == ["CONFIRMATION_REQUIRED"]
    data = await gql.ok(IMPORT, {"input": {"corpId": corp, "mode": "REPLACE", "rows": keep, "confirmReplace": True}}, w["t"])
    job = await finished(gql, w["t"], data["importDirectory"]["job"]["id"])
    assert job["status"] == "FAILED" and codes(job) == {None: ["MASS_RESIGN"]}
    assert await Member.filter(corp_id=w["corp"].id, status=MemberStatus.RESIGNED.value).count() == 0
    data = await gql.ok(IMPORT, {"input": {"corpId": corp, "mode": "REPLACE", "rows": keep, "confirmReplace": True,
                                           "force": True}}, w["t"])
    job = await finished(gql, w["t"], data["importDirectory"]["job"]["id"])
    assert job["status"] == "SUCCEEDED" and counts(job)["resigned"] == 55  # the importer itself stays
    assert await Member.filter(corp_id=w["corp"].id, status=MemberStatus.ACTIVE.value).count() == 6


async def test_failure_at_row_k_leaves_a_consistent_database_and_retry_finishes(gql, monkeypatch):
    w = await world()
    monkeypatch.setattr(directory_import, "BATCH_ROWS", 10)
    rows = [{"name": f"批量{i}", "account": f"bulk{i:03d}", "email": f"b{i}@x.cn", "departments": f"组{i % 3}"}
            for i in range(45)]
    real_apply = directory_import.Importer.apply

    async def apply_failing_at_row_30(self: Any, plans: list[Any]) -> Any:
        result = await real_apply(self, plans)
        if any(p.row == 30 for p in plans):
            raise RuntimeError("disk full")  # after writes, inside the batch transaction
        return result

    monkeypatch.setattr(directory_import.Importer, "apply", apply_failing_at_row_30)
    data = await gql.ok(IMPORT, {"input": {"corpId": f.gid("Corp", w["corp"].id), "rows": rows}}, w["t"])
    job = await finished(gql, w["t"], data["importDirectory"]["job"]["id"])
    assert job["status"] == "FAILED" and codes(job) == {None: ["JOB_CRASHED"]}
    # Rows 2..21 were committed in two batches; the batch holding row 30 rolled back whole.
    assert job["lastCommittedRow"] == 21 and counts(job)["created"] == 20
    assert await Member.filter(corp_id=w["corp"].id, account__startswith="bulk").count() == 20

    monkeypatch.setattr(directory_import.Importer, "apply", real_apply)
    data = await gql.ok(RETRY, {"id": job["id"]}, w["t"])
    assert data["retryImportJob"]["userErrors"] == []
    job = await finished(gql, w["t"], job["id"])
    assert job["status"] == "SUCCEEDED" and job["errors"] == []
    assert counts(job)["created"] == 45
    accounts = await Member.filter(corp_id=w["corp"].id, account__startswith="bulk").values_list("account", flat=True)
    assert sorted(accounts) == [f"bulk{i:03d}" for i in range(45)]
    data = await gql.ok(RETRY, {"id": job["id"]}, w["t"])
    assert [e["code"] for e in data["retryImportJob"]["userErrors"]] == ["JOB_NOT_FAILED"]


async def test_export_edit_reimport_round_trips_without_loss(client, gql):
    w = await world()
    await upload(client, w["t"], w["corp"].id, "people.xlsx", xlsx(MIXED_ROWS))
    await jobs.run_pending_jobs()
    before = {m.account: m for m in await Member.filter(corp_id=w["corp"].id)}
    response = await client.get(f"/corps/{w['corp'].id}/directory.xlsx", headers={"Authorization": f"Bearer {w['t']}"})
    assert response.status_code == 200
    exported = response.content
    result = await upload(client, w["t"], w["corp"].id, "export.xlsx", exported)
    job = await finished(gql, w["t"], result["job"]["id"])
    assert job["errors"] == [] and counts(job)["unchanged"] == len(before) and counts(job)["updated"] == 0

    book = openpyxl.load_workbook(io.BytesIO(exported))
    sheet = book.active
    header = [c.value for c in sheet[1]]
    for row in sheet.iter_rows(min_row=2):
        if row[header.index("账号")].value == "lisi":
            row[header.index("职位")].value = "总监"
    out = io.BytesIO()
    book.save(out)
    result = await upload(client, w["t"], w["corp"].id, "edited.xlsx", out.getvalue())
    job = await finished(gql, w["t"], result["job"]["id"])
    assert counts(job)["updated"] == 1 and counts(job)["unchanged"] == len(before) - 1
    after = {m.account: m for m in await Member.filter(corp_id=w["corp"].id)}
    for account, m in before.items():
        for attr in ("name", "mobile", "email", "wechat_id", "gender", "birthday", "hire_date"):
            assert getattr(after[account], attr) == getattr(m, attr), (account, attr)
    assert after["lisi"].position == "总监"
    peer = await f.member([w["sales"]])
    denied = await client.get(f"/corps/{w['corp'].id}/directory.xlsx", headers={"Authorization": f"Bearer {f.token(peer)}"})
    assert denied.status_code == 404


async def test_subscription_follows_a_job_to_its_end(gql, job_worker):
    from gql.context import Context
    from gql.schema import schema
    from permissions.loading import member_viewer

    w = await world()
    rows = [{"name": f"订阅{i}", "account": f"sub{i}", "email": f"s{i}@x.cn"} for i in range(5)]
    data = await gql.ok(IMPORT, {"input": {"corpId": f.gid("Corp", w["corp"].id), "rows": rows}}, w["t"])
    viewer = await member_viewer(w["boss"].id)
    assert viewer is not None
    stream = await schema.subscribe(
        "subscription($id: ID!) { importJob(id: $id) { status rowsDone } }",
        variable_values={"id": data["importDirectory"]["job"]["id"]}, context_value=Context(viewer),
    )
    seen = [r.data["importJob"] async for r in stream]  # type: ignore[union-attr]
    assert seen[-1] == {"status": "SUCCEEDED", "rowsDone": 5}
    stranger = Context(await member_viewer((await f.member([w["sales"]])).id))  # type: ignore[arg-type]
    stream = await schema.subscribe(
        "subscription($id: ID!) { importJob(id: $id) { status } }",
        variable_values={"id": data["importDirectory"]["job"]["id"]}, context_value=stranger,
    )
    assert [r.data["importJob"] async for r in stream] == [None]  # type: ignore[union-attr]


@pytest.fixture(autouse=True)
async def _drain_jobs():
    yield
    await jobs.run_pending_jobs()


async def test_remaining_file_and_row_codes(client, gql):
    w = await world()
    cases = [("empty.csv", b"", "EMPTY_FILE"), ("blank.csv", b"\n\n", "EMPTY_FILE"), ("broken.xlsx", b"PK\x03\x04 not a zip", "BAD_FILE")]
    for name, content, code in cases:
        if not content:
            data = await upload(client, w["t"], w["corp"].id, name, content)
            assert [e["code"] for e in data["userErrors"]] == [code]
            continue
        data = await upload(client, w["t"], w["corp"].id, name, content)
        job = await finished(gql, w["t"], data["job"]["id"])
        assert codes(job) == {None: [code]}, name
    stray = xlsx([["甲", "stray_a", "13500135000", None, None, None, None, None, None, "extra"]])
    data = await upload(client, w["t"], w["corp"].id, "stray.xlsx", stray)
    job = await finished(gql, w["t"], data["job"]["id"])
    assert codes(job) == {2: ["UNKNOWN_COLUMN"]} and job["errors"][0]["column"] == "J"
    long_position = [{"name": "长", "account": "long_a", "email": "l@x.cn", "position": "职" * 129}]
    data = await gql.ok(IMPORT, {"input": {"corpId": f.gid("Corp", w["corp"].id), "rows": long_position}}, w["t"])
    assert codes(await finished(gql, w["t"], data["importDirectory"]["job"]["id"])) == {2: ["TOO_LONG"]}


async def test_a_job_whose_importer_resigned_does_not_run(gql):
    w = await world()
    second = await f.super_admin(w["root"])
    rows = [{"name": "甲", "account": "gone_a", "email": "g@x.cn"}]
    job = await ImportJob.create(corp_id=w["corp"].id, kind="DIRECTORY", mode="UPSERT", file_name="rows.csv",
                                 actor_kind="MEMBER", actor_id=second.id, queue=jobs.queue_of(w["corp"].id, None))
    from gql.imports.mutations.import_directory import _ROW_FIELDS, DirectoryRowInput
    from gql.imports.upload import rows_as_csv
    from models import ImportSource

    await ImportSource.create(job=job, file_name="rows.csv", content=rows_as_csv([DirectoryRowInput(**r) for r in rows], _ROW_FIELDS))
    await Member.filter(id=second.id).update(status=MemberStatus.RESIGNED.value)
    result = await finished(gql, w["t"], f.gid("ImportJob", job.id))
    assert result["status"] == "FAILED" and codes(result) == {None: ["ACTOR_GONE"]}
    assert not await Member.filter(account="gone_a").exists()


async def test_a_queue_runs_one_job_at_a_time_across_processes(gql):
    """A job RUNNING under another worker's live lease holds its queue; the next one waits for it."""
    w = await world()
    elsewhere = await ImportJob.create(corp_id=w["corp"].id, kind="DIRECTORY", mode="UPSERT", status="RUNNING",
                                       started_at=jobs.now(), actor_kind="MEMBER", actor_id=w["boss"].id,
                                       queue=jobs.queue_of(w["corp"].id, None), lease_owner="worker:elsewhere",
                                       lease_expires_at=jobs.now() + timedelta(minutes=5))
    rows = [{"name": "排队", "account": "queued_a", "email": "q@x.cn"}]
    data = await gql.ok(IMPORT, {"input": {"corpId": f.gid("Corp", w["corp"].id), "rows": rows}}, w["t"])
    job = await finished(gql, w["t"], data["importDirectory"]["job"]["id"])
    assert job["status"] == "QUEUED" and not await Member.filter(account="queued_a").exists()
    # The other worker finishes; the queue is free for the next claim.
    await ImportJob.filter(id=elsewhere.id).update(status="SUCCEEDED", finished_at=jobs.now(), lease_owner=None)
    job = await finished(gql, w["t"], data["importDirectory"]["job"]["id"])
    assert job["status"] == "SUCCEEDED" and await Member.filter(account="queued_a").exists()
