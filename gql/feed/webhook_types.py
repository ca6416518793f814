"""Webhook subscriptions and their delivery log (SPEC §3.9), for the corp's super admins.
Message bodies are not shown: they hold what the app token reads, not what the admin reads."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from enum import Enum
from typing import TYPE_CHECKING, Annotated

import strawberry
from strawberry import relay

from flows.access import access_webhook_subscription
from gql.context import Info
from gql.relay import Connection, or_none, paginate
from models import AppToken, WebhookDelivery, WebhookSubscription
from permissions.restricted import restricted

if TYPE_CHECKING:
    from gql.apps.types import AppTokenNode


@strawberry.enum(description="Where one webhook message stands.")
class WebhookDeliveryStatus(Enum):
    PENDING = strawberry.enum_value("PENDING", description="Waiting for its first attempt or its next retry.")
    DELIVERED = strawberry.enum_value("DELIVERED", description="The endpoint answered 2xx.")
    FAILED = strawberry.enum_value("FAILED", description="Every attempt failed (CHAINGATE_WEBHOOK_MAX_ATTEMPTS): given up.")
    CANCELLED = strawberry.enum_value("CANCELLED", description="Not sent: the app token was revoked or expired first.")


@strawberry.type(description="One message to a webhook endpoint and its attempts (the delivery log).")
class WebhookDeliveryEntry:
    _d: strawberry.Private[WebhookDelivery]

    @strawberry.field(description="The message's `webhook-id` header, the same on every retry.")
    def message_id(self) -> str:
        return self._d.message_id

    @strawberry.field(description="The event type, e.g. `member.updated` or `sync.resync_required`.")
    def event_type(self) -> str:
        return self._d.event_type

    @strawberry.field(description="PENDING, DELIVERED, FAILED or CANCELLED.")
    def status(self) -> WebhookDeliveryStatus:
        return WebhookDeliveryStatus(self._d.status)

    @strawberry.field(description="Attempts made so far.")
    def attempts(self) -> int:
        return self._d.attempts

    @strawberry.field(description="The HTTP status of the last attempt; null before one or when none came back.")
    def last_status_code(self) -> int | None:
        return self._d.last_status_code

    @strawberry.field(description="Why the last attempt failed (the start of the answer, or the transport error).")
    def last_error(self) -> str | None:
        return self._d.last_error

    @strawberry.field(description="When the next attempt is due (UTC); null once delivered, failed or cancelled.")
    def next_attempt_at(self) -> datetime | None:
        return self._d.next_attempt_at if self._d.status == "PENDING" else None

    @strawberry.field(description="When the message was queued (UTC).")
    def created_at(self) -> datetime:
        return self._d.created_at

    @strawberry.field(description="When the endpoint accepted it (UTC); null until then.")
    def delivered_at(self) -> datetime | None:
        return self._d.delivered_at


@strawberry.type(name="WebhookSubscription", description=(
    "An endpoint receiving an app token's changes, signed per Standard Webhooks (SPEC §3.9); its corp's super "
    "admins only. The signing secret is shown once, by createWebhookSubscription."))
class WebhookSubscriptionNode(relay.Node):
    pk: relay.NodeID[int]
    _s: strawberry.Private[WebhookSubscription]

    @strawberry.field(description="Where messages are posted.")
    def url(self) -> str:
        return self._s.url

    @strawberry.field(description="The event types wanted; empty: every type.")
    def events(self) -> list[str]:
        return list(self._s.events or [])

    @strawberry.field(description="When it was created (UTC).")
    def created_at(self) -> datetime:
        return self._s.created_at

    @strawberry.field(description="The app token whose view the messages carry.")
    async def app_token(self, info: Info) -> Annotated[AppTokenNode, strawberry.lazy("gql.apps.types")] | None:
        from gql.apps.types import app_token_node

        return await app_token_node(info, self._s.app_token_id)  # type: ignore[attr-defined]

    @strawberry.field(description="The delivery log, newest first.")
    async def deliveries(
        self, info: Info,
        first: Annotated[int | None, strawberry.argument(description="Page size, 0-100 (default 20).")] = None,
        after: Annotated[str | None, strawberry.argument(description="A cursor from this list.")] = None,
    ) -> Connection[WebhookDeliveryEntry]:
        async def build(rows: Sequence[WebhookDelivery]) -> list[WebhookDeliveryEntry]:
            return [WebhookDeliveryEntry(_d=d) for d in rows]

        return await paginate(WebhookDelivery.filter(subscription_id=self.pk).order_by("-id"), first, after, build)


async def webhook_subscription_node(info: Info, subscription_id: int) -> WebhookSubscriptionNode | None:
    """A subscription by id, for its corp's super admins; null alike for unknown and withheld ones."""
    s = await or_none(access_webhook_subscription(info.context.viewer, subscription_id))
    return WebhookSubscriptionNode(pk=s.id, _s=s) if s is not None else None


async def token_subscriptions(info: Info, token: AppToken) -> list[WebhookSubscriptionNode]:
    """AppToken.webhookSubscriptions: those of `token` the viewer manages, oldest first."""
    rows = await restricted(WebhookSubscription, info.context.viewer).filter(app_token_id=token.id).order_by("id")
    return [WebhookSubscriptionNode(pk=s.id, _s=s) for s in rows]
