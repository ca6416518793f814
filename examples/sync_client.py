"""Mirror a corp's members, as one app token sees them, into a local SQLite file and keep it in
sync (chaingate's change feed, SPEC §3.9).

    python examples/sync_client.py --url http://127.0.0.1:8000 --token cgat_... \\
        --corp <Corp global id> --db mirror.sqlite3 [--once] [--every 30] \\
        [--webhook-port 8765 --webhook-secret whsec_...]

First run: a full read of Corp.members with Corp.syncToken in the same request; then
Corp.changes(after: token) pages are applied (upsert `node`, delete `removedId`) and the new
token stored with them, in one SQLite transaction per page. RESYNC_REQUIRED: the mirror is
read again from scratch. `--once`: catch up and exit; otherwise poll every `--every` seconds,
and with `--webhook-port` a verified webhook (Standard Webhooks signature, `--webhook-secret`
from createWebhookSubscription) wakes the client at once: the webhook is the nudge, the delta
read is what is applied, so a lost or repeated webhook changes nothing.
Needs httpx (and standardwebhooks for webhooks), both chaingate dependencies.
"""

from __future__ import annotations

import argparse
import json
import sqlite3
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx

MEMBER = "id name alias position status mobile email hiddenFields departments { unit { id } }"
FULL = """query($corp: ID!, $after: String) { node(id: $corp) { ... on Corp {
  syncToken members(first: 100, after: $after) { pageInfo { hasNextPage endCursor } nodes { %s } } } } }""" % MEMBER  # noqa: UP031
CHANGES = """query($corp: ID!, $after: String!) { node(id: $corp) { ... on Corp {
  changes(after: $after, first: 100) { syncToken hasMore
    changes { kind removedId node { __typename ... on Member { %s } } } } } } }""" % MEMBER  # noqa: UP031


class Resync(Exception):
    pass


class Mirror:
    def __init__(self, url: str, token: str, corp: str, path: str) -> None:
        self.http = httpx.Client(base_url=url.rstrip("/"), headers={"Authorization": f"Bearer {token}"}, timeout=30)
        self.corp = corp
        self.db = sqlite3.connect(path, check_same_thread=False)
        self.db.executescript("CREATE TABLE IF NOT EXISTS member (id TEXT PRIMARY KEY, data TEXT NOT NULL);"
                              "CREATE TABLE IF NOT EXISTS state (key TEXT PRIMARY KEY, value TEXT NOT NULL);")

    def _query(self, query: str, variables: dict[str, Any]) -> dict[str, Any]:
        body = self.http.post("/graphql", json={"query": query, "variables": variables}).raise_for_status().json()
        codes = [e.get("extensions", {}).get("code") for e in body.get("errors") or []]
        if "RESYNC_REQUIRED" in codes:
            raise Resync()
        if codes:
            raise RuntimeError(body["errors"])
        if body["data"]["node"] is None:
            raise RuntimeError("the token does not see this corp")
        return body["data"]["node"]

    def token(self) -> str | None:
        row = self.db.execute("SELECT value FROM state WHERE key = 'sync_token'").fetchone()
        return row[0] if row else None

    def full_read(self) -> int:
        members, after, sync = {}, None, None
        while True:
            corp = self._query(FULL, {"corp": self.corp, "after": after})
            sync = sync or corp["syncToken"]  # the first page's token: nothing after it is missed
            members.update((m["id"], m) for m in corp["members"]["nodes"])
            if not corp["members"]["pageInfo"]["hasNextPage"]:
                break
            after = corp["members"]["pageInfo"]["endCursor"]
        with self.db:
            self.db.execute("DELETE FROM member")
            self.db.executemany("INSERT INTO member VALUES (?, ?)", [(k, json.dumps(v)) for k, v in members.items()])
            self.db.execute("INSERT OR REPLACE INTO state VALUES ('sync_token', ?)", [sync])
        return len(members)

    def catch_up(self) -> int:
        """Apply every waiting page; returns the changes applied (a resync counts its rows)."""
        if self.token() is None:
            return self.full_read()
        applied = 0
        while True:
            try:
                page = self._query(CHANGES, {"corp": self.corp, "after": self.token()})["changes"]
            except Resync:
                return applied + self.full_read()
            with self.db:
                for change in page["changes"]:
                    node = change["node"]
                    if change["kind"] == "REMOVED":
                        self.db.execute("DELETE FROM member WHERE id = ?", [change["removedId"]])
                    elif node["__typename"] == "Member":  # units come too: this mirror keeps members
                        del node["__typename"]
                        self.db.execute("INSERT OR REPLACE INTO member VALUES (?, ?)", [node["id"], json.dumps(node)])
                    applied += 1
                self.db.execute("INSERT OR REPLACE INTO state VALUES ('sync_token', ?)", [page["syncToken"]])
            if not page["hasMore"]:
                return applied


def webhook_listener(port: int, secret: str, wake: threading.Event) -> ThreadingHTTPServer:
    from standardwebhooks.webhooks import Webhook, WebhookVerificationError

    verifier = Webhook(secret)

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802
            body = self.rfile.read(int(self.headers.get("content-length", 0)))
            try:
                verifier.verify(body, dict(self.headers.items()))
            except WebhookVerificationError:
                self.send_response(400)
            else:
                wake.set()
                self.send_response(204)
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--url", required=True)
    p.add_argument("--token", required=True, help="an app token with directory:read")
    p.add_argument("--corp", required=True, help="the Corp's global id")
    p.add_argument("--db", default="mirror.sqlite3")
    p.add_argument("--once", action="store_true", help="catch up, print the member count, exit")
    p.add_argument("--every", type=float, default=30.0, help="poll interval in seconds")
    p.add_argument("--webhook-port", type=int)
    p.add_argument("--webhook-secret")
    args = p.parse_args()
    mirror = Mirror(args.url, args.token, args.corp, args.db)
    if args.once:
        mirror.catch_up()
        print(mirror.db.execute("SELECT COUNT(*) FROM member").fetchone()[0])
        return
    wake = threading.Event()
    if args.webhook_port:
        webhook_listener(args.webhook_port, args.webhook_secret, wake)
    while True:
        print(f"applied {mirror.catch_up()}", flush=True)
        wake.wait(args.every)
        wake.clear()


if __name__ == "__main__":
    main()
