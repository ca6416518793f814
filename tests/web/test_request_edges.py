"""The edges of a request: whose address it comes from, who may send a file, which
operation of a document runs, and how long a list it may ask for or send.

- The client address is the TCP peer's unless the peer is a proxy the operator named
  (CHAINGATE_TRUSTED_PROXIES), proven on real `chaingate serve` processes: uvicorn's own
  default believed X-Forwarded-For from 127.0.0.1.
- A GraphQL multipart body is refused before it is read unless the caller may import.
- A document of several operations without operationName is an error (GraphQL spec).
- Every size argument of a list field is bounded and counted in the cost (the schema is
  walked for them), and every list a client sends is bounded.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from graphql import (
    GraphQLEnumType,
    GraphQLInputObjectType,
    GraphQLInterfaceType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    build_client_schema,
    get_introspection_query,
    get_named_type,
    parse,
)
from websockets.asyncio.client import connect

from gql.protection.limits import (
    LIST_INPUT_BOUNDS,
    MAX_LIST_INPUT,
    POSITION_ARGUMENTS,
    SIZE_ARGUMENTS,
    measure,
)
from gql.schema import schema
from models import Member
from models.settings import get_settings
from tests import factories as f
from tests.gateway import api, app_token, bearer
from tests.servers import (
    child_database_url,
    free_port,
    in_process_ws_url,
    running,
    serve_command,
)

VIEWER = "{ viewer { kind } }"

# --- the client address: named proxies only ----------------------------------------


def budget_env(trusted_proxies: str) -> dict[str, str]:
    """Two anonymous requests per address, then 429 (the bucket refills over ~17 minutes)."""
    return {
        "DATABASE_URL": child_database_url(), "REDIS_URL": "", "CHAINGATE_TRUSTED_PROXIES": trusted_proxies,
        "CHAINGATE_ANON_RATE_LIMIT": "0.001", "CHAINGATE_ANON_RATE_BURST": "2",
    }


async def statuses(url: str, headers: list[dict[str, str]]) -> list[int]:
    async with httpx.AsyncClient(base_url=url, timeout=10) as c:
        return [(await c.post("/graphql", json={"query": VIEWER}, headers=h)).status_code for h in headers]


async def logged_clients(server: Any, count: int) -> list[str]:
    """The `client` of the first `count` access-log lines for /graphql (a line is written
    just after its response, so the last one may need a moment)."""
    deadline = time.monotonic() + 10
    while True:
        lines = [json.loads(line) for line in server.log_lines() if line.startswith("{")]
        clients = [r["client"] for r in lines if r.get("logger") == "chaingate.access" and r.get("path") == "/graphql"]
        if len(clients) >= count or time.monotonic() > deadline:
            return clients
        await asyncio.sleep(0.1)


async def test_serve_trusts_no_forwarded_header_unless_proxies_are_named(database):
    # Each request claims another address, the way uvicorn's default let any loopback client
    # pick its own rate-limit key; all three are one client, the TCP peer.
    spoofed = [
        {"X-Forwarded-For": "203.0.113.1"},
        {"X-Forwarded-For": "203.0.113.2", "Forwarded": "for=203.0.113.2"},
        {"Forwarded": "for=203.0.113.3", "X-Forwarded-For": "198.51.100.3, 127.0.0.1"},
    ]
    async with running([serve_command(free_port())], budget_env("")) as [server]:
        assert await statuses(server.url, spoofed) == [200, 200, 429]
        assert await logged_clients(server, 3) == ["127.0.0.1"] * 3


async def test_serve_reads_x_forwarded_for_from_a_named_proxy(database):
    async with running([serve_command(free_port())], budget_env("10.9.0.0/16, 127.0.0.1")) as [server]:
        # Each real client has its own budget; the rightmost address that is not a trusted
        # proxy is the client, whatever the client wrote further left.
        first = await statuses(server.url, [
            {"X-Forwarded-For": "203.0.113.1"},
            {"X-Forwarded-For": "203.0.113.2"},
            {"X-Forwarded-For": "203.0.113.1"},
            {"X-Forwarded-For": "198.51.100.7, 203.0.113.1, 10.9.4.4"},
        ])
        assert first == [200, 200, 200, 429]
        assert await logged_clients(server, 4) == ["203.0.113.1", "203.0.113.2", "203.0.113.1", "203.0.113.1"]


def test_a_bad_trusted_proxy_entry_stops_the_app_at_start(monkeypatch):
    from web.app import create_app

    monkeypatch.setattr(get_settings(), "trusted_proxies", "10.0.0.1, proxy.local")
    with pytest.raises(ValueError, match="'proxy.local' is not an IP address or network"):
        create_app(manage_db=False)


# --- uploads: importers only, refused before the body is read ---------------------


class StreamedUpload:
    """A multipart body handed out in chunks as the server asks for them; `pulled` counts
    the bytes the server took."""

    boundary = "edgeboundary"

    def __init__(self, file_bytes: int) -> None:
        operations = json.dumps({"query": "mutation($f: Upload) { __typename }", "variables": {"f": None}})
        head = (
            f'--{self.boundary}\r\nContent-Disposition: form-data; name="operations"\r\n\r\n{operations}\r\n'
            f'--{self.boundary}\r\nContent-Disposition: form-data; name="map"\r\n\r\n{{"0": ["variables.f"]}}\r\n'
            f'--{self.boundary}\r\nContent-Disposition: form-data; name="0"; filename="a.csv"\r\n'
            "Content-Type: text/csv\r\n\r\n"
        ).encode()
        self.body = head + b"x" * file_bytes + f"\r\n--{self.boundary}--\r\n".encode()
        self.pulled = 0

    @property
    def headers(self) -> dict[str, str]:
        return {"Content-Type": f"multipart/form-data; boundary={self.boundary}",
                "Content-Length": str(len(self.body))}

    async def chunks(self) -> AsyncIterator[bytes]:
        for i in range(0, len(self.body), 65536):
            chunk = self.body[i:i + 65536]
            self.pulled += len(chunk)
            yield chunk


async def send_upload(client: httpx.AsyncClient, upload: StreamedUpload, token: str | None) -> httpx.Response:
    return await client.post("/graphql", content=upload.chunks(), headers={**upload.headers, **bearer(token)})


def refusal(response: httpx.Response) -> tuple[int, str]:
    body = response.json()
    assert body["data"] is None and len(body["errors"]) == 1, body
    return response.status_code, body["errors"][0]["extensions"]["code"]


async def test_multipart_from_anyone_who_may_not_import_is_refused_unread(database):
    corp, root = await f.corp()
    member = await f.member([root])
    reader_app, _ = await app_token(corp, "directory:read")
    callers = {
        None: (401, "UNAUTHENTICATED"),
        f.person_token(f.unique_mobile()): (403, "FORBIDDEN"),
        f.token(member): (403, "FORBIDDEN"),  # a member who administers nothing
        reader_app: (403, "FORBIDDEN"),  # an app without an import scope
    }
    async with api() as c:
        for token, expected in callers.items():
            upload = StreamedUpload(8 * 1024 * 1024)
            response = await send_upload(c, upload, token)
            assert refusal(response) == expected
            assert upload.pulled == 0


async def test_upload_caps_are_per_viewer_kind_and_refused_from_the_declared_length(database, monkeypatch):
    monkeypatch.setattr(get_settings(), "max_upload_bytes", 4 * 1024 * 1024)
    monkeypatch.setattr(get_settings(), "app_max_upload_bytes", 1024 * 1024)
    corp, root = await f.corp()
    admin = f.token(await f.super_admin(root))
    importer_app, _ = await app_token(corp, "directory:read", "directory:write")
    async with api() as c:
        app_upload = StreamedUpload(2 * 1024 * 1024)
        too_large_for_an_app = await send_upload(c, app_upload, importer_app)
        member_upload = StreamedUpload(2 * 1024 * 1024)
        within_a_members_cap = await send_upload(c, member_upload, admin)
        over_every_cap = StreamedUpload(5 * 1024 * 1024)
        refused_before_auth = await send_upload(c, over_every_cap, "not-even-a-token")
    assert refusal(too_large_for_an_app) == (413, "BAD_REQUEST")
    assert too_large_for_an_app.json()["errors"][0]["extensions"]["allowed"] == 1024 * 1024
    assert app_upload.pulled == 0
    assert within_a_members_cap.status_code == 200, within_a_members_cap.text
    assert member_upload.pulled == len(member_upload.body)
    assert refusal(refused_before_auth) == (413, "BAD_REQUEST")
    assert over_every_cap.pulled == 0


# --- several operations need operationName ------------------------------------------

TWO_OPERATIONS = "query Kind { viewer { kind } } query Corp { viewer { corp { name } } }"


def says_which_operation(body: dict[str, Any]) -> bool:
    errors = body.get("errors") or []
    return (
        body.get("data") is None and len(errors) == 1 and errors[0]["extensions"]["code"] == "BAD_REQUEST"
        and "operationName" in errors[0]["message"]
    )


async def test_several_operations_without_operation_name_are_an_error(database, tmp_path: Path, monkeypatch):
    from tests.gql.test_persisted_queries import sha

    manifest = tmp_path / "persisted.json"
    manifest.write_text(json.dumps({sha(TWO_OPERATIONS): TWO_OPERATIONS}), encoding="utf-8")
    monkeypatch.setattr(get_settings(), "persisted_queries", str(manifest))
    persisted = {"persistedQuery": {"version": 1, "sha256Hash": sha(TWO_OPERATIONS)}}
    async with api() as c:
        post = await c.post("/graphql", json={"query": TWO_OPERATIONS})
        get = await c.get("/graphql", params={"query": TWO_OPERATIONS})
        by_hash = await c.post("/graphql", json={"extensions": persisted})
        # A mutation second must not hide behind a query first, nor the other way round.
        mixed = await c.post("/graphql", json={"query": 'query A { __typename } mutation B { __typename }'})
        named = await c.post("/graphql", json={"query": TWO_OPERATIONS, "operationName": "Kind"})
        named_by_hash = await c.post("/graphql", json={"extensions": persisted, "operationName": "Kind"})
    for response in (post, get, by_hash, mixed):
        assert says_which_operation(response.json()), response.text
    for response in (named, named_by_hash):
        assert response.json() == {"data": {"viewer": {"kind": "ANONYMOUS"}}}


@pytest.fixture
async def ws_url(database: str) -> AsyncIterator[str]:
    async with in_process_ws_url() as url:
        yield url


async def test_several_subscriptions_without_operation_name_are_an_error_on_the_socket(ws_url):
    _, root = await f.corp()
    token = f.token(await f.super_admin(root))
    job = f.gid("ImportJob", 999_999_999)
    document = ("subscription A($id: ID!) { importJob(id: $id) { status } } "
                "subscription B($id: ID!) { importJob(id: $id) { rowsDone } }")
    async with connect(ws_url, subprotocols=["graphql-transport-ws"]) as ws:  # type: ignore[list-item]
        await ws.send(json.dumps({"type": "connection_init", "payload": {"Authorization": f"Bearer {token}"}}))
        assert json.loads(await ws.recv())["type"] == "connection_ack"
        await ws.send(json.dumps({"id": "1", "type": "subscribe",
                                  "payload": {"query": document, "variables": {"id": job}}}))
        message = json.loads(await asyncio.wait_for(ws.recv(), 30))
    errors = message["payload"] if message["type"] == "error" else message["payload"].get("errors")
    assert len(errors) == 1 and "operationName" in errors[0]["message"], message
    assert errors[0]["extensions"]["code"] == "BAD_REQUEST"


# --- list sizes: every size argument bounded and costed; every sent list bounded -------


def _unwrap(type_: Any) -> tuple[Any, bool]:
    is_list = False
    while isinstance(type_, (GraphQLNonNull, GraphQLList)):
        is_list = is_list or isinstance(type_, GraphQLList)
        type_ = type_.of_type
    return type_, is_list


def _is_connection(named: Any) -> bool:
    return isinstance(named, GraphQLObjectType) and named.name.endswith("Connection") and "edges" in named.fields


def _placeholder(type_: Any) -> str:
    """A literal of the argument's type, for required arguments the walk does not study."""
    named = get_named_type(type_)
    if isinstance(named, GraphQLEnumType):
        return next(iter(named.values))
    return {"Int": "0", "Boolean": "false", "Float": "0"}.get(named.name, '"x"')


def sized_field_document(client_schema: Any, parent: Any, name: str, argument: str, size: str) -> str:
    """A document reaching `parent.name(argument: size)`: from the root, or through
    `node(id:)` (an id that names nothing: the limits are decided before any row is read)."""
    definition = parent.fields[name]
    args = [f"{argument}: {size}"] + [
        f"{a}: {_placeholder(d.type)}" for a, d in definition.args.items()
        if a != argument and isinstance(d.type, GraphQLNonNull) and d.default_value is None
    ]
    named, _ = _unwrap(definition.type)
    selection = "{ edges { cursor } }" if _is_connection(named) else "{ __typename }" if hasattr(named, "fields") else ""
    field = f"{name}({', '.join(args)}) {selection}"
    if parent is client_schema.query_type:
        return f"{{ {field} }}"
    node = client_schema.get_type("Node")
    assert node in parent.interfaces, f"{parent.name}.{name}: no way to reach it in the walk (not a Node)"
    return f'{{ node(id: "{f.gid(parent.name, 999_999_999)}") {{ ... on {parent.name} {{ {field} }} }} }}'


async def introspected(client: httpx.AsyncClient, token: str) -> Any:
    response = await client.post("/graphql", json={"query": get_introspection_query()}, headers=bearer(token))
    return build_client_schema(response.json()["data"])


async def test_every_size_argument_of_a_list_field_is_bounded_and_costed(database):
    _, root = await f.corp()
    admin = f.token(await f.super_admin(root))  # admins may introspect
    async with api() as c:
        client_schema = await introspected(c, admin)
        walked = []
        for type_ in client_schema.type_map.values():
            if type_.name.startswith("__") or not isinstance(type_, (GraphQLObjectType, GraphQLInterfaceType)):
                continue
            for name, definition in type_.fields.items():
                named, is_list = _unwrap(definition.type)
                if not (is_list or _is_connection(named)):
                    continue
                for argument, arg_def in definition.args.items():
                    if get_named_type(arg_def.type).name != "Int":
                        continue
                    coordinate = f"{type_.name}.{name}({argument}:)"
                    assert argument in SIZE_ARGUMENTS or argument in POSITION_ARGUMENTS, (
                        f"{coordinate} sizes a list without a bound: name it in SIZE_ARGUMENTS"
                    )
                    if argument in POSITION_ARGUMENTS:
                        continue
                    largest = SIZE_ARGUMENTS[argument].largest
                    for size in (largest + 1, -1, 1_000_000):
                        document = sized_field_document(client_schema, type_, name, argument, str(size))
                        body = (await c.post("/graphql", json={"query": document}, headers=bearer(admin))).json()
                        assert body["data"] is None and body["errors"][0]["extensions"] == {
                            "code": "BAD_REQUEST", "limit": "page", "allowed": largest, "actual": size,
                            "argument": coordinate,
                        }, (document, body)
                    document = sized_field_document(client_schema, type_, name, argument, str(largest))
                    body = (await c.post("/graphql", json={"query": document}, headers=bearer(admin))).json()
                    assert not any("limit" in e.get("extensions", {}) for e in body.get("errors") or []), body
                    # Counted: the largest size costs (about) that many times the smallest.
                    costs = [
                        measure(schema._schema, parse(sized_field_document(client_schema, type_, name, argument, str(n))), {}).cost
                        for n in (1, largest)
                    ]
                    assert costs[1] - costs[0] >= largest - 1, (coordinate, costs)
                    walked.append(coordinate)
    assert {"ImportJob.errors(limit:)", "Corp.members(first:)", "ChainSpace.contacts(first:)"} <= set(walked)


JOB_ERRORS = "query($id: ID!, $n: Int!) { importJob(id: $id) { errors(limit: $n) { row code } } }"


async def test_import_job_errors_limit_is_bounded(database):
    from models import ImportJob, ImportJobError
    from models.enums import ImportJobStatus, ImportKind

    corp, root = await f.corp()
    admin = await f.super_admin(root)
    job = await ImportJob.create(
        corp=corp, kind=ImportKind.DIRECTORY, status=ImportJobStatus.FAILED, created_by=admin, actor_id=admin.id,
    )
    await ImportJobError.bulk_create(
        [ImportJobError(job_id=job.id, row=i, column=None, code="REQUIRED", message="x") for i in range(2, 700)]
    )
    async with api() as c:
        huge = (await c.post("/graphql", json={"query": JOB_ERRORS, "variables": {
            "id": f.gid("ImportJob", job.id), "n": 1_000_000}}, headers=bearer(f.token(admin)))).json()
        page = (await c.post("/graphql", json={"query": JOB_ERRORS, "variables": {
            "id": f.gid("ImportJob", job.id), "n": 500}}, headers=bearer(f.token(admin)))).json()
    assert huge["data"] is None and huge["errors"][0]["extensions"]["limit"] == "page", huge
    assert len(page["data"]["importJob"]["errors"]) == 500


MOVE = """mutation($ids: [ID!]!, $to: ID!) { moveMembers(input: {memberIds: $ids, toUnitId: $to}) {
  userErrors { code } } }"""
MOVE_INPUT = """mutation($input: MoveMembersInput!) { moveMembers(input: $input) { userErrors { code } } }"""


async def test_lists_sent_as_arguments_are_bounded_and_change_nothing(database):
    corp, root = await f.corp()
    admin = await f.super_admin(root)
    target = await f.unit(root, "目标部")
    mover = await f.member([root])
    ids = [f.gid("Member", mover.id)] * (MAX_LIST_INPUT + 1)
    statuses_literal = "[" + ", ".join(["ACTIVE"] * (MAX_LIST_INPUT + 1)) + "]"
    members = f'query($c: ID!) {{ corp(id: $c) {{ members(status: {statuses_literal}) {{ totalCount }} }} }}'
    rows = [{"name": "行", "account": f"r{i}"} for i in range(LIST_INPUT_BOUNDS["ImportDirectoryInput.rows"] + 1)]
    requests = {
        "MoveMembersInput.memberIds": (MOVE, {"ids": ids, "to": f.gid("OrgUnit", target.id)}),
        "MoveMembersInput.memberIds ": (MOVE_INPUT, {"input": {"memberIds": ids, "toUnitId": f.gid("OrgUnit", target.id)}}),
        "Corp.members(status:)": (members, {"c": f.gid("Corp", corp.id)}),
        "ImportDirectoryInput.rows": (
            "mutation($i: ImportDirectoryInput!) { importDirectory(input: $i) { userErrors { code } } }",
            {"i": {"corpId": f.gid("Corp", corp.id), "rows": rows}},
        ),
    }
    async with api() as c:
        for coordinate, (query, variables) in requests.items():
            body = (await c.post("/graphql", json={"query": query, "variables": variables},
                                 headers=bearer(f.token(admin)))).json()
            assert body["data"] is None, body
            extensions = body["errors"][0]["extensions"]
            assert extensions["code"] == "BAD_REQUEST" and extensions["limit"] == "list", body
            assert extensions["argument"] == coordinate.strip()
            assert extensions["actual"] == extensions["allowed"] + 1
    placements = await mover.placements.all().values_list("unit_id", flat=True)  # type: ignore[attr-defined]
    assert list(placements) == [root.id]
    assert not await Member.filter(corp=corp, account="r0").exists()


def test_sent_lists_are_counted_in_the_cost_and_every_named_bound_exists():
    one = measure(schema._schema, parse(MOVE), {"ids": ["a"], "to": "u"}).cost
    many = measure(schema._schema, parse(MOVE), {"ids": ["a"] * MAX_LIST_INPUT, "to": "u"}).cost
    assert many - one == MAX_LIST_INPUT - 1
    for coordinate in LIST_INPUT_BOUNDS:
        type_name, _, field_name = coordinate.partition(".")
        input_type = schema._schema.get_type(type_name)
        assert isinstance(input_type, GraphQLInputObjectType) and field_name in input_type.fields, coordinate
        assert _unwrap(input_type.fields[field_name].type)[1], coordinate
