"""Chain contact and corp counts from head-counts (permissions.chain.contact_count_parts,
chain_corp_count_parts; migrations 0017, 0019, 0020): after random writes to chain corps and
contacts (ORM rows, batch inserts, status changes, moves between groups and corps, deletes
with their cascade), contact_headcount and chain_corp_headcount equal a recount from scratch;
contacts linked to members who resign, are disabled or come back, contacts created for or
relinked to such members, members deleted under their contacts (SPEC §3.5;
chain_contact.member_left and contact_headcount.n_listed, migration 0019, equal
contact_listed recomputed); and every contacts and corps totalCount a chain viewer gets
(whole-chain admin, group admin, rule subject, downstream member, partner app) equals what
the in-memory policy lets it see, counted one by one."""

from __future__ import annotations

import importlib
from collections import Counter
from dataclasses import dataclass
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from models import AppToken, ChainContact, ChainCorp, ChainCorpHeadcount, ContactHeadcount, Member
from models.bulk import insert_rows
from models.enums import AdminKind, AppScope, ChainCorpStatus, ContactRole, ContactStatus, MemberStatus
from permissions.chain import can_see_chain_corp, can_see_contact, contact_listed
from permissions.loading import app_viewer, chain_corp_facts, contact_facts, member_viewer
from permissions.scope import LISTED_STATUSES
from tests import factories as f
from tests.conftest import GQL
from tests.gateway import app_token

COUNTS = """
query($ch: ID!) {
  node(id: $ch) { ... on ChainSpace {
    open: contacts(first: 1) { totalCount edges { node { id } } }
    joined: contacts(first: 0, status: JOINED) { totalCount }
    removed: contacts(first: 2, status: REMOVED) { totalCount }
    corps(first: 1) { totalCount edges { node { id } } }
    joinedCorps: corps(first: 0, status: JOINED) { totalCount }
    removedCorps: corps(first: 0, status: REMOVED) { totalCount }
  } }
}
"""
VIEWERS = ("chain_admin", "group_admin", "rule_subject", "downstream", "app")


@dataclass
class World:
    chain_id: int
    groups: list[Any]
    corps: list[int]
    contacts: list[int]
    viewers: dict[str, tuple[int, str]]  # kind -> (member id, or app token id for "app"; token)
    home: Any  # the downstream corp's root unit: members linked to contacts sit there


_world: World | None = None


async def world() -> World:
    global _world
    if _world is not None:
        return _world
    owner, root = await f.corp("上游计数")
    sales = await f.unit(root, "销售部")
    chain, top = await f.chain_space(owner)
    g0 = await f.group(top)
    g1 = await f.group(top, peers_visible=True)
    g2 = await f.group(g1)
    groups = [top, g0, g1, g2]
    chain_admin = await f.member([root])
    await f.grant(chain_admin, AdminKind.CHAIN_ADMIN, chain_id=chain.id)
    group_admin = await f.member([root])
    await f.grant(group_admin, AdminKind.CHAIN_ADMIN, chain_id=chain.id, group_ids=[g1.id])
    subject = await f.member([sales])
    down, down_root = await f.corp("下游计数")
    downstream = await f.member([down_root])
    places = [await f.chain_corp(g1, down), await f.chain_corp(g0), await f.chain_corp(g2),
              await f.chain_corp(g1, status=ChainCorpStatus.IMPORTED)]
    contacts = [await f.contact(places[0], downstream), await f.contact(places[1]),
                await f.contact(places[2], status=ContactStatus.INVITED), await f.contact(places[3])]
    await f.rule(chain, subject_member=subject, object_group=g0)
    await f.rule(chain, subject_unit=sales, object_chain_corp=places[2])
    app, app_row = await app_token(owner, AppScope.CHAIN_READ.value)
    viewers = {"chain_admin": (chain_admin.id, f.token(chain_admin)), "group_admin": (group_admin.id, f.token(group_admin)),
               "rule_subject": (subject.id, f.token(subject)), "downstream": (downstream.id, f.token(downstream)),
               "app": (app_row.id, app)}
    _world = World(chain.id, groups, [p.id for p in places], [c.id for c in contacts], viewers, down_root)
    return _world


# --- writes: rows as every path writes them; the triggers must follow each one ----------------

def _pick(ids: list[int], i: int) -> int | None:
    return ids[i % len(ids)] if ids else None


async def add_corp(w: World, group: int, status: ChainCorpStatus) -> None:
    w.corps.append((await f.chain_corp(w.groups[group % len(w.groups)], status=status)).id)


async def add_corps(w: World, groups: list[int], status: ChainCorpStatus) -> None:
    """A batch, as an import writes it: one INSERT (PostgreSQL: one statement trigger run)."""
    chain_id = w.chain_id
    await insert_rows(ChainCorp, [
        ChainCorp(chain_id=chain_id, group_id=w.groups[g % len(w.groups)].id, imported_name="批量",
                  name_key=f"批量{f.unique_mobile()}", status=status)
        for g in groups
    ])
    w.corps = list(await ChainCorp.filter(chain_id=chain_id).order_by("id").values_list("id", flat=True))


# The downstream viewer's own place (w.corps[0]) keeps its JOINED status and stays, so that the
# viewer keeps its standing (its own corp and its group's peers: two selectors that overlap).
async def corp_status(w: World, pick: int, status: ChainCorpStatus) -> None:
    await ChainCorp.filter(id=_pick(w.corps[1:], pick)).update(status=status)


async def move_corp(w: World, pick: int, group: int) -> None:
    corp = await ChainCorp.get(id=_pick(w.corps, pick))
    corp.group_id = w.groups[group % len(w.groups)].id
    await corp.save()


async def delete_corp(w: World, pick: int) -> None:
    if len(w.corps) > 2:  # its contacts go by cascade
        await ChainCorp.filter(id=w.corps.pop(1 + pick % (len(w.corps) - 1))).delete()


async def add_contact(w: World, pick: int, status: ContactStatus) -> None:
    corp = await ChainCorp.get(id=_pick(w.corps, pick))
    w.contacts.append((await f.contact(corp, status=status, role=ContactRole.MEMBER)).id)


async def add_contacts(w: World, picks: list[int], status: ContactStatus) -> None:
    """A batch, as an import writes it: one INSERT (PostgreSQL: one statement trigger run)."""
    corps = {c.id: c for c in await ChainCorp.filter(id__in=w.corps)}
    await insert_rows(ChainContact, [
        ChainContact(chain_id=w.chain_id, chain_corp_id=_pick(w.corps, p), name="批量", mobile=f.unique_mobile(),
                     status=status, role=ContactRole.MEMBER)
        for p in picks if _pick(w.corps, p) in corps
    ])
    w.contacts = list(await ChainContact.filter(chain_id=w.chain_id).order_by("id").values_list("id", flat=True))


async def contact_status(w: World, pick: int, status: ContactStatus) -> None:
    contact = await ChainContact.get_or_none(id=_pick(w.contacts, pick))
    if contact is not None:
        contact.status = status
        await contact.save()


async def move_contact(w: World, pick: int, corp: int) -> None:
    await ChainContact.filter(id=_pick(w.contacts, pick)).update(chain_corp_id=_pick(w.corps, corp))


async def delete_contact(w: World, pick: int) -> None:
    await ChainContact.filter(id=_pick(w.contacts, pick)).delete()


async def link_member(w: World, pick: int, status: MemberStatus) -> None:
    """The contact is linked to a member in `status`: a contact of a member who resigned or was
    disabled leaves every non-admin count (SPEC §3.5), and comes back when the member does."""
    member = await f.member([w.home], name="联系人", status=status)
    await ChainContact.filter(id=_pick(w.contacts, pick)).update(member_id=member.id)


async def add_linked_contacts(w: World, picks: list[int], status: MemberStatus) -> None:
    """New contacts, one by one and as a batch, linked from the start to a member in
    `status` (a contact of a member who already left)."""
    member = await f.member([w.home], name="联系人", status=status)
    corp = await ChainCorp.get(id=_pick(w.corps, picks[0]))
    w.contacts.append((await f.contact(corp, member, status=ContactStatus.JOINED, role=ContactRole.MEMBER)).id)
    await insert_rows(ChainContact, [
        ChainContact(chain_id=w.chain_id, chain_corp_id=_pick(w.corps, p), name="批量", mobile=f.unique_mobile(),
                     status=ContactStatus.JOINED, role=ContactRole.MEMBER, member_id=member.id)
        for p in picks[1:]
    ])
    w.contacts = list(await ChainContact.filter(chain_id=w.chain_id).order_by("id").values_list("id", flat=True))


async def delete_member(w: World, pick: int) -> None:
    """A linked member is deleted: the link is nulled under its contact (on_delete SET NULL)."""
    linked = await ChainContact.filter(chain_id=w.chain_id, member_id__isnull=False).exclude(
        member_id=w.viewers["downstream"][0]).values_list("member_id", flat=True)
    if linked:
        await Member.filter(id=sorted(linked)[pick % len(linked)]).delete()


async def member_status(w: World, pick: int, status: MemberStatus) -> None:
    """A linked member's status changes (resign, disable, reinstate) under its contact."""
    linked = await ChainContact.filter(chain_id=w.chain_id, member_id__isnull=False).exclude(
        member_id=w.viewers["downstream"][0]).values_list("member_id", flat=True)
    if linked:
        await Member.filter(id=sorted(linked)[pick % len(linked)]).update(status=status)


small = st.integers(0, 63)
corp_statuses, contact_statuses = st.sampled_from(list(ChainCorpStatus)), st.sampled_from(list(ContactStatus))
member_statuses = st.sampled_from(list(MemberStatus))
WRITES = st.one_of(
    st.tuples(st.just(add_corp), small, corp_statuses),
    st.tuples(st.just(add_corps), st.lists(small, min_size=1, max_size=4), corp_statuses),
    st.tuples(st.just(corp_status), small, corp_statuses),
    st.tuples(st.just(move_corp), small, small),
    st.tuples(st.just(delete_corp), small),
    st.tuples(st.just(add_contact), small, contact_statuses),
    st.tuples(st.just(add_contacts), st.lists(small, min_size=1, max_size=4), contact_statuses),
    st.tuples(st.just(contact_status), small, contact_statuses),
    st.tuples(st.just(move_contact), small, small),
    st.tuples(st.just(delete_contact), small),
    st.tuples(st.just(link_member), small, member_statuses),
    st.tuples(st.just(member_status), small, member_statuses),
    st.tuples(st.just(add_linked_contacts), st.lists(small, min_size=1, max_size=3), member_statuses),
    st.tuples(st.just(delete_member), small),
)


def _of(chain_id: int | None, column: str) -> dict[str, int]:
    """The filter keeping the chain `chain_id`'s rows by `column`, or none (the whole table) when None."""
    return {} if chain_id is None else {column: chain_id}


async def recounted(chain_id: int | None = None) -> dict:
    """contact_headcount as it should be, from chain_contact and chain_corp rows: per key, the
    contacts (n) and those contact_listed admits (n_listed); of the chain `chain_id`, or of
    every chain when None.

    The property test passes its own chain, as it does to `kept`: a whole-table recount costs
    with every row the tests before it wrote to the shared database (the run's order would set
    its time), and its writes touch no other chain. A trigger that filed a count under another
    chain still fails it: the count is missing from this chain's kept rows."""
    corps = {c["id"]: c for c in await ChainCorp.filter(**_of(chain_id, "chain_id")).values("id", "chain_id", "group_id", "status")}
    out: Counter = Counter()
    for c in await contact_facts(ChainContact.filter(**_of(chain_id, "chain_corp__chain_id"))):
        corp = corps[c.corp.id]
        key = (corp["chain_id"], corp["group_id"], ChainCorpStatus(corp["status"]), c.status)
        out[(*key, "n")] += 1
        out[(*key, "n_listed")] += contact_listed(c)
    return _nonzero(out)


async def kept(chain_id: int | None = None) -> dict:
    """contact_headcount as the triggers keep it: of the chain `chain_id`, or of every chain when None."""
    out: Counter = Counter()
    for h in await ContactHeadcount.filter(**_of(chain_id, "chain_id")):
        key = (h.chain_id, h.group_id, ChainCorpStatus(h.corp_status), ContactStatus(h.status))
        out[(*key, "n")], out[(*key, "n_listed")] = h.n, h.n_listed
    return _nonzero(out)


def _nonzero(counts: Counter) -> dict:
    """The counts less the zeros (rows of keys left empty stay): a negative count stays."""
    return {k: v for k, v in counts.items() if v}


async def member_left_as_kept_and_recomputed(chain_id: int | None = None) -> tuple[dict[int, bool], dict[int, bool]]:
    """chain_contact.member_left as the triggers keep it, and as `not contact_listed` says: the
    contacts of the chain `chain_id`, or every contact when None."""
    scope = _of(chain_id, "chain_corp__chain_id")
    kept_rows = dict(await ChainContact.filter(**scope).values_list("id", "member_left"))
    return ({k: bool(v) for k, v in kept_rows.items()},
            {c.id: not contact_listed(c) for c in await contact_facts(ChainContact.filter(**scope))})


async def expected(w: World, viewer_kind: str) -> dict[str, int]:
    """The viewer's contacts in each list, counted one by one with the in-memory policy."""
    kind_id, _ = w.viewers[viewer_kind]
    if viewer_kind == "app":
        viewer = await app_viewer(await AppToken.get(id=kind_id))
    else:
        viewer = await member_viewer(kind_id)
    assert viewer is not None
    seen = [c for c in await contact_facts(ChainContact.filter(chain_id=w.chain_id)) if can_see_contact(viewer, c)]
    corps = [c for c in await chain_corp_facts(ChainCorp.filter(chain_id=w.chain_id)) if can_see_chain_corp(viewer, c)]
    return {
        "open": sum(c.status is not ContactStatus.REMOVED for c in seen),
        "joined": sum(c.status is ContactStatus.JOINED for c in seen),
        "removed": sum(c.status is ContactStatus.REMOVED for c in seen),
        "corps": sum(c.status is not ChainCorpStatus.REMOVED for c in corps),
        "joinedCorps": sum(c.status is ChainCorpStatus.JOINED for c in corps),
        "removedCorps": sum(c.status is ChainCorpStatus.REMOVED for c in corps),
    }


async def corps_recounted(chain_id: int | None = None) -> dict:
    """chain_corp_headcount as it should be, from chain_corp rows: of the chain `chain_id`, or
    of every chain when None (see `recounted`)."""
    rows = ChainCorp.filter(**_of(chain_id, "chain_id")).values("chain_id", "group_id", "status")
    return _nonzero(Counter((c["chain_id"], c["group_id"], ChainCorpStatus(c["status"])) for c in await rows))


async def corps_kept(chain_id: int | None = None) -> dict:
    """chain_corp_headcount as the triggers keep it: of the chain `chain_id`, or of every chain when None."""
    return _nonzero(Counter({(h.chain_id, h.group_id, ChainCorpStatus(h.status)): h.n
                             for h in await ChainCorpHeadcount.filter(**_of(chain_id, "chain_id"))}))


@given(writes=st.lists(WRITES, min_size=1, max_size=6), viewer=st.sampled_from(VIEWERS))
async def test_contact_counts_from_head_counts_equal_counting_every_visible_contact(client, writes, viewer):
    gql = GQL(client)
    w = await world()
    for write, *args in writes:
        await write(w, *args)
    assert await kept(w.chain_id) == await recounted(w.chain_id)
    assert await corps_kept(w.chain_id) == await corps_recounted(w.chain_id)
    as_kept, recomputed = await member_left_as_kept_and_recomputed(w.chain_id)
    assert as_kept == recomputed
    want = await expected(w, viewer)
    data = (await gql.ok(COUNTS, {"ch": f.gid("ChainSpace", w.chain_id)}, w.viewers[viewer][1]))["node"]
    assert data is not None
    assert {k: data[k]["totalCount"] for k in want} == want
    assert len(data["open"]["edges"]) == min(1, want["open"])
    assert len(data["corps"]["edges"]) == min(1, want["corps"])


def test_the_migration_names_the_statuses_contact_listed_withholds():
    """Migration 0019's triggers test the member's status against its own frozen list of the
    statuses of members who left: it must be the one contact_listed withholds."""
    migration = importlib.import_module("models.migrations.0019_contact_member_left")
    assert set(migration.LEFT) == {s.value for s in set(MemberStatus) - set(LISTED_STATUSES)}
