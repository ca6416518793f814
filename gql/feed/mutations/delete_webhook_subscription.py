from __future__ import annotations

from typing import Annotated

import strawberry
from strawberry import relay

from flows import webhooks
from gql.acting import act_on_id
from gql.context import Info
from gql.errors import UserError


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
    pk, errors = await act_on_id(info, input.id, "WebhookSubscription", "id", webhooks.delete_subscription)
    deleted = relay.GlobalID("WebhookSubscription", str(pk)) if pk is not None else None
    return DeleteWebhookSubscriptionPayload(deleted_id=deleted, user_errors=errors)
