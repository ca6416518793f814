"""What deleting a member erases besides its row (SPEC §3.5 deleteMember: "irreversible;
personal data erased; audit rows keep a tombstone").

The person's data lives in more places than the member row and its seats:
- its chain contacts (name and mobile, imported by the chain's owner or copied at the join):
  deleted, with their join requests and notifications (cascade); the change feed logs each
  as REMOVED (migration 0011's trigger), so chain partners drop their copies;
- audit rows about the member or those contacts (before/after diffs) and the rows it acted
  in (its label): wiped to a tombstone, ids, actions and times kept;
- notifications addressed to the member (their payloads name it);
- webhook messages that carried the member or one of its contacts (the node's fields):
  their bodies become a tombstone, and those not yet delivered are cancelled.
Change rows (models.feed.ChangeEvent) hold no personal data: statuses, ids, unit paths.
"""

from __future__ import annotations

import json
from typing import cast

from strawberry import relay

from models import AuditEvent, ChainContact, Member, Notification, WebhookDelivery

TOMBSTONE = {"erased": True}


def _gid(type_name: str, pk: int) -> str:
    return str(relay.GlobalID(type_name, str(pk)))


async def erase_traces(member: Member) -> list[int]:
    """Erase every copy of `member`'s personal data outside its own row (see the module
    docstring), inside the caller's transaction and before the row goes. Returns the ids of
    the chain contacts deleted. Raises nothing of its own."""
    contact_ids = cast(list[int], await ChainContact.filter(member_id=member.id).values_list("id", flat=True))
    await AuditEvent.filter(target_type="Member", target_id=member.id).update(before=None, after=TOMBSTONE)
    if contact_ids:
        await AuditEvent.filter(target_type="ChainContact", target_id__in=contact_ids).update(
            before=None, after=TOMBSTONE)
    await AuditEvent.filter(actor_kind="MEMBER", actor_id=member.id).update(
        actor_label=f"member:{member.id} (erased)")
    await Notification.filter(recipient_member_id=member.id).delete()
    ids = [_gid("Member", member.id), *(_gid("ChainContact", c) for c in contact_ids)]
    for gid in ids:
        named = WebhookDelivery.filter(body__contains=json.dumps(gid))
        await named.filter(status="PENDING").update(status="CANCELLED")
        await named.update(body=json.dumps({"type": "erased", "data": TOMBSTONE}))
    # Their join requests and notifications go with them (ON DELETE CASCADE).
    await ChainContact.filter(id__in=contact_ids).delete()
    return contact_ids
