"""Member sessions (SPEC §3.5, §4): a member token stays dead once its member's sessions end.

Each member keeps `tokens_valid_after`; a member token is accepted only when it was issued
strictly after that instant (permissions.loading.member_viewer checks it in the same
statement as the status). Both instants are whole milliseconds: a token carries its issue
time in milliseconds (`iat_ms`, JWT's `iat` has whole seconds only), and ending sessions
stores the current millisecond. So a token issued in the very millisecond sessions end is
refused, and a token is never stamped earlier than the millisecond after the last ending its
issuer read (token_instant): one issued right after a reinstatement is accepted.

Sessions end when a member is resigned or disabled and again when it is reinstated or
enabled (a token minted from a read taken just before the resignation committed dies then
too), and when an admin or the member itself revokes them (revokeMemberSessions). Every
status change ends sessions with `ended_sessions()` in the same update.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import Any

from tortoise.transactions import in_transaction

from flows.audit import Origin, record
from flows.members import managed_member
from models import Member
from permissions.viewer import Viewer, ViewerKind

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def now_ms() -> int:
    """The clock of session instants, in whole milliseconds since the epoch (tests replace it)."""
    return time.time_ns() // 1_000_000


def instant(ms: int) -> datetime:
    """Milliseconds since the epoch as an aware datetime, exactly (no float rounding)."""
    return EPOCH + timedelta(milliseconds=ms)


def ms_of(moment: datetime) -> int:
    """`moment` (timezone-aware) as whole milliseconds since the Unix epoch, rounded down."""
    return (moment - EPOCH) // timedelta(milliseconds=1)


def ended_sessions() -> dict[str, Any]:
    """The column update that refuses every token of a member issued until now."""
    return {"tokens_valid_after": instant(now_ms())}


def token_instant(member: Member) -> int:
    """The `iat_ms` for a member token issued now from this (freshly read) row: the current
    millisecond, but never at or before the member's last session end."""
    floor = ms_of(member.tokens_valid_after) + 1 if member.tokens_valid_after is not None else 0
    return max(now_ms(), floor)


async def revoke_member_sessions(viewer: Viewer, member_id: int, *, origin: Origin | None = None) -> Member:
    """Refuse every token the member holds now (revokeMemberSessions, SPEC §3.5); it gets a
    fresh one through actAs. A member may end its own sessions; an admin those of a member it
    manages and outranks (NOT_FOUND / TARGET_OUTRANKS_YOU, as flows.members.managed_member)."""
    if viewer.kind is ViewerKind.MEMBER and viewer.member_id == member_id:
        member = await Member.get(id=member_id)
    else:
        member, _ = await managed_member(viewer, member_id, "memberId")
    async with in_transaction():
        update = ended_sessions()
        await Member.filter(id=member.id).update(**update)
        member.tokens_valid_after = update["tokens_valid_after"]
        await record(viewer, "member.revokeSessions", "Member", member.id, corp_id=member.corp_id,
                     after={"tokensValidAfter": member.tokens_valid_after.isoformat()}, origin=origin)
    return member
