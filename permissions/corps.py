"""Which corps a viewer may see: its own, the owners of its chains, and the corps behind
chain corps it may see (SPEC §2.3). Nothing else, not even a name."""

from __future__ import annotations

from collections.abc import Iterable

from tortoise.expressions import Q, Subquery

from permissions import chain
from permissions.facts import ChainCorpFacts
from permissions.sql import any_of
from permissions.viewer import Viewer


def can_see_corp(viewer: Viewer, corp_id: int, chain_places: Iterable[ChainCorpFacts]) -> bool:
    """`chain_places`: the corp's places in chains (ChainCorp facts with corp_id == corp_id)."""
    if corp_id == viewer.corp_id and viewer.directory is not None:
        return True
    if any(a.owner_corp_id == corp_id for a in viewer.chains):
        return True
    return any(chain.can_see_chain_corp(viewer, c) for c in chain_places)


def corps_q(viewer: Viewer) -> Q:
    """Filter on Corp rows: the SQL twin of can_see_corp (the viewer's own corp when it
    reads the directory, the owners of its chains, the corps behind chain corps it sees).
    SPEC §2.3; false for a viewer with no standing."""
    from models import ChainCorp

    parts = []
    if viewer.corp_id is not None and viewer.directory is not None:
        parts.append(Q(id=viewer.corp_id))
    if viewer.chains:
        parts.append(Q(id__in=sorted({a.owner_corp_id for a in viewer.chains})))
        places = ChainCorp.filter(chain.chain_corps_q(viewer), corp_id__isnull=False).values("corp_id")
        parts.append(Q(id__in=Subquery(places)))
    return any_of(parts)
