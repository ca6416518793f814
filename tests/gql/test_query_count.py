"""N+1 guard: a page costs the same number of SQL statements at 10 and at 100 rows, for the
directory list, search, and the chain lists (corps, contacts behind which members stand)."""

from __future__ import annotations

import logging
import re

import pytest

from models.enums import AdminKind, ContactStatus, Scope
from tests import factories as f

MEMBERS = """
query($c: ID!, $n: Int!) {
  corp(id: $c) {
    members(first: $n) {
      totalCount
      edges { node { name mobile position hiddenFields departments { isMain unit { name } } corp { name } } }
    }
  }
}
"""

SEARCH = """
query($c: ID!, $q: String!, $n: Int!) {
  corp(id: $c) {
    searchMembers(query: $q, first: $n) {
      totalCount
      edges { node { name mobile departments { unit { name } } } }
    }
  }
}
"""

CHAIN_CORPS = """
query($ch: ID!, $n: Int!) {
  chainSpace(id: $ch) {
    corps(first: $n) { totalCount edges { node { importedName status group { name } corp { name } } } }
  }
}
"""

CHAIN_CONTACTS = """
query($ch: ID!, $n: Int!) {
  chainSpace(id: $ch) {
    contacts(first: $n, status: JOINED) {
      totalCount
      edges { node { name mobile hiddenFields member { name position departments { unit { name } } } chainCorp { status } } }
    }
  }
}
"""


class StatementCounter(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.count = 0

    def emit(self, record: logging.LogRecord) -> None:
        self.count += 1


async def count_statements(gql, query, variables, token) -> tuple[int, dict]:
    logger = logging.getLogger("tortoise.db_client")
    counter = StatementCounter()
    previous = logger.level
    logger.setLevel(logging.DEBUG)
    logger.addHandler(counter)
    try:
        data = await gql.ok(query, variables, token)
    finally:
        logger.removeHandler(counter)
        logger.setLevel(previous)
    return counter.count, data


async def same_cost_at_10_and_100(gql, query, variables, token, connection) -> int:
    await gql.ok(query, {**variables, "n": 1}, token)  # once-per-process checks (path ordering) out of the way
    small, small_data = await count_statements(gql, query, {**variables, "n": 10}, token)
    large, large_data = await count_statements(gql, query, {**variables, "n": 100}, token)
    assert len(connection(small_data)["edges"]) == 10
    assert len(connection(large_data)["edges"]) == 100
    assert small == large
    return small


async def test_members_page_of_10_and_100_issue_the_same_statements(gql):
    corp, root = await f.corp()
    units = [await f.unit(root) for _ in range(5)]
    viewer = await f.member([root], name="查看者")
    for i in range(120):
        await f.member([units[i % 5], units[(i + 1) % 5]], name=f"成员{i}")
    statements = await same_cost_at_10_and_100(
        gql, MEMBERS, {"c": f.gid("Corp", corp.id)}, f.token(viewer), lambda d: d["corp"]["members"]
    )
    assert statements < 25


async def test_a_warm_scoped_members_page_with_departments_costs_three_statements(gql):
    """The token check (with the policy version), the page carrying its totalCount (head-counts,
    permissions.counts), its seats with their units: the corp's row, its field settings and the
    scope's unit ids are kept with the Viewer."""
    from bench.queries import MEMBERS_PAGE

    corp, root = await f.corp()
    division = await f.unit(root, scope=Scope.DEPARTMENT)
    team, elsewhere = await f.unit(division), await f.unit(root)
    viewer = await f.member([team], name="查看者")
    for i in range(30):
        await f.member([team if i % 2 else division, elsewhere], name=f"成员{i}")
    variables, token = {"c": f.gid("Corp", corp.id), "n": 20}, f.token(viewer)
    await gql.ok(MEMBERS_PAGE, variables, token)
    statements, data = await count_statements(gql, MEMBERS_PAGE, variables, token)
    page = data["corp"]["members"]
    assert page["totalCount"] == 31 and len(page["edges"]) == 20
    assert all(e["node"]["departments"] for e in page["edges"])
    assert statements == 3


async def test_search_page_of_10_and_100_issue_the_same_statements(gql):
    corp, root = await f.corp()
    units = [await f.unit(root) for _ in range(3)]
    viewer = await f.member([root], name="查看者")
    for i in range(110):
        await f.member([units[i % 3]], name=f"张{'伟芳娜敏静'[i % 5]}{i}")
    token = f.token(viewer)
    for text in ("张", "zhang", "z"):
        await same_cost_at_10_and_100(
            gql, SEARCH, {"c": f.gid("Corp", corp.id), "q": text}, token, lambda d: d["corp"]["searchMembers"]
        )


async def chain_with_joined_corps(n: int):
    owner, oroot = await f.corp("链主")
    admin = await f.super_admin(oroot)
    chain, groot = await f.chain_space(owner)
    groups = [await f.group(groot, peers_visible=True) for _ in range(3)]
    downstream = []
    for i in range(n):
        corp, root = await f.corp("下游")
        unit = await f.unit(root)
        leader = await f.member([root, unit], name=f"负责人{i}")
        place = await f.chain_corp(groups[i % 3], corp)
        await f.contact(place, leader, status=ContactStatus.JOINED)
        await f.contact(place, None, status=ContactStatus.IMPORTED, name=f"同事{i}")
        downstream.append(leader)
    return chain, admin, groups, downstream


async def test_chain_lists_of_10_and_100_issue_the_same_statements(gql):
    chain, admin, groups, downstream = await chain_with_joined_corps(105)
    variables = {"ch": f.gid("ChainSpace", chain.id)}
    token = f.token(admin)
    await same_cost_at_10_and_100(gql, CHAIN_CORPS, variables, token, lambda d: d["chainSpace"]["corps"])
    await same_cost_at_10_and_100(gql, CHAIN_CONTACTS, variables, token, lambda d: d["chainSpace"]["contacts"])
    # Narrower viewers see one group (35 corps): pages of 10 and of 30.
    group_admin = await chain_admin_of(chain, groups[0])
    for viewer, query, key in ((downstream[0], CHAIN_CORPS, "corps"), (group_admin, CHAIN_CONTACTS, "contacts")):
        await gql.ok(query, {**variables, "n": 1}, f.token(viewer))  # the viewer's Viewer is kept from here on
        small, _ = await count_statements(gql, query, {**variables, "n": 10}, f.token(viewer))
        large, data = await count_statements(gql, query, {**variables, "n": 30}, f.token(viewer))
        assert len(data["chainSpace"][key]["edges"]) == 30
        assert small == large


async def chain_admin_of(chain, group):
    """An owner-side member who administers one group of the chain."""
    from models import OrgUnit

    root = await OrgUnit.get(corp_id=chain.owner_corp_id, parent_id=None)
    m = await f.member([root], name="分组管理员")
    await f.grant(m, AdminKind.CHAIN_ADMIN, chain=chain, group_ids=[group.id])
    return m


SHORT = """
query($c: ID!, $s: [MemberStatus!]) {
  corp(id: $c) { members(first: 20, status: $s) { totalCount edges { node { name } } } }
}
"""


async def test_a_first_page_not_cut_short_is_its_own_count(gql):
    """totalCount of a first page holding the whole list (or nothing) is its length: the
    token check and the page, no count and no second pass for an empty page."""
    corp, root = await f.corp()
    division = await f.unit(root, scope=Scope.DEPARTMENT)
    viewer = await f.member([division], name="查看者")
    for i in range(5):
        await f.member([division], name=f"成员{i}")
    await f.member([root], name="别处")
    token = f.token(viewer)
    for status, want in ((None, 6), (["RESIGNED"], 0)):
        variables = {"c": f.gid("Corp", corp.id), "s": status}
        await gql.ok(SHORT, variables, token)
        statements, data = await count_statements(gql, SHORT, variables, token)
        page = data["corp"]["members"]
        assert page["totalCount"] == want == len(page["edges"])
        assert statements == 2


class StatementLog(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.sql: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        if record.msg == "%s: %s" and isinstance(record.args, tuple) and len(record.args) == 2:
            self.sql.append(str(record.args[0]))


PAGES_AFTER = """
query($c: ID!, $n: Int!, $after: String) {
  corp(id: $c) { members(first: $n, after: $after) { totalCount pageInfo { endCursor } edges { node { name } } } }
}
"""


async def test_on_postgres_a_scope_of_many_units_is_one_array_parameter(gql, database):
    """The unit ids of a scope go as one `= ANY($n)` array on PostgreSQL: a page after a
    cursor has the same SQL text for a scope of 3 units and of 30 (no parameter per unit to
    build). A first page takes no parameter at all (models.statements writes its values in):
    the unit ids are one array there too."""
    if database != "postgres":
        pytest.skip("SQLite keeps its IN list of unit ids")
    texts = []
    for width in (3, 30):
        corp, root = await f.corp()
        division = await f.unit(root, scope=Scope.DEPARTMENT)
        teams = [await f.unit(division) for _ in range(width - 1)]
        viewer = await f.member([division], name="查看者")
        for i, team in enumerate(teams):
            await f.member([team], name=f"成员{i}")
        await f.member([root], name="别处")
        variables, token = {"c": f.gid("Corp", corp.id), "n": 2}, f.token(viewer)
        logger, log = logging.getLogger("tortoise.db_client"), StatementLog()
        previous = logger.level
        logger.setLevel(logging.DEBUG)
        logger.addHandler(log)
        try:
            first = await gql.ok(PAGES_AFTER, variables, token)
            first_sql = [s for s in log.sql if '"pinyin_full" ASC' in s]
            log.sql.clear()
            after = first["corp"]["members"]["pageInfo"]["endCursor"]
            data = await gql.ok(PAGES_AFTER, {**variables, "after": after}, token)
        finally:
            logger.removeHandler(log)
            logger.setLevel(previous)
        assert first["corp"]["members"]["totalCount"] == data["corp"]["members"]["totalCount"] == width
        (page,) = first_sql
        arrays = re.findall(r"ANY\(ARRAY\[([0-9,]+)\]", page)
        assert arrays and {len(a.split(",")) for a in arrays} == {width}
        texts.append([s for s in log.sql if '"pinyin_full" ASC' in s])
    assert texts[0] and texts[0] == texts[1]
    assert "ANY($" in texts[0][0]
