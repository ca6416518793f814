"""Reading the small id sets the SQL evaluators list instead of subqueries.

A viewer's scope names a handful of subtrees; their unit ids, read here in one statement
before a list query is built, let the list's seat tests name units instead of path ranges
(permissions.sql.members_placed_under), which both databases estimate right. Likewise the
corps of a chain selector that names a few (a downstream corp's own place, its group's
peers): contacts are then found from those corps (permissions.chain.contacts_q).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import cast

from permissions.chain import CorpSelector, narrow_selectors
from permissions.paths import outermost
from permissions.sql import path_under_any
from permissions.viewer import Viewer

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


# A selector matching more corps than this stays a subquery.
MAX_LISTED_CORPS = 2000


async def selector_corps(viewer: Viewer, chain_id: int) -> dict[CorpSelector, tuple[int, ...]]:
    """selector -> the ids of the chain corps it matches, for each of the viewer's narrow
    selectors in the chain (chain.narrow_selectors) matching at most MAX_LISTED_CORPS."""
    from models import ChainCorp

    out: dict[CorpSelector, tuple[int, ...]] = {}
    for s in narrow_selectors(viewer, chain_id):
        ids = cast(list[int], await ChainCorp.filter(s.q()).limit(MAX_LISTED_CORPS + 1).values_list("id", flat=True))
        if len(ids) <= MAX_LISTED_CORPS:
            out[s] = tuple(sorted(ids))
    return out
