"""The notification outbox dispatcher, against a real HTTP receiver on a local port.

Every test dispatches at its own moment in the past (`clock`), earlier than every test
before it: rows that other flows (and earlier tests) leave in the shared outbox are never
due at that moment, so the tests neither send nor disturb them.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import itertools
import json
import logging
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from flows.notifications import (
    MAX_ATTEMPTS,
    LogSender,
    SenderConfigError,
    WebhookSender,
    backoff,
    dispatch_due,
    given_up_q,
    outbox_counts,
    sender_from_settings,
    verify_signature,
)
from models import Notification
from models.settings import Settings
from tests import factories as f

SECRET = "webhook-test-secret-0123456789abcdef-0123456789"
_epochs = itertools.count()


@pytest.fixture
def clock(database: str) -> datetime:
    """A moment no earlier test used, before all of them (see the module docstring)."""
    return datetime(2000, 1, 1, tzinfo=UTC) - timedelta(days=30 * next(_epochs))


@dataclass
class Received:
    headers: dict[str, str]
    body: bytes

    @property
    def json(self) -> dict:
        return json.loads(self.body)


@dataclass
class Receiver:
    """A webhook endpoint on 127.0.0.1: records each request and answers `status(n)` for the n-th."""

    status: Callable[[int], int] = lambda n: 200
    delay: float = 0.0
    requests: list[Received] = field(default_factory=list)
    url: str = ""

    def __post_init__(self) -> None:
        self._lock = threading.Lock()

    def ids(self) -> list[int]:
        return [r.json["id"] for r in self.requests]


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    rec = Receiver()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            with rec._lock:
                rec.requests.append(Received(dict(self.headers.items()), body))
                n = len(rec.requests)
            if rec.delay:
                time.sleep(rec.delay)
            code = rec.status(n)
            answer = b"ok" if code < 300 else b"receiver says no"
            self.send_response(code)
            self.send_header("Content-Length", str(len(answer)))
            self.end_headers()
            self.wfile.write(answer)

        def log_message(self, format: str, *args: object) -> None:
            return None

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    rec.url = f"http://127.0.0.1:{server.server_address[1]}/hooks/chaingate"
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield rec
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


async def outbox_row(due_at: datetime, kind: str = "invitation", **payload: object) -> Notification:
    return await Notification.create(
        kind=kind,
        recipient_mobile=f.unique_mobile(),
        payload=payload or {"chain": "华东精密供应链", "url": "https://example.test/i/abc"},
        due_at=due_at,
    )


def webhook(rec: Receiver) -> WebhookSender:
    return WebhookSender(rec.url, SECRET, timeout=5)


# --- webhook: signature and body -------------------------------------------------------

async def test_webhook_posts_json_signed_with_hmac_over_timestamp_and_raw_body(receiver, clock):
    row = await outbox_row(clock, kind="invitation", chain="华东精密供应链", group="经销商")
    async with webhook(receiver) as sender:
        result = await dispatch_due(sender, now=clock)
    assert result.sent == [row.id]
    (req,) = receiver.requests
    stamp = req.headers["X-Chaingate-Timestamp"]
    # Recomputed here from the documented format, not with the module's own helper.
    expected = hmac.new(SECRET.encode(), stamp.encode() + b"." + req.body, hashlib.sha256).hexdigest()
    assert req.headers["X-Chaingate-Signature"] == f"sha256={expected}"
    assert abs(int(stamp) - time.time()) < 60
    assert req.headers["X-Chaingate-Delivery"] == str(row.id)
    assert req.headers["Content-Type"].startswith("application/json")
    assert req.json["kind"] == "invitation" and req.json["payload"] == {"chain": "华东精密供应链", "group": "经销商"}
    assert req.json["recipient"]["mobile"] == row.recipient_mobile and req.json["attempt"] == 1
    assert verify_signature(SECRET, req.body, stamp, req.headers["X-Chaingate-Signature"])
    # The timestamp is part of the signed material: neither it nor the body can be swapped.
    assert not verify_signature(SECRET, req.body.replace(b"invitation", b"reminder"), stamp, req.headers["X-Chaingate-Signature"])
    assert not verify_signature(SECRET, req.body, str(int(stamp) + 1), req.headers["X-Chaingate-Signature"])
    assert not verify_signature("another-secret-0123456789abcdef-0123456789", req.body, stamp, req.headers["X-Chaingate-Signature"])
    assert not verify_signature(SECRET, req.body, stamp, req.headers["X-Chaingate-Signature"], now=int(stamp) + 3600)
    await row.refresh_from_db()
    assert row.sent_at == clock and row.attempts == 1 and row.last_error is None


async def test_rows_not_yet_due_are_left_alone(receiver, clock):
    later = await outbox_row(clock + timedelta(hours=1))
    async with webhook(receiver) as sender:
        assert (await dispatch_due(sender, now=clock)).claimed == 0
        assert (await dispatch_due(sender, now=clock + timedelta(hours=1))).sent == [later.id]
    assert receiver.ids() == [later.id]


# --- failures: backoff, giving up ------------------------------------------------------

async def test_a_500_is_retried_with_exponential_backoff_until_delivered(receiver, clock):
    receiver.status = lambda n: 500 if n <= 2 else 204
    row = await outbox_row(clock)
    async with webhook(receiver) as sender:
        first = await dispatch_due(sender, now=clock)
        assert first.retrying == [row.id] and first.sent == []
        await row.refresh_from_db()
        assert row.sent_at is None and row.attempts == 1 and row.due_at == clock + timedelta(seconds=30)
        assert row.last_error.startswith("HTTP 500") and "receiver says no" in row.last_error

        # Not before its backoff has passed.
        assert (await dispatch_due(sender, now=clock + timedelta(seconds=29))).claimed == 0
        second = await dispatch_due(sender, now=clock + timedelta(seconds=30))
        assert second.retrying == [row.id]
        await row.refresh_from_db()
        assert row.attempts == 2 and row.due_at == clock + timedelta(seconds=30 + 60)

        assert (await dispatch_due(sender, now=clock + timedelta(seconds=89))).claimed == 0
        third = await dispatch_due(sender, now=clock + timedelta(seconds=90))
        assert third.sent == [row.id]
    await row.refresh_from_db()
    assert row.sent_at == clock + timedelta(seconds=90) and row.attempts == 3 and row.last_error is None
    assert receiver.ids() == [row.id] * 3
    assert [r.json["attempt"] for r in receiver.requests] == [1, 2, 3]


def test_backoff_doubles_from_30_seconds_and_is_capped_at_an_hour():
    assert [backoff(n).total_seconds() for n in range(1, 9)] == [30, 60, 120, 240, 480, 960, 1920, 3600]
    assert backoff(10_000) == timedelta(hours=1)


async def test_gives_up_after_max_attempts_and_never_picks_the_row_again(receiver, clock):
    receiver.status = lambda n: 500
    row = await outbox_row(clock)
    moment = clock
    outcomes = []
    async with webhook(receiver) as sender:
        for _ in range(MAX_ATTEMPTS):
            result = await dispatch_due(sender, now=moment)
            outcomes.append((result.retrying, result.gave_up))
            moment += timedelta(hours=2)  # past any backoff
        # Given up: later runs, however late, leave it alone.
        assert (await dispatch_due(sender, now=moment + timedelta(days=365))).claimed == 0
    assert outcomes == [([row.id], [])] * (MAX_ATTEMPTS - 1) + [([], [row.id])]
    assert len(receiver.requests) == MAX_ATTEMPTS == 10
    await row.refresh_from_db()
    assert row.sent_at is None and row.attempts == MAX_ATTEMPTS
    assert row.last_error.startswith("gave up after 10 attempts: HTTP 500")
    assert await Notification.filter(given_up_q(), id=row.id).exists()


async def test_a_lower_max_attempts_gives_up_sooner(receiver, clock):
    receiver.status = lambda n: 500
    row = await outbox_row(clock)
    async with webhook(receiver) as sender:
        assert (await dispatch_due(sender, now=clock, max_attempts=2)).retrying == [row.id]
        assert (await dispatch_due(sender, now=clock + timedelta(hours=2), max_attempts=2)).gave_up == [row.id]
        assert (await dispatch_due(sender, now=clock + timedelta(days=9), max_attempts=2)).claimed == 0
    await row.refresh_from_db()
    assert row.last_error.startswith("gave up after 2 attempts") and len(receiver.requests) == 2
    assert await Notification.filter(given_up_q(2), id=row.id).exists()
    assert not await Notification.filter(given_up_q(), id=row.id).exists()  # a higher limit would try again


async def test_outbox_counts_tell_due_waiting_sent_and_given_up(receiver, clock):
    receiver.status = lambda n: 500 if n == 1 else 200
    before = await outbox_counts(clock, max_attempts=1)
    failing, delivered = await outbox_row(clock), await outbox_row(clock)
    await outbox_row(clock + timedelta(days=1))
    assert await outbox_counts(clock, max_attempts=1) == {**before, "due": before["due"] + 2, "waiting": before["waiting"] + 1}
    async with webhook(receiver) as sender:
        result = await dispatch_due(sender, now=clock, max_attempts=1, concurrency=1)
    assert result.gave_up == [failing.id] and result.sent == [delivered.id]
    after = await outbox_counts(clock, max_attempts=1)
    assert after == {**before, "waiting": before["waiting"] + 1, "sent": before["sent"] + 1, "given_up": before["given_up"] + 1}


async def test_a_network_error_is_a_failed_attempt_with_backoff(clock):
    with socket.socket() as s:  # a port with nobody listening
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    row = await outbox_row(clock)
    async with WebhookSender(f"http://127.0.0.1:{port}/", SECRET, timeout=2) as sender:
        result = await dispatch_due(sender, now=clock)
    assert result.retrying == [row.id]
    await row.refresh_from_db()
    assert row.sent_at is None and row.attempts == 1 and row.due_at == clock + timedelta(seconds=30)
    assert row.last_error.startswith("ConnectError")


async def test_a_redirect_is_not_followed_and_counts_as_a_failure(receiver, clock):
    receiver.status = lambda n: 307
    row = await outbox_row(clock)
    async with webhook(receiver) as sender:
        assert (await dispatch_due(sender, now=clock)).retrying == [row.id]
    await row.refresh_from_db()
    assert row.last_error.startswith("HTTP 307") and len(receiver.requests) == 1


# --- concurrency ----------------------------------------------------------------------

async def test_concurrent_dispatchers_never_send_a_row_twice(receiver, clock):
    receiver.delay = 0.02  # slow answers: the dispatchers overlap while they wait
    rows = [await outbox_row(clock) for _ in range(24)]
    senders = [webhook(receiver) for _ in range(3)]
    for s in senders:
        await s.__aenter__()
    try:
        results = await asyncio.gather(*(dispatch_due(s, now=clock, limit=24, concurrency=4) for s in senders))
    finally:
        for s in senders:
            await s.__aexit__(None, None, None)
    wanted = sorted(r.id for r in rows)
    assert sorted(receiver.ids()) == wanted  # every row exactly once
    assert sorted(i for r in results for i in r.sent) == wanted
    assert await Notification.filter(id__in=wanted, attempts=1, sent_at__isnull=False).count() == len(wanted)


# --- the log sender and configuration ------------------------------------------------

async def test_log_sender_writes_one_structured_line_per_message_with_the_mobile_masked(caplog, clock):
    a = await outbox_row(clock, kind="reminder", day=3)
    b = await outbox_row(clock, kind="approval-request", corp="恒通金属")
    with caplog.at_level(logging.INFO, logger="chaingate.notifications"):
        async with LogSender() as sender:
            result = await dispatch_due(sender, now=clock)
    assert sorted(result.sent) == sorted([a.id, b.id])
    lines = [r for r in caplog.records if r.name == "chaingate.notifications" and r.getMessage().startswith("notification ")]
    assert len(lines) == 2
    logged = {json.loads(r.getMessage().removeprefix("notification "))["id"]: r for r in lines}
    line = json.loads(logged[a.id].getMessage().removeprefix("notification "))
    assert line["kind"] == "reminder" and line["payload"] == {"day": 3}
    assert line["recipient"]["mobile"] == a.recipient_mobile[:-8] + "****" + a.recipient_mobile[-4:]
    assert a.recipient_mobile not in logged[a.id].getMessage()
    assert logged[b.id].notification["payload"] == {"corp": "恒通金属"}  # structured, for JSON log handlers


def test_the_webhook_is_chosen_when_a_url_is_configured_and_needs_a_secret():
    assert isinstance(sender_from_settings(Settings()), LogSender)
    hook = sender_from_settings(Settings(CHAINGATE_WEBHOOK_URL="https://hooks.example.test/x", CHAINGATE_WEBHOOK_SECRET=SECRET))
    assert isinstance(hook, WebhookSender) and hook.url == "https://hooks.example.test/x"
    with pytest.raises(SenderConfigError):
        sender_from_settings(Settings(CHAINGATE_WEBHOOK_URL="https://hooks.example.test/x"))


# --- the command line -----------------------------------------------------------------

def test_cli_dispatches_once_and_in_a_loop_until_terminated(receiver):
    """`chaingate notifications dispatch` against its own migrated SQLite file."""
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "outbox.sqlite3"
        env = {
            **os.environ,
            "DATABASE_URL": f"sqlite://{db}",
            "CHAINGATE_WEBHOOK_URL": receiver.url,
            "CHAINGATE_WEBHOOK_SECRET": SECRET,
        }
        cli = [sys.executable, "-m", "chaingate_cli.main"]
        subprocess.run([*cli, "migrate"], env=env, check=True, capture_output=True, timeout=120)

        def insert(kind: str) -> None:
            with sqlite3.connect(db) as conn:
                conn.execute(
                    "INSERT INTO notification (kind, recipient_mobile, payload, due_at, attempts, created_at)"
                    " VALUES (?, ?, ?, ?, 0, ?)",
                    (kind, "+8613900000001", json.dumps({"k": kind}), "2001-01-01 00:00:00+00:00", "2001-01-01 00:00:00+00:00"),
                )
            conn.close()

        insert("invitation")
        unsigned = {k: v for k, v in env.items() if k != "CHAINGATE_WEBHOOK_SECRET"}
        refused = subprocess.run([*cli, "notifications", "dispatch"], env=unsigned, capture_output=True, text=True, timeout=120)
        assert refused.returncode == 2 and "CHAINGATE_WEBHOOK_SECRET" in refused.stderr and receiver.requests == []

        once = subprocess.run([*cli, "notifications", "dispatch"], env=env, capture_output=True, text=True, timeout=120)
        assert once.returncode == 0, once.stderr
        assert [r.json["kind"] for r in receiver.requests] == ["invitation"]
        assert "sent 1" in once.stdout

        insert("reminder")
        loop = subprocess.Popen([*cli, "notifications", "dispatch", "--loop", "--interval", "0.2"], env=env,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            deadline = time.monotonic() + 60
            while len(receiver.requests) < 2 and time.monotonic() < deadline:
                time.sleep(0.1)
            insert("confirm-request")  # arrives while the loop is running
            while len(receiver.requests) < 3 and time.monotonic() < deadline:
                time.sleep(0.1)
            loop.send_signal(signal.SIGTERM)
            out, err = loop.communicate(timeout=30)
        finally:
            if loop.poll() is None:
                loop.kill()
                loop.communicate()
        assert loop.returncode == 0, err
        assert [r.json["kind"] for r in receiver.requests] == ["invitation", "reminder", "confirm-request"]
        with sqlite3.connect(db) as conn:
            unsent = conn.execute("SELECT count(*) FROM notification WHERE sent_at IS NULL").fetchone()[0]
        conn.close()
        assert unsent == 0
