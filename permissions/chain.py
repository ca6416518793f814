"""Chain visibility between corps (SPEC §2.3).

A viewer's standing in a chain (ChainAccess) is turned into a few *selectors*; a chain
corp is visible when a selector matches it, a contact when a selector matches its corp
and admits its status. Both evaluators read the same selectors, so they cannot drift.
Nothing of chain S is reachable through chain S': every selector is pinned to one chain.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from tortoise.expressions import Q, Subquery
from tortoise.functions import Count, Sum

from models.enums import ChainCorpStatus, ContactStatus, MemberStatus
from permissions.facts import (
    ChainCorpFacts,
    ChainPlaceFacts,
    ChainRuleFacts,
    ContactFacts,
    GrantFacts,
    GroupFacts,
    MemberFacts,
)
from permissions.paths import ancestor_ids, under_any
from permissions.scope import LISTED_STATUSES
from permissions.sql import NOTHING, any_of, groups_under, members_placed_under, path_under_any
from permissions.viewer import ChainAccess, Viewer, ViewerKind

ALL_BUT_REMOVED = frozenset(ContactStatus) - {ContactStatus.REMOVED}
JOINED_ONLY = frozenset({ContactStatus.JOINED})


# --- building a viewer's ChainAccess from facts (SPEC §2.3, §2.4) ----------------------


def rule_applies_to(r: ChainRuleFacts, member_id: int | None, unit_paths: Iterable[str]) -> bool:
    """Whether 对接规则 `r` names, as its subject, owner member `member_id` or a unit subtree
    holding one of `unit_paths` (that member's seats). Pure."""
    return (member_id is not None and r.subject_member_id == member_id) or (
        r.subject_unit_path is not None and any(p.startswith(r.subject_unit_path) for p in unit_paths)
    )


def rule_covers(r: ChainRuleFacts, place: ChainPlaceFacts) -> bool:
    """Whether 对接规则 `r` names, as its object, chain place `place`: its corp, or a group
    subtree holding its group. Pure."""
    return (r.object_group_path is not None and place.group_path.startswith(r.object_group_path)) or (
        r.object_chain_corp_id == place.id
    )


def owner_access(
    chain_id: int,
    corp_id: int,
    *,
    admin_all: bool,
    grant: GrantFacts | None,
    group_paths: Mapping[int, str],
    rules: Sequence[ChainRuleFacts],
    member_id: int | None,
    unit_paths: Sequence[str],
) -> ChainAccess | None:
    """The standing in chain `chain_id` of a member (or app, `member_id` None) of its owner
    corp `corp_id` (SPEC §2.3, §2.4): whole-chain admin when `admin_all` or its chain-admin
    `grant` names no group; else the groups of `grant` (`group_paths`: group paths by id)
    and the objects of the `rules` whose subject is the member or one of its `unit_paths`.
    None when it has no standing there. Pure."""
    if admin_all or (grant is not None and not grant.group_ids):
        return ChainAccess(chain_id, corp_id, admin_all=True)
    # Paths as sorted sets: the rules come in no set order, and a Viewer built twice from
    # the same facts must compare equal (the kept-Viewer check relies on it).
    mine = [r for r in rules if r.chain_id == chain_id and rule_applies_to(r, member_id, unit_paths)]
    admin_paths = tuple(group_paths[i] for i in (grant.group_ids if grant else ()) if i in group_paths)
    access = ChainAccess(
        chain_id,
        corp_id,
        admin_group_paths=admin_paths,
        rule_group_paths=tuple(sorted({r.object_group_path for r in mine if r.object_group_path})),
        rule_chain_corp_ids=frozenset(r.object_chain_corp_id for r in mine if r.object_chain_corp_id),
        rule_corp_group_paths=tuple(sorted({r.object_corp_group_path for r in mine if r.object_corp_group_path})),
    )
    if admin_paths or access.rule_group_paths or access.rule_chain_corp_ids:
        return access
    return None


def downstream_access(place: ChainPlaceFacts, rules: Sequence[ChainRuleFacts]) -> ChainAccess:
    """The standing of a corp in the chain of its JOINED `place` (SPEC §2.3): its own corp and
    group, whether it sees its peers, and its connectors (the subjects of the `rules` covering
    it, and the member who invited it). Pure."""
    covering = [r for r in rules if r.chain_id == place.chain_id and rule_covers(r, place)]
    member_ids = {r.subject_member_id for r in covering if r.subject_member_id}
    if place.invited_by_id:
        member_ids.add(place.invited_by_id)
    return ChainAccess(
        place.chain_id,
        place.owner_corp_id,
        own_chain_corp_id=place.id,
        own_group_id=place.group_id,
        own_group_path=place.group_path,
        peers_visible=bool(place.group_peers_visible or place.corps_see_each_other),
        connector_unit_paths=tuple(sorted({r.subject_unit_path for r in covering if r.subject_unit_path})),
        connector_member_ids=frozenset(member_ids),
    )


# --- a contact whose member has left ------------------------------------------------------
# SPEC §3.5 / §2.1: a resigned (or disabled) member is gone from every directory and chain view
# of non-admins; deleting a member erases its contacts (flows.lifecycle). So a contact linked
# to a member whose status is not listed (permissions.scope.LISTED_STATUSES) is shown only
# through an admin's standing (the owner's super admins and apps, chain admins in their range),
# which sees every contact of the chain with its status. One rule, in two evaluators; the
# triggers that keep chain_contact.member_left and contact_headcount.n_listed (migration 0019)
# apply the same test (tests/models/test_contact_headcounts.py holds them to contact_listed).


def contact_listed(c: ContactFacts) -> bool:
    """Whether contact `c` may be shown to a non-admin standing: it has no linked member, or
    its member's status is listed (ACTIVE, PENDING; not RESIGNED nor DISABLED). Pure. SPEC §3.5."""
    return c.member_id is None or c.member_status is None or c.member_status in LISTED_STATUSES


def contact_listed_q() -> Q:
    """Filter on ChainContact rows: the SQL twin of contact_listed (contacts without a member
    pass), a test of the contact's own `member_left` column, which database triggers keep
    equal to "the linked member's status is not listed" (migration 0019). Pure (builds SQL,
    runs none). SPEC §3.5."""
    return Q(member_left=False)


@dataclass(frozen=True)
class CorpSelector:
    """One way a viewer reaches chain corps (SPEC §2.3): the corps of one chain a rule,
    an admin range or the viewer's own place admits, and the contact statuses it admits there.
    Fields left None do not narrow; `joined_only` keeps JOINED corps only; `listed_only` keeps
    only the contacts contact_listed() admits (every standing but an admin's)."""

    chain_id: int
    contact_statuses: frozenset[ContactStatus]
    joined_only: bool = True
    listed_only: bool = True
    group_paths: tuple[str, ...] | None = None
    group_id: int | None = None
    chain_corp_ids: frozenset[int] | None = None

    def matches(self, c: ChainCorpFacts) -> bool:
        """Whether the loaded chain corp `c` is one this selector admits (in-memory twin of q()).
        Pure; raises nothing. SPEC §2.3."""
        return (
            c.chain_id == self.chain_id
            and (not self.joined_only or c.status is ChainCorpStatus.JOINED)
            and (self.group_paths is None or under_any(c.group_path, self.group_paths))
            and (self.group_id is None or c.group_id == self.group_id)
            and (self.chain_corp_ids is None or c.id in self.chain_corp_ids)
        )

    @property
    def whole_chain(self) -> bool:
        """Every corp of the chain, whatever its status: no corp needs to be looked at."""
        return not self.joined_only and self.group_paths is None and self.group_id is None and self.chain_corp_ids is None

    def covers(self, other: CorpSelector) -> bool:
        """Whether every contact `other` admits, this one admits too (judged on the
        selectors alone, conservatively: False when unsure)."""
        if other.chain_id != self.chain_id or not other.contact_statuses <= self.contact_statuses:
            return False
        if self.joined_only and not other.joined_only:
            return False
        if self.listed_only and not other.listed_only:
            return False
        if self.group_paths is not None and (
            other.group_paths is None or not all(under_any(p, self.group_paths) for p in other.group_paths)
        ):
            return False
        if self.group_id is not None and other.group_id != self.group_id:
            return False
        return self.chain_corp_ids is None or (
            other.chain_corp_ids is not None and other.chain_corp_ids <= self.chain_corp_ids
        )

    def q(self) -> Q:
        """The selector as a filter on ChainCorp rows (SQL twin of matches()); the group range
        becomes a subquery over ChainGroup paths. Pure (builds SQL, runs none). SPEC §2.3."""
        q = Q(chain_id=self.chain_id)
        if self.joined_only:
            q &= Q(status=ChainCorpStatus.JOINED.value)
        if self.group_paths is not None:
            q &= Q(group_id__in=groups_under(self.chain_id, self.group_paths))
        if self.group_id is not None:
            q &= Q(group_id=self.group_id)
        if self.chain_corp_ids is not None:
            q &= Q(id__in=sorted(self.chain_corp_ids))
        return q

    def corp_headcount_q(self) -> Q:
        """The corps this selector admits as a filter on ChainCorpHeadcount rows (chain, group,
        status): the SQL twin of matches() for a selector naming no corps (chain_corp_ids
        None); those rows carry q()'s columns under the same names. Pure. SPEC §2.3."""
        assert self.chain_corp_ids is None
        return self.q()

    def headcount_q(self) -> Q:
        """The contacts this selector admits as a filter on ContactHeadcount rows (chain,
        group, corp status, contact status): the SQL twin of matches() plus the status
        test, for a selector naming no corps (chain_corp_ids None; a row does not know its
        corps). Pure. SPEC §2.3."""
        assert self.chain_corp_ids is None
        q = Q(chain_id=self.chain_id, status__in=sorted(x.value for x in self.contact_statuses))
        if self.joined_only:
            q &= Q(corp_status=ChainCorpStatus.JOINED.value)
        if self.group_paths is not None:
            q &= Q(group_id__in=groups_under(self.chain_id, self.group_paths))
        if self.group_id is not None:
            q &= Q(group_id=self.group_id)
        return q


def selectors(a: ChainAccess) -> list[CorpSelector]:
    """The CorpSelectors one chain standing grants (SPEC §2.3): everything for owner super
    admins and whole-chain admins; the group ranges of chain admins; the groups and corps the
    viewer's rules name (JOINED only); a downstream corp's own place (every status but REMOVED)
    and, with peersVisible, its group's JOINED peers. Empty for no standing. Pure."""
    every_status = frozenset(ContactStatus)
    if a.admin_all:
        # Owner super admins and whole-chain admins: everything, imported and removed too.
        return [CorpSelector(a.chain_id, every_status, joined_only=False, listed_only=False)]
    out: list[CorpSelector] = []
    if a.admin_group_paths:
        out.append(CorpSelector(
            a.chain_id, every_status, joined_only=False, listed_only=False, group_paths=a.admin_group_paths))
    if a.rule_group_paths:
        out.append(CorpSelector(a.chain_id, JOINED_ONLY, group_paths=a.rule_group_paths))
    if a.rule_chain_corp_ids:
        out.append(CorpSelector(a.chain_id, JOINED_ONLY, chain_corp_ids=a.rule_chain_corp_ids))
    if a.own_chain_corp_id is not None:
        # A downstream corp sees its own people in the chain, whatever their join status.
        out.append(CorpSelector(a.chain_id, ALL_BUT_REMOVED, chain_corp_ids=frozenset({a.own_chain_corp_id})))
        if a.peers_visible and a.own_group_id is not None:
            # Same-group peers only, never another group (suppliers never see suppliers by default).
            out.append(CorpSelector(a.chain_id, JOINED_ONLY, group_id=a.own_group_id))
    return out


def without_covered(every: list[CorpSelector]) -> list[CorpSelector]:
    """The selectors less those another one covers (a chain admin's group range already
    holds what a rule on that group adds); of equal ones the first stays."""
    return [
        s for i, s in enumerate(every)
        if not any(t.covers(s) and (j < i or not s.covers(t)) for j, t in enumerate(every) if j != i)
    ]


def _all_selectors(viewer: Viewer) -> list[CorpSelector]:
    # Every selector dropped is a subquery the database does not run.
    return without_covered([s for a in viewer.chains for s in selectors(a)])


# --- chain spaces --------------------------------------------------------------------

def chain_ids(viewer: Viewer) -> list[int]:
    """Ids of the chains the viewer has any standing in, ascending (SPEC §2.3). Pure."""
    return sorted({a.chain_id for a in viewer.chains})


def can_see_chain(viewer: Viewer, chain_id: int) -> bool:
    """Whether the viewer has any standing in chain `chain_id` (SPEC §2.3). Pure."""
    return viewer.chain(chain_id) is not None


def chains_q(viewer: Viewer) -> Q:
    """Filter on ChainSpace rows: the chains of chain_ids() (SQL twin of can_see_chain). SPEC §2.3."""
    return Q(id__in=chain_ids(viewer))


# --- chain corps and contacts --------------------------------------------------------

def can_see_chain_corp(viewer: Viewer, c: ChainCorpFacts) -> bool:
    """Whether the viewer sees the loaded chain corp `c`: some selector of its standings
    matches it (SPEC §2.3). Pure; raises nothing."""
    return any(s.matches(c) for s in _all_selectors(viewer))


def chain_corps_q(viewer: Viewer) -> Q:
    """Filter on ChainCorp rows: the SQL twin of can_see_chain_corp (SPEC §2.3); false for no standing."""
    return any_of(s.q() for s in _all_selectors(viewer))


def chain_corp_count_parts(viewer: Viewer, chain_id: int, status: Q) -> list[Any] | None:
    """One-row queries (each selecting `n`, NULL for 0) whose sum is the number of corps of
    chain `chain_id` that the viewer sees and `status` (a Q on the corp's status) admits, i.e.
    the count of ChainCorp.filter(chain_corps_q(viewer), status, chain_id=...) (SPEC §2.3;
    totalCount). None when no selector of the chain can be summed (count the list).
    1. the selectors naming no corps: a sum over the ChainCorpHeadcount rows they admit (kept
       by triggers, migration 0020), each row once;
    2. the selectors naming a few corps: those of their corps 1. did not count."""
    from models import ChainCorp, ChainCorpHeadcount

    mine = [s for s in _all_selectors(viewer) if s.chain_id == chain_id]
    summed = [s for s in mine if s.chain_corp_ids is None]
    if not summed:
        return None
    parts = [ChainCorpHeadcount.filter(status, any_of(s.corp_headcount_q() for s in summed), chain_id=chain_id)
             .annotate(n=Sum("n")).values("n")]
    named = [s for s in mine if s.chain_corp_ids is not None]
    if named:
        rest = ChainCorp.filter(status, any_of(s.q() for s in named), ~any_of(s.q() for s in summed), chain_id=chain_id)
        parts.append(rest.annotate(n=Count("id")).values("n"))
    return parts


def can_see_contact(viewer: Viewer, c: ContactFacts) -> bool:
    """Whether the viewer sees the loaded chain contact `c`: a selector matches its corp and
    admits its status, and, unless the selector is an admin's, contact_listed(c) holds
    (SPEC §2.3, §3.5). Pure; raises nothing."""
    return any(
        s.matches(c.corp) and c.status in s.contact_statuses and (not s.listed_only or contact_listed(c))
        for s in _all_selectors(viewer)
    )


def narrow_selectors(viewer: Viewer, chain_id: int) -> list[CorpSelector]:
    """The viewer's selectors in the chain that name a few corps (listed ones, or one group):
    their corps are worth reading up front (see contacts_q's `listed`)."""
    return [
        s for s in _all_selectors(viewer)
        if s.chain_id == chain_id and (s.chain_corp_ids is not None or s.group_id is not None)
    ]


def _contact_q(
    s: CorpSelector, corp_id: int | None, listed: Mapping[CorpSelector, tuple[int, ...]], test_listed: bool
) -> Q:
    from models import ChainCorp

    statuses = Q(status__in=sorted(x.value for x in s.contact_statuses))
    if test_listed and s.listed_only:
        statuses &= contact_listed_q()
    if corp_id is None and s in listed:
        # The selector's corps, read up front: the contacts are found from them by the
        # (chain_corp_id, status) index, a few per corp, where the subquery written inside an
        # OR is a hashed test run on each of the chain's 300,000 contacts.
        return Q(chain_corp_id__in=list(listed[s])) & statuses
    corps = ChainCorp.filter(s.q())
    if corp_id is not None:
        # One corp's contacts: its own few chain places drive the query, never the selector's
        # corps (a group of 20,000 corps) nor the chain's 300,000 contacts.
        corps = corps.filter(corp_id=corp_id)
    elif s.whole_chain:
        # A contact's chain is its corp's chain: the (chain_id, status, id) index answers
        # alone, where a corp subquery would join 100,000 corps to list 20 contacts.
        return Q(chain_id=s.chain_id) & statuses
    return Q(chain_corp_id__in=Subquery(corps.values("id"))) & statuses


def contacts_q(
    viewer: Viewer,
    corp_id: int | None = None,
    listed: Mapping[CorpSelector, tuple[int, ...]] | None = None,
    *,
    member_tested: bool = False,
) -> Q:
    """Contacts the viewer sees; with corp_id, only those whose chain corp is that corp.
    `listed`: the ids of the corps some selectors match (permissions.loading.selector_corps),
    read just before: those selectors then name their corps. `member_tested`: the caller keeps
    only contacts whose linked member is ACTIVE (permissions.members), so contact_listed holds."""
    every = _all_selectors(viewer)
    if member_tested or not all(s.listed_only for s in every):
        return any_of(_contact_q(s, corp_id, listed or {}, not member_tested) for s in every)
    # No admin standing: every part wants contact_listed, tested once around the OR.
    return any_of(_contact_q(s, corp_id, listed or {}, False) for s in every) & contact_listed_q()


def contact_count_parts(
    viewer: Viewer, chain_id: int, status: Q, listed: Mapping[CorpSelector, tuple[int, ...]] | None = None
) -> list[Any] | None:
    """One-row queries (each selecting `n`, NULL for 0) whose sum is
    the number of contacts of chain `chain_id` that the viewer sees and `status` (a Q on the
    contact's status) admits, i.e. the count of ChainContact.filter(contacts_q(viewer,
    listed=listed), status, chain_id=...) (SPEC §2.3, §3.5; totalCount). None when no selector
    of the chain can be summed (count the list).
    1. the selectors naming no corps (the whole chain, group ranges, a group): a sum over the
       ContactHeadcount rows they admit (kept by triggers, migrations 0017 and 0019), each row
       once: its `n` when an admin's selector admits it, else its `n_listed` (the contacts
       whose member has not left: contact_listed holds);
    2. the selectors naming a few corps: their contacts that 1. did not count, found from
       the corps by the (chain_corp_id, status) index and tested against 1.'s selectors on
       those named corps alone (not a subquery listing every corp 1.'s selectors admit)."""
    from models import ChainContact, ChainCorp, ContactHeadcount

    mine = [s for s in _all_selectors(viewer) if s.chain_id == chain_id]
    summed = [s for s in mine if s.chain_corp_ids is None]
    if not summed:
        return None
    admitted = [s for s in summed if not s.listed_only]
    withheld = [s for s in summed if s.listed_only]
    parts = []
    if admitted:
        parts.append(ContactHeadcount.filter(status, any_of(s.headcount_q() for s in admitted), chain_id=chain_id)
                     .annotate(n=Sum("n")).values("n"))
    if withheld:
        rows = ContactHeadcount.filter(status, any_of(s.headcount_q() for s in withheld), chain_id=chain_id)
        if admitted:
            rows = rows.filter(~any_of(s.headcount_q() for s in admitted))
        parts.append(rows.annotate(n=Sum("n_listed")).values("n"))
    named = [s for s in mine if s.chain_corp_ids is not None]
    if named:
        named_ids = sorted({i for s in named for i in s.chain_corp_ids or ()})
        counted = any_of(
            Q(chain_corp_id__in=Subquery(ChainCorp.filter(s.q(), id__in=named_ids).values("id")))
            & Q(status__in=sorted(x.value for x in s.contact_statuses))
            & (contact_listed_q() if s.listed_only else Q())
            for s in summed
        )
        rest = ChainContact.filter(status, any_of(_contact_q(s, None, listed or {}, True) for s in named), ~counted,
                                   chain_id=chain_id)
        parts.append(rest.annotate(n=Count("id")).values("n"))
    return parts


# --- groups --------------------------------------------------------------------------

def _group_roots(a: ChainAccess) -> tuple[str, ...]:
    return (*a.admin_group_paths, *a.rule_group_paths)


def _group_ancestors(a: ChainAccess) -> frozenset[int]:
    own = (a.own_group_path,) if a.own_group_path else ()
    return ancestor_ids([*_group_roots(a), *a.rule_corp_group_paths, *own])


def can_see_group(viewer: Viewer, g: GroupFacts) -> bool:
    """Whether the viewer sees chain group `g` (name and place in the tree): whole-chain
    admins every group; others the groups under their admin and rule ranges plus the
    ancestors of those and of their own group, so the tree can be walked (SPEC §2.3). Pure."""
    a = viewer.chain(g.chain_id)
    if a is None:
        return False
    return a.admin_all or under_any(g.path, _group_roots(a)) or g.id in _group_ancestors(a)


def groups_q(viewer: Viewer) -> Q:
    """Filter on ChainGroup rows: the SQL twin of can_see_group over all the viewer's chains (SPEC §2.3)."""
    parts = []
    for a in viewer.chains:
        if a.admin_all:
            parts.append(Q(chain_id=a.chain_id))
            continue
        q = Q(id__in=sorted(_group_ancestors(a)))
        if _group_roots(a):
            q |= path_under_any(_group_roots(a))
        parts.append(Q(chain_id=a.chain_id) & q)
    return any_of(parts)


# --- connectors: the owner's members a downstream corp deals with ---------------------

def is_connector(a: ChainAccess, t: MemberFacts) -> bool:
    """Whether member `t` of the owner corp is a connector for the downstream corp standing
    `a` (SPEC §2.3, `ChainSpace.connectors`): ACTIVE, not hidden, and among the standing's
    connectors (by member id or unit subtree: the subjects of rules covering the viewer's group
    or corp, and the member who invited it). False for owner-side standings. Pure."""
    if a.own_chain_corp_id is None or t.corp_id != a.owner_corp_id:
        return False
    if t.status is not MemberStatus.ACTIVE or t.hidden:
        return False
    return t.id in a.connector_member_ids or any(under_any(p, a.connector_unit_paths) for p in t.unit_paths)


def connectors_q(a: ChainAccess) -> Q:
    """Filter on Member rows: the SQL twin of is_connector for standing `a`; false for owner-side standings."""
    if a.own_chain_corp_id is None:
        return NOTHING
    who = Q(id__in=sorted(a.connector_member_ids))
    if a.connector_unit_paths:
        who |= Q(id__in=members_placed_under(a.connector_unit_paths))
    return Q(corp_id=a.owner_corp_id, status=MemberStatus.ACTIVE.value, hidden_from_directory=False) & who


# --- invitations: chain admins see those in their range, a member the ones it created --

@dataclass(frozen=True)
class InvitationFacts:
    """What the invitation visibility rule needs of one loaded Invitation row."""

    id: int
    chain_id: int
    # None: an invitation into the chain as a whole (new corps land in the root group).
    group_path: str | None
    created_by_id: int


def can_see_invitation(viewer: Viewer, inv: InvitationFacts) -> bool:
    """Whether the viewer lists invitation `inv`: members only (an invitation's code is a
    key into the chain, never shown to apps); whole-chain admins, chain admins whose group
    range holds its group, and the member who created it (SPEC §2.3, §3.3). Pure."""
    # An invitation's code is a key into the chain: only people, never apps, list them.
    a = viewer.chain(inv.chain_id)
    if a is None or viewer.kind is not ViewerKind.MEMBER:
        return False
    if a.admin_all or (inv.group_path is not None and under_any(inv.group_path, a.admin_group_paths)):
        return True
    return inv.created_by_id == viewer.member_id


def invitations_q(viewer: Viewer) -> Q:
    """Filter on Invitation rows: the SQL twin of can_see_invitation over all the viewer's chains."""
    if viewer.kind is not ViewerKind.MEMBER:
        return NOTHING
    parts = []
    for a in viewer.chains:
        if a.admin_all:
            parts.append(Q(chain_id=a.chain_id))
            continue
        if a.admin_group_paths:
            parts.append(Q(chain_id=a.chain_id, group_id__in=groups_under(a.chain_id, a.admin_group_paths)))
        parts.append(Q(chain_id=a.chain_id, created_by_id=viewer.member_id))
    return any_of(parts)


# --- join requests: a corp's super admins decide who enters their corp -----------------

def can_see_join_request(viewer: Viewer, corp_id: int) -> bool:
    """Whether the viewer sees the join requests into corp `corp_id`: that corp's super
    admins in person, who decide who enters their corp (SPEC §3.4). Pure."""
    return viewer.kind is ViewerKind.MEMBER and viewer.is_super_admin and viewer.corp_id == corp_id


def join_requests_q(viewer: Viewer) -> Q:
    """Filter on JoinRequest rows: the SQL twin of can_see_join_request (false for anyone else)."""
    if viewer.kind is not ViewerKind.MEMBER or not viewer.is_super_admin or viewer.corp_id is None:
        return NOTHING
    return Q(corp_id=viewer.corp_id)


def can_read_rules(viewer: Viewer, chain_id: int) -> bool:
    """Whether the viewer reads chain `chain_id`'s 对接规则 (ChainSpace.rules): those whose
    standing there is whole-chain admin (ChainAccess.admin_all), SPEC §2.3. Pure."""
    a = viewer.chain(chain_id)
    return a is not None and a.admin_all


def can_read_import_progress(viewer: Viewer, chain_id: int) -> bool:
    """Whether the viewer reads chain `chain_id`'s invitation progress (ChainSpace.importProgress):
    its admins, whole-chain or over some groups (the counts then cover the corps and contacts
    they see), SPEC §3.2. Pure."""
    a = viewer.chain(chain_id)
    return a is not None and a.is_admin


def can_query_status(viewer: Viewer, chain_id: int, owner_corp_id: int) -> bool:
    """The partner-app status lookups: the owner's apps with chain:status, and the chain's admins."""
    from models.enums import AppScope
    from permissions.viewer import ViewerKind

    if viewer.kind is ViewerKind.APP:
        return (
            viewer.corp_id == owner_corp_id
            and viewer.has_scope(AppScope.CHAIN_STATUS)
            and viewer.bound_chain_id in (None, chain_id)
        )
    access = viewer.chain(chain_id)
    return access is not None and access.is_admin
