"""Where an outbox row goes: the log (the default) or a signed HTTP webhook.

A sender delivers one message or raises DeliveryFailed; the dispatcher turns that into a
retry with backoff. Senders are async context managers so that one HTTP connection pool
serves a whole dispatch run.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import time
from dataclasses import dataclass
from datetime import datetime
from types import TracebackType
from typing import Any

import httpx

from models.settings import Settings, get_settings

logger = logging.getLogger("chaingate.notifications")

SIGNATURE_HEADER = "X-Chaingate-Signature"
TIMESTAMP_HEADER = "X-Chaingate-Timestamp"
# The outbox row id: delivery is at-least-once, so a receiver de-duplicates on this.
DELIVERY_HEADER = "X-Chaingate-Delivery"
# How old a signed timestamp a receiver should accept (replay window), in seconds.
SIGNATURE_TOLERANCE = 300


class DeliveryFailed(Exception):
    """The message was not delivered; the text is stored as the row's last_error."""


class SenderConfigError(Exception):
    """The configuration names a sender that cannot work (a webhook URL without a secret)."""


@dataclass(frozen=True)
class OutboundMessage:
    """One notification as a sender delivers it (a snapshot of its row; `attempt` 1-based)."""

    id: int
    kind: str
    recipient_mobile: str | None
    recipient_member_id: int | None
    payload: dict[str, Any]
    attempt: int
    created_at: datetime | None

    def body(self) -> dict[str, Any]:
        """The JSON document a webhook receives (camelCase, like the GraphQL API)."""
        return {
            "id": self.id,
            "kind": self.kind,
            "recipient": {"mobile": self.recipient_mobile, "memberId": self.recipient_member_id},
            "payload": self.payload,
            "attempt": self.attempt,
            "createdAt": self.created_at.isoformat() if self.created_at else None,
        }


class Sender:
    """Base: delivers a message or raises DeliveryFailed. No resources by default."""

    name = "sender"

    async def send(self, message: OutboundMessage) -> None:
        """Deliver `message`; raise DeliveryFailed when it did not arrive (it is retried later)."""
        raise NotImplementedError

    async def __aenter__(self) -> Sender:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        return None


def mask_mobile(mobile: str | None) -> str | None:
    """Logs are read by more people than the database: `+86139****5678`, the usual masking."""
    if not mobile:
        return mobile
    if len(mobile) <= 8:
        return "*" * max(len(mobile) - 4, 0) + mobile[-4:]
    return mobile[:-8] + "****" + mobile[-4:]


class LogSender(Sender):
    """One structured line per message on the `chaingate.notifications` logger.

    The default when no webhook is configured: development, demos, or a log shipper that
    forwards these lines. The recipient's mobile is masked; the payload is logged as is.
    """

    name = "log"

    def __init__(self, log: logging.Logger | None = None) -> None:
        self.log = log or logger

    async def send(self, message: OutboundMessage) -> None:
        """Deliver `message` as one JSON log line (the mobile masked): the development sender."""
        record = message.body()
        record["recipient"] = {**record["recipient"], "mobile": mask_mobile(message.recipient_mobile)}
        line = json.dumps(record, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
        self.log.info("notification %s", line, extra={"notification": record})


def sign(secret: str, timestamp: str, body: bytes) -> str:
    """`sha256=<hex>` of HMAC-SHA256 over `<timestamp>.<raw body>`: the timestamp is signed
    too, so a captured request cannot be replayed later with a fresh timestamp."""
    mac = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


def verify_signature(
    secret: str,
    body: bytes,
    timestamp: str,
    signature: str,
    *,
    tolerance: int = SIGNATURE_TOLERANCE,
    now: float | None = None,
) -> bool:
    """What a receiver runs: a constant-time comparison and a bounded timestamp age."""
    try:
        sent = int(timestamp)
    except ValueError:
        return False
    if abs((now if now is not None else time.time()) - sent) > tolerance:
        return False
    return hmac.compare_digest(sign(secret, timestamp, body), signature)


class WebhookSender(Sender):
    """POSTs each message as JSON to one URL, signed with a shared secret.

    Only a 2xx answer counts as delivered; redirects are not followed (a 3xx is a failure),
    so a signed body never travels to an address nobody configured.
    """

    name = "webhook"

    def __init__(self, url: str, secret: str, *, timeout: float = 10.0) -> None:
        if not secret:
            raise SenderConfigError("A webhook needs CHAINGATE_WEBHOOK_SECRET to sign its requests.")
        self.url = url
        self.secret = secret
        self.timeout = timeout
        self._client: httpx.AsyncClient | None = None

    async def __aenter__(self) -> WebhookSender:
        self._client = httpx.AsyncClient(timeout=self.timeout, follow_redirects=False)
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None

    async def send(self, message: OutboundMessage) -> None:
        """POST `message` as signed JSON (timestamp, HMAC signature and delivery id headers) to the
        webhook. Raises DeliveryFailed on a transport error or a non-2xx answer; RuntimeError
        outside `async with`."""
        if self._client is None:
            raise RuntimeError("Use the webhook sender inside `async with`.")
        raw = json.dumps(message.body(), ensure_ascii=False, separators=(",", ":")).encode()
        timestamp = str(int(time.time()))
        headers = {
            "Content-Type": "application/json; charset=utf-8",
            TIMESTAMP_HEADER: timestamp,
            SIGNATURE_HEADER: sign(self.secret, timestamp, raw),
            DELIVERY_HEADER: str(message.id),
        }
        try:
            response = await self._client.post(self.url, content=raw, headers=headers)
        except httpx.HTTPError as exc:
            raise DeliveryFailed(f"{type(exc).__name__}: {exc}") from exc
        if not 200 <= response.status_code < 300:
            raise DeliveryFailed(f"HTTP {response.status_code}: {response.text[:200]}")


def sender_from_settings(settings: Settings | None = None) -> Sender:
    """The webhook when CHAINGATE_WEBHOOK_URL is set, else the log."""
    settings = settings or get_settings()
    if settings.webhook_url:
        return WebhookSender(settings.webhook_url, settings.webhook_secret or "")
    return LogSender()
