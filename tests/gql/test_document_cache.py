"""Documents are parsed and validated once per text, never once for everybody: the
validation is kept per set of rules (introspection rights), the limits are measured per
text and variables (they depend on the variables), and a refused document is refused afresh."""

from __future__ import annotations

import pytest
import strawberry
import strawberry.schema.schema as strawberry_schema

from gql.protection import documents
from models.enums import AdminKind
from tests import factories as f
from tests.gateway import api, timed

INTROSPECT = "{ __schema { queryType { name } } }"
PAGE = "query($n: Int!) { viewer { corp { members(first: $n) { edges { node { name } } } } } }"
NESTED = """query($c: ID!, $n: Int!) { corp(id: $c) { members(first: $n) { edges { node {
  corp { members(first: $n) { edges { node { name mobile } } } } } } } } }"""


@pytest.fixture(autouse=True)
def empty_caches():
    documents.parsed.clear()
    documents.validated.clear()
    documents.checked.clear()
    yield


async def post(client, query, variables=None, token=None):
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return await timed(client.post("/graphql", json={"query": query, "variables": variables or {}}, headers=headers))


async def test_repeated_document_is_parsed_and_validated_once(database, monkeypatch):
    corp, root = await f.corp()
    m = await f.member([root])
    parses, validations = [], []
    real_parse, real_validate = strawberry_schema.parse, strawberry_schema.validate
    monkeypatch.setattr(strawberry_schema, "parse", lambda *a, **kw: parses.append(1) or real_parse(*a, **kw))
    monkeypatch.setattr(strawberry_schema, "validate", lambda *a, **kw: validations.append(1) or real_validate(*a, **kw))
    async with api() as c:
        bodies = [(await post(c, PAGE, {"n": n}, f.token(m))).body for n in (1, 5, 5)]
    assert all("errors" not in b for b in bodies), bodies
    assert bodies[0]["data"]["viewer"]["corp"]["members"]["edges"][0]["node"]["name"] == m.name
    assert (len(parses), len(validations)) == (1, 1)


async def test_introspection_validated_for_an_admin_is_refused_to_a_member(database):
    corp, root = await f.corp()
    member = await f.member([root])
    admin = await f.member([root])
    await f.grant(admin, AdminKind.SUPER_ADMIN)
    async with api() as c:
        first = await post(c, INTROSPECT, token=f.token(admin))
        refused = await post(c, INTROSPECT, token=f.token(member))
        again = await post(c, INTROSPECT, token=f.token(admin))
        refused_again = await post(c, INTROSPECT, token=f.token(member))
    assert first.body == again.body == {"data": {"__schema": {"queryType": {"name": "Query"}}}}
    for r in (refused, refused_again):
        assert r.codes == ["FORBIDDEN"] and r.body.get("data") is None, r.body


async def test_limits_are_measured_per_request_on_a_cached_document(database):
    corp, root = await f.corp()
    admin = await f.member([root])
    await f.grant(admin, AdminKind.SUPER_ADMIN)
    cid = str(strawberry.relay.GlobalID("Corp", str(corp.id)))
    async with api() as c:
        small = await post(c, NESTED, {"c": cid, "n": 2}, f.token(admin))
        large = await post(c, NESTED, {"c": cid, "n": 100}, f.token(admin))
    assert "errors" not in small.body, small.body
    assert large.codes == ["BAD_REQUEST"] and large.errors[0]["extensions"]["limit"] == "cost", large.body


async def test_invalid_document_is_validated_and_refused_every_time(database, monkeypatch):
    corp, root = await f.corp()
    m = await f.member([root])
    validations = []
    real_validate = strawberry_schema.validate
    monkeypatch.setattr(strawberry_schema, "validate", lambda *a, **kw: validations.append(1) or real_validate(*a, **kw))
    bad = "{ viewer { noSuchField } }"
    async with api() as c:
        answers = [await post(c, bad, token=f.token(m)) for _ in range(2)]
    for r in answers:
        assert r.codes == ["BAD_REQUEST"] and r.body.get("data") is None, r.body
        assert "noSuchField" in r.errors[0]["message"]
    assert len(validations) == 2


async def test_limits_are_measured_once_per_text_and_variables_and_refusals_every_time(database, monkeypatch):
    import gql.protection.extension as extension

    corp, root = await f.corp()
    admin = await f.member([root])
    await f.grant(admin, AdminKind.SUPER_ADMIN)
    cid = str(strawberry.relay.GlobalID("Corp", str(corp.id)))
    measured = []
    real_measure = extension.measure
    monkeypatch.setattr(extension, "measure", lambda *a, **kw: measured.append(a[2]) or real_measure(*a, **kw))
    async with api() as c:
        answers = [await post(c, NESTED, {"c": cid, "n": n}, f.token(admin)) for n in (2, 2, 3, 100, 100, 2)]
    assert [a.codes for a in answers] == [[], [], [], ["BAD_REQUEST"], ["BAD_REQUEST"], []], [a.body for a in answers]
    assert [v["n"] for v in measured] == [2, 3, 100, 100]
