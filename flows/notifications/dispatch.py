"""Draining the notification outbox: claim due rows, send them, record the outcome.

Delivery is at-least-once. A dispatcher *claims* a batch before sending: the claim adds
one to `attempts` and moves `due_at` a lease ahead, so no other dispatcher sees the rows
as due while they are being sent. When a dispatcher dies mid-batch, its rows become due
again when the lease runs out. Receivers de-duplicate on the row id (webhook header
`X-Chaingate-Delivery`).

Claiming is safe with several dispatchers at once, on either database:
- PostgreSQL: `SELECT … FOR UPDATE SKIP LOCKED` in a transaction, so concurrent
  dispatchers take disjoint batches instead of queueing behind each other's locks;
- everywhere: the claiming UPDATE is conditional on the `attempts` value that was read
  (a compare-and-set), so a row is claimed by exactly one dispatcher even without row
  locks (SQLite, several processes on one file).

Retries: a failed row waits `BACKOFF_BASE × 2^(attempts−1)`, capped at `BACKOFF_CAP`
(30 s, 1 min, 2 min, … 1 h). After `MAX_ATTEMPTS` failed attempts the row is given up:
`sent_at` stays NULL, `attempts` ≥ MAX_ATTEMPTS and `last_error` starts with
"gave up after"; no dispatcher picks it again (see `given_up_q`).
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from tortoise.expressions import F, Q
from tortoise.transactions import in_transaction

from flows.notifications.senders import DeliveryFailed, OutboundMessage, Sender
from models import Notification

logger = logging.getLogger("chaingate.notifications")

MAX_ATTEMPTS = 10
BACKOFF_BASE = timedelta(seconds=30)
BACKOFF_CAP = timedelta(hours=1)
# How long a claimed row stays invisible to other dispatchers. It must outlast sending one
# batch: limit / SEND_CONCURRENCY × the sender's timeout (50 / 10 × 10 s = 50 s by default).
CLAIM_LEASE = timedelta(minutes=10)
DEFAULT_LIMIT = 50
SEND_CONCURRENCY = 10
GAVE_UP_PREFIX = "gave up after"


@dataclass
class DispatchResult:
    """What one dispatch round did: the ids of the notifications sent, to retry, and given up."""

    sent: list[int] = field(default_factory=list)
    retrying: list[int] = field(default_factory=list)
    gave_up: list[int] = field(default_factory=list)

    @property
    def claimed(self) -> int:
        """How many notifications the round claimed (sent + retrying + gave up)."""
        return len(self.sent) + len(self.retrying) + len(self.gave_up)


def backoff(attempts: int) -> timedelta:
    """The wait after the `attempts`-th failed attempt (1-based)."""
    exponent = max(attempts - 1, 0)
    # Capped before multiplying, so a huge attempt count cannot overflow timedelta.
    if exponent >= 32:
        return BACKOFF_CAP
    return min(BACKOFF_BASE * int(2**exponent), BACKOFF_CAP)


def due_q(now: datetime, max_attempts: int = MAX_ATTEMPTS) -> Q:
    """Filter on Notification rows: unsent, due by `now`, and tried fewer than `max_attempts` times."""
    return Q(sent_at=None, due_at__lte=now, attempts__lt=max_attempts)


def given_up_q(max_attempts: int = MAX_ATTEMPTS) -> Q:
    """Rows no dispatcher will send any more: out of attempts, never delivered."""
    return Q(sent_at=None, attempts__gte=max_attempts)


def _utc(moment: datetime | None) -> datetime:
    # One time zone for every stored and compared value: SQLite compares datetimes as text.
    return (moment or datetime.now(UTC)).astimezone(UTC)


def _locks_rows() -> bool:
    return bool(Notification._meta.db.capabilities.dialect == "postgres")


async def claim_due(
    now: datetime, *, limit: int, max_attempts: int = MAX_ATTEMPTS, lease: timedelta = CLAIM_LEASE
) -> list[Notification]:
    """Claims up to `limit` due rows for this dispatcher; the returned rows carry the new attempt count."""
    now = _utc(now)
    leased_until = now + lease
    candidates = Notification.filter(due_q(now, max_attempts)).order_by("due_at", "id").limit(limit)
    if _locks_rows():
        async with in_transaction() as conn:
            rows = await candidates.select_for_update(skip_locked=True).using_db(conn)
            if rows:
                await (
                    Notification.filter(due_q(now, max_attempts), id__in=[r.id for r in rows])
                    .using_db(conn)
                    .update(attempts=F("attempts") + 1, due_at=leased_until)
                )
        for r in rows:
            r.attempts += 1
        return list(rows)
    claimed = []
    # One transaction for the batch: one commit (one fsync on SQLite) instead of one per row.
    async with in_transaction() as conn:
        for r in await candidates.using_db(conn):
            # Compare-and-set on the attempt count read above: of two dispatchers that read
            # the same row, exactly one UPDATE matches.
            won = await (
                Notification.filter(due_q(now, max_attempts), id=r.id, attempts=r.attempts)
                .using_db(conn)
                .update(attempts=r.attempts + 1, due_at=leased_until)
            )
            if won:
                r.attempts += 1
                claimed.append(r)
    return claimed


def _message(row: Notification) -> OutboundMessage:
    return OutboundMessage(
        id=row.id,
        kind=row.kind,
        recipient_mobile=row.recipient_mobile,
        recipient_member_id=row.recipient_member_id,
        payload=dict(row.payload or {}),
        attempt=row.attempts,
        created_at=row.created_at,
    )


async def _deliver(row: Notification, sender: Sender, now: datetime, max_attempts: int, result: DispatchResult) -> None:
    try:
        await sender.send(_message(row))
    except Exception as exc:  # a sender bug must not stall the outbox: it is a failed attempt like any other
        error = str(exc) if isinstance(exc, DeliveryFailed) else f"{type(exc).__name__}: {exc}"
        if not isinstance(exc, DeliveryFailed):
            logger.exception("sender %s crashed on notification %s", sender.name, row.id)
        # Only while the claim is still ours: after an expired lease another dispatcher owns the row.
        mine = Notification.filter(id=row.id, sent_at=None, attempts=row.attempts)
        if row.attempts >= max_attempts:
            await mine.update(last_error=f"{GAVE_UP_PREFIX} {row.attempts} attempts: {error}"[:4000], due_at=now)
            logger.error("notification %s: gave up after %s attempts: %s", row.id, row.attempts, error)
            result.gave_up.append(row.id)
        else:
            retry_at = now + backoff(row.attempts)
            await mine.update(last_error=error[:4000], due_at=retry_at)
            logger.warning("notification %s: attempt %s failed (%s); retry at %s", row.id, row.attempts, error, retry_at)
            result.retrying.append(row.id)
        return
    result.sent.append(row.id)


async def dispatch_due(
    sender: Sender,
    *,
    now: datetime | None = None,
    limit: int = DEFAULT_LIMIT,
    max_attempts: int = MAX_ATTEMPTS,
    lease: timedelta = CLAIM_LEASE,
    concurrency: int = SEND_CONCURRENCY,
) -> DispatchResult:
    """Sends one batch of due notifications through `sender` (already entered) and records each outcome."""
    now = _utc(now)
    rows = await claim_due(now, limit=limit, max_attempts=max_attempts, lease=lease)
    result = DispatchResult()
    gate = asyncio.Semaphore(max(concurrency, 1))

    async def one(row: Notification) -> None:
        async with gate:
            await _deliver(row, sender, now, max_attempts, result)

    await asyncio.gather(*(one(r) for r in rows))
    if result.sent:
        # Marked together after the batch: a crash before this line re-sends after the lease,
        # which at-least-once delivery allows; one UPDATE instead of one per message.
        await Notification.filter(id__in=result.sent, sent_at=None).update(sent_at=now, last_error=None)
    return result


async def outbox_counts(now: datetime | None = None, max_attempts: int = MAX_ATTEMPTS) -> dict[str, int]:
    """What the outbox holds: due now, waiting (later or in backoff), sent, given up."""
    now = _utc(now)
    return {
        "due": await Notification.filter(due_q(now, max_attempts)).count(),
        "waiting": await Notification.filter(sent_at=None, due_at__gt=now, attempts__lt=max_attempts).count(),
        "sent": await Notification.filter(sent_at__isnull=False).count(),
        "given_up": await Notification.filter(given_up_q(max_attempts)).count(),
    }
