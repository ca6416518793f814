"""Per-request loaders for chain spaces; every `visible_*` loader asks the policy engine."""

from __future__ import annotations

from collections.abc import Sequence

from aiodataloader import DataLoader

from gql.directory.loaders import by_id_loader
from models import ChainContact, ChainCorp, ChainGroup, ChainSpace
from permissions import chain
from permissions.facts import GroupFacts
from permissions.loading import chain_corp_facts, contact_facts
from permissions.viewer import Viewer


class ChainLoaders:
    def __init__(self, viewer: Viewer) -> None:
        self.viewer = viewer
        self.chain_raw = by_id_loader(ChainSpace)
        self.group_raw = by_id_loader(ChainGroup)
        self.chain_corp_raw = by_id_loader(ChainCorp)
        self.contact_raw = by_id_loader(ChainContact)
        self.visible_chain = DataLoader(self._visible_chain)
        self.visible_group = DataLoader(self._visible_group)
        self.visible_chain_corp = DataLoader(self._visible_chain_corp)
        self.visible_contact = DataLoader(self._visible_contact)

    async def _visible_chain(self, ids: Sequence[int]) -> list[ChainSpace | None]:
        rows = await self.chain_raw.load_many(list(ids))
        return [c if c is not None and chain.can_see_chain(self.viewer, c.id) else None for c in rows]

    async def _visible_group(self, ids: Sequence[int]) -> list[ChainGroup | None]:
        rows = await self.group_raw.load_many(list(ids))
        return [
            g if g is not None and chain.can_see_group(self.viewer, GroupFacts(g.id, g.chain_id, g.path)) else None
            for g in rows
        ]

    async def _visible_chain_corp(self, ids: Sequence[int]) -> list[ChainCorp | None]:
        facts = {f.id: f for f in await chain_corp_facts(ChainCorp.filter(id__in=list(ids)))}
        rows = await self.chain_corp_raw.load_many(list(ids))
        return [
            c if c is not None and c.id in facts and chain.can_see_chain_corp(self.viewer, facts[c.id]) else None
            for c in rows
        ]

    async def _visible_contact(self, ids: Sequence[int]) -> list[ChainContact | None]:
        facts = {f.id: f for f in await contact_facts(ChainContact.filter(id__in=list(ids)))}
        rows = await self.contact_raw.load_many(list(ids))
        return [
            c if c is not None and c.id in facts and chain.can_see_contact(self.viewer, facts[c.id]) else None
            for c in rows
        ]
