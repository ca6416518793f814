"""Webhooks (SPEC §3.9): a super admin subscribes an app token's endpoint; the worker posts each
change that token may see, signed per Standard Webhooks, retried after a failure, logged; a
revoked token's messages stop at once. Against a real HTTP server on loopback (a thread of this
process), and a real `chaingate worker` process for the end-to-end run."""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from gql.feed import webhooks as feed_webhooks
from models import Member, WebhookDelivery
from models.enums import AppScope
from models.settings import get_settings
from tests import factories as f
from tests.flows.test_job_worker import wait_for, worker_process
from tests.gateway import app_token

pytestmark = pytest.mark.usefixtures("database")

CREATE = """
mutation($input: CreateWebhookSubscriptionInput!) { createWebhookSubscription(input: $input) {
  secret webhookSubscription { id url events } userErrors { code field message } } }"""
DELETE = """
mutation($input: DeleteWebhookSubscriptionInput!) { deleteWebhookSubscription(input: $input) {
  deletedId userErrors { code field } } }"""
REVOKE = """
mutation($id: ID!) { revokeAppToken(input: {id: $id}) { userErrors { code } } }"""
LOG = """
query($id: ID!) { node(id: $id) { ... on WebhookSubscription {
  url deliveries(first: 50) { edges { node { messageId eventType status attempts lastStatusCode } } } } } }"""


@dataclass
class Received:
    headers: dict[str, str]
    body: bytes


@dataclass
class Endpoint:
    """A receiver on 127.0.0.1: answers 500 to the first `fail_first` posts, then 204."""

    url: str
    received: list[Received] = field(default_factory=list)
    fail_first: int = 0

    def verified(self, secret: str) -> list[dict[str, Any]]:
        """Every body received, each after checking its Standard Webhooks signature."""
        return [Webhook(secret).verify(r.body, r.headers) for r in self.received]


@contextmanager
def endpoint(fail_first: int = 0) -> Iterator[Endpoint]:
    state = Endpoint("", fail_first=fail_first)

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 (http.server's name)
            body = self.rfile.read(int(self.headers["content-length"]))
            state.received.append(Received({k.lower(): v for k, v in self.headers.items()}, body))
            code = 500 if len(state.received) <= state.fail_first else 204
            self.send_response(code)
            self.send_header("content-length", "0")
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state.url = f"http://127.0.0.1:{server.server_address[1]}/hook"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


@pytest.fixture
def private_allowed(monkeypatch: pytest.MonkeyPatch) -> None:
    # The receiver is on loopback: allowed here as an operator would allow a LAN receiver.
    monkeypatch.setattr(get_settings(), "webhook_allow_private", True)
    monkeypatch.setattr(get_settings(), "webhook_retry_seconds", 0.05)


async def subscribe(gql: Any, admin: Member, token_row: Any, url: str, events: list[str] | None = None) -> tuple[str, str]:
    data = await gql.ok(CREATE, {"input": {"appTokenId": f.gid("AppToken", token_row.id), "url": url,
                                           "events": events or []}}, f.token(admin))
    out = data["createWebhookSubscription"]
    assert out["userErrors"] == [], out
    assert out["secret"].startswith("whsec_")
    return out["webhookSubscription"]["id"], out["secret"]


async def rounds_until(check: Any, what: str, timeout: float = 30) -> None:
    async with httpx.AsyncClient(timeout=5, trust_env=False) as client:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            await feed_webhooks.run_round(client)
            if check():
                return
            await asyncio.sleep(0.05)
    pytest.fail(f"timed out waiting for {what}")


async def test_a_worker_process_posts_signed_changes_cut_to_the_token_and_retries_after_a_500(
    gql: Any, private_allowed: None
) -> None:
    corp, root = await f.corp()
    admin = await f.super_admin(root)
    member = await f.member([root], name="王五")
    _, row = await app_token(corp, AppScope.DIRECTORY_READ.value)  # no fields:sensitive
    with endpoint(fail_first=1) as receiver:
        sub_id, secret = await subscribe(gql, admin, row, receiver.url, ["member.updated", "member.created"])
        await Member.filter(id=member.id).update(position="总监", mobile=f.unique_mobile())
        await Member.filter(id=member.id).update(mobile=f.unique_mobile())  # withheld from the token: no news
        newcomer = await f.member([root], name="赵六")
        env = {"CHAINGATE_WEBHOOK_ALLOW_PRIVATE": "1", "CHAINGATE_WEBHOOK_RETRY_SECONDS": "0.2"}
        with worker_process(**env):
            await wait_for(_async(lambda: len(receiver.received) >= 3), "a failed post, its retry and the next message")
            # The receiver answers before the worker records the answer: stop the worker only
            # once both deliveries are logged as delivered.
            await wait_for(lambda: _all_delivered(row.id, 2), "both deliveries logged as delivered")
        bodies = receiver.verified(secret)
    # The first message failed (500) and came again: same webhook-id, signed afresh.
    ids = [r.headers["webhook-id"] for r in receiver.received]
    assert ids.count(ids[0]) == 2 and len(set(ids)) == 2
    updated = next(b for b in bodies if b["type"] == "member.updated")
    data = updated["data"]
    assert data["node"]["id"] == f.gid("Member", member.id) and data["changedFields"] == ["position"]
    assert data["node"]["mobile"] is None and "mobile" in data["node"]["hiddenFields"]
    assert data["feed"] == f.gid("Corp", corp.id)
    created = next(b for b in bodies if b["type"] == "member.created")
    assert created["data"]["node"]["id"] == f.gid("Member", newcomer.id)
    # A forged or altered body fails the receiver's check.
    first = receiver.received[-1]
    with pytest.raises(WebhookVerificationError):
        Webhook(secret).verify(first.body.replace(b'"type"', b'"typo"'), first.headers)
    # The super admin reads the delivery log.
    log = (await gql.ok(LOG, {"id": sub_id}, f.token(admin)))["node"]["deliveries"]["edges"]
    by_type = {e["node"]["eventType"]: e["node"] for e in log}
    assert by_type["member.updated"]["status"] == "DELIVERED" and by_type["member.updated"]["attempts"] == 2
    assert by_type["member.created"]["attempts"] == 1 and by_type["member.created"]["lastStatusCode"] == 204
    # Nobody else reads it: not the member, not the app itself.
    assert (await gql.ok(LOG, {"id": sub_id}, f.token(member)))["node"] is None


async def _all_delivered(app_token_id: int, n: int) -> bool:
    statuses = await WebhookDelivery.filter(subscription__app_token_id=app_token_id).values_list("status", flat=True)
    return len(statuses) == n and set(statuses) == {"DELIVERED"}


def _async(value: Any) -> Any:
    async def check() -> Any:
        return value() if callable(value) else value
    return check


async def test_a_revoked_token_s_messages_stop_at_once(gql: Any, private_allowed: None) -> None:
    corp, root = await f.corp()
    admin = await f.super_admin(root)
    member = await f.member([root])
    _, row = await app_token(corp, AppScope.DIRECTORY_READ.value)
    with endpoint(fail_first=10**6) as receiver:  # never accepts: messages stay pending
        sub_id, _ = await subscribe(gql, admin, row, receiver.url)
        await Member.filter(id=member.id).update(position="甲")
        await rounds_until(lambda: len(receiver.received) >= 1, "a first (failed) attempt")
        assert (await gql.ok(REVOKE, {"id": f.gid("AppToken", row.id)}, f.token(admin)))["revokeAppToken"] == {
            "userErrors": []}
        seen = len(receiver.received)
        await Member.filter(id=member.id).update(position="乙")
        async with httpx.AsyncClient(timeout=5, trust_env=False) as client:
            for _ in range(10):
                await feed_webhooks.run_round(client)
                await asyncio.sleep(0.06)  # past the retry backoff
        assert len(receiver.received) == seen
    rows = await WebhookDelivery.filter(subscription__app_token_id=row.id)
    assert rows and {d.status for d in rows} == {"CANCELLED"}
    log = (await gql.ok(LOG, {"id": sub_id}, f.token(admin)))["node"]["deliveries"]["edges"]
    assert {e["node"]["status"] for e in log} == {"CANCELLED"}


async def test_only_http_urls_and_no_private_addresses_by_default(gql: Any) -> None:
    corp, root = await f.corp()
    admin = await f.super_admin(root)
    _, row = await app_token(corp, AppScope.DIRECTORY_READ.value)
    for url, code in [("ftp://example.com/x", "INVALID_URL"), ("file:///etc/passwd", "INVALID_URL"),
                      ("gopher://127.0.0.1:6379/_", "INVALID_URL"), ("http://user:pw@example.com/", "INVALID_URL"),
                      ("http://127.0.0.1:8080/hook", "PRIVATE_ADDRESS"), ("http://10.0.0.5/hook", "PRIVATE_ADDRESS"),
                      ("http://[::1]/hook", "PRIVATE_ADDRESS"), ("http://169.254.169.254/latest", "PRIVATE_ADDRESS"),
                      ("http://localhost/hook", "PRIVATE_ADDRESS")]:
        data = await gql.ok(CREATE, {"input": {"appTokenId": f.gid("AppToken", row.id), "url": url}}, f.token(admin))
        out = data["createWebhookSubscription"]
        assert out["webhookSubscription"] is None and [e["code"] for e in out["userErrors"]] == [code], url
    bad = await gql.ok(CREATE, {"input": {"appTokenId": f.gid("AppToken", row.id), "url": "https://example.com/h",
                                          "events": ["member.exploded"]}}, f.token(admin))
    assert [e["code"] for e in bad["createWebhookSubscription"]["userErrors"]] == ["UNKNOWN_EVENT"]


async def test_only_the_corp_s_super_admin_subscribes_and_deletes(gql: Any, private_allowed: None) -> None:
    corp, root = await f.corp()
    admin = await f.super_admin(root)
    member = await f.member([root])
    other_corp, other_root = await f.corp()
    other_admin = await f.super_admin(other_root)
    _, row = await app_token(corp, AppScope.DIRECTORY_READ.value)
    for who in (member, other_admin):
        data = await gql.ok(CREATE, {"input": {"appTokenId": f.gid("AppToken", row.id), "url": "http://127.0.0.1/h"}},
                            f.token(who))
        assert [e["code"] for e in data["createWebhookSubscription"]["userErrors"]] == ["NOT_FOUND"]
    sub_id, _ = await subscribe(gql, admin, row, "http://127.0.0.1:9/h")
    gone = await gql.ok(DELETE, {"input": {"id": sub_id}}, f.token(other_admin))
    assert [e["code"] for e in gone["deleteWebhookSubscription"]["userErrors"]] == ["NOT_FOUND"]
    gone = await gql.ok(DELETE, {"input": {"id": sub_id}}, f.token(admin))
    assert gone["deleteWebhookSubscription"] == {"deletedId": sub_id, "userErrors": []}
    assert (await gql.ok(LOG, {"id": sub_id}, f.token(admin)))["node"] is None
    _, revoked = await app_token(corp, AppScope.DIRECTORY_READ.value, revoked_at=__import__("datetime").datetime.now(
        __import__("datetime").timezone.utc))
    data = await gql.ok(CREATE, {"input": {"appTokenId": f.gid("AppToken", revoked.id), "url": "http://127.0.0.1/h"}},
                        f.token(admin))
    assert [e["code"] for e in data["createWebhookSubscription"]["userErrors"]] == ["TOKEN_INACTIVE"]


async def test_a_policy_change_becomes_one_resync_message_and_deliveries_go_on(gql: Any, private_allowed: None) -> None:
    corp, root = await f.corp()
    admin = await f.super_admin(root)
    member = await f.member([root])
    _, row = await app_token(corp, AppScope.DIRECTORY_READ.value)
    with endpoint() as receiver:
        _, secret = await subscribe(gql, admin, row, receiver.url)
        from models import FieldSetting
        await FieldSetting.create(corp=corp, field="position", visible_to_members=False, self_editable=False)
        await rounds_until(lambda: len(receiver.received) >= 1, "the resync message")
        await Member.filter(id=member.id).update(name="新名字")
        await rounds_until(lambda: len(receiver.received) >= 2, "the next change")
        bodies = receiver.verified(secret)
    assert [b["type"] for b in bodies] == ["sync.resync_required", "member.updated"]
    assert bodies[0]["data"] == {"feed": f.gid("Corp", corp.id), "reason": "RESYNC_REQUIRED"}
    assert bodies[1]["data"]["changedFields"] == ["name"] and json.dumps(bodies[1], ensure_ascii=False).count("新名字") == 1
