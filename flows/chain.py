"""Chain-space writes needed by the foundation: spaces and their group tree."""

from __future__ import annotations

from tortoise.transactions import in_transaction

from flows.audit import Origin, record
from flows.errors import FlowError, NotFound
from models import ChainGroup, ChainSpace
from permissions import actions
from permissions.paths import make_path
from permissions.viewer import Viewer


async def create_chain_space(
    viewer: Viewer, corp_id: int, name: str, *, import_only: bool = False, origin: Origin | None = None
) -> ChainSpace:
    """A super admin opens a chain space; it starts with a root group named after it."""
    if not actions.can_create_chain(viewer, corp_id):
        raise NotFound("corpId")
    name = name.strip()
    if not 1 <= len(name) <= 64:
        raise FlowError("INVALID_NAME", "A chain name has 1 to 64 characters.", "name")
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
    name = name.strip()
    if not 1 <= len(name) <= 32:
        raise FlowError("INVALID_NAME", "A group name has 1 to 32 characters.", "name")
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
