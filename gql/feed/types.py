"""Change feed types: one change, a page of changes ending with the next sync token."""

from __future__ import annotations

from enum import Enum

import strawberry
from strawberry import relay


@strawberry.enum(description="What happened to an object, as this viewer sees it (SPEC §3.9).")
class ChangeKind(Enum):
    CREATED = strawberry.enum_value("CREATED", description=(
        "The object is new to this viewer: created, or it entered the viewer's view (moved into scope, unhidden, "
        "reinstated)."))
    UPDATED = strawberry.enum_value("UPDATED", description=(
        "The viewer saw it before and still does; changedFields names what changed that the viewer may read."))
    REMOVED = strawberry.enum_value("REMOVED", description=(
        "The viewer saw it at the token's position and no longer does (deleted, resigned, removed, moved out of "
        "scope, hidden): drop removedId. Never sent for an object the viewer could not see."))


@strawberry.type(description="One object's change since the sync token, cut by the viewer's current policy.")
class Change:
    kind: ChangeKind = strawberry.field(description="CREATED, UPDATED or REMOVED (for this viewer).")
    node: relay.Node | None = strawberry.field(description=(
        "The object as it is now, cut by the current policy (withheld fields null and named in hiddenFields); "
        "null for REMOVED."))
    removed_id: relay.GlobalID | None = strawberry.field(description="The global id to drop; null unless REMOVED.")
    changed_fields: list[str] | None = strawberry.field(description=(
        "For UPDATED: the fields that changed (API names, e.g. `position`, `departments`), only those the viewer "
        "may read; null for CREATED and REMOVED."))
    sequence: str = strawberry.field(description=(
        "The sequence of the object's last change in this page (decimal digits; compare as integers)."))


@strawberry.type(description=(
    "A page of changes after a sync token, in sequence order. Apply them (upsert node, drop removedId), store "
    "syncToken, and ask again while hasMore (SPEC §3.9)."))
class ChangePage:
    changes: list[Change] = strawberry.field(description="The changes of this page, one per object.")
    sync_token: str = strawberry.field(description="The token to pass as `after` next time.")
    has_more: bool = strawberry.field(description="More changes are waiting: ask again at once with syncToken.")
