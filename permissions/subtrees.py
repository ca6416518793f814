"""Reading which units make up a few subtrees, for the SQL evaluators (see sql.SubtreeUnits).

A viewer's scope names a handful of subtrees; their unit ids, read here in one statement
before a list query is built, let the list's seat tests name units instead of path ranges
(permissions.sql.members_placed_under), which both databases estimate right.
"""

from __future__ import annotations

from collections.abc import Iterable

from permissions.paths import outermost
from permissions.sql import path_under_any

# A subtree with more units than this keeps its path-range subquery: the list of ids would
# cost more to send and plan than the range costs to read.
MAX_LISTED_UNITS = 2000


async def subtree_units(corp_id: int, roots: Iterable[str]) -> dict[str, tuple[int, ...]]:
    """root path -> ids of the corp's units in that subtree (the root itself included), for
    each of `roots` whose subtree holds at most MAX_LISTED_UNITS units; {} for no roots."""
    from models import OrgUnit

    wanted = sorted(set(roots))
    if not wanted:
        return {}
    rows = await (
        OrgUnit.filter(path_under_any(wanted), corp_id=corp_id)
        .limit(MAX_LISTED_UNITS * len(outermost(wanted)) + 1)
        .values_list("id", "path")
    )
    found: dict[str, list[int]] = {r: [] for r in wanted}
    for unit_id, path in rows:
        for r in wanted:
            if path.startswith(r):
                found[r].append(unit_id)
    if len(rows) > MAX_LISTED_UNITS * len(outermost(wanted)):
        return {}  # cut short: no subtree's list is known to be whole
    return {r: tuple(ids) for r, ids in found.items() if len(ids) <= MAX_LISTED_UNITS}
