"""The recent migrations apply to a database that already holds rows (the upgrade of a running
deployment), not only to the empty one every other test starts from: a NOT NULL column added
without a database default fails on the rows already there (0019 did, on PostgreSQL)."""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
# The last migration of the schema as it was before the newest migrations were written.
BEFORE = "models.0018_seats_not_versioned"


async def test_the_recent_migrations_upgrade_a_database_holding_rows(empty_database_url: str) -> None:
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "tests.models.upgrade_with_rows", empty_database_url, BEFORE, cwd=ROOT,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    out, err = await asyncio.wait_for(process.communicate(), timeout=300)
    assert process.returncode == 0, err.decode(errors="replace")[-3000:]
    assert json.loads(out.decode().strip().splitlines()[-1]) == {
        "member_left_agrees": True, "contacts_of_left_members": 1, "contact_counts_agree": True, "corp_counts_agree": True,
        "name_terms_agree": True}
