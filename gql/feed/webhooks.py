"""What an app token's webhooks carry (SPEC §3.9): the token's own `changes` read.

For each subscription the worker runs `Corp.changes` / `ChainSpace.changes` through the schema,
as the subscribed app token (re-resolved each round: scopes ∩ corp rights, chain binding,
fields:sensitive), and turns each entry into one message. So a body is exactly what that token
reads through GraphQL — the feed's cut, not a second rule — and a revoked or expired token
produces nothing. flows.webhooks queues, signs, posts and retries.

A subscription's position is a JSON object: feed key ("corp:5", "chain:3") -> sync token.
RESYNC_REQUIRED (a policy change, the retention passed), a feed entering the token's view and a
feed leaving it each become one `sync.resync_required` message naming the feed (the receiver
reads it again through GraphQL) and the feed restarts at the current position.
"""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime
from typing import Any

from strawberry import relay

from flows import feed as feed_flow
from flows import webhooks
from flows.worker import Duty
from models import WebhookSubscription
from permissions import feed as feed_policy
from permissions.loading import actor_viewer
from permissions.viewer import Viewer

log = logging.getLogger("chaingate.webhooks")

PAGE = 100
# Pages read per feed and round: a backlog is worked off over several rounds.
PAGES_PER_ROUND = 10
_FEED_TYPES = {"corp": "Corp", "chain": "ChainSpace"}
_EVENT_NAMES = {"Member": "member", "OrgUnit": "unit", "ChainCorp": "chain_corp", "ChainContact": "contact"}

CHANGES = """
query WebhookChanges($id: ID!, $after: String!, $first: Int!) {
  node(id: $id) {
    ... on Corp { changes(after: $after, first: $first) { ...Page } }
    ... on ChainSpace { changes(after: $after, first: $first) { ...Page } }
  }
}
fragment Page on ChangePage {
  syncToken hasMore
  changes { kind sequence removedId changedFields node { __typename id ...Fields } }
}
fragment Fields on Node {
  ... on Member {
    account name status alias mobile email wechatId telephone gender position address birthday hireDate
    hiddenFields departments { unit { id } isMain isLeader }
  }
  ... on OrgUnit { name order scope depth parent { id } }
  ... on ChainCorp { chainCorpStatus: status customCorpId importedName name corp { id } group { id } }
  ... on ChainContact { name role contactStatus: status mobile hiddenFields memberId chainCorp { id } }
}
"""
# Same-named fields of different types need aliases in one document; bodies use the API names.
_ALIASES = ("chainCorpStatus", "contactStatus")


def feed_key(feed: str, feed_id: int) -> str:
    return f"{feed}:{feed_id}"


def feed_global_id(key: str) -> str:
    feed, feed_id = key.split(":")
    return str(relay.GlobalID(_FEED_TYPES[feed], feed_id))


async def start_positions(viewer: Viewer) -> dict[str, str]:
    """Sync tokens at the current position for every feed the viewer is served."""
    position = await feed_flow.current_position()
    epoch, _ = await feed_flow.feed_state()
    fingerprint = feed_policy.viewer_fingerprint(viewer)
    return {feed_key(feed, fid): feed_flow.SyncToken(feed, fid, position, epoch, fingerprint).encode()
            for feed, fid in feed_policy.feeds_served(viewer)}


def _message(event_type: str, data: dict[str, Any]) -> tuple[str, str]:
    # Standard Webhooks payload shape: type, timestamp, data.
    body = {"type": event_type, "timestamp": datetime.now(UTC).isoformat(), "data": data}
    return event_type, json.dumps(body, ensure_ascii=False, separators=(",", ":"))


def _resync(key: str, reason: str) -> tuple[str, str]:
    return _message("sync.resync_required", {"feed": feed_global_id(key), "reason": reason})


def _change_message(key: str, change: dict[str, Any]) -> tuple[str, str]:
    node = change["node"]
    for alias in _ALIASES:
        if node is not None and alias in node:
            node["status"] = node.pop(alias)
    type_name = node["__typename"] if node else relay.GlobalID.from_id(change["removedId"]).type_name
    data = {"feed": feed_global_id(key), **change}
    return _message(f"{_EVENT_NAMES[type_name]}.{change['kind'].lower()}", data)


async def _read(viewer: Viewer, key: str, after: str) -> tuple[list[tuple[str, str]], str | None, bool]:
    """(messages, next token or None for RESYNC_REQUIRED, more waiting) for one page."""
    from gql.context import make_context
    from gql.schema import schema

    result = await schema.execute(CHANGES, variable_values={"id": feed_global_id(key), "after": after, "first": PAGE},
                                  context_value=make_context(viewer))
    codes = [(e.extensions or {}).get("code") for e in result.errors or []]
    if "RESYNC_REQUIRED" in codes:
        return [], None, False
    if codes:
        raise RuntimeError(f"webhook changes read failed: {[e.message for e in result.errors or []]}")
    page = (result.data or {}).get("node") or {}
    page = page.get("changes")
    if page is None:  # the feed left the token's view between the two reads: next round says so
        return [], after, False
    return [_change_message(key, c) for c in page["changes"]], page["syncToken"], bool(page["hasMore"])


async def produce(sub: WebhookSubscription) -> int:
    """Queues the messages of one subscription's new changes; returns how many were read."""
    viewer = await actor_viewer("APP", sub.app_token_id)  # type: ignore[attr-defined]
    if viewer is None:  # revoked or expired: nothing more, nothing pending
        await webhooks.cancel_pending(sub.app_token_id)  # type: ignore[attr-defined]
        return 0
    old = sub.position
    positions: dict[str, str] = json.loads(old or "{}")
    served = {feed_key(f, i) for f, i in feed_policy.feeds_served(viewer)}
    messages: list[tuple[str, str]] = []
    fresh = await start_positions(viewer)
    for key in sorted(set(positions) - served):
        messages.append(_resync(key, "FEED_LEFT_VIEW"))
        del positions[key]
    for key in sorted(served - set(positions)):
        messages.append(_resync(key, "FEED_ENTERED_VIEW"))
        positions[key] = fresh[key]
    for key in sorted(served):
        for _ in range(PAGES_PER_ROUND):
            page, token, more = await _read(viewer, key, positions[key])
            messages += page
            if token is None:
                messages.append(_resync(key, "RESYNC_REQUIRED"))
                token = fresh[key]
            positions[key] = token
            if not more:
                break
    new = json.dumps(positions, sort_keys=True)
    if new != old and not await webhooks.advance(sub, old, new, messages):
        return 0  # another worker moved it first: its messages stand
    return len(messages)


async def run_round(client: Any) -> webhooks.DeliveryRound:
    """One round: queue new messages for every active subscription, then post what is due."""
    for sub in await webhooks.active_subscriptions():
        try:
            await produce(sub)
        except Exception:  # one subscription's trouble does not stop the others
            log.exception("webhook subscription %s: reading its changes failed", sub.id)
    return await webhooks.deliver_due(client)


def webhook_duty(every: float = 1.0) -> Duty:
    """The worker's webhook round, every `every` seconds (chaingate_cli.worker)."""
    client = webhooks.http_client()

    async def run() -> object:
        result = await run_round(client)
        if result.delivered or result.failed or result.retrying or result.cancelled:
            log.info("webhooks: delivered %s, retrying %s, gave up %s, cancelled %s",
                     result.delivered, result.retrying, result.failed, result.cancelled)
        return result

    return Duty("webhooks", every, run)
