"""Viewers built once and kept, checked on every request by one statement.

Building a member's Viewer reads its grants, seats, their ancestors' scope settings and its
chain places and rules: eight statements. A request instead runs one statement
(`MEMBER_CHECK`, `APP_CHECK`) that reads what must be fresh on every request: the member's
status and `tokens_valid_after` and whether the token's id was revoked (an app token's
revocation, expiry and lastUsedAt), together with the **policy version** and, for a member,
its **seats** (the unit ids of its own placement rows). The Viewer kept for that member (app
token) is used when it was built at that version (and those seats), else it is built again
and kept.

The policy version is one global counter (table `policy_version`, one row). Triggers bump
it inside the transaction of every insert, delete or relevant update of a table the Viewer
is built from (migration 0007 lists them), so no write path can forget it, bulk imports
and cascades included, and every worker process (every instance) sees a change on its next
request: the version lives in the database. The version is read *before* a Viewer is
built, so a Viewer built from data newer than its version is at worst rebuilt once more,
never kept past a change.

Seats are the exception (migration 0018 dropped their triggers): a placement row gives a
Viewer nothing but its own member's units, so no other Viewer depends on it, and the check
reads the member's seats itself (an index range on placement(member_id, unit_id)). An
import placing thousands of new members therefore leaves every kept Viewer as it is, and
takes no lock on the counter row; a member moved, by an import or by hand, rebuilds its
own Viewer alone. Seats are compared as the sorted unit ids, whatever order the
aggregate returns them in.

Why global and not per corp: a chain rule, a group's peersVisible switch or a chain
corp's move changes the Viewers of the owner's members and of every joined corp's members
of that chain (100,000 corps at bench scale), so per-corp counters would turn one chain
write into thousands of row updates, and reading the right counters back would need the
Viewer's chains in the check. Policy writes are rare next to reads; after one, each
active viewer is rebuilt once (eight cheap statements). What it costs: concurrent policy
writes queue on the counter row until each commits (reads never wait on it), and a long
import holds it for its transaction; SQLite serialises writers anyway.

The cache is per process, bounded (least recently used out first), and keyed by the
database (a process can open several, as the tests and benchmarks do) and the member or
app token id.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Hashable
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from tortoise.connection import get_connection

from models import AppToken, Member
from models.enums import MemberStatus
from permissions.viewer import Viewer

MAX_VIEWERS = 10_000
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

# One row whatever happens: the version row, with the member (or token) when it exists.
# {seats}: the dialect's text aggregate of the member's seat unit ids.
MEMBER_CHECK = (
    "SELECT v.version, m.status, m.tokens_valid_after, "
    "EXISTS (SELECT 1 FROM revoked_token r WHERE r.jti = {1}) AS revoked, "
    "(SELECT {seats} FROM placement p WHERE p.member_id = {0}) AS seats "
    "FROM policy_version v LEFT JOIN member m ON m.id = {0} WHERE v.id = 1"
)
SEATS = {"postgres": "string_agg(p.unit_id::text, ',')", "sqlite": "group_concat(p.unit_id, ',')"}
APP_CHECK = (
    "SELECT v.version, t.id, t.corp_id, t.scopes, t.chain_id, t.revoked_at, t.expires_at, t.last_used_at "
    "FROM policy_version v LEFT JOIN app_token t ON t.token_hash = {0} WHERE v.id = 1"
)


class ViewerCache:
    """Viewers by (database, kind, id), each with the stamp it was built at: the policy version
    (an app's), or the version and the member's seats (a member's, MemberCheck.stamp)."""

    def __init__(self, size: int = MAX_VIEWERS) -> None:
        self.size = size
        self._entries: OrderedDict[tuple[Any, ...], tuple[Hashable, Viewer]] = OrderedDict()

    def get(self, key: tuple[Any, ...], version: Hashable) -> Viewer | None:
        entry = self._entries.get(key)
        if entry is None or entry[0] != version:
            return None
        self._entries.move_to_end(key)
        return entry[1]

    def put(self, key: tuple[Any, ...], version: Hashable, viewer: Viewer) -> Viewer:
        """Keep `viewer` for `version`; returns the kept Viewer, with an empty `kept` of its own."""
        viewer = replace(viewer, kept={})
        self._entries[key] = (version, viewer)
        self._entries.move_to_end(key)
        while len(self._entries) > self.size:
            self._entries.popitem(last=False)
        return viewer

    def clear(self) -> None:
        self._entries.clear()

    def __len__(self) -> int:
        return len(self._entries)


VIEWERS = ViewerCache()


@dataclass(frozen=True)
class MemberCheck:
    version: int
    revoked: bool
    # ACTIVE, and its sessions did not end at or after the token's issue instant.
    may_act: bool
    # The unit ids of the member's seats, sorted.
    seats: tuple[int, ...] = ()

    @property
    def stamp(self) -> tuple[int, tuple[int, ...]]:
        """What a kept member Viewer must have been built at to be used."""
        return self.version, self.seats


@dataclass(frozen=True)
class AppCheck:
    version: int
    token: AppToken | None  # None: no such token; revocation and expiry are the caller's to judge


def _database() -> tuple[Any, str]:
    conn = get_connection("default")
    return conn, str(getattr(conn, "database", None) or getattr(conn, "filename", None))


def _sql(conn: Any, template: str) -> str:
    # Numbered on both sides ($1, ?1): a parameter may appear out of order in the text.
    dialect = conn.capabilities.dialect
    mark = "$" if dialect == "postgres" else "?"
    return template.format(*(f"{mark}{i + 1}" for i in range(2)), seats=SEATS.get(dialect, SEATS["sqlite"]))


_TEXT: dict[tuple[str, str], str] = {}


def _statement(conn: Any, template: str) -> str:
    key = (conn.capabilities.dialect, template)
    text = _TEXT.get(key)
    if text is None:
        text = _TEXT[key] = _sql(conn, template)
    return text


async def check_member(member_id: int, jti: str, issued_ms: int) -> tuple[MemberCheck, str]:
    """The one statement a member token costs on a warm request; also returns the database key."""
    conn, database = _database()
    _, rows = await conn.execute_query(_statement(conn, MEMBER_CHECK), [member_id, jti])
    row = dict(rows[0])
    valid_after = Member._meta.fields_map["tokens_valid_after"].to_python_value(row["tokens_valid_after"])
    issued = _EPOCH + timedelta(milliseconds=issued_ms)
    may_act = row["status"] == MemberStatus.ACTIVE.value and (valid_after is None or valid_after < issued)
    seats = tuple(sorted(int(u) for u in row["seats"].split(","))) if row["seats"] else ()
    return MemberCheck(int(row["version"]), bool(row["revoked"]), may_act, seats), database


async def check_app(token_hash: str) -> tuple[AppCheck, str]:
    conn, database = _database()
    _, rows = await conn.execute_query(_statement(conn, APP_CHECK), [token_hash])
    row = dict(rows[0])
    token = None
    if row["id"] is not None:
        fields = AppToken._meta.fields_map
        token = AppToken(
            id=row["id"],
            corp_id=row["corp_id"],
            scopes=fields["scopes"].to_python_value(row["scopes"]),
            chain_id=row["chain_id"],
            revoked_at=fields["revoked_at"].to_python_value(row["revoked_at"]),
            expires_at=fields["expires_at"].to_python_value(row["expires_at"]),
            last_used_at=fields["last_used_at"].to_python_value(row["last_used_at"]),
        )
    return AppCheck(int(row["version"]), token), database


def with_token(viewer: Viewer, token_id: str | None) -> Viewer:
    """The kept Viewer, naming this request's token id (a member may hold several tokens)."""
    return viewer if viewer.token_id == token_id else replace(viewer, token_id=token_id)
