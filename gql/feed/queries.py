"""Delta sync (SPEC §3.9): Corp.changes / ChainSpace.changes and their syncToken.

A page is built from the change rows after the token (flows.feed), one entry per object: the
object's current state cut by the current policy (the same loaders and node builders as every
read), CREATED / UPDATED / REMOVED decided against what the viewer could see at the token's
position (permissions.feed.could_see). The lists a full read returns leave out resigned
members and removed chain corps and contacts, so the feed treats those as out of view too.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated, Any

import strawberry
from graphql import GraphQLError
from strawberry import relay

from flows import feed as feed_flow
from gql.context import Info
from gql.errors import bad_request
from gql.feed.types import Change, ChangeKind, ChangePage
from models import ChainGroup
from permissions import feed as feed_policy

DEFAULT_PAGE = 100
MAX_PAGE = 100  # the gateway caps every `first` at 100 (gql.protection)
# Statuses a full list read leaves out (Corp.members, ChainSpace.corps / contacts by default).
_OUT_OF_LIST = {"MEMBER": "RESIGNED", "CHAIN_CORP": "REMOVED", "CONTACT": "REMOVED"}
_TYPE_NAMES = {"MEMBER": "Member", "UNIT": "OrgUnit", "CHAIN_CORP": "ChainCorp", "CONTACT": "ChainContact"}


def resync_required(message: str) -> GraphQLError:
    return GraphQLError(message, extensions={"code": "RESYNC_REQUIRED"})


def _serves(info: Info, feed: str, feed_id: int) -> bool:
    viewer = info.context.viewer
    if feed == "corp":
        return feed_policy.serves_corp_feed(viewer, feed_id)
    return feed_policy.serves_chain_feed(viewer, feed_id)


async def sync_token(info: Info, feed: str, feed_id: int) -> str | None:
    """A token for "everything up to this request's reads": taken before the request's
    resolvers ran (FeedSnapshot), so a change committed while a full list was being read comes
    again as a delta (entries are idempotent) and none is missed."""
    if not _serves(info, feed, feed_id):
        return None
    start = info.context.feed_start
    if start is None:
        start = (await feed_flow.current_position(), *(await feed_flow.feed_state()))
    position, epoch, _ = start
    fingerprint = feed_policy.viewer_fingerprint(info.context.viewer)
    return feed_flow.SyncToken(feed, feed_id, position, epoch, fingerprint).encode()


async def changes_page(info: Info, feed: str, feed_id: int, after: str, first: int | None) -> ChangePage | None:
    """The changes after `after` that the viewer may see. Errors: BAD_REQUEST (not a token
    of this feed), RESYNC_REQUIRED (a policy change since the token concerns this viewer, or
    the token is older than the retention): read everything again and take a new syncToken."""
    if not _serves(info, feed, feed_id):
        return None
    limit = DEFAULT_PAGE if first is None else first
    if not 1 <= limit <= MAX_PAGE:
        raise bad_request(f"first must be between 1 and {MAX_PAGE}.")
    try:
        token = feed_flow.SyncToken.decode(after)
    except feed_flow.FeedTokenInvalid:
        raise bad_request("`after` is not a sync token of chaingate: use a syncToken it returned.") from None
    if (token.feed, token.feed_id) != (feed, feed_id):
        raise bad_request("This sync token belongs to another feed: use the syncToken of this corp or chain.")
    viewer = info.context.viewer
    epoch, pruned_before = await feed_flow.feed_state()
    if token.epoch != epoch or token.fingerprint != feed_policy.viewer_fingerprint(viewer):
        raise resync_required("What this viewer may see changed since the token (a scope, field setting, grant, "
                              "rule or token scope): read everything again and take a new syncToken.")
    if token.position.at_ms < pruned_before:
        raise resync_required("The token is older than the change log's retention: read everything again.")
    try:
        rows, position, more = await feed_flow.read_window(feed, feed_id, token.position, limit)
    except feed_flow.FeedTokenInvalid:
        raise bad_request("This sync token was issued by a different database: take a new syncToken.") from None
    changes = await _changes(info, feed_id, feed_flow.collapse(rows))
    next_token = feed_flow.SyncToken(feed, feed_id, position, token.epoch, token.fingerprint).encode()
    return ChangePage(changes=changes, sync_token=next_token, has_more=more)


async def _changes(info: Info, feed_id: int, objects: Sequence[tuple[Any, Any, frozenset[str]]]) -> list[Change]:
    viewer = info.context.viewer
    by_type: dict[str, list[int]] = {}
    for first, _, _ in objects:
        by_type.setdefault(first.object_type, []).append(first.object_id)
    nodes = await _current_nodes(info, by_type)
    group_ids = feed_policy.group_ids_named([first.before for first, _, _ in objects])
    group_paths = dict(await ChainGroup.filter(id__in=sorted(group_ids)).values_list("id", "path")) if group_ids else {}
    out = []
    for first, last, changed in objects:
        otype, oid = first.object_type, first.object_id
        before = first.before if first.kind != "CREATED" else None
        had = before is not None and before.get("s") != _OUT_OF_LIST.get(otype) and feed_policy.could_see(
            viewer, otype, oid, feed_id, before, group_paths)
        node = nodes.get((otype, oid))
        seq = str(last.seq)
        if node is None:
            if had:
                out.append(Change(kind=ChangeKind.REMOVED, node=None, sequence=seq, changed_fields=None,
                                  removed_id=relay.GlobalID(_TYPE_NAMES[otype], str(oid))))
            continue
        if not had:
            out.append(Change(kind=ChangeKind.CREATED, node=node, removed_id=None, changed_fields=None, sequence=seq))
            continue
        hidden = getattr(node, "hidden_fields", None) or ()
        hidden = set(hidden() if callable(hidden) else hidden)  # a contact computes it, a member holds it
        readable = sorted((changed & feed_policy.REPORTED_FIELDS[otype]) - hidden)
        if readable:  # a change of withheld fields only is not news for this viewer
            out.append(Change(kind=ChangeKind.UPDATED, node=node, removed_id=None, changed_fields=readable,
                              sequence=seq))
    return out


async def _current_nodes(info: Info, by_type: dict[str, list[int]]) -> dict[tuple[str, int], Any]:
    """The objects the viewer sees now and a full list read would return, as nodes."""
    from gql.chain.types import ChainCorpNode, contact_nodes
    from gql.directory.types import OrgUnitNode, member_nodes

    directory, chains = info.context.directory, info.context.chain
    out: dict[tuple[str, int], Any] = {}
    if ids := by_type.get("MEMBER"):
        rows = [m for m in await directory.visible_member.load_many(ids) if m is not None and m.status.value != "RESIGNED"]
        out.update((("MEMBER", n.pk), n) for n in await member_nodes(info, rows))
    if ids := by_type.get("UNIT"):
        out.update((("UNIT", u.id), OrgUnitNode(pk=u.id, _u=u))
                   for u in await directory.visible_unit.load_many(ids) if u is not None)
    if ids := by_type.get("CHAIN_CORP"):
        out.update((("CHAIN_CORP", c.id), ChainCorpNode(pk=c.id, _c=c))
                   for c in await chains.visible_chain_corp.load_many(ids)
                   if c is not None and c.status.value != "REMOVED")
    if ids := by_type.get("CONTACT"):
        rows = [c for c in await chains.visible_contact.load_many(ids) if c is not None and c.status.value != "REMOVED"]
        out.update((("CONTACT", n.pk), n) for n in await contact_nodes(info, rows))
    return out


# --- fields on Corp and ChainSpace ------------------------------------------------------------

_AFTER = Annotated[str, strawberry.argument(description="A syncToken from a full read or from the previous page.")]
_FIRST = Annotated[int | None, strawberry.argument(
    description=f"At most this many change rows read (1-{MAX_PAGE}); default {DEFAULT_PAGE}.")]


async def corp_changes(root: Any, info: Info, after: _AFTER, first: _FIRST = None) -> ChangePage | None:
    return await changes_page(info, "corp", root.pk, after, first)


async def corp_sync_token(root: Any, info: Info) -> str | None:
    return await sync_token(info, "corp", root.pk)


async def chain_changes(root: Any, info: Info, after: _AFTER, first: _FIRST = None) -> ChangePage | None:
    return await changes_page(info, "chain", root.pk, after, first)


async def chain_sync_token(root: Any, info: Info) -> str | None:
    return await sync_token(info, "chain", root.pk)


CHANGES_DESCRIPTION = (
    "Changes since a sync token that this viewer may see (SPEC §3.9): {what}, each as CREATED / UPDATED / "
    "REMOVED for this viewer, with the object as it is now. Errors: RESYNC_REQUIRED when a policy change since "
    "the token concerns this viewer (coarse: any scope, field-setting, grant, rule, unit or group tree, or "
    "app-scope change, and any change of the viewer's own units, grants or chain places) or the token is past "
    "the retention (CHAINGATE_CHANGE_RETENTION_DAYS, default 30): read everything again. {who}"
)
