"""Webhook subscriptions and their delivery (SPEC §3.9): a corp's super admin registers an
endpoint for one of the corp's app tokens; the worker posts each change that token may see,
signed per Standard Webhooks, retried with exponential backoff, and logged per attempt.

What goes into a message is decided above this layer (gql.feed.webhooks runs the token's own
`changes` read, so a body never holds what the token could not read through GraphQL). This
module keeps the subscriptions, the delivery log and the HTTP side:

- Signing: headers `webhook-id` (one per message, the same on every retry), `webhook-timestamp`
  (Unix seconds of the attempt) and `webhook-signature` = "v1," + base64(HMAC-SHA256(secret,
  f"{id}.{timestamp}.{body}")), with the `whsec_` secret shown once at creation (the
  `standardwebhooks` package signs; receivers can verify with it too).
- Retries: a non-2xx answer or a transport error is tried again after
  CHAINGATE_WEBHOOK_RETRY_SECONDS * 2**(attempts-1) (capped at a day); after
  CHAINGATE_WEBHOOK_MAX_ATTEMPTS attempts the message is FAILED.
- Revocation: revoking the token cancels its pending messages in the revoking transaction, and
  each attempt re-reads the token just before posting (on PostgreSQL under a share lock held
  through the post, so a revocation commits only after an attempt in flight has finished and
  no attempt starts after it). Deleting a subscription deletes its log.
- Addresses (SSRF): only http and https URLs, no credentials in them, no redirects followed.
  Hosts that are or resolve to loopback, private, link-local or otherwise non-global addresses
  are refused at creation and before every attempt, unless CHAINGATE_DEV or
  CHAINGATE_WEBHOOK_ALLOW_PRIVATE is set (a receiver on the same network).
"""

from __future__ import annotations

import asyncio
import base64
import ipaddress
import json
import secrets
import socket
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import httpx
from standardwebhooks.webhooks import Webhook
from tortoise.connection import connections
from tortoise.expressions import Q
from tortoise.transactions import in_transaction

from flows.access import access_app_token, access_webhook_subscription
from flows.audit import Origin, record
from flows.errors import FlowError, NotFound
from models import AppToken, WebhookDelivery, WebhookSubscription
from models.settings import get_settings
from permissions.apps import token_usable
from permissions.viewer import Viewer

URL_MAX = 2048
OBJECT_TYPES = {"MEMBER": "member", "UNIT": "unit", "CHAIN_CORP": "chain_corp", "CONTACT": "contact"}
# `sync.resync_required`: the token's view changed (a policy change) or a feed entered or left
# it; the receiver reads everything again through GraphQL. Deliveries go on after it.
EVENT_TYPES = frozenset(
    [f"{name}.{kind}" for name in OBJECT_TYPES.values() for kind in ("created", "updated", "removed")]
    + ["sync.resync_required"]
)
MAX_BACKOFF = timedelta(days=1)
# An attempt's claim on a message: another worker leaves it alone meanwhile.
CLAIM = timedelta(minutes=2)
PENDING, DELIVERED, FAILED, CANCELLED = "PENDING", "DELIVERED", "FAILED", "CANCELLED"


@dataclass(frozen=True)
class CreatedSubscription:
    """A new subscription and its signing secret (`whsec_…`, shown once)."""

    subscription: WebhookSubscription
    # The signing secret: shown once, at creation.
    secret: str


def new_secret() -> str:
    """A Standard Webhooks signing secret: `whsec_` + base64 of 32 random bytes."""
    return "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()


def _private_allowed() -> bool:
    settings = get_settings()
    return settings.dev or settings.webhook_allow_private


async def _addresses(host: str, port: int) -> list[ipaddress.IPv4Address | ipaddress.IPv6Address]:
    try:
        return [ipaddress.ip_address(host)]
    except ValueError:
        pass
    infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return [ipaddress.ip_address(str(info[4][0]).split("%")[0]) for info in infos]


async def check_url(url: str, field: str = "url") -> str:
    """The URL, stripped, if chaingate may post to it. Errors (FlowError): INVALID_URL (not an
    absolute http(s) URL, credentials in it, over 2048 characters, a host that does not
    resolve), PRIVATE_ADDRESS (the host is or resolves to a non-global address while private
    addresses are not allowed)."""
    url = url.strip()
    try:
        parts = urlsplit(url)
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        raise FlowError("INVALID_URL", "The URL is not a valid http or https URL.", field) from None
    if parts.scheme not in ("http", "https") or not parts.hostname or len(url) > URL_MAX:
        raise FlowError("INVALID_URL", f"Give an absolute http:// or https:// URL of at most {URL_MAX} characters.",
                        field)
    if parts.username is not None or parts.password is not None:
        raise FlowError("INVALID_URL", "Credentials do not belong in the URL: verify the signature instead.", field)
    if _private_allowed():
        return url
    try:
        addresses = await _addresses(parts.hostname, port)
    except OSError:
        raise FlowError("INVALID_URL", f"The host {parts.hostname} does not resolve.", field) from None
    if not addresses or any(not a.is_global for a in addresses):
        raise FlowError("PRIVATE_ADDRESS", (
            f"{parts.hostname} is a loopback, private or otherwise non-public address: chaingate posts only to public "
            "addresses unless CHAINGATE_WEBHOOK_ALLOW_PRIVATE is set."), field)
    return url


def _check_events(events: Iterable[str]) -> list[str]:
    wanted = sorted(set(events))
    unknown = [e for e in wanted if e not in EVENT_TYPES]
    if unknown:
        raise FlowError("UNKNOWN_EVENT", f"Unknown event types: {', '.join(unknown)}; known: "
                        f"{', '.join(sorted(EVENT_TYPES))}.", "events")
    return wanted


async def create_subscription(viewer: Viewer, app_token_id: int, url: str, events: Iterable[str],
                              start: Callable[[AppToken], Awaitable[dict[str, str]]], *,
                              origin: Origin | None = None) -> CreatedSubscription:
    """Registers `url` for the app token `app_token_id` (of a corp the viewer is super admin
    of). `events`: event types wanted (EVENT_TYPES), empty for all. `start(token)`: feed key ->
    sync token where delivery starts (the token's view now, taken by the caller). Errors:
    NOT_FOUND (appTokenId), TOKEN_INACTIVE, INVALID_URL, PRIVATE_ADDRESS, UNKNOWN_EVENT."""
    token = await access_app_token(viewer, app_token_id, "appTokenId")
    if not token_usable(token, datetime.now(UTC)):
        raise FlowError("TOKEN_INACTIVE", "The app token is revoked or expired: subscribe an active token.",
                        "appTokenId")
    wanted = _check_events(events)
    url = await check_url(url)
    positions = await start(token)
    secret = new_secret()
    async with in_transaction():
        sub = await WebhookSubscription.create(corp_id=token.corp_id, app_token_id=token.id, url=url, events=wanted,
                                               secret=secret, position=json.dumps(positions, sort_keys=True))
        await record(viewer, "webhookSubscription.create", "WebhookSubscription", sub.id, corp_id=token.corp_id,
                     after={"appToken": token.id, "url": url, "events": wanted}, origin=origin)
    return CreatedSubscription(sub, secret)


async def delete_subscription(viewer: Viewer, subscription_id: int, *, origin: Origin | None = None) -> int:
    """Deletes the subscription and its delivery log; nothing more is posted. Errors: NOT_FOUND (id)."""
    sub = await access_webhook_subscription(viewer, subscription_id)
    async with in_transaction():
        if not await WebhookSubscription.filter(id=sub.id).delete():
            raise NotFound("id")
        await record(viewer, "webhookSubscription.delete", "WebhookSubscription", sub.id,
                     corp_id=sub.corp_id, before={"url": sub.url}, origin=origin)  # type: ignore[attr-defined]
    return sub.id


async def cancel_pending(app_token_id: int) -> int:
    """Cancels the pending messages of the token's subscriptions (called in the revoking
    transaction, and by the worker for a token found inactive)."""
    subs = WebhookSubscription.filter(app_token_id=app_token_id).values_list("id", flat=True)
    return await WebhookDelivery.filter(subscription_id__in=await subs, status=PENDING).update(status=CANCELLED)


async def advance(sub: WebhookSubscription, old_position: str | None, new_position: str,
                  messages: Sequence[tuple[str, str]]) -> bool:
    """Queues `messages` ((event type, body)) and moves the subscription to `new_position`,
    at once and only if nobody moved it since `old_position` was read (two workers never
    queue a change twice). Messages of types the subscription does not want are skipped."""
    wanted = set(sub.events or [])
    now = datetime.now(UTC)
    async with in_transaction():
        moved = await WebhookSubscription.filter(Q(position=old_position), id=sub.id).update(position=new_position)
        if not moved:
            return False
        rows = [WebhookDelivery(subscription_id=sub.id, message_id="msg_" + secrets.token_hex(12), event_type=t,
                                body=body, status=PENDING, next_attempt_at=now)
                for t, body in messages if not wanted or t in wanted]
        if rows:
            await WebhookDelivery.bulk_create(rows)
    sub.position = new_position
    return True


@dataclass
class DeliveryRound:
    """What one delivery round did, as message counts per outcome."""

    delivered: int = 0
    retrying: int = 0
    failed: int = 0
    cancelled: int = 0


def backoff(attempts: int) -> timedelta:
    """The wait before attempt `attempts + 1`: base * 2**(attempts-1), at most a day."""
    base = get_settings().webhook_retry_seconds
    return min(timedelta(seconds=base * 2 ** max(attempts - 1, 0)), MAX_BACKOFF)


async def deliver_due(client: httpx.AsyncClient, limit: int = 50) -> DeliveryRound:
    """Posts the messages due now (oldest first), each under a claim, and records each attempt."""
    now = datetime.now(UTC)
    due = await WebhookDelivery.filter(status=PENDING, next_attempt_at__lte=now).order_by("id").limit(limit)
    out = DeliveryRound()
    for delivery in due:
        claimed = await WebhookDelivery.filter(id=delivery.id, status=PENDING,
                                               next_attempt_at=delivery.next_attempt_at).update(next_attempt_at=now + CLAIM)
        if claimed:
            await _attempt(client, delivery, out)
    return out


async def _attempt(client: httpx.AsyncClient, delivery: WebhookDelivery, out: DeliveryRound) -> None:
    sub = await WebhookSubscription.get_or_none(id=delivery.subscription_id)  # type: ignore[attr-defined]
    if sub is None:
        return  # deleted with its log
    app_token_id: int = sub.app_token_id  # type: ignore[attr-defined]
    if connections.get("default").capabilities.dialect == "postgres":
        async with in_transaction() as conn:
            # Held until this attempt ends: a revocation waits for it, and none starts after one.
            await conn.execute_query("SELECT id FROM app_token WHERE id = $1 FOR SHARE", [app_token_id])
            result = await _checked_post(client, sub, delivery, app_token_id, conn)
    else:  # SQLite: one connection for everything, never held open through a post
        result = await _checked_post(client, sub, delivery, app_token_id, None)
    if result is None:
        out.cancelled += 1
        return
    status, error = result
    now = datetime.now(UTC)
    attempts = delivery.attempts + 1
    if status is not None and 200 <= status < 300:
        state, next_at = DELIVERED, None
        out.delivered += 1
    elif attempts >= get_settings().webhook_max_attempts:
        state, next_at = FAILED, None
        out.failed += 1
    else:
        state, next_at = PENDING, now + backoff(attempts)
        out.retrying += 1
    # A revocation meanwhile (SQLite) already cancelled it: that stands.
    await WebhookDelivery.filter(id=delivery.id, status=PENDING).update(
        status=state, attempts=attempts, next_attempt_at=next_at, last_status_code=status, last_error=error,
        delivered_at=now if state == DELIVERED else None)


async def _checked_post(client: httpx.AsyncClient, sub: WebhookSubscription, delivery: WebhookDelivery,
                        app_token_id: int, conn: Any) -> tuple[int | None, str | None] | None:
    """The attempt if the token is still active; None (and its pending messages cancelled) if not."""
    token = await AppToken.filter(id=app_token_id).using_db(conn).first()
    if token is None or not token_usable(token, datetime.now(UTC)):
        await cancel_pending(app_token_id)
        return None
    return await _post(client, sub, delivery)


async def _post(client: httpx.AsyncClient, sub: WebhookSubscription, delivery: WebhookDelivery) -> tuple[int | None, str | None]:
    try:
        await check_url(sub.url)
    except FlowError as exc:
        return None, f"{exc.code}: {exc.message}"
    moment = datetime.now(UTC).replace(microsecond=0)
    signature = Webhook(sub.secret).sign(delivery.message_id, moment, delivery.body)
    headers = {"content-type": "application/json", "webhook-id": delivery.message_id,
               "webhook-timestamp": str(int(moment.timestamp())), "webhook-signature": signature,
               "user-agent": "chaingate-webhooks"}
    try:
        response = await client.post(sub.url, content=delivery.body.encode(), headers=headers)
    except httpx.HTTPError as exc:
        return None, f"{type(exc).__name__}: {exc}"[:500]
    error = None if 200 <= response.status_code < 300 else response.text[:500]
    return response.status_code, error


def http_client() -> httpx.AsyncClient:
    """The client deliveries go through: no redirects (a 3xx is a failed attempt), the
    configured timeout, no environment proxies."""
    return httpx.AsyncClient(timeout=get_settings().webhook_timeout_seconds, follow_redirects=False,
                             trust_env=False)


def active_subscriptions() -> Any:
    """Subscriptions whose token is neither revoked nor expired, oldest first."""
    now = datetime.now(UTC)
    return (WebhookSubscription.filter(app_token__revoked_at=None)
            .filter(Q(app_token__expires_at=None) | Q(app_token__expires_at__gt=now)).order_by("id"))
