"""Reading the database into Viewers and facts. The only place that does; rules stay pure."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from typing import Any, cast

from tortoise.expressions import F, Q, RawSQL

from models import (
    AdminGrant,
    AppToken,
    ChainContact,
    ChainCorp,
    ChainGroup,
    ChainRule,
    ChainSpace,
    FieldSetting,
    Member,
    OrgUnit,
    Placement,
    statements,
)
from models.enums import AdminKind, AdminRight, AppScope, ChainCorpStatus, MemberStatus
from permissions import chain, scope, subtrees
from permissions.apps import effective_scopes
from permissions.facts import (
    NO_STANDING,
    AdminStanding,
    ChainCorpFacts,
    ChainPlaceFacts,
    ChainRuleFacts,
    ContactFacts,
    GrantFacts,
    MemberFacts,
    UnitScopeFacts,
)
from permissions.fields import FieldSettings
from permissions.paths import outermost, path_ids
from permissions.sql import ids_in, path_under_any, use_path_ranges, use_plain_like
from permissions.viewer import ChainAccess, DirectoryAccess, Viewer, ViewerKind

# Pairs that sort one way bytewise and the other way under the collations that break range
# predicates on paths: '/' ignored (glibc en_US), digits compared as numbers (ICU kn).
_BYTEWISE_PROBE = "SELECT ('/1/5/3/' < '/1/50') AND ('/1/5/9/' < '/1/50/') AND ('/1/10/' < '/1/9/') AND ('/1/5/' < '/1/5/3/')"
_path_ordering_checked: object = None
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


async def check_path_ordering() -> None:
    """Once per database: subtree predicates become index-friendly ranges when the database
    compares paths bytewise, and stay LIKE otherwise; contains-tests become a plain LIKE where
    LIKE already ignores ASCII case (SQLite). See permissions.sql."""
    global _path_ordering_checked
    from tortoise.connection import get_connection

    conn = get_connection("default")
    identity = (conn.capabilities.dialect, getattr(conn, "database", None) or getattr(conn, "filename", None))
    if _path_ordering_checked == identity:
        return
    _, rows = await conn.execute_query(_BYTEWISE_PROBE)
    use_path_ranges(bool(rows and list(dict(rows[0]).values())[0]))
    use_plain_like(conn.capabilities.dialect == "sqlite")
    _path_ordering_checked = identity


async def _paths_of(model: Any, ids: Iterable[int]) -> dict[int, str]:
    wanted = sorted(set(ids))
    if not wanted:
        return {}
    rows = await model.filter(id__in=wanted).values_list("id", "path")
    return {i: p for i, p in rows}


def _unit_scope_facts(u: OrgUnit) -> UnitScopeFacts:
    return UnitScopeFacts(u.id, u.path, u.scope, tuple(u.scope_whitelist), tuple(u.scope_exclude))


def _grant_facts(g: AdminGrant) -> GrantFacts:
    return GrantFacts(
        member_id=g.member_id,
        kind=g.kind,
        rights=tuple(AdminRight(r) for r in g.rights),
        unit_ids=tuple(g.unit_ids),
        chain_id=g.chain_id,
        group_ids=tuple(g.group_ids),
    )


async def directory_access(
    corp_id: int, own_units: list[OrgUnit], grants: list[GrantFacts], *, reads_all: bool, manages_all: bool
) -> DirectoryAccess:
    """The DirectoryAccess of a member of corp `corp_id` (SPEC §2.1, §2.4): the scope view of
    each of `own_units` (its seats' units, their ancestors read here to resolve INHERIT), its
    admin ranges from `grants` (its grants). `reads_all` / `manages_all`: it reads / manages
    the whole corp (super admin, an app); such a viewer needs no scope views. At most two
    queries (the ancestors, then the paths of whitelisted, excluded and admin-range units);
    raises nothing. The rules themselves are permissions.scope's."""
    # A viewer that reads the whole corp needs no scope views (every rule answers from
    # reads_all first): its ancestors are not read at all.
    own = [] if reads_all else [_unit_scope_facts(u) for u in own_units]
    ancestor_ids = {i for u in own for i in path_ids(u.path)}
    by_id = (
        {u.id: _unit_scope_facts(u) for u in await OrgUnit.filter(id__in=sorted(ancestor_ids))} if ancestor_ids else {}
    )
    anchors = [scope.governing_setting(u, by_id) for u in own]
    paths = await _paths_of(OrgUnit, scope.listed_unit_ids(anchors) | scope.range_unit_ids(grants))
    return DirectoryAccess(
        corp_id=corp_id,
        reads_all=reads_all,
        manages_all=manages_all,
        admin_ranges=scope.admin_ranges(grants, paths),
        views=tuple(scope.scope_view(u, a, paths) for u, a in zip(own, anchors, strict=True)),
        own_unit_paths=tuple(u.path for u in own_units),
    )


_RULE_FIELDS = (
    "chain_id",
    "subject_unit__path",
    "subject_member_id",
    "object_group__path",
    "object_chain_corp_id",
    "object_chain_corp__group__path",
)


async def _rule_facts(chain_ids: list[int]) -> list[ChainRuleFacts]:
    rows = await ChainRule.filter(chain_id__in=chain_ids).values_list(*_RULE_FIELDS)
    return [ChainRuleFacts(*r) for r in rows]


async def _owner_side(
    corp_id: int,
    member_id: int | None,
    unit_paths: list[str],
    grants: list[GrantFacts],
    *,
    admin_all_chains: bool,
    only_chain: int | None,
) -> list[ChainAccess]:
    owned_q = ChainSpace.filter(owner_corp_id=corp_id)
    if only_chain is not None:
        owned_q = owned_q.filter(id=only_chain)
    owned = cast(list[int], await owned_q.values_list("id", flat=True))
    if not owned:
        return []
    chain_grants = {g.chain_id: g for g in grants if g.kind is AdminKind.CHAIN_ADMIN and g.chain_id}
    group_paths = await _paths_of(ChainGroup, [i for g in chain_grants.values() for i in g.group_ids])
    rules: list[ChainRuleFacts] = []
    if member_id is not None and not admin_all_chains:
        rules = await _rule_facts(list(owned))
    found = (
        chain.owner_access(
            chain_id,
            corp_id,
            admin_all=admin_all_chains,
            grant=chain_grants.get(chain_id),
            group_paths=group_paths,
            rules=rules,
            member_id=member_id,
            unit_paths=unit_paths,
        )
        for chain_id in owned
    )
    return [a for a in found if a is not None]


async def _downstream_side(corp_id: int, only_chain: int | None) -> list[ChainAccess]:
    q = ChainCorp.filter(corp_id=corp_id, status=ChainCorpStatus.JOINED.value)
    if only_chain is not None:
        q = q.filter(chain_id=only_chain)
    places = [
        ChainPlaceFacts(*r)
        for r in await q.values_list(
            "id",
            "chain_id",
            "chain__owner_corp_id",
            "group_id",
            "group__path",
            "group__peers_visible",
            "chain__corps_see_each_other",
            "invited_by_id",
        )
    ]
    if not places:
        return []
    rules = await _rule_facts([p.chain_id for p in places])
    return [chain.downstream_access(p, rules) for p in places]


async def member_viewer(member_id: int, *, token_id: str | None = None, issued_ms: int | None = None) -> Viewer | None:
    """The Viewer for a member token issued at `issued_ms` (milliseconds since the epoch);
    None when the member may not act: not ACTIVE, gone, or its sessions ended at or after
    that instant (flows.sessions). Without `issued_ms` (a background job acting for the
    member) only the status counts."""
    await check_path_ordering()
    # Status and session end are read in one statement: no request sees one without the other.
    query = Member.filter(id=member_id, status=MemberStatus.ACTIVE.value)
    if issued_ms is not None:
        issued = _EPOCH + timedelta(milliseconds=issued_ms)
        query = query.filter(Q(tokens_valid_after__isnull=True) | Q(tokens_valid_after__lt=issued))
    member = await query.first()
    if member is None:
        return None
    # In a set order: a Viewer built twice from the same rows compares equal (its tuples keep
    # this order), whatever order PostgreSQL returns them in after updates.
    grants = [_grant_facts(g) for g in await AdminGrant.filter(member_id=member_id).order_by("id")]
    units = await OrgUnit.filter(placements__member_id=member_id).order_by("id")
    super_admin = any(g.kind is AdminKind.SUPER_ADMIN for g in grants)
    directory = await directory_access(
        member.corp_id, units, grants, reads_all=super_admin, manages_all=super_admin
    )
    paths = [u.path for u in units]
    chains = await _owner_side(
        member.corp_id, member_id, paths, grants, admin_all_chains=super_admin, only_chain=None
    )
    chains += await _downstream_side(member.corp_id, None)
    return Viewer(
        kind=ViewerKind.MEMBER,
        person_id=member.person_id,
        member_id=member.id,
        corp_id=member.corp_id,
        is_super_admin=super_admin,
        directory=directory,
        chains=tuple(chains),
        token_id=token_id,
    )


async def app_viewer(token: AppToken) -> Viewer:
    """An app acts for its corp, cut to its scopes and to its bound chain if any (SPEC §2.4)."""
    await check_path_ordering()
    scopes = effective_scopes(token.scopes, token.chain_id)
    directory = None
    if AppScope.DIRECTORY_READ.value in scopes:
        directory = DirectoryAccess(corp_id=token.corp_id, reads_all=True)
    chains: list[ChainAccess] = []
    if AppScope.CHAIN_READ.value in scopes:
        chains = await _owner_side(
            token.corp_id, None, [], [], admin_all_chains=True, only_chain=token.chain_id
        )
        chains += await _downstream_side(token.corp_id, token.chain_id)
    return Viewer(
        kind=ViewerKind.APP,
        corp_id=token.corp_id,
        app_token_id=token.id,
        scopes=scopes,
        bound_chain_id=token.chain_id,
        directory=directory,
        chains=tuple(chains),
    )


async def actor_viewer(kind: str, actor_id: int | None) -> Viewer | None:
    """The Viewer a background job acts as, re-resolved whenever it runs: a member who
    resigned or an app token revoked since the job was queued acts no more."""
    if actor_id is None:
        return None
    if kind == ViewerKind.MEMBER.value:
        return await member_viewer(actor_id)
    if kind == ViewerKind.APP.value:
        token = await AppToken.get_or_none(id=actor_id, revoked_at=None)
        if token is None or (token.expires_at is not None and token.expires_at <= datetime.now(UTC)):
            return None
        return await app_viewer(token)
    return None


# --- facts for the in-memory evaluators ---------------------------------------------

# The statements member_facts runs depend on no viewer (the member ids come from rows the
# caller holds): their text is rendered once per process, dialect and number of ids.
_FACT_SHAPES: dict[Any, Any] = {}


def _unit_paths_query(member_ids: list[int]) -> Any:
    return Placement.filter(ids_in(Placement, "member_id", member_ids)).values_list("member_id", "unit__path")


def _joined_contacts_query(member_ids: list[int]) -> Any:
    # A member is reached through a contact only as a member of the corp behind it (the
    # corp it joined as): the same contacts permissions.members.linked_contacts selects.
    return (
        ChainContact.filter(ids_in(ChainContact, "member_id", member_ids), chain_corp__corp_id__isnull=False)
        .filter(member__corp_id=F("chain_corp__corp_id"))
        .values(*_CONTACT_FACT_COLUMNS)
    )


async def member_facts(members: list[Member]) -> dict[int, MemberFacts]:
    """MemberFacts by member id for `members` (loaded Member rows): status, hidden flag, the
    paths of the units they sit in and the chain contacts they joined as (the facts
    can_see_member and the field rules need, SPEC §2.1, §2.3). Two queries; {} for no members."""
    ids = [m.id for m in members]
    if not ids:
        return {}
    dialect = Placement._meta.db.capabilities.dialect
    unit_paths: dict[int, list[str]] = defaultdict(list)
    for member_id, path in await statements.fetch(_unit_paths_query, [ids], ("unit paths", dialect), _FACT_SHAPES):
        unit_paths[member_id].append(path)
    contacts: dict[int, list[ContactFacts]] = defaultdict(list)
    rows = await statements.fetch(_joined_contacts_query, [ids], ("joined contacts", dialect), _FACT_SHAPES)
    for c in _contact_facts_of(rows):
        if c.member_id is not None:
            contacts[c.member_id].append(c)
    return {
        m.id: MemberFacts(
            id=m.id,
            corp_id=m.corp_id,
            status=m.status,
            hidden=m.hidden_from_directory,
            unit_paths=tuple(sorted(unit_paths[m.id])),
            contacts=tuple(contacts[m.id]),
        )
        for m in members
    }


async def admin_standings(corp_id: int, member_ids: Iterable[int] | None = None) -> dict[int, AdminStanding]:
    """The admin standing of the corp's members (all of them, or those named) that hold a
    grant; a member without one is absent (NO_STANDING)."""
    q = AdminGrant.filter(corp_id=corp_id)
    if member_ids is not None:
        q = q.filter(member_id__in=sorted(set(member_ids)))
    grants = [_grant_facts(g) for g in await q]
    paths = await _paths_of(OrgUnit, scope.range_unit_ids(grants))
    return scope.admin_standings(grants, paths)


async def admin_standing(corp_id: int, member_id: int) -> AdminStanding:
    """The AdminStanding of member `member_id` of corp `corp_id` (admin_standings for one
    member); NO_STANDING when it holds no grant. SPEC §2.4, for actions.outranks."""
    return (await admin_standings(corp_id, [member_id])).get(member_id, NO_STANDING)


async def contact_facts(query: Any) -> list[ContactFacts]:
    """ContactFacts (status, linked member, its chain corp's chain, status, group and group
    path) of the ChainContact rows `query` (a ChainContact queryset) selects, in one query:
    what can_see_contact needs (SPEC §2.3)."""
    return _contact_facts_of(await query.values(*_CONTACT_FACT_COLUMNS))


_CONTACT_FACT_COLUMNS = (
    "id",
    "status",
    "member_id",
    "member__status",
    "chain_corp_id",
    "chain_corp__chain_id",
    "chain_corp__status",
    "chain_corp__group_id",
    "chain_corp__group__path",
)


def _contact_facts_of(rows: Iterable[dict[str, Any]]) -> list[ContactFacts]:
    from models.enums import ContactStatus

    return [
        ContactFacts(
            id=r["id"],
            status=ContactStatus(r["status"]),
            member_id=r["member_id"],
            member_status=MemberStatus(r["member__status"]) if r["member__status"] is not None else None,
            corp=ChainCorpFacts(
                id=r["chain_corp_id"],
                chain_id=r["chain_corp__chain_id"],
                status=ChainCorpStatus(r["chain_corp__status"]),
                group_id=r["chain_corp__group_id"],
                group_path=r["chain_corp__group__path"],
            ),
        )
        for r in rows
    ]


# What a contacts page reads beside each contact's own columns to decide on its linked member
# without loading it (linked_member_facts): the member's row, the contact's chain corp (with
# the corp behind it) and group, and the paths of the member's units, as one aggregate.
CONTACT_MEMBER_COLUMNS = (
    *_CONTACT_FACT_COLUMNS,
    "chain_corp__corp_id",
    "member__corp_id",
    "member__hidden_from_directory",
    "member_unit_paths",
)


def with_linked_member_facts(query: Any) -> Any:
    """`query` (a ChainContact queryset) able to select CONTACT_MEMBER_COLUMNS: annotated with
    `member_unit_paths`, the paths of the linked member's units joined by ',' (NULL for no
    member or no seat), a correlated subquery run for the rows the page returns only."""
    dialect = ChainContact._meta.db.capabilities.dialect
    joined = "string_agg(u.path, ',')" if dialect == "postgres" else "group_concat(u.path, ',')"
    return query.annotate(member_unit_paths=RawSQL(
        f"(SELECT {joined} FROM placement p JOIN org_unit u ON u.id = p.unit_id "
        'WHERE p.member_id = "chain_contact"."member_id")'
    ))


def linked_member_facts(rows: Iterable[dict[str, Any]]) -> dict[int, MemberFacts]:
    """MemberFacts of the members linked to contact rows read with CONTACT_MEMBER_COLUMNS, by
    member id (rows without a member, or whose member is gone, give none). Their `contacts`
    are those rows the member joined as (the contact's corp is the member's, as
    _joined_contacts_query selects): only some of its joined contacts, which is what
    permissions.members.can_see_member_by_some_contacts decides on. Paths sorted as
    member_facts sorts them."""
    contacts: dict[int, list[ContactFacts]] = defaultdict(list)
    rows_of: dict[int, dict[str, Any]] = {}
    for r in rows:
        member_id = r["member_id"]
        if member_id is None or r["member__corp_id"] is None:
            continue
        rows_of.setdefault(member_id, r)
        if r["chain_corp__corp_id"] is not None and r["chain_corp__corp_id"] == r["member__corp_id"]:
            contacts[member_id].extend(_contact_facts_of([r]))
    return {
        member_id: MemberFacts(
            id=member_id,
            corp_id=r["member__corp_id"],
            status=MemberStatus(r["member__status"]),
            hidden=bool(r["member__hidden_from_directory"]),
            unit_paths=tuple(sorted(r["member_unit_paths"].split(","))) if r["member_unit_paths"] else (),
            contacts=tuple(contacts[member_id]),
        )
        for member_id, r in rows_of.items()
    }


async def chain_corp_facts(query: Any) -> list[ChainCorpFacts]:
    """ChainCorpFacts (chain, status, group and group path) of the ChainCorp rows `query`
    (a ChainCorp queryset) selects, in one query: what can_see_chain_corp needs (SPEC §2.3)."""
    rows = await query.values("id", "chain_id", "status", "group_id", "group__path")
    return [
        ChainCorpFacts(r["id"], r["chain_id"], ChainCorpStatus(r["status"]), r["group_id"], r["group__path"])
        for r in rows
    ]


async def chain_places_of_corps(corp_ids: Iterable[int]) -> dict[int, list[ChainCorpFacts]]:
    """The chain places (ChainCorp facts) of each corp, in one query."""
    out: dict[int, list[ChainCorpFacts]] = defaultdict(list)
    rows = await ChainCorp.filter(corp_id__in=sorted(set(corp_ids))).values(
        "id", "corp_id", "chain_id", "status", "group_id", "group__path"
    )
    for r in rows:
        out[r["corp_id"]].append(
            ChainCorpFacts(r["id"], r["chain_id"], ChainCorpStatus(r["status"]), r["group_id"], r["group__path"])
        )
    return out


async def field_settings(corp_ids: Iterable[int]) -> dict[int, FieldSettings]:
    """FieldSettings by corp id for each of `corp_ids` (duplicates read once), from the corp's
    field_setting rows, defaults where it has none (SPEC §2.2). One query."""
    rows: dict[int, dict[str, tuple[bool, bool]]] = defaultdict(dict)
    wanted = sorted(set(corp_ids))
    for corp_id, name, visible, editable in await FieldSetting.filter(corp_id__in=wanted).values_list(
        "corp_id", "field", "visible_to_members", "self_editable"
    ):
        rows[corp_id][name] = (visible, editable)
    return {c: FieldSettings.from_rows(rows.get(c, {})) for c in wanted}


# --- the small id sets the SQL evaluators list (permissions.subtrees) --------------------

async def subtree_units(corp_id: int, roots: Iterable[str]) -> dict[str, tuple[int, ...]]:
    """root path -> ids of the corp's units in that subtree (the root itself included), for
    each of `roots` whose subtree holds at most subtrees.MAX_LISTED_UNITS units; {} for no
    roots. One query (subtrees.units_by_root)."""
    wanted = sorted(set(roots))
    if not wanted:
        return {}
    rows = await (
        OrgUnit.filter(path_under_any(wanted), corp_id=corp_id)
        .limit(subtrees.MAX_LISTED_UNITS * len(outermost(wanted)) + 1)
        .values_list("id", "path")
    )
    return subtrees.units_by_root(wanted, [(i, p) for i, p in rows])


async def selector_corps(viewer: Viewer, chain_id: int) -> dict[chain.CorpSelector, tuple[int, ...]]:
    """selector -> the ids of the chain corps it matches, for each of the viewer's narrow
    selectors in the chain (chain.narrow_selectors) matching at most subtrees.MAX_LISTED_CORPS.
    One query per narrow selector, once per kept Viewer (Viewer.kept): which corps a selector
    matches follows chain_corp's chain, group, status and id and chain_group's path, whose
    every write bumps the policy version (migration 0007), which drops the kept Viewer. A
    Viewer that is not kept reads them each time. SPEC §2.3."""
    kept = viewer.kept
    key = ("selector corps", chain_id)
    if kept is not None and key in kept:
        return cast(dict[chain.CorpSelector, tuple[int, ...]], kept[key])
    out: dict[chain.CorpSelector, tuple[int, ...]] = {}
    for s in chain.narrow_selectors(viewer, chain_id):
        limit = subtrees.MAX_LISTED_CORPS + 1
        ids = cast(list[int], await ChainCorp.filter(s.q()).limit(limit).values_list("id", flat=True))
        if len(ids) <= subtrees.MAX_LISTED_CORPS:
            out[s] = tuple(sorted(ids))
    if kept is not None:
        kept[key] = out
    return out
