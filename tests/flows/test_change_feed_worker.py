"""The worker prunes the change log past its retention (SPEC §3.9): a real `chaingate worker`
process, on its own schedule, on the test database (SQLite or PostgreSQL)."""

from __future__ import annotations

import pytest

from flows import feed as feed_flow
from models import ChangeEvent
from tests import factories as f
from tests.flows.test_job_worker import wait_for, worker_process

pytestmark = pytest.mark.usefixtures("database")


async def _row(corp_id: int, age_days: float) -> ChangeEvent:
    return await ChangeEvent.create(corp_id=corp_id, object_type="MEMBER", object_id=1, kind="UPDATED",
                                    changed="position", at_ms=feed_flow.now_ms() - int(age_days * feed_flow.DAY_MS))


async def test_a_running_worker_prunes_rows_past_the_retention_again_and_again() -> None:
    corp, _ = await f.corp()
    old, fresh = await _row(corp.id, 31), await _row(corp.id, 1)

    async def gone(row: ChangeEvent) -> bool:
        return not await ChangeEvent.filter(id=row.id).exists()

    with worker_process(CHAINGATE_CHANGE_PRUNE_SECONDS="0.3") as process:
        await wait_for(lambda: gone(old), "the first prune")
        # Written after the worker's first prune: the next one, on its schedule, takes it.
        later = await _row(corp.id, 45)
        await wait_for(lambda: gone(later), "a later prune")
        assert process.poll() is None
    assert await ChangeEvent.filter(id=fresh.id).exists()
    # Tokens from before the horizon (now - 30 days, or later if an earlier prune said so) resync.
    _, pruned_before = await feed_flow.feed_state()
    assert pruned_before > feed_flow.now_ms() - 31 * feed_flow.DAY_MS


async def test_the_retention_is_a_setting() -> None:
    corp, _ = await f.corp()
    week_old, day_old = await _row(corp.id, 7), await _row(corp.id, 1)
    with worker_process(CHAINGATE_CHANGE_RETENTION_DAYS="3"):
        await wait_for(lambda: _absent(week_old.id), "the prune with a 3-day retention")
    assert await ChangeEvent.filter(id=day_old.id).exists()


async def _absent(row_id: int) -> bool:
    return not await ChangeEvent.filter(id=row_id).exists()
