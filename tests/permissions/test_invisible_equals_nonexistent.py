"""An invisible object and a nonexistent id are indistinguishable (SPEC §2), side by side."""

from __future__ import annotations

from models.enums import Scope
from tests import factories as f

NODE = 'query($id: ID!) { node(id: $id) { id } }'
LIST = 'query($c: ID!) { corp(id: $c) { members(first: 100) { totalCount edges { node { id } } } } }'
SEARCH = 'query($c: ID!, $q: String!) { corp(id: $c) { searchMembers(query: $q) { totalCount edges { node { id } } } } }'
COUNT = 'query($u: ID!) { node(id: $u) { ... on OrgUnit { memberCount } } }'


async def test_invisible_member_looks_exactly_like_a_missing_one(gql):
    corp, root = await f.corp()
    a = await f.unit(root, "甲", Scope.SUBDEPARTMENT)
    b = await f.unit(root, "乙")
    viewer = await f.member([a], name="观察者")
    hidden = await f.member([b], name="欧阳隐")
    tok = f.token(viewer)
    missing = f.gid("Member", 987_654_321)
    invisible = f.gid("Member", hidden.id)

    assert await gql(NODE, {"id": missing}, tok) == await gql(NODE, {"id": invisible}, tok) == {"data": {"node": None}}
    listed = await gql.ok(LIST, {"c": f.gid("Corp", corp.id)}, tok)
    ids = [e["node"]["id"] for e in listed["corp"]["members"]["edges"]]
    assert invisible not in ids and listed["corp"]["members"]["totalCount"] == 1
    found = await gql.ok(SEARCH, {"c": f.gid("Corp", corp.id), "q": "欧阳"}, tok)
    assert found["corp"]["searchMembers"] == {"totalCount": 0, "edges": []}
    found = await gql.ok(SEARCH, {"c": f.gid("Corp", corp.id), "q": "oy"}, tok)
    assert found["corp"]["searchMembers"]["totalCount"] == 0
    count = await gql.ok(COUNT, {"u": f.gid("OrgUnit", root.id)}, tok)
    assert count["node"]["memberCount"] == 1


async def test_foreign_corp_and_its_units_look_missing(gql):
    corp, root = await f.corp()
    other, other_root = await f.corp()
    viewer = await f.member([root])
    tok = f.token(viewer)
    for gid in (f.gid("Corp", other.id), f.gid("OrgUnit", other_root.id), f.gid("Corp", 987_654_321)):
        assert await gql(NODE, {"id": gid}, tok) == {"data": {"node": None}}
    assert await gql('query($c: ID!) { corp(id: $c) { name } }', {"c": f.gid("Corp", other.id)}, tok) == {
        "data": {"corp": None}
    }


async def test_anonymous_sees_nothing(gql):
    corp, root = await f.corp()
    m = await f.member([root])
    assert await gql(NODE, {"id": f.gid("Member", m.id)}) == {"data": {"node": None}}
    corp_query = 'query($c: ID!) { corp(id: $c) { name } }'
    answer = await gql(corp_query, {"c": f.gid("Corp", corp.id)})
    assert answer["data"] == {"corp": None} and "errors" not in answer
    # The no-token hint it carries is word for word the one a corp that does not exist gets.
    assert answer == await gql(corp_query, {"c": f.gid("Corp", 987_654_321)})
