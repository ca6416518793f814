"""Writing the audit trail: who did what to which object, from where."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from models import AuditEvent
from permissions.viewer import Viewer

# Values never written to the audit trail verbatim.
REDACTED_KEYS = frozenset({"mobile", "email", "telephone", "address", "birthday", "birth_month", "secret", "token"})


@dataclass(frozen=True)
class Origin:
    """Where a change came from, for its AuditEvent: the request id and client IP (None from the CLI)."""

    request_id: str | None = None
    ip: str | None = None


def redact(data: dict[str, Any] | None) -> dict[str, Any] | None:
    """`data` with the values of REDACTED_KEYS (contact data, secrets) replaced by `***`; empty values and None stay. For audit snapshots."""
    if data is None:
        return None
    return {k: ("***" if k in REDACTED_KEYS and v not in (None, "") else v) for k, v in data.items()}


def event(
    viewer: Viewer,
    action: str,
    target_type: str,
    target_id: int | None,
    *,
    corp_id: int | None,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    origin: Origin | None = None,
) -> AuditEvent:
    """An unsaved audit row (imports write theirs in bulk, one per changed member)."""
    return AuditEvent(
        **event_values(
            viewer, action, target_type, target_id, corp_id=corp_id, before=before, after=after, origin=origin
        )
    )


def event_values(
    viewer: Viewer,
    action: str,
    target_type: str,
    target_id: int | None,
    *,
    corp_id: int | None,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    origin: Origin | None = None,
) -> dict[str, Any]:
    """The fields of the audit row `event` builds (AuditEvent field name -> value), for
    models.bulk.insert_values: a directory import writes a thousand a batch."""
    actor_id = viewer.member_id or viewer.app_token_id or viewer.person_id
    return {
        "corp_id": corp_id,
        "actor_kind": viewer.kind.value,
        "actor_id": actor_id,
        "actor_label": f"{viewer.kind.value.lower()}:{actor_id}",
        "action": action,
        "target_type": target_type,
        "target_id": target_id,
        "before": redact(before),
        "after": redact(after),
        "request_id": origin.request_id if origin else None,
        "ip": origin.ip if origin else None,
    }


async def record(
    viewer: Viewer,
    action: str,
    target_type: str,
    target_id: int | None,
    *,
    corp_id: int | None,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    origin: Origin | None = None,
) -> AuditEvent:
    """Write one AuditEvent (SPEC §3: every mutation writes one) for `viewer` doing `action`
    (e.g. `member.resign`) on `target_type` #`target_id` in corp `corp_id`; `before`/`after` are
    snapshots, redacted (see redact). Call inside the change's transaction. Returns the saved row."""
    row = event(viewer, action, target_type, target_id, corp_id=corp_id, before=before, after=after, origin=origin)
    await row.save()
    return row
