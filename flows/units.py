"""Changing and deleting units of the department tree (SPEC §3.5)."""

from __future__ import annotations

from typing import Any

from tortoise.transactions import in_transaction

from flows.access import named_rows
from flows.audit import Origin, record
from flows.directory import MAX_UNIT_DEPTH, validate_unit_name
from flows.errors import FlowError, NotFound
from models import Member, OrgUnit, Placement
from models.enums import MemberStatus, Scope
from permissions import actions
from permissions.paths import make_path
from permissions.viewer import Viewer


async def managed_unit(viewer: Viewer, unit_id: int, field_name: str = "id") -> OrgUnit:
    """Unit `unit_id` when the viewer may manage it (SPEC §2.4). Code: NOT_FOUND (field `field_name`) otherwise."""
    unit = await OrgUnit.get_or_none(id=unit_id)
    if unit is None or not actions.can_manage_directory_at(viewer, unit.corp_id, unit.path):
        raise NotFound(field_name)
    return unit


async def _check_listed(corp_id: int, ids: list[int], field_name: str) -> list[int]:
    return [u.id for u in await named_rows(OrgUnit, ids, field_name, corp_id=corp_id)]


async def update_org_unit(
    viewer: Viewer,
    unit_id: int,
    *,
    name: str | None = None,
    parent_id: int | None = None,
    order: int | None = None,
    scope: Scope | None = None,
    whitelist: list[int] | None = None,
    exclude: list[int] | None = None,
    leader_ids: list[int] | None = None,
    origin: Origin | None = None,
) -> OrgUnit:
    """Change unit `unit_id`: the arguments given (None: unchanged) are its name, parent
    (a move), order, scope with whitelist/exclude (SPEC §2.1) and leaders (members seated in
    it). Audited. Returns the unit. Codes: NOT_FOUND (id, parentId, whitelist, exclude),
    UNIT_IS_ROOT, UNIT_LOOP, INVALID_NAME, DUPLICATE_NAME, UNIT_TOO_DEEP, NOT_IN_UNIT (leaderIds)."""
    unit = await managed_unit(viewer, unit_id)
    before: dict[str, Any] = {"name": unit.name, "parent": unit.parent_id, "order": unit.order, "scope": unit.scope.value}
    new_parent: OrgUnit | None = None
    if parent_id is not None and parent_id != unit.parent_id:
        if unit.parent_id is None:
            raise FlowError("UNIT_IS_ROOT", "The root unit cannot move.", "parentId")
        new_parent = await managed_unit(viewer, parent_id, "parentId")
        if new_parent.corp_id != unit.corp_id:
            raise NotFound("parentId")
        if new_parent.path.startswith(unit.path):
            raise FlowError("UNIT_LOOP", "A unit cannot move under itself or its own subunits.", "parentId")
    if name is not None:
        name = validate_unit_name(name)
    if whitelist is not None:
        whitelist = await _check_listed(unit.corp_id, whitelist, "whitelist")
    if exclude is not None:
        exclude = await _check_listed(unit.corp_id, exclude, "exclude")

    async with in_transaction():
        subtree = await OrgUnit.filter(corp_id=unit.corp_id, path__startswith=unit.path).select_for_update()
        parent_for_names = new_parent.id if new_parent else unit.parent_id
        if (name is not None or new_parent) and parent_for_names is not None:
            clash = OrgUnit.filter(parent_id=parent_for_names, name=name or unit.name).exclude(id=unit.id)
            if await clash.exists():
                raise FlowError("DUPLICATE_NAME", "A sibling unit already has this name.", "name")
        if new_parent is not None:
            deepest = max(u.depth for u in subtree) - unit.depth
            if new_parent.depth + 1 + deepest >= MAX_UNIT_DEPTH:
                raise FlowError("UNIT_TOO_DEEP", f"Units nest at most {MAX_UNIT_DEPTH} levels deep.", "parentId")
            old_prefix, new_prefix = unit.path, make_path(new_parent.path, unit.id)
            shift = new_parent.depth + 1 - unit.depth
            for u in subtree:
                u.path = new_prefix + u.path[len(old_prefix):]
                u.depth += shift
            await OrgUnit.bulk_update(subtree, fields=["path", "depth"])
            unit = next(u for u in subtree if u.id == unit.id)
            unit.parent_id = new_parent.id
        if name is not None:
            unit.name = name
        if order is not None:
            unit.order = order
        if scope is not None:
            unit.scope = scope
        if whitelist is not None:
            unit.scope_whitelist = whitelist
        if exclude is not None:
            unit.scope_exclude = exclude
        await unit.save()
        if leader_ids is not None:
            await _set_leaders(unit, leader_ids)
        after: dict[str, Any] = {"name": unit.name, "parent": unit.parent_id, "order": unit.order, "scope": unit.scope.value}
        if leader_ids is not None:
            after["leaders"] = sorted(set(leader_ids))
        await record(viewer, "unit.update", "OrgUnit", unit.id, corp_id=unit.corp_id,
                     before=before, after=after, origin=origin)
    return unit


async def _set_leaders(unit: OrgUnit, leader_ids: list[int]) -> None:
    wanted = set(leader_ids)
    seated = set(await Placement.filter(unit_id=unit.id, member_id__in=sorted(wanted)).values_list("member_id", flat=True)) if wanted else set()
    if wanted - seated:
        raise FlowError("NOT_IN_UNIT", "A unit's leaders must sit in the unit.", "leaderIds")
    await Placement.filter(unit_id=unit.id).update(is_leader=False)
    if wanted:
        await Placement.filter(unit_id=unit.id, member_id__in=sorted(wanted)).update(is_leader=True)


async def delete_org_unit(viewer: Viewer, unit_id: int, *, origin: Origin | None = None) -> int:
    """Only an empty leaf goes. Resigned members do not hold a unit: their seat there is
    dropped, and reinstating them falls back to the root."""
    unit = await managed_unit(viewer, unit_id)
    if unit.parent_id is None:
        raise FlowError("UNIT_IS_ROOT", "The root unit cannot be deleted.", "id")
    async with in_transaction():
        seated = Member.filter(placements__unit_id=unit.id).exclude(status=MemberStatus.RESIGNED.value)
        if await OrgUnit.filter(parent_id=unit.id).exists() or await seated.exists():
            raise FlowError("UNIT_NOT_EMPTY", "Move or remove its subunits and members first.", "id")
        await Placement.filter(unit_id=unit.id).delete()
        await unit.delete()
        await record(viewer, "unit.delete", "OrgUnit", unit_id, corp_id=unit.corp_id,
                     before={"name": unit.name, "parent": unit.parent_id}, origin=origin)
    return unit_id
