from __future__ import annotations

from typing import Annotated

import strawberry
from strawberry import relay

from flows import webhooks
from gql.context import Info
from gql.errors import UserError, run_flow
from gql.relay import decode_id


@strawberry.input(description="The webhook subscription to delete.")
class DeleteWebhookSubscriptionInput:
    id: relay.GlobalID = strawberry.field(description="Global id of the WebhookSubscription.")


@strawberry.type(description="What deleteWebhookSubscription did.")
class DeleteWebhookSubscriptionPayload:
    deleted_id: relay.GlobalID | None = strawberry.field(description="The deleted subscription's id; null on error.")
    user_errors: list[UserError] = strawberry.field(description="Why nothing was deleted; empty on success.")


async def delete_webhook_subscription(
    info: Info,
    input: Annotated[DeleteWebhookSubscriptionInput, strawberry.argument(description="The subscription to delete.")],
) -> DeleteWebhookSubscriptionPayload:
    ctx = info.context

    async def flow() -> relay.GlobalID:
        pk = await webhooks.delete_subscription(ctx.viewer, decode_id(input.id, "WebhookSubscription", "id"),
                                                origin=ctx.origin)
        return relay.GlobalID("WebhookSubscription", str(pk))

    deleted, errors = await run_flow(flow())
    return DeleteWebhookSubscriptionPayload(deleted_id=deleted, user_errors=errors)
