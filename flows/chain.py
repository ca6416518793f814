"""Chain-space writes: spaces and their settings, the group tree, removing a corp."""

from __future__ import annotations

from typing import cast

from tortoise.transactions import in_transaction

from flows import chain_notices as notices
from flows.audit import Origin, record
from flows.errors import FlowError, NotFound
from flows.names import bounded_name
from models import ChainContact, ChainCorp, ChainGroup, ChainSpace
from models.chain import JoinRequest, JoinRequestStatus
from models.enums import ChainCorpStatus, ContactStatus
from permissions import actions
from permissions.paths import is_under, make_path
from permissions.viewer import Viewer

CHAIN_NAME_MAX = 64
GROUP_NAME_MAX = 32


def validate_chain_name(name: str) -> str:
    """`name` stripped, when it has 1 to CHAIN_NAME_MAX (64) characters (SPEC §3.3). Code:
    INVALID_NAME (field `name`) otherwise."""
    return bounded_name(name, CHAIN_NAME_MAX, "A chain name")


def validate_group_name(name: str) -> str:
    """`name` stripped, when it has 1 to GROUP_NAME_MAX (32) characters (SPEC §2.3). Code:
    INVALID_NAME (field `name`) otherwise."""
    return bounded_name(name, GROUP_NAME_MAX, "A group name")


async def create_chain_space(
    viewer: Viewer, corp_id: int, name: str, *, import_only: bool = False, origin: Origin | None = None
) -> ChainSpace:
    """A super admin opens a chain space; it starts with a root group named after it."""
    if not actions.can_create_chain(viewer, corp_id):
        raise NotFound("corpId")
    name = validate_chain_name(name)
    async with in_transaction():
        chain = await ChainSpace.create(owner_corp_id=corp_id, name=name, import_only=import_only)
        root = await ChainGroup.create(chain=chain, name=name, path="")
        root.path = make_path(None, root.id)
        await root.save(update_fields=["path"])
        await record(viewer, "chain.create", "ChainSpace", chain.id, corp_id=corp_id, after={"name": name}, origin=origin)
    return chain


async def create_chain_group(
    viewer: Viewer,
    chain_id: int,
    name: str,
    *,
    parent_id: int | None = None,
    peers_visible: bool = False,
    order: int = 0,
    origin: Origin | None = None,
) -> ChainGroup:
    """Create group `name` (1-32 characters, unique among its siblings) under `parent_id`
    (None: the chain's root group) in chain `chain_id`, and audit it (SPEC §2.3, §3.3).
    Returns the new ChainGroup. Codes: NOT_FOUND (chainId: not a chain the viewer manages;
    parentId), INVALID_NAME, DUPLICATE_NAME."""
    if not actions.can_manage_chain(viewer, chain_id):
        raise NotFound("chainId")
    chain = await ChainSpace.get(id=chain_id)
    parent = (
        await ChainGroup.get_or_none(id=parent_id, chain_id=chain_id)
        if parent_id is not None
        else await ChainGroup.filter(chain_id=chain_id, parent_id=None).first()
    )
    if parent is None:
        raise NotFound("parentId")
    name = validate_group_name(name)
    async with in_transaction():
        if await ChainGroup.filter(parent_id=parent.id, name=name).exists():
            raise FlowError("DUPLICATE_NAME", "A sibling group already has this name.", "name")
        group = await ChainGroup.create(
            chain_id=chain_id, parent=parent, path="", name=name, order=order, peers_visible=peers_visible
        )
        group.path = make_path(parent.path, group.id)
        await group.save(update_fields=["path"])
        await record(
            viewer, "chainGroup.create", "ChainGroup", group.id, corp_id=chain.owner_corp_id,
            after={"name": name, "parent": parent.id, "peersVisible": peers_visible}, origin=origin,
        )
    return group


async def update_chain_space(
    viewer: Viewer,
    chain_id: int,
    *,
    name: str | None = None,
    import_only: bool | None = None,
    corps_see_each_other: bool | None = None,
    origin: Origin | None = None,
) -> ChainSpace:
    """Settings of a chain; switching importOnly on extends live links at once (expiry is computed)."""
    if not actions.can_manage_chain(viewer, chain_id):
        raise NotFound("chainId")
    if name is not None:
        name = validate_chain_name(name)
    async with in_transaction():
        chain = await ChainSpace.filter(id=chain_id).select_for_update().get()
        before = _space_settings(chain)
        if name is not None:
            chain.name = name
        if import_only is not None:
            chain.import_only = import_only
        if corps_see_each_other is not None:
            chain.corps_see_each_other = corps_see_each_other
        await chain.save(update_fields=["name", "import_only", "corps_see_each_other"])
        await record(
            viewer, "chain.update", "ChainSpace", chain.id, corp_id=chain.owner_corp_id,
            before=before, after=_space_settings(chain), origin=origin,
        )
    return chain


def _space_settings(chain: ChainSpace) -> dict[str, object]:
    return {"name": chain.name, "importOnly": chain.import_only, "corpsSeeEachOther": chain.corps_see_each_other}


async def update_chain_group(
    viewer: Viewer,
    group_id: int,
    *,
    name: str | None = None,
    parent_id: int | None = None,
    peers_visible: bool | None = None,
    order: int | None = None,
    origin: Origin | None = None,
) -> ChainGroup:
    """Rename, move (never under its own subtree), switch peersVisible, reorder a group."""
    group = await ChainGroup.get_or_none(id=group_id)
    if group is None or not actions.can_manage_chain(viewer, group.chain_id):
        raise NotFound("id")
    if name is not None:
        name = validate_group_name(name)
    new_parent: ChainGroup | None = None
    if parent_id is not None and parent_id != group.parent_id:
        new_parent = await ChainGroup.get_or_none(id=parent_id, chain_id=group.chain_id)
        if new_parent is None:
            raise NotFound("parentId")
        if group.parent_id is None:
            raise FlowError("ROOT_GROUP", "The chain's root group stays at the root.", "parentId")
        if is_under(new_parent.path, group.path):
            raise FlowError("GROUP_LOOP", "A group cannot move under itself or its own subgroups.", "parentId")
    chain = await ChainSpace.get(id=group.chain_id)
    async with in_transaction():
        before = _group_settings(group)
        sibling_parent = new_parent.id if new_parent is not None else group.parent_id
        final_name = name if name is not None else group.name
        if (name is not None or new_parent is not None) and await ChainGroup.filter(
            parent_id=sibling_parent, name=final_name
        ).exclude(id=group.id).exists():
            raise FlowError("DUPLICATE_NAME", "A sibling group already has this name.", "name")
        group.name = final_name
        if peers_visible is not None:
            group.peers_visible = peers_visible
        if order is not None:
            group.order = order
        if new_parent is not None:
            await _move_subtree(group, new_parent)
        await group.save(update_fields=["name", "peers_visible", "order", "parent_id", "path"])
        await record(
            viewer, "chainGroup.update", "ChainGroup", group.id, corp_id=chain.owner_corp_id,
            before=before, after=_group_settings(group), origin=origin,
        )
    return group


def _group_settings(group: ChainGroup) -> dict[str, object]:
    return {"name": group.name, "parent": group.parent_id, "peersVisible": group.peers_visible, "order": group.order}


async def _move_subtree(group: ChainGroup, new_parent: ChainGroup) -> None:
    # Materialised paths: every descendant's path swaps the old prefix for the new one.
    old_path = group.path
    new_path = make_path(new_parent.path, group.id)
    descendants = await ChainGroup.filter(chain_id=group.chain_id, path__startswith=old_path).exclude(id=group.id)
    for d in descendants:
        d.path = new_path + d.path[len(old_path):]
        await d.save(update_fields=["path"])
    group.parent_id = new_parent.id
    group.path = new_path


async def remove_chain_corp(viewer: Viewer, chain_corp_id: int, *, origin: Origin | None = None) -> ChainCorp:
    """Status REMOVED: the corp and its contacts leave every non-admin view of the chain at once
    (the policy shows downstream and rule viewers JOINED corps only); pending reminders and
    approval requests about them are dropped."""
    place = await ChainCorp.get_or_none(id=chain_corp_id).prefetch_related("group")
    if place is None or not actions.can_manage_chain_corp(viewer, place.chain_id, place.group.path):
        raise NotFound("chainCorpId")
    chain = await ChainSpace.get(id=place.chain_id)
    async with in_transaction():
        removed = await ChainCorp.filter(id=place.id).exclude(status=ChainCorpStatus.REMOVED.value).update(
            status=ChainCorpStatus.REMOVED.value
        )
        if not removed:
            raise FlowError("ALREADY_REMOVED", "This corp was already removed from the chain.", "chainCorpId")
        contact_ids = cast(list[int], await ChainContact.filter(chain_corp_id=place.id).values_list("id", flat=True))
        await ChainContact.filter(chain_corp_id=place.id).update(status=ContactStatus.REMOVED.value)
        await notices.drop_unsent(list(contact_ids), notices.EVERY_KIND)
        await JoinRequest.filter(chain_corp_id=place.id, status=JoinRequestStatus.PENDING.value).update(
            status=JoinRequestStatus.CANCELLED.value, open_key=None
        )
        await record(
            viewer, "chainCorp.remove", "ChainCorp", place.id, corp_id=chain.owner_corp_id,
            before={"status": place.status.value}, after={"status": ChainCorpStatus.REMOVED.value}, origin=origin,
        )
    place.status = ChainCorpStatus.REMOVED
    return place
