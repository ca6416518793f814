"""Which members a viewer may see: its own corp's directory, plus across corps the
owner's connectors and the members behind chain contacts it may see (SPEC §2.1, §2.3)."""

from __future__ import annotations

from tortoise.expressions import Q, Subquery

from models.enums import MemberStatus
from permissions import chain, scope
from permissions.facts import MemberFacts
from permissions.sql import any_of
from permissions.viewer import Viewer


def _reachable_across_corps(t: MemberFacts) -> bool:
    # Across corps only active, listed people are ever shown; hidden ones stay with their own admins.
    return t.status is MemberStatus.ACTIVE and not t.hidden


def can_see_member(viewer: Viewer, t: MemberFacts) -> bool:
    if scope.can_see_member_in_corp(viewer, t):
        return True
    if not _reachable_across_corps(t):
        return False
    if any(chain.is_connector(a, t) for a in viewer.chains):
        return True
    return any(c.member_id == t.id and chain.can_see_contact(viewer, c) for c in t.contacts)


def visible_members_q(viewer: Viewer) -> Q:
    parts = [scope.members_in_corp_q(viewer)]
    if viewer.chains:
        from models import ChainContact

        across = [chain.connectors_q(a) for a in viewer.chains]
        linked = ChainContact.filter(chain.contacts_q(viewer), member_id__isnull=False).values("member_id")
        across.append(
            Q(id__in=Subquery(linked), status=MemberStatus.ACTIVE.value, hidden_from_directory=False)
        )
        parts.append(any_of(across))
    return any_of(parts)
