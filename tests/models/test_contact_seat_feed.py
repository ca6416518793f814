"""New seats inserted as one statement (models.bulk.insert_rows, a directory import's batch)
log their members' contacts as rows inserted one at a time did: per new seat in id order, one
CONTACT 'member' UPDATED change per chain contact of the seat's member, carrying the contact's
facts and its member's status (PostgreSQL: migration 0023's statement trigger; SQLite: the row
trigger of 0015). A seat of a member with no contact logs no CONTACT change."""

from __future__ import annotations

import json

from models import ChangeEvent, Placement
from models.bulk import insert_rows
from models.enums import ChainCorpStatus, ContactStatus
from tests import factories as f


async def test_a_batch_of_seats_logs_each_seat_s_contacts_in_order(client):
    corp, root = await f.corp("联系人座位")
    a, b = await f.unit(root), await f.unit(root)
    linked, alone = await f.member([root], name="王五"), await f.member([root], name="赵六")
    (chain, top), (other, other_top) = await f.chain_space(corp), await f.chain_space(corp)
    first = await f.contact(await f.chain_corp(top, status=ChainCorpStatus.IMPORTED), linked, ContactStatus.JOINED)
    second = await f.contact(await f.chain_corp(other_top), linked, ContactStatus.INVITED)
    start = await ChangeEvent.all().order_by("-id").first().values_list("id", flat=True) or 0

    await insert_rows(Placement, [Placement(member_id=linked.id, unit_id=a.id), Placement(member_id=alone.id, unit_id=a.id),
                                  Placement(member_id=linked.id, unit_id=b.id)])

    logged = await ChangeEvent.filter(id__gt=start, object_type="CONTACT").order_by("id")
    assert [(e.object_id, e.kind, e.changed, e.chain_id) for e in logged] == [
        (first.id, "UPDATED", "member", chain.id), (second.id, "UPDATED", "member", other.id),
    ] * 2
    facts = [json.loads(e.before or "{}") for e in logged]
    assert [(x["m"], x["s"], x["ms"], x["c"]) for x in facts] == [
        (linked.id, "JOINED", "ACTIVE", first.chain_corp_id), (linked.id, "INVITED", "ACTIVE", second.chain_corp_id),
    ] * 2
    assert facts[0]["cs"] == "IMPORTED" and facts[1]["cs"] == "JOINED"
