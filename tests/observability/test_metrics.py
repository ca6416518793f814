"""/metrics: GraphQL operations by name, errors by code, HTTP requests by route, import job
durations; who may read them; and several worker processes adding up (multi-process mode)."""

from __future__ import annotations

import asyncio
import os
import time
from typing import Any

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from flows import directory_import, jobs
from models.settings import get_settings
from observability.metrics import MULTIPROC_ENV, OTHER, BoundedLabel, prepare_multiprocess_dir
from tests import factories as f
from tests.servers import child_database_url, free_port, running, uvicorn_command
from web.app import create_app

METRICS_TOKEN = "metrics-token-for-tests-0123456789abcdef"

PROBE = "query MetricsProbe { __typename }"
IMPORT = """
mutation MetricsImport($input: ImportDirectoryInput!) { importDirectory(input: $input) { job { id } userErrors { code } } }
"""

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


def parse(text: str) -> Samples:
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


@pytest.fixture
def metrics_token(monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setattr(get_settings(), "metrics_token", METRICS_TOKEN)
    return METRICS_TOKEN


async def scrape(client: httpx.AsyncClient, token: str = METRICS_TOKEN) -> Samples:
    response = await client.get("/metrics", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain")
    return parse(response.text)


async def post(client: httpx.AsyncClient, body: dict[str, Any], token: str | None = None) -> httpx.Response:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return await client.post("/graphql", json=body, headers=headers)


async def test_operations_are_counted_and_timed_by_name_and_type(client, metrics_token):
    before = await scrape(client)
    for _ in range(3):
        assert (await post(client, {"query": PROBE})).json() == {"data": {"__typename": "Query"}}
    await post(client, {"query": "{ __typename }"})
    after = await scrape(client)

    def delta(name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    probe = {"operation": "MetricsProbe", "type": "query"}
    assert delta("chaingate_graphql_operations_total", **probe) == 3
    assert delta("chaingate_graphql_operation_duration_seconds_count", **probe) == 3
    assert delta("chaingate_graphql_operation_duration_seconds_sum", **probe) > 0
    assert delta("chaingate_graphql_operations_total", operation="anonymous", type="query") == 1
    assert delta("chaingate_http_requests_total", route="/graphql", method="POST", status="200") == 4


async def test_errors_are_counted_by_code_wherever_they_are_refused(client, metrics_token):
    before = await scrape(client)
    await post(client, {"query": "{ viewer { kind "})  # syntax: BAD_REQUEST inside GraphQL
    await post(client, {"query": "{ __schema { types { name } } }"})  # FORBIDDEN to an anonymous caller
    await post(client, {"query": PROBE}, token="forged")  # UNAUTHENTICATED at the gate, HTTP 401
    await post(client, {"id": "0" * 64})  # PERSISTED_QUERY_NOT_FOUND
    after = await scrape(client)
    for code in ("BAD_REQUEST", "FORBIDDEN", "UNAUTHENTICATED", "PERSISTED_QUERY_NOT_FOUND"):
        assert value(after, "chaingate_errors_total", code=code) - value(before, "chaingate_errors_total", code=code) == 1, code


async def test_made_up_operation_names_never_become_labels(client, metrics_token):
    response = await post(client, {"query": "query Real { __typename }", "operationName": "InventedName"})
    assert response.json()["errors"][0]["extensions"]["code"] == "BAD_REQUEST"
    after = await scrape(client)
    assert not any(("operation", "InventedName") in labels for _, labels in after)
    assert value(after, "chaingate_graphql_operations_total", operation="unknown", type="unknown") >= 1


def test_label_values_are_bounded_per_process():
    label = BoundedLabel(limit=2)
    assert [label(v) for v in ("a", "b", "c", "a", "d", "b")] == ["a", "b", OTHER, "a", OTHER, "b"]


async def test_http_requests_are_counted_by_route_template_not_by_path(client, metrics_token):
    before = await scrape(client)
    for job in (11, 12):
        assert (await client.get(f"/imports/{job}/errors.xlsx")).status_code in (401, 404)
    assert (await client.get("/no/such/page")).status_code == 404
    after = await scrape(client)
    routes = {dict(labels).get("route") for name, labels in after if name == "chaingate_http_requests_total"}
    assert "/imports/{job_id}/errors.xlsx" in routes and "unmatched" in routes
    assert not any(route and "/11/" in route for route in routes)
    total = sum(
        value(after, "chaingate_http_request_duration_seconds_count", route=r)
        - value(before, "chaingate_http_request_duration_seconds_count", route=r)
        for r in ("/imports/{job_id}/errors.xlsx", "unmatched")
    )
    assert total == 3


async def test_import_job_durations_are_observed_by_kind_and_outcome(client, gql, metrics_token, monkeypatch):
    corp, root = await f.corp()
    admin = await f.super_admin(root)
    rows = [{"name": f"指标{i}", "account": f"metrics_{i}", "departments": "指标部"} for i in range(3)]
    variables = {"input": {"corpId": f.gid("Corp", corp.id), "mode": "UPSERT", "rows": rows}}
    await jobs.run_pending_jobs()  # jobs other tests queued must not count below
    before = await scrape(client)
    assert (await gql.ok(IMPORT, variables, f.token(admin)))["importDirectory"]["userErrors"] == []
    await jobs.run_pending_jobs()

    async def crash(*_: Any, **__: Any) -> None:
        raise RuntimeError("disk full")

    monkeypatch.setattr(directory_import.Importer, "apply", crash)
    assert (await gql.ok(IMPORT, variables, f.token(admin)))["importDirectory"]["userErrors"] == []
    await jobs.run_pending_jobs()
    after = await scrape(client)
    name = "chaingate_import_job_duration_seconds_count"
    for outcome in ("succeeded", "crashed"):
        labels = {"kind": "DIRECTORY", "outcome": outcome}
        assert value(after, name, **labels) - value(before, name, **labels) == 1, outcome
    assert value(after, "chaingate_import_job_duration_seconds_sum", kind="DIRECTORY", outcome="succeeded") > 0


async def test_metrics_answer_only_the_bearer_of_their_token_outside_dev_mode(client, monkeypatch):
    settings = get_settings()
    monkeypatch.setattr(settings, "dev", False)
    monkeypatch.setattr(settings, "metrics_token", None)
    assert (await client.get("/metrics")).status_code == 404  # no token configured: not served at all
    monkeypatch.setattr(settings, "metrics_token", METRICS_TOKEN)
    for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": METRICS_TOKEN}):
        refused = await client.get("/metrics", headers=headers)
        assert refused.status_code == 401 and refused.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    assert (await client.get("/metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN}"})).status_code == 200
    monkeypatch.setattr(settings, "metrics_token", None)
    monkeypatch.setattr(settings, "dev", True)
    assert (await client.get("/metrics")).status_code == 200  # dev mode: open, for a developer's own machine


def test_a_short_metrics_token_stops_the_server_at_start(monkeypatch):
    monkeypatch.setattr(get_settings(), "metrics_token", "short")
    with pytest.raises(ValueError, match="at least 32"):
        create_app(manage_db=False)


def test_serve_gives_several_workers_a_fresh_directory_to_add_up_in(monkeypatch, tmp_path):
    # Set, then removed: the monkeypatch then also removes what prepare_multiprocess_dir sets.
    monkeypatch.setenv(MULTIPROC_ENV, str(tmp_path))
    monkeypatch.delenv(MULTIPROC_ENV)
    assert prepare_multiprocess_dir(1) is None and MULTIPROC_ENV not in os.environ
    created = prepare_multiprocess_dir(2)
    assert created is not None and os.environ[MULTIPROC_ENV] == created and os.path.isdir(created)
    os.rmdir(created)
    # A directory the operator chose is emptied of old samples only, whatever the worker count.
    (tmp_path / "counter_123.db").write_bytes(b"old")
    (tmp_path / "notes.txt").write_text("keep")
    monkeypatch.setenv(MULTIPROC_ENV, str(tmp_path))
    assert prepare_multiprocess_dir(1) == str(tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.txt"]


async def test_worker_processes_add_up_in_multiprocess_mode(database, tmp_path):
    """Two server processes sharing PROMETHEUS_MULTIPROC_DIR, as `serve --workers 2` runs
    them: whichever answers /metrics reports the requests both served."""
    env = {"DATABASE_URL": child_database_url(), "CHAINGATE_DEV": "1", "REDIS_URL": "", MULTIPROC_ENV: str(tmp_path)}
    async with running([uvicorn_command(free_port()), uvicorn_command(free_port())], env) as servers:
        async with httpx.AsyncClient() as http:
            for i in range(5):
                response = await http.post(f"{servers[i % 2].url}/graphql", json={"query": PROBE})
                assert response.status_code == 200
            # A request is counted once its response has gone out, so the client may read the
            # answer before the server counts it: scrape until both processes have counted all
            # five (bounded; the assertions below decide).
            deadline = time.monotonic() + 30
            while True:
                scraped = [parse((await http.get(f"{s.url}/metrics")).text) for s in servers]
                done = all(
                    value(s, "chaingate_http_requests_total", route="/graphql", method="POST", status="200") >= 5
                    for s in scraped
                )
                if done or time.monotonic() > deadline:
                    break
                await asyncio.sleep(0.05)
    for samples in scraped:
        assert value(samples, "chaingate_graphql_operations_total", operation="MetricsProbe", type="query") == 5
        assert value(samples, "chaingate_http_requests_total", route="/graphql", method="POST", status="200") == 5
    assert len(list(tmp_path.glob("*.db"))) >= 2  # one sample file per process (and metric kind)
