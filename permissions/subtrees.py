"""The small id sets the SQL evaluators list instead of subqueries: their limits and rules.

A viewer's scope names a handful of subtrees; their unit ids, read in one statement
(permissions.loading.subtree_units) before a list query is built, let the list's seat tests name units instead of path ranges
(permissions.sql.members_placed_under), which both databases estimate right. Likewise the
corps of a chain selector that names a few (a downstream corp's own place, its group's
peers, permissions.loading.selector_corps): contacts are then found from those corps
(permissions.chain.contacts_q).
"""

from __future__ import annotations

from permissions.paths import outermost

# A subtree with more units than this keeps its path-range subquery: the list of ids would
# cost more to send and plan than the range costs to read.
MAX_LISTED_UNITS = 2000


# A selector matching more corps than this stays a subquery.
MAX_LISTED_CORPS = 2000


def units_by_root(roots: list[str], rows: list[tuple[int, str]]) -> dict[str, tuple[int, ...]]:
    """root path -> ids of the units among `rows` ((id, path) pairs, the units read under
    `roots`, at most MAX_LISTED_UNITS per outermost root plus one) in that root's subtree,
    for each root whose subtree holds at most MAX_LISTED_UNITS; {} when `rows` was cut short
    (then no subtree's list is known to be whole). Pure."""
    if len(rows) > MAX_LISTED_UNITS * len(outermost(roots)):
        return {}
    found: dict[str, list[int]] = {r: [] for r in roots}
    for unit_id, path in rows:
        for r in roots:
            if path.startswith(r):
                found[r].append(unit_id)
    return {r: tuple(ids) for r, ids in found.items() if len(ids) <= MAX_LISTED_UNITS}
