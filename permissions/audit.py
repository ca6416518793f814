"""Which audit events a viewer may read (the SQL twin of actions.can_read_audit)."""

from __future__ import annotations

from tortoise.expressions import Q

from permissions.actions import can_read_audit
from permissions.sql import NOTHING
from permissions.viewer import Viewer


def audit_events_q(viewer: Viewer) -> Q:
    """The viewer's own corp's events when it may read that corp's trail, else nothing."""
    if viewer.corp_id is None or not can_read_audit(viewer, viewer.corp_id):
        return NOTHING
    return Q(corp_id=viewer.corp_id)
