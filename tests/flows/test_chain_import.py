"""Chain import (SPEC §3.2) through GraphQL: files and rows, per-row errors, keys, invitations
and reminders, rule 1 at import time, serialised concurrent imports, progress."""

from __future__ import annotations

import asyncio
import io
import itertools
import json
from datetime import timedelta
from typing import Any

import openpyxl

from flows import chain_notices, jobs
from models import ChainContact, ChainCorp, ChainGroup, ImportJob, Notification
from models.enums import AdminKind, ChainCorpStatus, ContactRole, ContactStatus
from tests import factories as f
from tests.join_helpers import JOIN, PREVIEW, member_token, named_corp

IMPORT = """
mutation($input: ImportChainContactsInput!) { importChainContacts(input: $input) {
  job { id status } userErrors { code field message } } }"""
JOB = """
query($id: ID!) { importJob(id: $id) {
  id kind status totalRows errorCount failure counts { name value } errors(limit: 500) { row column code message } } }"""
PROGRESS = """
query($c: ID!) { chainSpace(id: $c) { importProgress {
  corpsTotal corpsJoined corps { status count } contacts { status count } } } }"""

HEADERS = ["联系人姓名", "身份", "手机号", "企业名称", "上下游分组", "自定义企业ID"]


def xlsx(rows: list[list[Any]], headers: list[str] = HEADERS) -> bytes:
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(headers)
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


async def upload(client: Any, token: str, chain_id: int, name: str, content: bytes) -> dict[str, Any]:
    variables = {"input": {"chainId": f.gid("ChainSpace", chain_id), "file": None}}
    response = await client.post(
        "/graphql",
        data={"operations": json.dumps({"query": IMPORT, "variables": variables}),
              "map": json.dumps({"0": ["variables.input.file"]})},
        files={"0": (name, content, "application/octet-stream")},
        headers={"Authorization": f"Bearer {token}"},
    )
    body = response.json()
    assert not body.get("errors"), body
    return body["data"]["importChainContacts"]


async def finished(gql: Any, token: str, job_gid: str) -> dict[str, Any]:
    await jobs.run_pending_jobs()
    return (await gql.ok(JOB, {"id": job_gid}, token))["importJob"]


def counts(job: dict[str, Any]) -> dict[str, int]:
    return {c["name"]: c["value"] for c in job["counts"]}


def codes(job: dict[str, Any]) -> dict[int | None, list[tuple[str, str | None]]]:
    out: dict[int | None, list[tuple[str, str | None]]] = {}
    for e in job["errors"]:
        out.setdefault(e["row"], []).append((e["code"], e["column"]))
    return out


async def world() -> dict[str, Any]:
    owner, root = await f.corp("上级企业")
    admin = await f.super_admin(root)
    chain, groot = await f.chain_space(owner)
    return {"owner": owner, "root": root, "admin": admin, "t": f.token(admin), "chain": chain, "groot": groot}


def m() -> str:
    return f.unique_mobile()


async def test_file_import_creates_corps_groups_contacts_and_invites_leaders(gql, client):
    w = await world()
    l1, l2, m3, l4 = m(), m(), m(), m()
    content = xlsx([
        ["负责人1", "负责人", l1, "企业1", "经销商->华东", "D-001"],
        ["负责人2", "负责人", l2, "企业1", "经销商->华东", "D-001"],
        ["成员3", "成员", m3, "企业1", "经销商->华东", "D-001"],
        ["坏号码", "成员", "12345", "企业1", "经销商->华东", "D-001"],
        ["供应商负责人", "LEADER", l4, "供应商（上海）有限公司", "供应商", None],
    ])
    started = await upload(client, w["t"], w["chain"].id, "contacts.xlsx", content)
    assert started["userErrors"] == [] and started["job"]["status"] in ("QUEUED", "RUNNING", "SUCCEEDED")
    job = await finished(gql, w["t"], started["job"]["id"])
    assert job["kind"] == "CHAIN_CONTACTS" and job["status"] == "SUCCEEDED" and job["totalRows"] == 5
    assert codes(job) == {5: [("INVALID_MOBILE", "手机号")]}
    c = counts(job)
    assert (c["created"], c["failed"], c["corpsCreated"], c["groupsCreated"], c["invited"]) == (4, 1, 2, 3, 3)

    # The bad row of corp 1 did not stop its valid rows.
    corp_1 = await ChainCorp.get(chain_id=w["chain"].id, custom_corp_id="D-001")
    assert (corp_1.imported_name, corp_1.status) == ("企业1", ChainCorpStatus.IMPORTED)
    east = await ChainGroup.get(id=corp_1.group_id)
    dealers = await ChainGroup.get(id=east.parent_id)
    assert (east.name, dealers.name, dealers.parent_id) == ("华东", "经销商", w["groot"].id)
    contacts = {c.name: c for c in await ChainContact.filter(chain_id=w["chain"].id)}
    assert set(contacts) == {"负责人1", "负责人2", "成员3", "供应商负责人"}
    assert contacts["负责人1"].status is ContactStatus.INVITED and contacts["负责人1"].join_code
    assert contacts["成员3"].status is ContactStatus.IMPORTED and contacts["成员3"].join_code is None
    assert contacts["成员3"].role is ContactRole.MEMBER

    # An invitation now, then a reminder on each of the next seven days.
    rows = await Notification.filter(chain_contact_id=contacts["负责人1"].id).order_by("due_at")
    assert [r.kind for r in rows] == [chain_notices.INVITATION] + [chain_notices.REMINDER] * 7
    assert [r.due_at - rows[0].due_at for r in rows] == [timedelta(days=d) for d in range(8)]
    assert rows[0].recipient_mobile == l1 and rows[0].payload["code"] == contacts["负责人1"].join_code
    assert rows[0].payload["corpName"] == "企业1" and rows[0].payload["joinUrl"].endswith(contacts["负责人1"].join_code)
    assert not await Notification.filter(chain_contact_id=contacts["成员3"].id).exists()


async def test_reimporting_the_same_file_changes_nothing_and_sends_nothing_again(gql, client):
    w = await world()
    content = xlsx([["负责人", "负责人", m(), "企业甲", None, "A1"], ["成员", "成员", m(), "企业甲", None, "A1"]])
    await finished(gql, w["t"], (await upload(client, w["t"], w["chain"].id, "a.xlsx", content))["job"]["id"])
    before = await Notification.all().count()
    again = await finished(gql, w["t"], (await upload(client, w["t"], w["chain"].id, "a.xlsx", content))["job"]["id"])
    c = counts(again)
    assert (c["created"], c["updated"], c["unchanged"], c["corpsCreated"], c["invited"]) == (0, 0, 2, 0, 0)
    assert await Notification.all().count() == before
    assert await ChainCorp.filter(chain_id=w["chain"].id).count() == 1


async def test_corp_keyed_by_custom_id_else_by_normalised_name_and_contact_by_mobile(gql, client):
    w = await world()
    mobile = m()
    first = xlsx([["张三", "成员", mobile, "企业 Alpha", None, None], ["李四", "成员", m(), "ＢＥＴＡ企业", None, "B-9"]])
    await finished(gql, w["t"], (await upload(client, w["t"], w["chain"].id, "1.xlsx", first))["job"]["id"])
    # Same corp by normalised name (case, width and spaces folded); same contact by mobile:
    # renamed and now a leader, so it is invited. The custom id renames its corp.
    second = xlsx([["张三丰", "负责人", mobile, "企业alpha", "新分组", None], ["王五", "成员", m(), "Beta企业(新)", None, "B-9"]])
    job = await finished(gql, w["t"], (await upload(client, w["t"], w["chain"].id, "2.xlsx", second))["job"]["id"])
    c = counts(job)
    assert (c["created"], c["updated"], c["corpsCreated"], c["corpsUpdated"], c["invited"]) == (1, 1, 0, 2, 1)
    places = await ChainCorp.filter(chain_id=w["chain"].id).order_by("id")
    assert [(p.imported_name, p.custom_corp_id) for p in places] == [("企业alpha", None), ("Beta企业(新)", "B-9")]
    assert (await ChainGroup.get(id=places[0].group_id)).name == "新分组"
    contact = await ChainContact.get(chain_id=w["chain"].id, mobile=mobile)
    assert (contact.name, contact.role, contact.status) == ("张三丰", ContactRole.LEADER, ContactStatus.INVITED)


async def test_row_errors_are_per_row_with_column_and_code(gql, client):
    w = await world()
    removed = await f.chain_corp(w["groot"], None, status=ChainCorpStatus.REMOVED)
    joined_corp, joined_admin = await named_corp("已加入企业")
    joined_place = await f.chain_corp(w["groot"], joined_corp)
    joined_person = await f.contact(joined_place, joined_admin)
    dup = m()
    rows = [
        ["好人", "负责人", m(), "企业一", None, "X1"],                       # 2 ok
        ["换名", "成员", m(), "企业二", None, "X1"],                         # 3 custom id of another name
        ["无号", "成员", m(), "企业一", None, None],                         # 4 the same corp without its id
        ["坏名", "成员", m(), "企业<一>", None, None],                       # 5 bad characters
        ["长名", "成员", m(), "企" * 33, None, None],                        # 6 too long
        ["人" * 33, "成员", m(), "企业三", None, None],                      # 7 contact name too long
        ["角色", "老板", m(), "企业三", None, None],                         # 8 unknown role
        [None, "成员", m(), "企业三", None, None],                           # 9 name missing
        ["重复", "成员", dup, "企业三", None, None],                          # 10 ok
        ["重复2", "成员", dup, "企业三", None, None],                         # 11 same mobile again
        ["科学", "成员", 1.38e10, "企业三", None, None],                      # 12 lost digits
        ["分组", "成员", m(), "企业三", "A->" + "x" * 33, None],             # 13 bad group
        ["移除", "成员", m(), removed.imported_name, None, removed.custom_corp_id],  # 14 removed corp
        ["已加入", "成员", joined_person.mobile, "企业三", None, None],      # 15 joined elsewhere
        ["长号", "成员", m(), "企业三", None, "I" * 65],                     # 16 custom id too long
    ]
    job = await finished(gql, w["t"], (await upload(client, w["t"], w["chain"].id, "e.xlsx", xlsx(rows)))["job"]["id"])
    assert codes(job) == {
        3: [("CORP_MISMATCH", "企业名称")],
        4: [("CORP_MISMATCH", "自定义企业ID")],
        5: [("INVALID_CORP_NAME", "企业名称")],
        6: [("INVALID_CORP_NAME", "企业名称")],
        7: [("INVALID_NAME", "联系人姓名")],
        8: [("INVALID_ROLE", "身份")],
        9: [("REQUIRED", "联系人姓名")],
        11: [("DUPLICATE_IN_FILE", "手机号")],
        12: [("MOBILE_NOT_TEXT", "手机号")],
        13: [("INVALID_GROUP", "上下游分组")],
        14: [("CORP_REMOVED", "企业名称")],
        15: [("CONTACT_JOINED", "企业名称")],
        16: [("INVALID_CUSTOM_ID", "自定义企业ID")],
    }
    assert counts(job)["created"] == 2 and counts(job)["failed"] == 13
    assert (await ChainContact.get(id=joined_person.id)).chain_corp_id == joined_place.id


async def test_rows_in_the_mutation_with_english_headers_and_stray_cells(gql, client):
    w = await world()
    data = await gql.ok(IMPORT, {"input": {"chainId": f.gid("ChainSpace", w["chain"].id), "rows": [
        {"name": "Alice", "role": "LEADER", "mobile": m(), "corpName": "Acme Ltd", "customCorpId": "AC"},
        {"name": "Bob", "role": "member", "mobile": m(), "corpName": "Acme Ltd", "customCorpId": "AC"},
    ]}}, token=w["t"])
    job = await finished(gql, w["t"], data["importChainContacts"]["job"]["id"])
    assert counts(job)["created"] == 2 and job["errors"] == []
    csv = f"name,role,mobile,corpName,group\n张,成员,{m()},企业四,,多余\n".encode("gb18030")
    job = await finished(gql, w["t"], (await upload(client, w["t"], w["chain"].id, "x.csv", csv))["job"]["id"])
    assert codes(job) == {2: [("UNKNOWN_COLUMN", "F")]}


async def test_file_level_refusals(gql, client):
    w = await world()
    missing = await upload(client, w["t"], w["chain"].id, "m.xlsx", xlsx([["a", "成员", m()]], ["姓名", "身份", "手机号"]))
    job = await finished(gql, w["t"], missing["job"]["id"])
    assert job["status"] == "FAILED" and job["errors"][0]["code"] == "MISSING_COLUMN"
    unknown = await upload(client, w["t"], w["chain"].id, "u.xlsx", xlsx([], [*HEADERS, "备注"]))
    assert (await finished(gql, w["t"], unknown["job"]["id"]))["errors"][0]["code"] == "UNKNOWN_COLUMN"
    neither = await gql.ok(IMPORT, {"input": {"chainId": f.gid("ChainSpace", w["chain"].id)}}, token=w["t"])
    assert neither["importChainContacts"]["userErrors"][0]["code"] == "FILE_OR_ROWS"
    staff = await f.member([w["root"]])
    rows = [{"name": "甲", "role": "负责人", "mobile": m(), "corpName": "企业甲"}]
    denied = await gql.ok(IMPORT, {"input": {"chainId": f.gid("ChainSpace", w["chain"].id), "rows": rows}},
                          token=f.token(staff))
    assert denied["importChainContacts"]["userErrors"][0] == {
        "code": "NOT_FOUND", "field": "chainId", "message": "No such object."}
    # A file from someone who may import nothing is not even received (test_request_edges.py).
    refused = await client.post("/graphql", files={"0": ("d.xlsx", xlsx([]), "application/octet-stream")},
                                headers={"Authorization": f"Bearer {f.token(staff)}"})
    assert refused.status_code == 403 and refused.json()["errors"][0]["extensions"]["code"] == "FORBIDDEN"


async def test_group_admin_imports_only_into_its_groups(gql, client):
    w = await world()
    dealers = await f.group(w["groot"], "经销商")
    await f.group(w["groot"], "供应商")
    dealer_admin = await f.member([w["root"]])
    await f.grant(dealer_admin, AdminKind.CHAIN_ADMIN, chain=w["chain"], group_ids=[dealers.id])
    token = f.token(dealer_admin)
    content = xlsx([
        ["甲", "负责人", m(), "企业甲", "经销商->华北", None],
        ["乙", "负责人", m(), "企业乙", "供应商", None],
        ["丙", "负责人", m(), "企业丙", None, None],
    ])
    job = await finished(gql, token, (await upload(client, token, w["chain"].id, "g.xlsx", content))["job"]["id"])
    assert codes(job) == {3: [("OUT_OF_SCOPE", "上下游分组")], 4: [("OUT_OF_SCOPE", "企业名称")]}
    assert counts(job)["created"] == 1


async def test_an_imported_name_of_a_joined_corp_lands_on_that_corp(gql, client):
    w = await world()
    corp_a, admin_a = await named_corp("甲集团有限公司", short_name="甲集团")
    joined = await f.chain_corp(w["groot"], corp_a)
    leader = m()
    job = await finished(gql, w["t"], (await upload(
        client, w["t"], w["chain"].id, "j.xlsx", xlsx([["甲负责人", "负责人", leader, "甲集团", None, None]])
    ))["job"]["id"])
    assert counts(job)["corpsCreated"] == 0
    contact = await ChainContact.get(chain_id=w["chain"].id, mobile=leader)
    assert contact.chain_corp_id == joined.id
    # Matching rule 1: the leader must join as corp a, with its super admins' approval.
    preview = await gql.ok(PREVIEW, {"code": contact.join_code}, token=f.person_token(leader))
    assert preview["previewJoin"]["preview"]["rule"] == "MUST_JOIN_CHAIN_CORP"
    assert preview["previewJoin"]["preview"]["needsApproval"] is True


async def test_concurrent_imports_into_one_chain_run_one_after_another_and_none_is_lost(gql, client):
    w = await world()
    files = [
        xlsx([[f"文件{i}联系人{k}", "成员", m(), f"企业{i}-{k % 3}", f"组{i}", None] for k in range(30)])
        for i in range(3)
    ]
    started = await asyncio.gather(*(upload(client, w["t"], w["chain"].id, f"{i}.xlsx", c) for i, c in enumerate(files)))
    results = [await finished(gql, w["t"], s["job"]["id"]) for s in started]
    assert [r["status"] for r in results] == ["SUCCEEDED"] * 3
    assert [counts(r)["created"] for r in results] == [30, 30, 30]
    assert await ChainContact.filter(chain_id=w["chain"].id).count() == 90
    runs = sorted([(j.started_at, j.finished_at) for j in await ImportJob.filter(chain_id=w["chain"].id)])
    assert all(later[0] >= earlier[1] for earlier, later in itertools.pairwise(runs))


async def test_import_progress_counts_corps_and_contacts_by_status(gql, client):
    w = await world()
    content = xlsx([
        ["负责人1", "负责人", m(), "企业1", None, None],
        ["成员1", "成员", m(), "企业1", None, None],
        ["负责人2", "负责人", m(), "企业2", None, None],
    ])
    await finished(gql, w["t"], (await upload(client, w["t"], w["chain"].id, "p.xlsx", content))["job"]["id"])
    contact = await ChainContact.get(chain_id=w["chain"].id, name="负责人2")
    person = f.person_token(contact.mobile, "负责人2")
    joined = await gql.ok(JOIN, {"input": {"code": contact.join_code, "newCorpName": "企业2"}}, token=person)
    assert joined["joinChain"]["outcome"] == "JOINED"
    data = await gql.ok(PROGRESS, {"c": f.gid("ChainSpace", w["chain"].id)}, token=w["t"])
    progress = data["chainSpace"]["importProgress"]
    assert (progress["corpsTotal"], progress["corpsJoined"]) == (2, 1)
    assert {c["status"]: c["count"] for c in progress["contacts"]} == {
        "IMPORTED": 1, "INVITED": 1, "PENDING_CONFIRM": 0, "JOINED": 1, "DECLINED": 0, "REMOVED": 0,
    }
    # Not for the joined corp's own people: the progress is the owner's business.
    token = await member_token(gql, person, joined["joinChain"]["corp"]["corpId"])
    data = await gql.ok(PROGRESS, {"c": f.gid("ChainSpace", w["chain"].id)}, token=token)
    assert data["chainSpace"]["importProgress"] is None


async def test_a_name_shared_by_two_corps_needs_the_custom_id(gql, client):
    w = await world()
    for custom in ("S-1", "S-2"):
        await ChainCorp.create(chain_id=w["chain"].id, group_id=w["groot"].id, custom_corp_id=custom,
                               imported_name="同名企业", name_key="同名企业", status=ChainCorpStatus.IMPORTED)
    content = xlsx([["甲", "成员", m(), "同名企业", None, None]])
    job = await finished(gql, w["t"], (await upload(client, w["t"], w["chain"].id, "s.xlsx", content))["job"]["id"])
    assert codes(job) == {2: [("AMBIGUOUS_CORP", "企业名称")]}
    # With their customCorpIds, rows of both corps land, each on its own corp.
    content = xlsx([["乙", "成员", m(), "同名企业", None, "S-1"], ["丙", "成员", m(), "同名企业", None, "S-2"],
                    ["丁", "成员", m(), "新同名", None, "N-1"], ["戊", "成员", m(), "新同名", None, "N-2"]])
    job = await finished(gql, w["t"], (await upload(client, w["t"], w["chain"].id, "t.xlsx", content))["job"]["id"])
    assert job["errors"] == [] and (counts(job)["created"], counts(job)["corpsCreated"]) == (4, 2)
    places = await ChainCorp.filter(chain_id=w["chain"].id).prefetch_related("contacts").order_by("custom_corp_id")
    assert [(p.custom_corp_id, len(p.contacts)) for p in places] == [("N-1", 1), ("N-2", 1), ("S-1", 1), ("S-2", 1)]


async def test_an_empty_upload_is_refused(gql, client):
    w = await world()
    result = await upload(client, w["t"], w["chain"].id, "empty.csv", b"")
    assert result["userErrors"][0]["code"] == "EMPTY_FILE" and result["job"] is None


async def test_a_queued_import_whose_starter_left_fails_without_writing(gql):
    from flows.chain_import import TEMPLATE_HEADERS
    from models import ImportSource, Member
    from models.enums import ImportKind, MemberStatus

    w = await world()
    second = await f.member([w["root"]])
    await f.grant(second, AdminKind.CHAIN_ADMIN, chain=w["chain"])
    job = await ImportJob.create(corp_id=w["owner"].id, chain_id=w["chain"].id, kind=ImportKind.CHAIN_CONTACTS,
                                 file_name="rows.csv", actor_kind="MEMBER", actor_id=second.id, created_by=second,
                                 queue=jobs.queue_of(w["owner"].id, w["chain"].id))
    header = ",".join(TEMPLATE_HEADERS.values())
    await ImportSource.create(job=job, file_name="rows.csv", content=f"{header}\n甲,成员,{m()},企业,,\n".encode())
    await Member.filter(id=second.id).update(status=MemberStatus.RESIGNED.value)
    result = await finished(gql, w["t"], f.gid("ImportJob", job.id))
    assert result["status"] == "FAILED" and codes(result) == {None: [("ACTOR_GONE", None)]}
    assert not await ChainContact.filter(chain_id=w["chain"].id).exists()
