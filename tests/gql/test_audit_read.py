"""Corp.auditEvents: the corp's super admins and its audit:read apps read the trail; for
everyone else it is empty, exactly like a corp with no events."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from auth.tokens import issue_person_token
from flows.audit import Origin, record
from models import AuditEvent
from models.enums import AdminKind, AdminRight
from permissions.loading import member_viewer
from tests import factories as f
from tests.gateway import app_token

EVENTS = """
query($c: ID!, $first: Int, $after: String, $action: String, $targetType: String, $actorId: ID,
      $since: DateTime, $until: DateTime) {
  corp(id: $c) { auditEvents(first: $first, after: $after, action: $action, targetType: $targetType,
                             actorId: $actorId, since: $since, until: $until) {
    totalCount pageInfo { hasNextPage endCursor }
    edges { node { id action targetType targetId actorKind actorId actorLabel before after requestId ip createdAt } }
  } } }"""
NODE = 'query($id: ID!) { node(id: $id) { id ... on AuditEvent { action } } }'
CREATE_UNIT = """
mutation($p: ID!) { createOrgUnit(input: {parentId: $p, name: "审计部"}) { unit { id } userErrors { code } } }"""
NO_EVENTS = {"totalCount": 0, "pageInfo": {"hasNextPage": False, "endCursor": None}, "edges": []}


async def _trail():
    """A corp whose super admin did three things, plus who might want to read about it."""
    corp, root = await f.corp()
    sales = await f.unit(root, "销售部")
    admin = await f.super_admin(root)
    viewer = await member_viewer(admin.id)
    created = await record(viewer, "member.create", "Member", 11, corp_id=corp.id,
                           after={"name": "张三", "mobile": "+8613900000000"}, origin=Origin("req-1", "10.0.0.1"))
    updated = await record(viewer, "member.update", "Member", 11, corp_id=corp.id,
                           before={"position": "销售"}, after={"position": "经理"})
    unit = await record(viewer, "unit.create", "OrgUnit", sales.id, corp_id=corp.id, after={"name": "销售部"})
    other, other_root = await f.corp()
    await record(await member_viewer((await f.super_admin(other_root)).id), "member.create", "Member", 1,
                 corp_id=other.id)
    return corp, root, sales, admin, [created, updated, unit], other, other_root


async def events(gql, corp, token, **variables):
    data = await gql.ok(EVENTS, {"c": f.gid("Corp", corp.id), **variables}, token)
    return data["corp"]["auditEvents"] if data["corp"] else None


async def test_super_admin_reads_the_trail_newest_first_redacted(gql):
    corp, _, sales, admin, (created, updated, unit), *_ = await _trail()
    trail = await events(gql, corp, f.token(admin))
    assert trail["totalCount"] == 3
    nodes = [e["node"] for e in trail["edges"]]
    assert [n["action"] for n in nodes] == ["unit.create", "member.update", "member.create"]
    first = nodes[-1]
    assert first["id"] == f.gid("AuditEvent", created.id)
    assert first["targetId"] == f.gid("Member", 11) and first["targetType"] == "Member"
    assert first["actorKind"] == "MEMBER" and first["actorId"] == f.gid("Member", admin.id)
    assert first["after"] == {"name": "张三", "mobile": "***"}
    assert (first["requestId"], first["ip"]) == ("req-1", "10.0.0.1")
    assert nodes[0]["targetId"] == f.gid("OrgUnit", sales.id)


async def test_filters_and_pages(gql):
    corp, _, _, admin, (created, updated, unit), *_ = await _trail()
    token = f.token(admin)
    assert (await events(gql, corp, token, action="member.update"))["totalCount"] == 1
    assert (await events(gql, corp, token, targetType="Member"))["totalCount"] == 2
    assert (await events(gql, corp, token, actorId=f.gid("Member", admin.id)))["totalCount"] == 3
    assert (await events(gql, corp, token, actorId=f.gid("Member", admin.id + 10_000)))["totalCount"] == 0
    assert (await events(gql, corp, token, actorId=f.gid("OrgUnit", 1)))["totalCount"] == 0
    last_week = datetime.now(UTC) - timedelta(days=7)
    await AuditEvent.filter(id=created.id).update(created_at=last_week)
    yesterday = (datetime.now(UTC) - timedelta(days=1)).isoformat()
    assert (await events(gql, corp, token, since=yesterday))["totalCount"] == 2
    old = await events(gql, corp, token, until=yesterday)
    assert [e["node"]["action"] for e in old["edges"]] == ["member.create"]
    page = await events(gql, corp, token, first=2)
    assert len(page["edges"]) == 2 and page["pageInfo"]["hasNextPage"]
    rest = await events(gql, corp, token, first=2, after=page["pageInfo"]["endCursor"])
    assert [e["node"]["action"] for e in rest["edges"]] == ["member.create"]


async def test_a_real_mutation_lands_in_the_trail_with_its_request_id(gql):
    corp, root = await f.corp()
    admin = await f.super_admin(root)
    response = await gql.client.post(
        "/graphql", json={"query": CREATE_UNIT, "variables": {"p": f.gid("OrgUnit", root.id)}},
        headers={"Authorization": f"Bearer {f.token(admin)}", "X-Request-Id": "trace-42"},
    )
    assert response.json()["data"]["createOrgUnit"]["userErrors"] == []
    trail = await events(gql, corp, f.token(admin))
    assert [(e["node"]["actorId"], e["node"]["requestId"]) for e in trail["edges"]] == [
        (f.gid("Member", admin.id), "trace-42")
    ]


async def test_nobody_else_learns_anything_not_even_that_events_exist(gql):
    corp, root, sales, _, (created, *_), other, other_root = await _trail()
    member = await f.member([root])
    directory_admin = await f.member([root])
    await f.grant(directory_admin, AdminKind.DIRECTORY_ADMIN, unit_ids=[sales.id],
                  rights=[AdminRight.READ.value, AdminRight.MANAGE.value, AdminRight.EXPORT.value])
    foreign_admin = await f.super_admin(other_root)
    chain, _ = await f.chain_space(corp)
    no_scope, _ = await app_token(corp, "directory:read", "chain:read")
    bound, _ = await app_token(corp, "directory:read", "audit:read", chain=chain)
    foreign_app, _ = await app_token(other, "directory:read", "audit:read")
    for token in (f.token(member), f.token(directory_admin), no_scope):
        assert await events(gql, corp, token) == NO_EVENTS
        assert await gql.ok(NODE, {"id": f.gid("AuditEvent", created.id)}, token) == {"node": None}
    for token in (None, issue_person_token(f.unique_mobile()), f.token(foreign_admin), foreign_app, bound):
        # Outside the corp (a chain-bound app keeps only its chain scopes) the corp itself is
        # out of sight; the event too.
        assert await events(gql, corp, token) in (None, NO_EVENTS)
        assert await gql.ok(NODE, {"id": f.gid("AuditEvent", created.id)}, token) == {"node": None}


async def test_an_audit_read_app_reads_its_own_corps_trail_only(gql):
    corp, _, _, _, (created, *_), other, _ = await _trail()
    reader, row = await app_token(corp, "directory:read", "audit:read")
    trail = await events(gql, corp, reader)
    assert trail["totalCount"] == 3
    assert await gql.ok(NODE, {"id": f.gid("AuditEvent", created.id)}, reader) == {
        "node": {"id": f.gid("AuditEvent", created.id), "action": "member.create"}
    }
    assert await events(gql, other, reader) is None
    missing = await gql.ok(NODE, {"id": f.gid("AuditEvent", 987_654_321)}, reader)
    assert missing == {"node": None}
