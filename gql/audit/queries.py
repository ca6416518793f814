"""Corp.auditEvents: the corp's trail, newest first, for its super admins and audit:read apps."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Annotated, Any

import strawberry
from strawberry import relay

from gql.audit.types import ACTOR_NODE_TYPES, AuditEventNode
from gql.context import Info
from gql.relay import Connection, paginate, parse_pk
from models import AuditEvent
from permissions.restricted import restricted
from permissions.sql import NOTHING

_ACTOR_KINDS = {type_name: kind for kind, type_name in ACTOR_NODE_TYPES.items()}


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _actor_filter(actor_id: relay.GlobalID) -> dict[str, Any] | None:
    kind = _ACTOR_KINDS.get(actor_id.type_name)
    pk = parse_pk(actor_id.node_id)
    if kind is None or pk is None:
        return None
    return {"actor_kind": kind, "actor_id": pk}


async def corp_audit_events(
    root: Any,
    info: Info,
    first: Annotated[int | None, strawberry.argument(description="Page size, 0-100; default 20.")] = None,
    after: Annotated[str | None, strawberry.argument(description="endCursor of the previous page.")] = None,
    action: Annotated[str | None, strawberry.argument(description='Exactly this action, e.g. "member.create".')] = None,
    target_type: Annotated[str | None, strawberry.argument(description="Objects of this type only.")] = None,
    actor_id: Annotated[
        relay.GlobalID | None, strawberry.argument(description="Done by this member or app token.")
    ] = None,
    since: Annotated[datetime | None, strawberry.argument(description="Events at or after this time.")] = None,
    until: Annotated[datetime | None, strawberry.argument(description="Events before this time.")] = None,
) -> Connection[AuditEventNode]:
    """Empty, not an error, for anyone who may not read this corp's trail: the answer is the
    same as for a corp with no events."""
    query = restricted(AuditEvent, info.context.viewer).filter(corp_id=root.pk)
    if action is not None:
        query = query.filter(action=action)
    if target_type is not None:
        query = query.filter(target_type=target_type)
    if actor_id is not None:
        actor = _actor_filter(actor_id)
        query = query.filter(**actor) if actor is not None else query.filter(NOTHING)
    if since is not None:
        query = query.filter(created_at__gte=_aware(since))
    if until is not None:
        query = query.filter(created_at__lt=_aware(until))

    async def build(rows: Sequence[AuditEvent]) -> list[AuditEventNode]:
        return [AuditEventNode(pk=e.id, _e=e) for e in rows]

    return await paginate(query.order_by("-created_at", "-id"), first, after, build)
