"""Per-request loaders for the directory. Built with the request's Viewer, never shared:
a loader cache outliving its request would hand one viewer's rows to another."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from aiodataloader import DataLoader

from models import Corp, Member, OrgUnit, Placement, statements
from models.enums import Scope
from permissions import scope
from permissions.corps import can_see_corp
from permissions.facts import MemberFacts, UnitFacts
from permissions.fields import FieldSettings
from permissions.loading import chain_places_of_corps, field_settings, member_facts, subtree_units
from permissions.members import can_see_member
from permissions.restricted import restricted
from permissions.sql import ids_in
from permissions.viewer import Viewer


@dataclass(frozen=True, slots=True)
class Seat:
    """A member's seat, with its unit's path: the field policy and the departments both read it."""

    unit_id: int
    path: str
    is_main: bool
    is_leader: bool


@dataclass(frozen=True, slots=True)
class UnitRow:
    """What the directory types read of a unit, fetched as a plain row."""

    id: int
    corp_id: int
    parent_id: int | None
    path: str
    depth: int
    name: str
    order: int
    scope: Scope


UNIT_COLUMNS = ("id", "corp_id", "parent_id", "path", "depth", "name", "order", "scope")


def _seats_query(member_ids: list[int]) -> Any:
    return Placement.filter(ids_in(Placement, "member_id", member_ids)).order_by("-is_main", "order", "id").values_list(
        "member_id", "is_main", "is_leader", *(f"unit__{c}" for c in UNIT_COLUMNS)
    )


# The seats statement depends on nobody's policy (the member ids come from a page already
# cut to the viewer): its text is rendered once per process and number of ids.
_SEAT_SHAPES: dict[Any, Any] = {}


def by_id_loader(model: Any) -> DataLoader:
    async def batch(ids: Sequence[int]) -> list[Any]:
        rows = {r.id: r for r in await model.filter(id__in=list(ids))}
        return [rows.get(i) for i in ids]

    return DataLoader(batch)


class DirectoryLoaders:
    def __init__(self, viewer: Viewer) -> None:
        self.viewer = viewer
        self.corp_raw = DataLoader(self._corp_rows)
        self.member_raw = by_id_loader(Member)
        self.unit_raw = DataLoader(self._unit_rows)
        self.member_facts = DataLoader(self._member_facts)
        self.settings = DataLoader(self.settings_of)
        self.seats = DataLoader(self.seats_of)
        self.children = DataLoader(self._children)
        self.visible_member = DataLoader(self._visible_member)
        self.visible_unit = DataLoader(self._visible_unit)
        self.visible_corp = DataLoader(self._visible_corp)
        self._subtree_units: dict[tuple[int, tuple[str, ...]], dict[str, tuple[int, ...]]] = {}
        # Unit rows read so far (with seats, or by unit_raw): by id, without a future each.
        self._units: dict[int, UnitRow] = {}
        # Seats and field settings read so far, likewise: a page asks for its rows' all at once.
        self._seats: dict[int, list[Seat]] = {}
        self._settings: dict[int, FieldSettings] = {}

    async def scope_units(self, corp_id: int, within: tuple[str, ...] | None = None) -> dict[str, tuple[int, ...]]:
        """The unit ids of the subtrees the viewer's scope names in corp_id (and of `within`),
        read once per request and corp: what the list queries name their seats by."""
        roots = tuple(scope.named_roots(self.viewer, within, corp_id=corp_id))
        key = (corp_id, roots)
        if key not in self._subtree_units:
            kept = self.viewer.kept
            found = kept.get(("units", key)) if kept is not None else None
            if found is None:
                found = await subtree_units(corp_id, roots)
                if kept is not None:
                    kept[("units", key)] = found
            self._subtree_units[key] = found
        return self._subtree_units[key]

    def forget_corp(self, corp_id: int) -> None:
        """After a write to a corp's row or field settings within this request: read them again."""
        self.settings.clear(corp_id)
        self._settings.pop(corp_id, None)
        self.corp_raw.clear(corp_id)
        self.visible_corp.clear(corp_id)
        if self.viewer.kept is not None:
            self.viewer.kept.pop(("settings", corp_id), None)
            self.viewer.kept.pop(("corp", corp_id), None)

    async def _kept_by_id(self, kind: str, ids: Sequence[int], read: Any) -> list[Any]:
        """Values by id, those the kept Viewer holds (Viewer.kept) first, the rest read by
        `read(ids) -> {id: value}` and kept with it."""
        kept = self.viewer.kept if self.viewer.kept is not None else {}
        missing = [i for i in ids if (kind, i) not in kept]
        if missing:
            found = await read(missing)
            for i in missing:
                if found.get(i) is not None:
                    kept[(kind, i)] = found[i]
            return [kept.get((kind, i), found.get(i)) for i in ids]
        return [kept[(kind, i)] for i in ids]

    def prime_members(self, rows: Sequence[Member]) -> None:
        for m in rows:
            self.member_raw.prime(m.id, m)

    async def _member_facts(self, ids: Sequence[int]) -> list[MemberFacts | None]:
        rows = [m for m in await self.member_raw.load_many(list(ids)) if m is not None]
        facts = await member_facts(rows)
        return [facts.get(i) for i in ids]

    async def settings_of(self, corp_ids: Sequence[int]) -> list[FieldSettings]:
        """The field settings of each corp (the kept Viewer's first), read once per request;
        a page calls this directly for its rows' corps (no future per corp)."""
        known = self._settings
        missing = [i for i in dict.fromkeys(corp_ids) if i not in known]
        if missing:
            known.update(zip(missing, await self._kept_by_id("settings", missing, field_settings), strict=True))
        return [known[i] for i in corp_ids]

    async def _corp_rows(self, ids: Sequence[int]) -> list[Corp | None]:
        async def read(missing: list[int]) -> dict[int, Corp]:
            return {c.id: c for c in await Corp.filter(id__in=missing)}

        return await self._kept_by_id("corp", ids, read)

    async def seats_of(self, member_ids: Sequence[int]) -> list[list[Seat]]:
        """Seats of each member, the main one first, then by order (the departments order),
        read once per request; a page calls this directly for its rows (no future per row).
        The units come in the same query and are kept for `unit_raw`: departments need no second one."""
        known = self._seats
        missing = [i for i in dict.fromkeys(member_ids) if i not in known]
        if missing:
            out: dict[int, list[Seat]] = {i: [] for i in missing}
            dialect = Placement._meta.db.capabilities.dialect
            rows = await statements.fetch(_seats_query, [missing], ("seats", dialect), _SEAT_SHAPES)
            for member_id, is_main, is_leader, *unit in rows:
                row = UnitRow(*unit)
                out[member_id].append(Seat(row.id, row.path, is_main, is_leader))
                self._units[row.id] = row
            known.update(out)
        return [known[i] for i in member_ids]

    async def _unit_rows(self, ids: Sequence[int]) -> list[UnitRow | None]:
        known = self._units
        missing = [i for i in ids if i not in known]
        if missing:
            for r in await OrgUnit.filter(id__in=missing).values_list(*UNIT_COLUMNS):
                known[r[0]] = UnitRow(*r)
        return [known.get(i) for i in ids]

    async def visible_units(self, ids: Sequence[int]) -> list[UnitRow | None]:
        """The units by id, None where the viewer may not see one (as `visible_unit` loads
        them), read once per request. Units already read (a page's seats bring theirs) cost
        no future or task each: a page's departments take this path."""
        known = self._units
        if any(i not in known for i in ids):
            await self.unit_raw.load_many([i for i in ids if i not in known])
        viewer = self.viewer
        out: list[UnitRow | None] = []
        for i in ids:
            u = known.get(i)
            out.append(u if u is not None and scope.can_see_unit(viewer, UnitFacts(u.id, u.corp_id, u.path)) else None)
        return out

    async def _children(self, parent_ids: Sequence[int]) -> list[list[OrgUnit]]:
        out: dict[int, list[OrgUnit]] = defaultdict(list)
        query = restricted(OrgUnit, self.viewer).filter(parent_id__in=list(parent_ids))
        for u in await query.order_by("order", "id"):
            out[u.parent_id].append(u)
        return [out[i] for i in parent_ids]

    async def _visible_member(self, ids: Sequence[int]) -> list[Member | None]:
        facts = await self.member_facts.load_many(list(ids))
        rows = await self.member_raw.load_many(list(ids))
        return [m if f is not None and can_see_member(self.viewer, f) else None for m, f in zip(rows, facts, strict=True)]

    async def _visible_unit(self, ids: Sequence[int]) -> list[UnitRow | None]:
        return await self.visible_units(ids)

    async def _visible_corp(self, ids: Sequence[int]) -> list[Corp | None]:
        rows = await self.corp_raw.load_many(list(ids))
        # The viewer's own corp and its chains' owners are visible whatever their chain places:
        # only the others need their places read.
        open_ids = [c.id for c in rows if c is not None and can_see_corp(self.viewer, c.id, ())]
        others = [c.id for c in rows if c is not None and c.id not in open_ids]
        places = await chain_places_of_corps(others) if others and self.viewer.chains else {}
        return [
            c if c is not None and (c.id in open_ids or can_see_corp(self.viewer, c.id, places.get(c.id, ()))) else None
            for c in rows
        ]
