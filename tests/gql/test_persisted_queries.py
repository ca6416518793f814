"""Persisted queries: documents named by their sha256 (Apollo's extension or `id`), unknown
ids refused with PERSISTED_QUERY_NOT_FOUND, viewer kinds bound to the safelist, and the
`chaingate persisted build` command that writes the manifest."""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from websockets.asyncio.client import connect

from chaingate_cli.main import main as cli
from gql.persisted import ManifestError
from models.settings import get_settings
from tests import factories as f
from tests.gateway import app_token
from tests.servers import in_process_ws_url
from web.app import create_app

VIEWER_KIND = "query ViewerKind { viewer { kind } }"
CORP_NAME = "query CorpName { viewer { corp { name } } }"
CREATE_UNIT = 'mutation CreateUnit($p: ID!) { createOrgUnit(input: {parentId: $p, name: "持久部"}) { userErrors { code } } }'
FREE = "query Free { viewer { kind } }"  # never in the manifest
SUBSCRIPTION = "subscription Job($id: ID!) { importJob(id: $id) { status } }"


def sha(document: str) -> str:
    return hashlib.sha256(document.encode()).hexdigest()


def persisted(document: str) -> dict[str, Any]:
    return {"persistedQuery": {"version": 1, "sha256Hash": sha(document)}}


def write(path: Path, *documents: str) -> Path:
    path.write_text(json.dumps({sha(d): d for d in documents}), encoding="utf-8")
    return path


@pytest.fixture
def manifest(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = write(tmp_path / "persisted.json", VIEWER_KIND, CORP_NAME, CREATE_UNIT, SUBSCRIPTION)
    monkeypatch.setattr(get_settings(), "persisted_queries", str(path))
    return path


@pytest.fixture
def persisted_only(monkeypatch: pytest.MonkeyPatch, manifest: Path) -> None:
    monkeypatch.setattr(get_settings(), "persisted_only", "APP,PERSON")


async def post(client: httpx.AsyncClient, body: dict[str, Any], token: str | None = None) -> httpx.Response:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return await client.post("/graphql", json=body, headers=headers)


def codes(response: httpx.Response) -> list[str]:
    return [e["extensions"]["code"] for e in response.json().get("errors") or []]


async def test_a_safelisted_document_runs_by_its_apollo_hash(client, manifest):
    response = await post(client, {"extensions": persisted(VIEWER_KIND)})
    assert response.json() == {"data": {"viewer": {"kind": "ANONYMOUS"}}}


async def test_a_safelisted_document_runs_by_id_over_post_and_get_with_variables(client, manifest):
    corp, root = await f.corp("持久企业")
    token = f.token(await f.super_admin(root))
    by_id = await post(client, {"id": sha(CORP_NAME)}, token)
    assert by_id.json() == {"data": {"viewer": {"corp": {"name": corp.name}}}}
    get_id = await client.get("/graphql", params={"id": sha(CORP_NAME)}, headers={"Authorization": f"Bearer {token}"})
    assert get_id.json() == by_id.json()
    get_ext = await client.get("/graphql", params={"extensions": json.dumps(persisted(VIEWER_KIND))})
    assert get_ext.json() == {"data": {"viewer": {"kind": "ANONYMOUS"}}}
    mutation = await post(client, {"id": sha(CREATE_UNIT), "variables": {"p": f.gid("OrgUnit", root.id)}}, token)
    assert mutation.json() == {"data": {"createOrgUnit": {"userErrors": []}}}


async def test_a_persisted_mutation_is_still_refused_over_get(client, manifest):
    response = await client.get("/graphql", params={"id": sha(CREATE_UNIT), "variables": '{"p": "x"}'})
    assert response.status_code == 405 and response.headers["allow"] == "POST"


async def test_an_unknown_id_is_refused_with_persisted_query_not_found(client, manifest, monkeypatch):
    unknown = sha(FREE)
    for response in (
        await post(client, {"id": unknown}),
        await post(client, {"extensions": {"persistedQuery": {"version": 1, "sha256Hash": unknown}}}),
        await client.get("/graphql", params={"id": unknown}),
    ):
        assert response.status_code == 200 and response.json()["data"] is None
        [error] = response.json()["errors"]
        assert error["extensions"] == {"code": "PERSISTED_QUERY_NOT_FOUND"}
        assert unknown in error["message"]
    # A gateway without a manifest knows no id either (an Apollo client then sends the text).
    monkeypatch.setattr(get_settings(), "persisted_queries", None)
    assert codes(await post(client, {"id": sha(VIEWER_KIND)})) == ["PERSISTED_QUERY_NOT_FOUND"]


async def test_a_hash_must_be_the_hash_of_the_document_sent_with_it(client, manifest):
    mismatch = await post(client, {"query": FREE, "extensions": persisted(VIEWER_KIND)})
    assert codes(mismatch) == ["BAD_REQUEST"] and "not the SHA-256" in mismatch.json()["errors"][0]["message"]
    # Text and its own hash: Apollo's retry after PERSISTED_QUERY_NOT_FOUND, fine for a free caller.
    retried = await post(client, {"query": FREE, "extensions": persisted(FREE)})
    assert retried.json() == {"data": {"viewer": {"kind": "ANONYMOUS"}}}


@pytest.mark.parametrize("body", [
    {"extensions": {"persistedQuery": {"version": 2, "sha256Hash": "0" * 64}}},
    {"extensions": {"persistedQuery": {"version": 1, "sha256Hash": "XYZ"}}},
    {"extensions": {"persistedQuery": "0" * 64}},
    {"id": 12345},
])
async def test_malformed_persisted_query_requests_are_bad_requests(client, manifest, body):
    response = await post(client, body)
    assert codes(response) == ["BAD_REQUEST"], response.json()


async def test_kinds_bound_to_the_safelist_run_only_its_documents(client, persisted_only):
    corp, root = await f.corp()
    member = f.token(await f.member([root]))
    app, _ = await app_token(corp, "directory:read")
    person = f.person_token(f.unique_mobile())
    for bound in (app, person):
        refused = await post(client, {"query": FREE}, bound)
        assert refused.status_code == 200 and codes(refused) == ["PERSISTED_QUERY_REQUIRED"]
        assert refused.json()["data"] is None
        assert codes(await post(client, {"id": sha(VIEWER_KIND)}, bound)) == []
        # The exact text of a safelisted document is the same document.
        assert codes(await post(client, {"query": VIEWER_KIND}, bound)) == []
        # Not even introspection or a typo gets past: refused before validation.
        assert codes(await post(client, {"query": "{ __schema { types { nam } } }"}, bound)) == [
            "PERSISTED_QUERY_REQUIRED"
        ]
    # Kinds not listed keep sending their own documents.
    assert (await post(client, {"query": FREE}, member)).json() == {"data": {"viewer": {"kind": "MEMBER"}}}
    assert (await post(client, {"query": FREE})).json() == {"data": {"viewer": {"kind": "ANONYMOUS"}}}


async def test_a_replaced_manifest_is_read_without_a_restart(client, manifest):
    assert codes(await post(client, {"id": sha(FREE)})) == ["PERSISTED_QUERY_NOT_FOUND"]
    replacement = write(manifest.with_name("next.json"), VIEWER_KIND, FREE)
    os.replace(replacement, manifest)
    assert (await post(client, {"id": sha(FREE)})).json() == {"data": {"viewer": {"kind": "ANONYMOUS"}}}
    assert codes(await post(client, {"id": sha(CORP_NAME)})) == ["PERSISTED_QUERY_NOT_FOUND"]


async def test_a_manifest_broken_while_serving_is_an_internal_error_masked_and_logged(client, manifest, caplog):
    manifest.write_text("{ half a file", encoding="utf-8")
    response = await post(client, {"id": sha(VIEWER_KIND)})
    [error] = response.json()["errors"]
    assert error["message"] == "Internal server error."
    assert error["extensions"] == {"code": "INTERNAL_SERVER_ERROR", "requestId": response.headers["x-request-id"]}
    assert any(response.headers["x-request-id"] in r.getMessage() for r in caplog.records if r.name == "chaingate.errors")


def test_configuration_mistakes_stop_the_server_at_start(monkeypatch, tmp_path):
    settings = get_settings()
    monkeypatch.setattr(settings, "persisted_only", "APP,ROBOT")
    with pytest.raises(ManifestError, match="ROBOT"):
        create_app(manage_db=False)
    monkeypatch.setattr(settings, "persisted_only", "APP")
    with pytest.raises(ManifestError, match="CHAINGATE_PERSISTED_QUERIES"):
        create_app(manage_db=False)
    tampered = tmp_path / "tampered.json"
    tampered.write_text(json.dumps({sha(VIEWER_KIND): FREE}))
    monkeypatch.setattr(settings, "persisted_queries", str(tampered))
    with pytest.raises(ManifestError, match="does not hash"):
        create_app(manage_db=False)
    monkeypatch.setattr(settings, "persisted_queries", str(tmp_path / "missing.json"))
    with pytest.raises(ManifestError, match="cannot read"):
        create_app(manage_db=False)


# --- websockets: the same rule for subscriptions ---------------------------------------


@pytest.fixture
async def ws_url(database: str) -> AsyncIterator[str]:
    async with in_process_ws_url() as url:
        yield url


async def first_answer(url: str, token: str, query: str) -> dict[str, Any]:
    async with connect(url, subprotocols=["graphql-transport-ws"]) as ws:  # type: ignore[list-item]
        await ws.send(json.dumps({"type": "connection_init", "payload": {"Authorization": f"Bearer {token}"}}))
        assert json.loads(await ws.recv())["type"] == "connection_ack"
        await ws.send(json.dumps({"id": "1", "type": "subscribe",
                                  "payload": {"query": query, "variables": {"id": "SW1wb3J0Sm9iOjA="}}}))
        return dict(json.loads(await asyncio.wait_for(ws.recv(), 10)))


async def test_a_bound_app_cannot_subscribe_with_a_free_document(ws_url, persisted_only):
    corp, _ = await f.corp()
    app, _ = await app_token(corp, "directory:read")
    free = "subscription FreeJob($id: ID!) { importJob(id: $id) { status rowsDone } }"
    refused = await first_answer(ws_url, app, free)
    assert refused["type"] in ("error", "next"), refused
    errors = refused["payload"] if refused["type"] == "error" else refused["payload"]["errors"]
    assert [e["extensions"]["code"] for e in errors] == ["PERSISTED_QUERY_REQUIRED"]
    allowed = await first_answer(ws_url, app, SUBSCRIPTION)
    assert allowed == {"id": "1", "type": "next", "payload": {"data": {"importJob": None}}}


# --- chaingate persisted build ---------------------------------------------------------


async def test_persisted_build_writes_the_manifest_the_gateway_serves(client, tmp_path, monkeypatch, capsys):
    (tmp_path / "src" / "nested").mkdir(parents=True)
    (tmp_path / "src" / "viewer.graphql").write_text(VIEWER_KIND + "\n", encoding="utf-8")
    (tmp_path / "src" / "nested" / "corp.gql").write_text(CORP_NAME, encoding="utf-8")
    (tmp_path / "src" / "README.md").write_text("not a document")
    output = tmp_path / "out" / "persisted.json"
    assert cli(["persisted", "build", str(tmp_path / "src"), "--output", str(output)]) == 0
    written = json.loads(output.read_text(encoding="utf-8"))
    assert written == {sha(VIEWER_KIND + "\n"): VIEWER_KIND + "\n", sha(CORP_NAME): CORP_NAME}
    assert sha(CORP_NAME) in capsys.readouterr().out
    monkeypatch.setattr(get_settings(), "persisted_queries", str(output))
    response = await post(client, {"id": sha(VIEWER_KIND + "\n")})
    assert response.json() == {"data": {"viewer": {"kind": "ANONYMOUS"}}}


def test_persisted_build_refuses_documents_the_gateway_would_refuse(tmp_path, capsys):
    docs = {
        "broken.graphql": "query Broken { viewer { kind }",
        "unknown.graphql": "query Unknown { viewer { nickname } }",
        "anonymous.graphql": "{ viewer { kind } }",
        "fragments.graphql": "fragment K on Viewer { kind }",
        "costly.graphql": "query Costly { viewer { corp { members(first: 100) { edges { node { "
                          "colleagues: corp { members(first: 100) { edges { node { name } } } } } } } } } }",
        "fine.graphql": VIEWER_KIND,
    }
    for name, text in docs.items():
        (tmp_path / name).write_text(text, encoding="utf-8")
    output = tmp_path / "persisted.json"
    assert cli(["persisted", "build", str(tmp_path), "--output", str(output)]) == 1
    assert not output.exists()
    problems = capsys.readouterr().err
    for name in ("broken", "unknown", "anonymous", "fragments", "costly"):
        assert f"{name}.graphql" in problems, name
    assert "fine.graphql" not in problems
    assert "nickname" in problems and "name each operation" in problems and "cost" in problems
    assert cli(["persisted", "build", str(tmp_path / "nowhere")]) == 1
