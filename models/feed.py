"""The change feed (SPEC §3.9): change rows written by database triggers (migration 0010),
the feed's policy epoch, and webhook subscriptions with their delivery log."""

from __future__ import annotations

from tortoise import fields
from tortoise.indexes import Index
from tortoise.models import Model


class ChangeEvent(Model):
    """One write to a member, unit, chain corp or chain contact, appended by a trigger in the
    writing transaction (so no write path can forget it). `id` is the sequence.

    `before` (JSON text, null for CREATED) holds what the policy needs to tell whether a
    viewer could see the object just before this write: a member's status, hidden flag and
    unit paths; a unit's path; a chain corp's status and group; a contact's status, member,
    and its corp's status and group. `xid` is the PostgreSQL transaction id (null on SQLite,
    where writers are serialised): a PostgreSQL feed position is a snapshot, not a number,
    because ids are handed out before commit and can commit out of order."""

    id = fields.BigIntField(primary_key=True)
    xid = fields.BigIntField(null=True)
    corp_id = fields.IntField(null=True)
    chain_id = fields.IntField(null=True)
    object_type = fields.CharField(max_length=16)
    object_id = fields.IntField()
    kind = fields.CharField(max_length=8)
    # Changed fields by API name, comma-separated (null for CREATED and REMOVED).
    changed = fields.TextField(null=True)
    before = fields.TextField(null=True)
    # Milliseconds since the epoch (UTC), written by the trigger: the same type on both databases.
    at_ms = fields.BigIntField()

    class Meta:
        table = "change_event"
        indexes = (Index(fields=("corp_id", "id")), Index(fields=("chain_id", "id")), Index(fields=("xid",)),
                   Index(fields=("at_ms",)))


class FeedState(Model):
    """One row (id 1). `epoch`: bumped by triggers on every write that can change what some
    viewer may see without an object of the feed changing (scope and field settings, grants,
    chain rules, the unit and group trees, app-token scopes); a sync token from an older epoch
    answers RESYNC_REQUIRED. `pruned_before_ms`: change rows older than this are gone, so a
    token issued before it answers RESYNC_REQUIRED too."""

    id = fields.IntField(primary_key=True)
    epoch = fields.BigIntField(default=0)
    pruned_before_ms = fields.BigIntField(default=0)

    class Meta:
        table = "feed_state"


class WebhookSubscription(Model):
    """An endpoint of an app token (SPEC §3.9): the worker posts each change the token may see."""

    id = fields.IntField(primary_key=True)
    corp = fields.ForeignKeyField("models.Corp", related_name="webhook_subscriptions", on_delete=fields.CASCADE)
    app_token = fields.ForeignKeyField("models.AppToken", related_name="webhook_subscriptions", on_delete=fields.CASCADE)
    url = fields.CharField(max_length=2048)
    # Event types wanted, e.g. ["member.updated", "contact.created"]; empty = every type.
    events = fields.JSONField(default=list)
    # Standard Webhooks signing secret, "whsec_" + base64 of 32 random bytes.
    secret = fields.CharField(max_length=128)
    # The feed position delivered so far (a sync token of the corp or chain feed).
    position = fields.TextField(null=True)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "webhook_subscription"


class WebhookDelivery(Model):
    """One message to one endpoint and its attempts: the delivery log a super admin reads."""

    id = fields.BigIntField(primary_key=True)
    subscription = fields.ForeignKeyField("models.WebhookSubscription", related_name="deliveries", on_delete=fields.CASCADE)
    message_id = fields.CharField(max_length=64)
    event_type = fields.CharField(max_length=40)
    body = fields.TextField()
    # PENDING (waiting for its next attempt), DELIVERED, FAILED (gave up), CANCELLED (token revoked).
    status = fields.CharField(max_length=16, default="PENDING")
    attempts = fields.IntField(default=0)
    next_attempt_at = fields.DatetimeField(null=True)
    last_status_code = fields.IntField(null=True)
    last_error = fields.TextField(null=True)
    created_at = fields.DatetimeField(auto_now_add=True)
    delivered_at = fields.DatetimeField(null=True)

    class Meta:
        table = "webhook_delivery"
        indexes = (Index(fields=("status", "next_attempt_at")), Index(fields=("subscription_id", "id")))
