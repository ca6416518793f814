"""Which members a viewer may see: its own corp's directory, plus across corps the
owner's connectors and the members behind chain contacts it may see (SPEC §2.1, §2.3)."""

from __future__ import annotations

from typing import Any

from tortoise.expressions import F, Q, Subquery

from models.enums import MemberStatus
from permissions import chain, scope
from permissions.facts import MemberFacts
from permissions.sql import SubtreeUnits, any_of, in_corp_by_ids, in_corp_led_by_ids, unit_ids_under
from permissions.viewer import Viewer


def _reachable_across_corps(t: MemberFacts) -> bool:
    # Across corps only active, listed people are ever shown; hidden ones stay with their own admins.
    return t.status is MemberStatus.ACTIVE and not t.hidden


def linked_contacts(viewer: Viewer) -> Any:
    """Chain contacts the viewer sees whose member joined as the contact's corp: how a member
    is reached across corps (MemberFacts.contacts holds exactly these, see loading)."""
    from models import ChainContact

    # The members reached are tested ACTIVE on their own rows (visible_members_q).
    query = ChainContact.filter(chain.contacts_q(viewer, member_tested=True), member_id__isnull=False)
    # The join to chain_corp must exist before F() names one of its columns.
    return query.filter(chain_corp__corp_id__isnull=False).filter(member__corp_id=F("chain_corp__corp_id"))


def linked_members_of_corp_q(viewer: Viewer, corp_id: int, corp: Q) -> Q:
    """The members of corp_id that linked_contacts reaches, found from the corp's own few
    chain places (`corp`: the caller's test for members of corp_id). The member's corp is
    tested on the member row, not through a join inside the subquery, where SQLite would
    start from every member of the corp."""
    from models import ChainContact

    linked = ChainContact.filter(
        chain.contacts_q(viewer, corp_id, member_tested=True), member_id__isnull=False).values("member_id")
    return corp & Q(id__in=Subquery(linked), status=MemberStatus.ACTIVE.value, hidden_from_directory=False)


def can_see_member(viewer: Viewer, t: MemberFacts) -> bool:
    """Whether the viewer sees member `t`: inside its corp by department scope (SPEC §2.1),
    across corps as a connector or through a chain contact it sees linked to `t` (SPEC §2.3;
    only ACTIVE, not hidden members are reachable across corps). Pure; raises nothing."""
    if scope.can_see_member_in_corp(viewer, t):
        return True
    if not _reachable_across_corps(t):
        return False
    if any(chain.is_connector(a, t) for a in viewer.chains):
        return True
    return any(c.member_id == t.id and chain.can_see_contact(viewer, c) for c in t.contacts)


def can_see_member_by_some_contacts(viewer: Viewer, t: MemberFacts) -> bool | None:
    """can_see_member on facts whose `contacts` may hold only some of the chain contacts t
    joined as (those a contacts page read with it): True or False when they decide it, None
    when t's other contacts could (t is reachable across corps and none of those given, nor
    its own corp's scope, nor a connector standing shows it). Adding contacts only ever
    turns can_see_member from False to True. SPEC §2.1, §2.3. Pure; raises nothing."""
    if can_see_member(viewer, t):
        return True
    return None if _reachable_across_corps(t) else False


def visible_members_q(viewer: Viewer) -> Q:
    """Filter on Member rows: the SQL twin of can_see_member over every corp (the viewer's
    own corp by scope, plus connectors and linked contacts of its chains). SPEC §2.1, §2.3."""
    parts = [scope.members_in_corp_q(viewer)]
    if viewer.chains:
        across = [chain.connectors_q(a) for a in viewer.chains]
        linked = linked_contacts(viewer).values("member_id")
        across.append(
            Q(id__in=Subquery(linked), status=MemberStatus.ACTIVE.value, hidden_from_directory=False)
        )
        parts.append(any_of(across))
    return any_of(parts)


def across_corps_parts(viewer: Viewer, corp_id: int, corp: Q) -> list[Q]:
    """The parts of visible_members_in_corp_q besides the viewer's own directory scope: the
    members of corp_id it sees through its chains (connectors, linked contacts), one Q each;
    [] for a viewer in no chain. `corp`: the caller's test for members of corp_id."""
    if not viewer.chains:
        return []
    # Connectors are owner-side members: only the owner's corp has any.
    # (an access with no place downstream has none: leave out its `1=0`, which would keep
    # SQLite from answering the OR part by part from each part's ids).
    parts = [
        chain.connectors_q(a)
        for a in viewer.chains
        if a.owner_corp_id == corp_id and a.own_chain_corp_id is not None
    ]
    parts.append(linked_members_of_corp_q(viewer, corp_id, corp))
    return parts


def visible_members_in_corp_q(
    viewer: Viewer,
    corp_id: int,
    *,
    ids_given: bool = False,
    within: tuple[str, ...] | None = None,
    units: SubtreeUnits | None = None,
) -> Q:
    """`visible_members_q(viewer) & Q(corp_id=corp_id)`, the same rows, in the shape the
    databases plan well: parts that cannot reach corp_id are left out (an OR of subqueries
    that match nothing still costs a scan), and a viewer that reads the whole corp gets
    the bare corp filter, so the page walks the (corp_id, pinyin_full, id) index.
    `ids_given`: the caller narrows the query to a short list of ids (search), which
    should drive it: the corp test is then written so SQLite does not scan the corp.
    `within`: the caller keeps to members seated in these unit subtrees (see
    scope.members_in_corp_q). `units`: the unit ids of scope.named_roots(viewer, within),
    read up front by permissions.loading.subtree_units."""
    d = viewer.directory
    # Seats listed by unit are estimated right: `corp_id = ?` then lets the ordering index drive.
    listed = bool(within) and unit_ids_under(within or (), units) is not None
    corp = (
        in_corp_led_by_ids(corp_id)
        if ids_given
        else in_corp_by_ids(corp_id)
        if within and not listed
        else Q(corp_id=corp_id)
    )
    if d is not None and d.corp_id == corp_id and d.reads_all:
        return corp
    # Every part below keeps to corp_id by itself: the scope part is the viewer's own corp,
    # connectors are the owner's members, linked members are picked by their corp. So the
    # OR needs no `corp_id = ?` around it, and each part can be found from its own ids.
    in_own_corp = d is not None and d.corp_id == corp_id
    parts = [scope.members_in_corp_q(viewer, ids_given=ids_given, within=within, units=units)] if in_own_corp else []
    parts += across_corps_parts(viewer, corp_id, corp)
    if len(parts) > 1 and (within or not scope.seeks_by_ids(viewer)):
        # The scope part reads the whole corp anyway: `corp_id = ?` around the OR lets the
        # page walk the (corp_id, pinyin_full, id) index and stop at the page's end.
        return corp & any_of(parts)
    return any_of(parts)
