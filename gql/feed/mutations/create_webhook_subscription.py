from __future__ import annotations

from typing import Annotated

import strawberry
from strawberry import relay

from flows import webhooks
from gql.context import Info
from gql.errors import UserError, run_flow
from gql.feed.webhook_types import WebhookSubscriptionNode
from gql.relay import decode_id
from models import AppToken


@strawberry.input(description="An endpoint to receive an app token's changes (SPEC §3.9).")
class CreateWebhookSubscriptionInput:
    app_token_id: relay.GlobalID = strawberry.field(description="Global id of the AppToken whose view is sent.")
    url: str = strawberry.field(description=(
        "An http:// or https:// URL; public addresses only unless the gateway allows private ones "
        "(CHAINGATE_WEBHOOK_ALLOW_PRIVATE, or dev mode)."))
    events: list[str] = strawberry.field(default_factory=list, description=(
        "Event types wanted, e.g. `member.updated`: member, unit, chain_corp, contact, each .created / .updated / "
        ".removed, and sync.resync_required. Empty: all."))


@strawberry.type(description="What createWebhookSubscription did.")
class CreateWebhookSubscriptionPayload:
    webhook_subscription: WebhookSubscriptionNode | None = strawberry.field(description="The new subscription; null on error.")
    secret: str | None = strawberry.field(description=(
        "The Standard Webhooks signing secret (`whsec_…`). Shown this once: store it now."))
    user_errors: list[UserError] = strawberry.field(description="Why nothing was created; empty on success.")


async def create_webhook_subscription(
    info: Info,
    input: Annotated[CreateWebhookSubscriptionInput, strawberry.argument(description="The endpoint to register.")],
) -> CreateWebhookSubscriptionPayload:
    from gql.feed.webhooks import start_positions
    from permissions.loading import app_viewer

    ctx = info.context

    async def start(token: AppToken) -> dict[str, str]:
        # Delivery starts at what the token sees now.
        return await start_positions(await app_viewer(token))

    async def flow() -> webhooks.CreatedSubscription:
        token_id = decode_id(input.app_token_id, "AppToken", "appTokenId")
        return await webhooks.create_subscription(ctx.viewer, token_id, input.url, input.events, start,
                                                  origin=ctx.origin)

    created, errors = await run_flow(flow())
    if created is None:
        return CreateWebhookSubscriptionPayload(webhook_subscription=None, secret=None, user_errors=errors)
    node = WebhookSubscriptionNode(pk=created.subscription.id, _s=created.subscription)
    return CreateWebhookSubscriptionPayload(webhook_subscription=node, secret=created.secret, user_errors=[])
