"""AuditEvent: who did what to which object, when and from where (redacted at write time)."""

from __future__ import annotations

from datetime import datetime

import strawberry
from strawberry import relay
from strawberry.scalars import JSON

from flows.access import access_audit_event
from gql.context import Info
from gql.relay import or_none
from models import AuditEvent

# How the audit trail names its actors, and the node types their ids belong to.
ACTOR_NODE_TYPES = {"MEMBER": "Member", "APP": "AppToken"}


@strawberry.type(name="AuditEvent", description="One audited change; before/after are already redacted.")
class AuditEventNode(relay.Node):
    pk: relay.NodeID[int]
    _e: strawberry.Private[AuditEvent]

    @strawberry.field(description='What was done, e.g. "member.create".')
    def action(self) -> str:
        return self._e.action

    @strawberry.field(description='Type of the changed object, e.g. "Member", "OrgUnit".')
    def target_type(self) -> str:
        return self._e.target_type

    @strawberry.field(description="Global id of the changed object (null when it is gone or had none).")
    def target_id(self) -> relay.GlobalID | None:
        if self._e.target_id is None:
            return None
        return relay.GlobalID(self._e.target_type, str(self._e.target_id))

    @strawberry.field(description="MEMBER, APP or PERSON: the kind of credential that acted.")
    def actor_kind(self) -> str:
        return self._e.actor_kind

    @strawberry.field(description="Global id of the acting member or app token.")
    def actor_id(self) -> relay.GlobalID | None:
        type_name = ACTOR_NODE_TYPES.get(self._e.actor_kind)
        if type_name is None or self._e.actor_id is None:
            return None
        return relay.GlobalID(type_name, str(self._e.actor_id))

    @strawberry.field(description="Who acted, as recorded: survives the actor's erasure.")
    def actor_label(self) -> str:
        return self._e.actor_label

    @strawberry.field(description=(
        "The changed fields before the change (JSON object); mobile, email, telephone, address, birthday, "
        "secrets and tokens read \"***\". Null when the action records none (e.g. a creation)."))
    def before(self) -> JSON | None:
        return self._e.before

    @strawberry.field(description="The changed fields after the change (JSON object), redacted like `before`; may be null.")
    def after(self) -> JSON | None:
        return self._e.after

    @strawberry.field(description="The request's X-Request-ID (or the id the server gave it), to match logs.")
    def request_id(self) -> str | None:
        return self._e.request_id

    @strawberry.field(description="The client address the request came from.")
    def ip(self) -> str | None:
        return self._e.ip

    @strawberry.field(description="When it happened (UTC).")
    def created_at(self) -> datetime:
        return self._e.created_at


async def audit_event_node(info: Info, event_id: int) -> AuditEventNode | None:
    """By global id: null alike for unknown events and events of a trail the viewer may not read."""
    event = await or_none(access_audit_event(info.context.viewer, event_id))
    return AuditEventNode(pk=event.id, _e=event) if event is not None else None
