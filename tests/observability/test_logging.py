"""Structured logs: one JSON line per request, carrying the request id that the response
echoes and that the audit trail keeps, so one id follows a request everywhere."""

from __future__ import annotations

import asyncio
import io
import json
import logging
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from models import AuditEvent
from observability.logs import json_formatter, request_fields
from tests import factories as f
from tests.servers import child_database_url, free_port, running, serve_command

CREATE_UNIT = """
mutation CreateUnit($p: ID!) { createOrgUnit(input: {parentId: $p, name: "日志部"}) { unit { id } userErrors { code } } }
"""

JsonLog = Callable[[], list[dict[str, Any]]]


@pytest.fixture
def json_log() -> Iterator[JsonLog]:
    """What the access and error loggers write, through the production JSON formatter."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(json_formatter())
    loggers = [logging.getLogger(name) for name in ("chaingate.access", "chaingate.errors")]
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.addHandler(handler)
        logger.setLevel(logging.DEBUG)
    try:
        yield lambda: [json.loads(line) for line in stream.getvalue().splitlines()]
    finally:
        for logger, level in zip(loggers, levels, strict=True):
            logger.removeHandler(handler)
            logger.setLevel(level)


async def test_a_requests_log_line_and_its_audit_event_carry_the_responses_request_id(client, json_log):
    corp, root = await f.corp()
    admin = await f.super_admin(root)
    response = await client.post(
        "/graphql", json={"query": CREATE_UNIT, "variables": {"p": f.gid("OrgUnit", root.id)}},
        headers={"Authorization": f"Bearer {f.token(admin)}"},
    )
    assert response.json()["data"]["createOrgUnit"]["userErrors"] == []
    request_id = response.headers["x-request-id"]  # made by the gateway: the client sent none
    assert len(request_id) == 32

    [line] = [entry for entry in json_log() if entry.get("request_id") == request_id]
    assert line["logger"] == "chaingate.access" and line["event"] == "request"
    assert (line["method"], line["route"], line["status"]) == ("POST", "/graphql", 200)
    assert (line["operation"], line["operation_type"]) == ("CreateUnit", "mutation")
    assert line["viewer"] == f"member:{admin.id}" and line["duration_ms"] > 0 and line["level"] == "info"

    [event] = await AuditEvent.filter(corp_id=corp.id, request_id=request_id)
    assert event.actor_id == admin.id and event.target_type == "OrgUnit"


async def test_a_clients_own_short_request_id_is_the_one_logged_and_audited(client, json_log):
    corp, root = await f.corp()
    admin = await f.super_admin(root)
    given = f"trace-{uuid.uuid4().hex[:12]}"
    response = await client.post(
        "/graphql", json={"query": CREATE_UNIT, "variables": {"p": f.gid("OrgUnit", root.id)}},
        headers={"Authorization": f"Bearer {f.token(admin)}", "X-Request-Id": given},
    )
    assert response.headers["x-request-id"] == given
    assert [e["event"] for e in json_log() if e.get("request_id") == given] == ["request"]
    assert await AuditEvent.filter(corp_id=corp.id, request_id=given).count() == 1


async def test_refusals_at_the_gate_are_logged_under_their_request_id(client, json_log):
    response = await client.post("/graphql", json={"query": "{ viewer { kind } }"},
                                 headers={"Authorization": "Bearer not-a-token"})
    assert response.status_code == 401
    [line] = [e for e in json_log() if e.get("request_id") == response.headers["x-request-id"]]
    assert line["status"] == 401 and "viewer" not in line and "operation" not in line


def test_every_line_written_during_a_request_carries_its_id_and_exceptions_stay_in_one_line():
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(json_formatter())
    logger = logging.getLogger("chaingate.test-logging")
    logger.addHandler(handler)
    try:
        with request_fields(request_id="req-1"):
            try:
                raise RuntimeError("disk on fire")
            except RuntimeError:
                logger.error("internal error in %s", "members", exc_info=True, extra={"corp": 7})
        logger.warning("after the request")
    finally:
        logger.removeHandler(handler)
    first, second = [json.loads(line) for line in stream.getvalue().splitlines()]
    assert first["request_id"] == "req-1" and first["event"] == "internal error in members" and first["corp"] == 7
    assert "RuntimeError: disk on fire" in first["exception"] and first["level"] == "error"
    assert "request_id" not in second


async def test_the_served_api_writes_json_lines_only(database):
    """`chaingate serve`, as an operator starts it: everything on stderr is one JSON object
    per line, uvicorn's own lines included, and a request's line has its id."""
    port = free_port()
    env = {"DATABASE_URL": child_database_url(), "CHAINGATE_DEV": "0", "REDIS_URL": ""}
    async with running([serve_command(port)], env) as [server]:
        async with httpx.AsyncClient() as http:
            response = await http.post(f"{server.url}/graphql", json={"query": "query Ping { __typename }"},
                                       headers={"X-Request-Id": "served-log-1"})
        assert response.headers["x-request-id"] == "served-log-1"
        # The line is written once the response has gone out: give the server a moment.
        for _ in range(50):
            lines = [json.loads(line) for line in server.log_lines()]
            if any(entry.get("request_id") == "served-log-1" for entry in lines):
                break
            await asyncio.sleep(0.05)
    assert any(entry["logger"].startswith("uvicorn") for entry in lines)
    [line] = [entry for entry in lines if entry.get("request_id") == "served-log-1"]
    assert (line["event"], line["status"], line["operation"]) == ("request", 200, "Ping")
    assert not any("color_message" in entry for entry in lines)


async def test_a_client_leaving_mid_body_is_no_error(database, json_log):
    """wrk and browsers drop connections mid-request: nothing to answer, nothing to log as an error."""
    from web.app import create_app

    app = create_app(manage_db=False)
    sent: list[dict[str, Any]] = []
    chunks = iter([{"type": "http.request", "body": b'{"query": "{ vi', "more_body": True}, {"type": "http.disconnect"}])

    async def receive() -> dict[str, Any]:
        return next(chunks)

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST", "scheme": "http",
        "path": "/graphql", "raw_path": b"/graphql", "query_string": b"", "root_path": "",
        "headers": [(b"content-type", b"application/json"), (b"host", b"test")],
        "client": ("127.0.0.1", 4321), "server": ("test", 80), "state": {},
    }
    await app(scope, receive, send)
    assert sent == []
    assert not [line for line in json_log() if line.get("level") in ("error", "critical")], json_log()
