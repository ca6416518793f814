"""Small builders for the SQL evaluators (Tortoise Q objects)."""

from __future__ import annotations

from collections.abc import Iterable
from functools import reduce
from operator import or_

from tortoise.expressions import Q, Subquery

NOTHING = Q(id__in=[])  # renders as 1=0


def any_of(parts: Iterable[Q]) -> Q:
    """OR of the parts; an empty OR is false (never "everything")."""
    items = list(parts)
    return reduce(or_, items) if items else NOTHING


def path_under_any(roots: Iterable[str], field: str = "path") -> Q:
    return any_of(Q(**{f"{field}__startswith": r}) for r in roots)


def units_under(roots: Iterable[str]) -> Subquery:
    from models import OrgUnit

    return Subquery(OrgUnit.filter(path_under_any(roots)).values("id"))


def members_placed_under(roots: Iterable[str]) -> Subquery:
    """Ids of members with at least one seat in one of the subtrees."""
    from models import Placement

    return Subquery(Placement.filter(unit_id__in=units_under(roots)).values("member_id"))


def groups_under(chain_id: int, roots: Iterable[str]) -> Subquery:
    from models import ChainGroup

    return Subquery(ChainGroup.filter(Q(chain_id=chain_id) & path_under_any(roots)).values("id"))
