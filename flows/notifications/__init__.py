"""The notification outbox: flows write `Notification` rows, a dispatcher delivers them."""

from flows.notifications.dispatch import (
    MAX_ATTEMPTS,
    DispatchResult,
    backoff,
    claim_due,
    dispatch_due,
    given_up_q,
    outbox_counts,
)
from flows.notifications.senders import (
    DeliveryFailed,
    LogSender,
    OutboundMessage,
    Sender,
    SenderConfigError,
    WebhookSender,
    sender_from_settings,
    sign,
    verify_signature,
)

__all__ = [
    "MAX_ATTEMPTS", "DeliveryFailed", "DispatchResult", "LogSender", "OutboundMessage", "Sender",
    "SenderConfigError", "WebhookSender", "backoff", "claim_due", "dispatch_due", "given_up_q",
    "outbox_counts", "sender_from_settings", "sign", "verify_signature",
]
