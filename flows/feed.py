"""The change feed's positions and windows (SPEC §3.9): plain reads over `change_event`, the
rows the triggers of migration 0010 append in each writing transaction.

A feed position says which change rows a client already has. On SQLite writers are
serialised, so the sequence (`change_event.id`) grows in commit order and a position is the
last sequence read. On PostgreSQL sequence numbers are handed out before commit and commit
out of order, so "every id above N" would miss a slow transaction's rows: a position is a
transaction snapshot `lo` (every row visible in it is had), and a window reads the rows
visible in a later snapshot `hi` but not in `lo`, in sequence order, paged by `after_seq`.
"""

from __future__ import annotations

import base64
import binascii
import json
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from tortoise.connection import connections

from models.settings import get_settings

DAY_MS = 86_400_000


class FeedTokenInvalid(ValueError):
    """A sync token that is not one chaingate issued (BAD_REQUEST)."""


@dataclass(frozen=True)
class Position:
    """Where a client stands in one feed. `after_seq`: rows up to it (inside the window) are
    had. PostgreSQL only: `lo` snapshot (rows visible in it are had), `hi` snapshot (the end of
    the window being paged, None before the window is opened). `at_ms`: when what the client
    has was current; rows older than the retention horizon are pruned, so an older position
    must resync."""

    after_seq: int
    at_ms: int
    lo: str | None = None
    hi: str | None = None


@dataclass(frozen=True)
class SyncToken:
    """An opaque client token: the feed (`corp` or `chain` and its id), the position, the feed
    epoch and the viewer fingerprint it was issued under (permissions.feed.viewer_fingerprint)."""

    feed: str
    feed_id: int
    position: Position
    epoch: int
    fingerprint: str

    def encode(self) -> str:
        """The opaque text handed to clients: unpadded URL-safe base64 of a versioned JSON object."""
        p = self.position
        raw = {"v": 1, "k": self.feed, "o": self.feed_id, "e": self.epoch, "f": self.fingerprint,
               "q": p.after_seq, "t": p.at_ms, "lo": p.lo, "hi": p.hi}
        return base64.urlsafe_b64encode(json.dumps(raw, separators=(",", ":")).encode()).decode().rstrip("=")

    @staticmethod
    def decode(text: str) -> SyncToken:
        """The token `encode` made; raises FeedTokenInvalid (BAD_REQUEST) for anything else."""
        try:
            raw = json.loads(base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)))
            if raw.get("v") != 1 or raw["k"] not in ("corp", "chain"):
                raise FeedTokenInvalid("unknown token version")
            lo, hi = raw.get("lo"), raw.get("hi")
            for snap in (lo, hi):
                if snap is not None and not _is_snapshot(snap):
                    raise FeedTokenInvalid("bad snapshot")
            return SyncToken(str(raw["k"]), int(raw["o"]), Position(int(raw["q"]), int(raw["t"]), lo, hi),
                             int(raw["e"]), str(raw["f"]))
        except (binascii.Error, ValueError, KeyError, TypeError, AttributeError, UnicodeDecodeError) as exc:
            raise FeedTokenInvalid(str(exc)) from exc


def _is_snapshot(text: Any) -> bool:
    # xmin:xmax:xip,xip...: digits, colons and commas only (it is bound as a parameter anyway).
    return isinstance(text, str) and len(text) < 20_000 and all(c.isdigit() or c in ":," for c in text)


def _client() -> Any:
    return connections.get("default")


def _is_postgres(client: Any) -> bool:
    return bool(client.capabilities.dialect == "postgres")


def now_ms() -> int:
    """Now, in milliseconds since the Unix epoch (the unit of positions and retention)."""
    return int(time.time() * 1000)


async def feed_state() -> tuple[int, int]:
    """(epoch, pruned_before_ms) of the feed."""
    rows = await _client().execute_query_dict("SELECT epoch, pruned_before_ms FROM feed_state WHERE id = 1")
    return int(rows[0]["epoch"]), int(rows[0]["pruned_before_ms"])


async def current_position() -> Position:
    """The position of a client that has read everything committed so far."""
    client = _client()
    if _is_postgres(client):
        rows = await client.execute_query_dict("SELECT pg_current_snapshot()::text AS snap")
        return Position(0, now_ms(), lo=rows[0]["snap"])
    rows = await client.execute_query_dict("SELECT COALESCE(MAX(id), 0) AS seq FROM change_event")
    return Position(int(rows[0]["seq"]), now_ms())


@dataclass(frozen=True)
class ChangeRow:
    """One change_event row: sequence, object type and id, kind (created/updated/removed), the
    changed API field names and the object's visibility facts before the change (None: created)."""

    seq: int
    object_type: str
    object_id: int
    kind: str
    changed: tuple[str, ...]
    before: dict[str, Any] | None


def _row(r: dict[str, Any]) -> ChangeRow:
    changed = tuple(f for f in (r["changed"] or "").split(",") if f)
    before = json.loads(r["before"]) if r["before"] else None
    return ChangeRow(int(r["id"]), r["object_type"], int(r["object_id"]), r["kind"], changed, before)


async def read_window(feed: str, feed_id: int, position: Position, limit: int) -> tuple[list[ChangeRow], Position, bool]:
    """Up to `limit` change rows of one feed after `position`, in sequence order, with the
    position after them and whether more rows are waiting. `feed`: "corp" (members and units
    of corp `feed_id`) or "chain" (chain corps and contacts of chain `feed_id`)."""
    client = _client()
    column = "corp_id" if feed == "corp" else "chain_id"
    select = "SELECT id, object_type, object_id, kind, changed, before FROM change_event"
    if not _is_postgres(client):
        rows = await client.execute_query_dict(
            f"{select} WHERE {column} = ? AND id > ? ORDER BY id LIMIT ?", [feed_id, position.after_seq, limit + 1])
        more = len(rows) > limit
        rows = rows[:limit]
        read = [_row(r) for r in rows]
        at = now_ms() if not more else position.at_ms
        return read, Position(read[-1].seq if read else position.after_seq, at), more
    lo, hi, at = position.lo, position.hi, position.at_ms
    if lo is None:
        raise FeedTokenInvalid("a PostgreSQL position needs its snapshot")
    if hi is None:  # open the window: everything committed until now
        hi = (await client.execute_query_dict("SELECT pg_current_snapshot()::text AS snap"))[0]["snap"]
        at = now_ms()
    rows = await client.execute_query_dict(
        f"{select} WHERE {column} = $1 AND id > $2 "
        "AND xid >= pg_snapshot_xmin($3::text::pg_snapshot)::text::bigint "
        "AND NOT pg_visible_in_snapshot(xid::text::xid8, $3::text::pg_snapshot) "
        "AND pg_visible_in_snapshot(xid::text::xid8, $4::text::pg_snapshot) ORDER BY id LIMIT $5",
        [feed_id, position.after_seq, lo, hi, limit + 1])
    more = len(rows) > limit
    read = [_row(r) for r in rows[:limit]]
    if more:
        return read, Position(read[-1].seq, position.at_ms if position.hi else at, lo, hi), True
    # The window is read to its end: its end snapshot is the next window's start.
    return read, Position(0, at, hi, None), False


async def prune(retention_days: float | None = None, now: int | None = None) -> int:
    """Delete change rows older than the retention (default CHAINGATE_CHANGE_RETENTION_DAYS,
    30 days) and record the horizon, so older sync tokens answer RESYNC_REQUIRED. Returns the
    number of rows deleted. Run by the worker (flows.worker.feed_duty)."""
    days = retention_days if retention_days is not None else get_settings().change_retention_days
    cutoff = (now if now is not None else now_ms()) - int(days * DAY_MS)
    client = _client()
    pg = _is_postgres(client)
    async with _transaction(client) as conn:
        await conn.execute_query(
            "UPDATE feed_state SET pruned_before_ms = $1 WHERE id = 1 AND pruned_before_ms < $1" if pg else
            "UPDATE feed_state SET pruned_before_ms = ? WHERE id = 1 AND pruned_before_ms < ?",
            [cutoff] if pg else [cutoff, cutoff])
        count, _ = await conn.execute_query(
            f"DELETE FROM change_event WHERE at_ms < {'$1' if pg else '?'}", [cutoff])
    return int(count)


def _transaction(client: Any) -> Any:
    from tortoise.transactions import in_transaction

    return in_transaction(client.connection_name)


def collapse(rows: Sequence[ChangeRow]) -> list[tuple[ChangeRow, ChangeRow, frozenset[str]]]:
    """Per object: (its first row in the window, its last row, every field changed), ordered by
    the last row's sequence. The first row's `before` is the object's state at the position."""
    first: dict[tuple[str, int], ChangeRow] = {}
    last: dict[tuple[str, int], ChangeRow] = {}
    fields: dict[tuple[str, int], set[str]] = {}
    for r in rows:
        key = (r.object_type, r.object_id)
        first.setdefault(key, r)
        last[key] = r
        fields.setdefault(key, set()).update(r.changed)
    return sorted(((first[k], last[k], frozenset(fields[k])) for k in first), key=lambda t: t[1].seq)
