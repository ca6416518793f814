"""Pages run from a kept statement (gql.relay.Deferred): once a kept Viewer has run a list's
page, the next pages of that list neither build its query nor its count, and answer exactly
what a Viewer built anew gets: every cursor page, an empty page after the last cursor (whose
totalCount then needs the count built after all), a forged cursor, totalCount selected or not."""

from __future__ import annotations

import base64

from auth.viewer_cache import VIEWERS
from models.enums import ContactRole, ContactStatus, Scope
from tests import factories

MEMBERS = """
query($c: ID!, $after: String) {
  corp(id: $c) { members(first: 2, after: $after) { totalCount pageInfo { hasNextPage endCursor } edges { node { name } } } }
}
"""
MEMBERS_NO_COUNT = """
query($c: ID!, $after: String) {
  corp(id: $c) { members(first: 2, after: $after) { pageInfo { hasNextPage endCursor } edges { node { name } } } }
}
"""
CONTACTS = """
query($ch: ID!, $after: String) {
  chainSpace(id: $ch) {
    contacts(first: 2, after: $after) {
      totalCount pageInfo { hasNextPage endCursor } edges { node { name status mobile hiddenFields } }
    }
  }
}
"""


async def _walk(gql, query: str, variables: dict[str, object], token: str, path: tuple[str, str]) -> list[object]:
    """Every page of the list, then the (empty) page after its last cursor, as answered."""
    pages: list[object] = []
    after = None
    while True:
        body = await gql(query, {**variables, "after": after}, token)
        pages.append(body)
        page = body["data"][path[0]][path[1]]
        after = page["pageInfo"]["endCursor"]
        if not page["pageInfo"]["hasNextPage"]:
            pages.append(await gql(query, {**variables, "after": after}, token))
            return pages


async def test_kept_member_pages_answer_as_a_viewer_built_anew(gql):
    corp, root = await factories.corp()
    sales = await factories.unit(root, "sales", scope=Scope.DEPARTMENT)
    other = await factories.unit(root, "other")
    viewer = await factories.member([sales], name="查看者")
    for i in range(4):
        await factories.member([sales], name=f"销售{i}")
    await factories.member([other], name="别处")
    token = factories.token(viewer)
    variables = {"c": factories.gid("Corp", corp.id)}
    for query in (MEMBERS, MEMBERS_NO_COUNT):
        VIEWERS.clear()
        cold = await _walk(gql, query, variables, token, ("corp", "members"))
        warm = await _walk(gql, query, variables, token, ("corp", "members"))  # from the kept statements
        assert warm == cold
        assert sum(len(p["data"]["corp"]["members"]["edges"]) for p in cold) == 5
    assert cold[-1]["data"]["corp"]["members"]["edges"] == []
    # The last, empty page counts on its own: the count is built then, from a kept page too.
    assert [p["data"]["corp"]["members"]["totalCount"] for p in await _walk(
        gql, MEMBERS, variables, token, ("corp", "members"))] == [5, 5, 5, 5]


async def test_a_forged_cursor_is_refused_alike_from_a_kept_page(gql):
    corp, root = await factories.corp()
    viewer = await factories.member([root], name="查看者")
    await factories.member([root], name="成员")
    token = factories.token(viewer)
    variables = {"c": factories.gid("Corp", corp.id)}
    await gql(MEMBERS, variables, token)
    # The cursor of a keyset page with the id as a text: the same length as a real one.
    forged = base64.urlsafe_b64encode(b'k:["a","b"]').decode()
    kept = await gql(MEMBERS, {**variables, "after": forged}, token)
    VIEWERS.clear()
    built = await gql(MEMBERS, {**variables, "after": forged}, token)
    assert kept == built
    assert kept["errors"][0]["message"] == "Malformed cursor."


async def test_kept_contact_pages_answer_as_a_viewer_built_anew(gql):
    corp, root = await factories.corp("上游")
    admin = await factories.super_admin(root)
    chain, groot = await factories.chain_space(corp)
    g = await factories.group(groot)
    dcorp, droot = await factories.corp("下游")
    leader = await factories.member([droot], name="负责人")
    place = await factories.chain_corp(g, dcorp)
    await factories.contact(place, leader)
    for i in range(3):
        await factories.contact(place, await factories.member([droot], name=f"成员{i}"), role=ContactRole.MEMBER)
    await factories.contact(place, None, status=ContactStatus.REMOVED, name="已移除")
    variables = {"ch": factories.gid("ChainSpace", chain.id)}
    for member in (admin, leader):
        token = factories.token(member)
        VIEWERS.clear()
        cold = await _walk(gql, CONTACTS, variables, token, ("chainSpace", "contacts"))
        warm = await _walk(gql, CONTACTS, variables, token, ("chainSpace", "contacts"))
        assert warm == cold
        assert not any(p.get("errors") for p in cold)
        names = [e["node"]["name"] for p in cold for e in p["data"]["chainSpace"]["contacts"]["edges"]]
        assert len(names) == 4 and "已移除" not in names
        assert {p["data"]["chainSpace"]["contacts"]["totalCount"] for p in cold} == {4}
