"""Run as `python -m tests.models.upgrade_with_rows URL TARGET`, in a process of its own (the
migration engine opens and closes Tortoise's connections): migrate URL to the newest
migration, write rows of every kind the recent migrations touch, migrate back down to TARGET
(e.g. `models.0018_seats_not_versioned`), then up again, and print one JSON line of what the
kept columns hold next to a recount."""

from __future__ import annotations

import asyncio
import json
import sys
from typing import Any

from tortoise.migrations.api import migrate

from models.db import close_db, init_db, tortoise_config


async def _write_rows() -> None:
    from models import Member
    from models.enums import MemberStatus
    from tests import factories as f

    owner, _ = await f.corp("升级上游")
    _, top = await f.chain_space(owner)
    down, root = await f.corp("升级下游")
    place = await f.chain_corp(top, down)
    leaving, staying = await f.member([root]), await f.member([root])
    await f.contact(place, leaving)
    await f.contact(place, staying)
    await f.contact(place, None)
    await Member.filter(id=leaving.id).update(status=MemberStatus.RESIGNED)


async def _read_back() -> dict[str, object]:
    from tortoise.connection import get_connection

    from tests.models.test_contact_headcounts import (
        corps_kept,
        corps_recounted,
        kept,
        member_left_as_kept_and_recomputed,
        recounted,
    )
    from tests.models.test_name_terms import kept as name_terms_kept
    from tests.models.test_name_terms import recounted as name_terms_recounted

    as_kept, recomputed = await member_left_as_kept_and_recomputed()
    _, rows = await get_connection("default").execute_query("SELECT COUNT(*) AS n FROM chain_contact WHERE member_left")
    return {
        "member_left_agrees": as_kept == recomputed,
        "contacts_of_left_members": int(dict(rows[0])["n"]),
        "contact_counts_agree": await kept() == await recounted(),
        "corp_counts_agree": await corps_kept() == await corps_recounted(),
        "name_terms_agree": await name_terms_kept() == await name_terms_recounted(),
    }


def _downgrade_config(url: str) -> dict[str, Any]:
    """The way down. SQLite removes a column by rebuilding the table and renaming it, and its
    modern rename re-checks every trigger of the schema, failing on the triggers of other
    tables that name the table mid-rebuild; the legacy rename leaves them as they are (they
    name the same table again once it is renamed back)."""
    config = tortoise_config(url)
    connection = config["connections"]["default"]
    if isinstance(connection, dict) and url.startswith("sqlite://"):
        connection["credentials"]["legacy_alter_table"] = "ON"
    return config


async def main(url: str, target: str) -> None:
    await migrate(config=tortoise_config(url))
    await init_db(url, run_migrations=False)
    await _write_rows()
    await close_db()
    await migrate(config=_downgrade_config(url), target=target)
    await migrate(config=tortoise_config(url))
    await init_db(url, run_migrations=False)
    try:
        print(json.dumps(await _read_back()))
    finally:
        await close_db()


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2]))
