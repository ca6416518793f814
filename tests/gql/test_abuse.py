"""The abuse battery (after graphql-cop): every crafted request is refused with a clear,
coded error before it can cost the gateway anything: the costly steps (graphql-core's
validation, execution) are shown not to run, rather than timed."""

from __future__ import annotations

import json
import logging

import pytest
import strawberry
from graphql import get_introspection_query

from auth.tokens import issue_person_token
from gql.context import make_context
from gql.protection.errors import MASKED_MESSAGE
from gql.protection.extension import PROTECTION_EXTENSIONS, ProtectedSchema
from gql.protection.limits import DEFAULT_LIMITS
from models import Corp
from models.enums import AdminKind, AdminRight, AppScope
from models.settings import get_settings
from permissions.loading import member_viewer
from tests import factories as f
from tests.gateway import api, app_token, bearer, timed

VIEWER = "{ viewer { kind } }"
ALIASES_101 = "{ " + " ".join(f"a{i}: viewer {{ kind }}" for i in range(101)) + " }"
DEEP = "{ viewer { corp { rootUnit { " + "children { " * 12 + "name" + " }" * 12 + " } } } }"
PARSER_BOMB = "{" + "viewer{" * 600 + "kind" + "}" * 600 + "}"
FRAGMENT_CYCLE = "query { ...A } fragment A on Query { viewer { kind } ...B } fragment B on Query { ...A }"
# Each fragment spreads the previous one twice: 2**60 leaves if walked naively.
FRAGMENT_FAN_OUT = "query { ...F60 } fragment F0 on Query { viewer { kind } } " + " ".join(
    f"fragment F{i} on Query {{ ...F{i - 1} ...F{i - 1} }}" for i in range(1, 61)
)
TOKEN_FLOOD = "{ viewer { " + "kind " * 2500 + "} }"
NESTED_PAGES = """
query($c: ID!) { corp(id: $c) { members(first: 100) { edges { node {
  corp { members(first: 100) { edges { node { name } } } } } } } } }"""
FULL_PAGE = """
query($c: ID!) { corp(id: $c) { members(first: 100) { totalCount edges { cursor node {
  id name mobile email position hiddenFields departments { isMain unit { id name } } } } } } }"""
CREATE_CORP = 'mutation { createCorp(input: {name: "经由GET创建的企业"}) { identity { corpId } } }'
PAGE_101 = "query($c: ID!) { corp(id: $c) { members(first: 101) { totalCount } } }"


def assert_refused(r, code="BAD_REQUEST", status=200, limit=None):
    assert r.status == status, r.body
    assert r.codes and set(r.codes) == {code}, r.body
    assert r.body.get("data") is None, r.body
    if limit is not None:
        assert r.errors[0]["extensions"]["limit"] == limit, r.body


@pytest.fixture
def validations(monkeypatch):
    """Counts graphql-core validation passes (each builds one ValidationContext): the step
    that repeated fields would stall, which a refused document must never reach."""
    import importlib

    # The module, not the function of the same name that graphql.validation exports.
    validate_module = importlib.import_module("graphql.validation.validate")
    calls = []
    real = validate_module.ValidationContext

    def counting(*args, **kwargs):
        calls.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(validate_module, "ValidationContext", counting)
    return calls


async def post(client, query, variables=None, token=None, **kw):
    return await timed(client.post("/graphql", json={"query": query, "variables": variables or {}},
                                   headers=bearer(token), **kw))


async def test_101_aliases_are_refused(database):
    async with api() as c:
        r = await post(c, ALIASES_101)
    assert_refused(r, limit="aliases")
    assert r.errors[0]["extensions"]["actual"] == 101
    assert "101 aliases" in r.errors[0]["message"]


async def test_aliases_up_to_the_limit_are_answered(database):
    query = "{ " + " ".join(f"a{i}: viewer {{ kind }}" for i in range(DEFAULT_LIMITS.max_aliases)) + " }"
    async with api() as c:
        r = await post(c, query)
    assert r.status == 200 and not r.errors and len(r.body["data"]) == DEFAULT_LIMITS.max_aliases


async def test_deep_nesting_is_refused_with_the_depth(database):
    async with api() as c:
        r = await post(c, DEEP)
    assert_refused(r, limit="depth")
    assert r.errors[0]["extensions"]["allowed"] == DEFAULT_LIMITS.max_depth
    assert r.errors[0]["extensions"]["actual"] > DEFAULT_LIMITS.max_depth


async def test_nesting_past_the_parser_is_refused(database):
    async with api() as c:
        r = await post(c, PARSER_BOMB)
    assert_refused(r, limit="depth")


async def test_fragment_cycle_is_refused(database):
    async with api() as c:
        r = await post(c, FRAGMENT_CYCLE)
    assert_refused(r)
    assert "within itself" in r.errors[0]["message"]


async def test_fragment_fan_out_is_costed_once_per_fragment_and_refused(database):
    async with api() as c:
        r = await post(c, FRAGMENT_FAN_OUT)
    assert_refused(r, limit="cost")
    assert r.errors[0]["extensions"]["actual"] >= 2**60


REPEATED_280 = "{ " + "viewer { corp { name } } " * 280 + "}"
# Five viewers holding five corps holding two root units: 50 merged root units.
MERGED_NESTING = "{ " + ("viewer { " + ("corp { " + "rootUnit { name } " * 2 + "} ") * 5 + "} ") * 5 + "}"


@pytest.mark.parametrize("query", [REPEATED_280, MERGED_NESTING], ids=["280 copies", "5x5x2 merged"])
async def test_repeated_fields_that_would_stall_validation_are_refused(database, query, validations):
    # graphql-core compares every pair of same-key fields, recursively: without this limit
    # these take it hundreds of milliseconds of CPU, within the token limit.
    async with api() as c:
        r = await post(c, query)
    assert_refused(r, limit="repeats")
    assert r.errors[0]["extensions"]["allowed"] == DEFAULT_LIMITS.max_repeats
    assert validations == [], "the refused document was validated by graphql-core"


async def test_the_validation_spy_sees_an_accepted_document(database, validations):
    # A text no other test sends: documents are validated once per text (gql/protection/
    # documents.py), so a text an earlier test sent would be answered without a validation.
    async with api() as c:
        r = await post(c, "query ValidationSpyProbe { viewer { kind } }")
    assert r.body == {"data": {"viewer": {"kind": "ANONYMOUS"}}} and validations


async def test_a_field_repeated_a_few_times_is_answered(database):
    query = "{ " + "viewer { kind } " * DEFAULT_LIMITS.max_repeats + "}"
    async with api() as c:
        r = await post(c, query)
    assert r.body == {"data": {"viewer": {"kind": "ANONYMOUS"}}}


async def test_token_flood_is_refused_by_the_parser(database):
    async with api() as c:
        r = await post(c, TOKEN_FLOOD)
    assert_refused(r, limit="tokens")
    assert f"more than {DEFAULT_LIMITS.max_tokens} tokens" in r.errors[0]["message"]


async def test_batched_array_is_refused(database):
    async with api() as c:
        r = await timed(c.post("/graphql", json=[{"query": VIEWER}, {"query": VIEWER}]))
    assert_refused(r, status=400)
    assert "Batching" in r.errors[0]["message"]


async def test_over_cost_query_is_refused_with_its_estimate(database):
    corp, root = await f.corp()
    admin = await f.super_admin(root)
    async with api() as c:
        r = await post(c, NESTED_PAGES, {"c": f.gid("Corp", corp.id)}, f.token(admin))
    assert_refused(r, limit="cost")
    ext = r.errors[0]["extensions"]
    assert ext["actual"] > ext["allowed"] == DEFAULT_LIMITS.max_cost
    assert "page sizes" in r.errors[0]["message"] and "first" in r.errors[0]["message"]


async def test_cost_follows_page_sizes_given_in_variables(database):
    corp, root = await f.corp()
    admin = await f.super_admin(root)
    query = NESTED_PAGES.replace("$c: ID!", "$c: ID!, $n: Int!").replace("first: 100", "first: $n")
    async with api() as c:
        small = await post(c, query, {"c": f.gid("Corp", corp.id), "n": 5}, f.token(admin))
        large = await post(c, query, {"c": f.gid("Corp", corp.id), "n": 100}, f.token(admin))
    assert small.status == 200 and not small.errors, small.body
    assert_refused(large, limit="cost")


async def test_a_full_page_of_members_is_within_the_cost_limit(database):
    corp, root = await f.corp()
    admin = await f.super_admin(root)
    async with api() as c:
        r = await post(c, FULL_PAGE, {"c": f.gid("Corp", corp.id)}, f.token(admin))
    assert r.status == 200 and not r.errors, r.body
    assert r.body["data"]["corp"]["members"]["totalCount"] == 1


async def test_page_size_over_100_is_refused(database):
    corp, root = await f.corp()
    admin = await f.super_admin(root)
    async with api() as c:
        r = await post(c, PAGE_101, {"c": f.gid("Corp", corp.id)}, f.token(admin))
    assert r.status == 200 and r.codes == ["BAD_REQUEST"], r.body
    assert "first must be between 0 and 100" in r.errors[0]["message"]


SUGGESTION_BAIT = [
    ("field", "{ viewer { isSuperAdmn } }"),
    ("argument", '{ corp(idd: "x") { name } }'),
    ("enum value", 'query($c: ID!) { corp(id: $c) { members(status: [ACTIVEE]) { totalCount } } }'),
    ("type", "query($x: Membr) { viewer { kind } }"),
]


@pytest.mark.parametrize(("what", "query"), SUGGESTION_BAIT, ids=[w for w, _ in SUGGESTION_BAIT])
async def test_no_did_you_mean_for_non_admins_but_admins_get_it(database, what, query):
    corp, root = await f.corp()
    member = await f.member([root])
    admin = await f.super_admin(root)
    variables = {"c": f.gid("Corp", corp.id)} if "$c" in query else {}
    async with api() as c:
        for token in (None, f.token(member)):
            r = await post(c, query, variables, token)
            assert_refused(r)
            assert all("Did you mean" not in e["message"] for e in r.errors), (what, r.body)
        r = await post(c, query, variables, f.token(admin))
    assert any("Did you mean" in e["message"] for e in r.errors), (what, r.body)


async def _introspection_viewers():
    corp, root = await f.corp()
    sales = await f.unit(root, "销售部")
    member = await f.member([root])
    super_admin = await f.super_admin(root)
    directory_admin = await f.member([root], name="分级管理员")
    await f.grant(directory_admin, AdminKind.DIRECTORY_ADMIN, unit_ids=[sales.id], rights=[AdminRight.READ.value])
    every_scope, _ = await app_token(corp, *(s.value for s in AppScope))
    return {
        "anonymous": None,
        "person": issue_person_token(f.unique_mobile()),
        "member": f.token(member),
        "app with every scope": every_scope,
        "directory admin": f.token(directory_admin),
        "super admin": f.token(super_admin),
    }


INTROSPECTION_ALLOWED = {"directory admin", "super admin"}


async def test_introspection_only_for_admins_outside_dev_mode(database):
    viewers = await _introspection_viewers()
    async with api() as c:
        for kind, token in viewers.items():
            r = await post(c, get_introspection_query(), token=token)
            if kind in INTROSPECTION_ALLOWED:
                assert r.status == 200 and not r.errors, (kind, r.body)
                assert r.body["data"]["__schema"]["queryType"]["name"] == "Query"
            else:
                assert_refused(r, code="FORBIDDEN")
                assert r.errors[0]["message"] == "Introspection is not available to this viewer.", kind
            probe = await post(c, '{ __type(name: "Member") { name } }', token=token)
            assert (not probe.errors) == (kind in INTROSPECTION_ALLOWED), (kind, probe.body)
            typename = await post(c, "{ __typename }", token=token)
            assert typename.body == {"data": {"__typename": "Query"}}, kind


async def test_introspection_follows_the_viewer_per_request(database):
    corp, root = await f.corp()
    m = await f.member([root])
    grant = await f.grant(m, AdminKind.SUPER_ADMIN)
    async with api() as c:
        assert not (await post(c, "{ __schema { queryType { name } } }", token=f.token(m))).errors
        await grant.delete()
        r = await post(c, "{ __schema { queryType { name } } }", token=f.token(m))
    assert_refused(r, code="FORBIDDEN")


async def test_dev_mode_opens_introspection_and_suggestions_to_anyone(database, monkeypatch):
    monkeypatch.setattr(get_settings(), "dev", True)
    async with api() as c:
        r = await post(c, "{ __schema { queryType { name } } }")
        hint = await post(c, "{ viewer { isSuperAdmn } }")
    assert r.body == {"data": {"__schema": {"queryType": {"name": "Query"}}}}
    assert "Did you mean 'isSuperAdmin'?" in hint.errors[0]["message"]


async def test_graphiql_is_served_only_where_introspection_is_allowed(database, monkeypatch):
    _, root = await f.corp()
    member = await f.member([root])
    admin = await f.super_admin(root)
    html = {"Accept": "text/html"}
    async with api() as c:
        anonymous = await timed(c.get("/graphql", headers=html))
        plain = await timed(c.get("/graphql", headers={**html, **bearer(f.token(member))}))
        by_admin = await timed(c.get("/graphql", headers={**html, **bearer(f.token(admin))}))
        monkeypatch.setattr(get_settings(), "dev", True)
        in_dev = await timed(c.get("/graphql", headers=html))
    for refused in (anonymous, plain):
        assert_refused(refused, status=400)
        assert refused.errors[0]["message"] == "No GraphQL query found in the request"
    for served in (by_admin, in_dev):
        assert served.status == 200 and "graphiql" in served.body.lower()


async def test_a_mutation_over_get_is_refused_and_never_runs(database):
    token = issue_person_token(f.unique_mobile())
    async with api() as c:
        r = await timed(c.get("/graphql", params={"query": CREATE_CORP}, headers=bearer(token)))
        query_over_get = await timed(c.get("/graphql", params={"query": VIEWER}, headers=bearer(token)))
    assert_refused(r, status=405)
    assert r.headers["allow"] == "POST"
    assert not await Corp.filter(name="经由GET创建的企业").exists()
    assert query_over_get.body == {"data": {"viewer": {"kind": "PERSON"}}}


async def test_form_encoded_and_plain_text_posts_are_refused(database):
    async with api() as c:
        form = await timed(c.post("/graphql", data={"query": VIEWER}))
        plain = await timed(c.post("/graphql", content=VIEWER, headers={"Content-Type": "text/plain"}))
    for r in (form, plain):
        assert_refused(r, status=400)
        assert r.errors[0]["message"] == "Unsupported content type"


async def importer_token() -> str:
    """Uploads are for importers only (test_request_edges.py): a super admin's token."""
    _, root = await f.corp()
    return f.token(await f.super_admin(root))


async def test_multipart_is_only_the_graphql_upload_request(database):
    auth = bearer(await importer_token())
    async with api() as c:
        no_operations = await timed(c.post("/graphql", files={"0": ("a.csv", b"x", "text/csv")}, headers=auth))
        bad_map = await timed(c.post("/graphql", data={"operations": json.dumps({"query": VIEWER}), "map": "{"},
                                     files={"0": ("a.csv", b"x", "text/csv")}, headers=auth))
        fine = await timed(c.post("/graphql", data={"operations": json.dumps({"query": VIEWER}), "map": "{}"},
                                  files={"0": ("a.csv", b"x", "text/csv")}, headers=auth))
    assert_refused(no_operations, status=400)
    assert_refused(bad_map, status=400)
    assert fine.body == {"data": {"viewer": {"kind": "MEMBER"}}}


async def test_an_oversized_upload_is_refused_at_the_upload_limit(database, monkeypatch):
    monkeypatch.setattr(get_settings(), "max_upload_bytes", 200_000)
    operations = {"operations": json.dumps({"query": VIEWER, "variables": {"file": None}}),
                  "map": json.dumps({"0": ["variables.file"]})}
    auth = bearer(await importer_token())
    async with api() as c:
        small = await timed(c.post("/graphql", data=operations, files={"0": ("a.csv", b"x" * 1000, "text/csv")},
                                   headers=auth))
        large = await timed(c.post("/graphql", data=operations, files={"0": ("a.csv", b"x" * 300_000, "text/csv")},
                                   headers=auth))
    assert small.status == 200, small.body
    assert_refused(large, status=413, limit="body")
    assert large.errors[0]["extensions"]["allowed"] == 200_000


async def test_an_oversized_body_is_refused_declared_or_streamed(database):
    limit = get_settings().max_body_bytes
    padding = json.dumps({"query": VIEWER, "variables": {"pad": "x" * limit}}).encode()

    async def chunks():
        for i in range(0, len(padding), 65536):
            yield padding[i:i + 65536]

    async with api() as c:
        declared = await timed(c.post("/graphql", content=padding, headers={"Content-Type": "application/json"}))
        streamed = await timed(c.post("/graphql", content=chunks(), headers={"Content-Type": "application/json"}))
    for r in (declared, streamed):
        assert_refused(r, status=413, limit="body")
        assert r.errors[0]["extensions"]["allowed"] == limit


MALFORMED_BODIES = {
    "number": b"123",
    "null": b"null",
    "string": b'"{ viewer { kind } }"',
    "invalid json": b"{ query",
    "invalid utf-8": b'{"query": "\xff\xfe"}',
    "deep json": b"[" * 100_000 + b"]" * 100_000,
    "too many digits": b'{"query": "{ viewer { kind } }", "variables": {"n": ' + b"9" * 10_000 + b"}}",
    "variables not an object": b'{"query": "{ viewer { kind } }", "variables": [1]}',
    "query not a string": b'{"query": 1}',
    "no query": b"{}",
}


@pytest.mark.parametrize("body", list(MALFORMED_BODIES.values()), ids=list(MALFORMED_BODIES))
async def test_malformed_bodies_are_bad_requests(database, body):
    async with api() as c:
        r = await timed(c.post("/graphql", content=body, headers={"Content-Type": "application/json"}))
    assert_refused(r, status=400)


async def test_a_non_numeric_content_length_is_a_bad_request(database):
    async with api() as c:
        r = await timed(c.post("/graphql", content=b"{}", headers={"Content-Type": "application/json",
                                                                      "Content-Length": "lots"}))
    assert_refused(r, status=400)


async def test_request_ids_are_echoed_and_only_short_tokens_are_taken_from_clients(database):
    async with api() as c:
        given = await c.post("/graphql", json={"query": VIEWER}, headers={"X-Request-Id": "abc-123"})
        forged = await c.post("/graphql", json={"query": VIEWER}, headers={"X-Request-Id": "x\r\ny" + "z" * 100})
        none = await c.post("/graphql", json={"query": VIEWER})
    assert given.headers["x-request-id"] == "abc-123"
    for r in (forged, none):
        assert len(r.headers["x-request-id"]) == 32 and r.headers["x-request-id"].isalnum()


# --- error masking (a schema of its own: the real schema has no resolver that fails on purpose)


@strawberry.type
class _FailingQuery:
    @strawberry.field
    def explode(self) -> str:
        raise RuntimeError("database password is hunter2")

    @strawberry.field
    def fine(self) -> str:
        return "ok"


FAILING_SCHEMA = ProtectedSchema(query=_FailingQuery, extensions=PROTECTION_EXTENSIONS)


async def test_internal_errors_are_masked_and_logged_with_the_request_id(database, caplog):
    context = make_context(await _any_member_viewer())
    with caplog.at_level(logging.ERROR, logger="chaingate.errors"):
        result = await FAILING_SCHEMA.execute("{ fine explode }", context_value=context)
    assert result.data is None  # `explode` is non-null: the whole answer goes
    [err] = result.errors
    assert err.message == MASKED_MESSAGE
    assert err.extensions == {"code": "INTERNAL_SERVER_ERROR", "requestId": context.origin.request_id}
    assert "hunter2" not in json.dumps(err.formatted)
    logged = [r for r in caplog.records if context.origin.request_id in r.getMessage()]
    assert logged and logged[0].exc_info and "hunter2" in str(logged[0].exc_info[1])


async def test_dev_mode_shows_internal_errors_still_coded(database, monkeypatch):
    monkeypatch.setattr(get_settings(), "dev", True)
    result = await FAILING_SCHEMA.execute("{ explode }", context_value=make_context(await _any_member_viewer()))
    [err] = result.errors
    assert err.message == "database password is hunter2"
    assert err.extensions["code"] == "INTERNAL_SERVER_ERROR"


async def _any_member_viewer():
    _, root = await f.corp()
    viewer = await member_viewer((await f.member([root])).id)
    assert viewer is not None
    return viewer
