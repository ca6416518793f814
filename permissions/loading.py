"""Reading the database into Viewers and facts. The only place that does; rules stay pure."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from typing import Any, cast

from tortoise.expressions import F, Q

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
)
from models.enums import AdminKind, AdminRight, AppScope, ChainCorpStatus, MemberStatus, Scope
from permissions.apps import effective_scopes
from permissions.facts import NO_STANDING, AdminStanding, ChainCorpFacts, ContactFacts, MemberFacts
from permissions.fields import FieldSettings
from permissions.paths import path_ids, root_path
from permissions.sql import use_path_ranges
from permissions.viewer import ChainAccess, DirectoryAccess, ScopeView, Viewer, ViewerKind

# Pairs that sort one way bytewise and the other way under the collations that break range
# predicates on paths: '/' ignored (glibc en_US), digits compared as numbers (ICU kn).
_BYTEWISE_PROBE = "SELECT ('/1/5/3/' < '/1/50') AND ('/1/5/9/' < '/1/50/') AND ('/1/10/' < '/1/9/') AND ('/1/5/' < '/1/5/3/')"
_path_ordering_checked: object = None
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


async def check_path_ordering() -> None:
    """Once per database: subtree predicates become index-friendly ranges when the database
    compares paths bytewise, and stay LIKE otherwise (see permissions.sql)."""
    global _path_ordering_checked
    from tortoise.connection import get_connection

    conn = get_connection("default")
    identity = (conn.capabilities.dialect, getattr(conn, "database", None) or getattr(conn, "filename", None))
    if _path_ordering_checked == identity:
        return
    _, rows = await conn.execute_query(_BYTEWISE_PROBE)
    use_path_ranges(bool(rows and list(dict(rows[0]).values())[0]))
    _path_ordering_checked = identity


async def _paths_of(model: Any, ids: Iterable[int]) -> dict[int, str]:
    wanted = sorted(set(ids))
    if not wanted:
        return {}
    rows = await model.filter(id__in=wanted).values_list("id", "path")
    return {i: p for i, p in rows}


def _effective_view(unit: OrgUnit, by_id: dict[int, OrgUnit]) -> tuple[Scope, OrgUnit | None]:
    """The nearest explicit scope on the unit or its ancestors (A in SPEC §2.1); the root defaults to ALL."""
    for ancestor_id in reversed(path_ids(unit.path)):
        a = by_id.get(ancestor_id)
        if a is not None and a.scope is not Scope.INHERIT:
            return a.scope, a
    return Scope.ALL, None


async def directory_access(
    corp_id: int, own_units: list[OrgUnit], grants: list[AdminGrant], *, reads_all: bool, manages_all: bool
) -> DirectoryAccess:
    """The DirectoryAccess of a member of corp `corp_id` (SPEC §2.1, §2.4): the scope view of
    each of `own_units` (its seats' units, their ancestors read here to resolve INHERIT), its
    admin ranges from `grants` (directory-admin grants of the corp). `reads_all` / `manages_all`:
    it reads / manages the whole corp (super admin, an app); such a viewer needs no scope views.
    At most two queries (the ancestors, then the paths of whitelisted, excluded and
    admin-range units); raises nothing."""
    # A viewer that reads the whole corp needs no scope views (every rule answers from
    # reads_all first): its ancestors are not read at all.
    chain_ids = set() if reads_all else {i for u in own_units for i in path_ids(u.path)}
    by_id = {u.id: u for u in await OrgUnit.filter(id__in=sorted(chain_ids))} if chain_ids else {}
    settings: list[tuple[OrgUnit, Scope, OrgUnit | None]] = (
        [] if reads_all else [(u, *_effective_view(u, by_id)) for u in own_units]
    )
    listed_ids = {i for _, _, a in settings if a is not None for i in (*a.scope_whitelist, *a.scope_exclude)}
    range_ids = {i for g in grants if g.kind is AdminKind.DIRECTORY_ADMIN for i in g.unit_ids}
    paths = await _paths_of(OrgUnit, listed_ids | range_ids)

    views = []
    for unit, mode, anchor in settings:
        if mode is Scope.ALL:
            roots = [root_path(unit.path)]
        elif mode is Scope.DEPARTMENT:
            roots = [anchor.path if anchor else unit.path]
        else:  # SUBDEPARTMENT: the member's own unit, not the anchor's
            roots = [unit.path]
        whitelist = anchor.scope_whitelist if anchor else []
        exclude = anchor.scope_exclude if anchor else []
        roots += [paths[i] for i in whitelist if i in paths]
        views.append(ScopeView(tuple(roots), tuple(paths[i] for i in exclude if i in paths)))

    ranges = tuple(
        (paths[i], frozenset(AdminRight(r) for r in g.rights) | {AdminRight.READ})
        for g in grants
        if g.kind is AdminKind.DIRECTORY_ADMIN
        for i in g.unit_ids
        if i in paths
    )
    return DirectoryAccess(
        corp_id=corp_id,
        reads_all=reads_all,
        manages_all=manages_all,
        admin_ranges=ranges,
        views=tuple(views),
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


async def _owner_side(
    corp_id: int,
    member_id: int | None,
    unit_paths: list[str],
    grants: list[AdminGrant],
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
    rules: list[dict[str, Any]] = []
    if member_id is not None and not admin_all_chains:
        rules = await ChainRule.filter(chain_id__in=list(owned)).values(*_RULE_FIELDS)

    out = []
    for chain_id in owned:
        grant = chain_grants.get(chain_id)
        if admin_all_chains or (grant is not None and not grant.group_ids):
            out.append(ChainAccess(chain_id, corp_id, admin_all=True))
            continue
        # Paths as sorted sets: the rules come in no set order, and a Viewer built twice from
        # the same facts must compare equal (the kept-Viewer check relies on it).
        mine = [
            r
            for r in rules
            if r["chain_id"] == chain_id
            and (
                r["subject_member_id"] == member_id
                or (r["subject_unit__path"] and any(p.startswith(r["subject_unit__path"]) for p in unit_paths))
            )
        ]
        admin_paths = tuple(group_paths[i] for i in (grant.group_ids if grant else []) if i in group_paths)
        access = ChainAccess(
            chain_id,
            corp_id,
            admin_group_paths=admin_paths,
            rule_group_paths=tuple(sorted({r["object_group__path"] for r in mine if r["object_group__path"]})),
            rule_chain_corp_ids=frozenset(r["object_chain_corp_id"] for r in mine if r["object_chain_corp_id"]),
            rule_corp_group_paths=tuple(sorted(
                {r["object_chain_corp__group__path"] for r in mine if r["object_chain_corp__group__path"]}
            )),
        )
        if admin_paths or access.rule_group_paths or access.rule_chain_corp_ids:
            out.append(access)
    return out


async def _downstream_side(corp_id: int, only_chain: int | None) -> list[ChainAccess]:
    q = ChainCorp.filter(corp_id=corp_id, status=ChainCorpStatus.JOINED.value)
    if only_chain is not None:
        q = q.filter(chain_id=only_chain)
    places = await q.values(
        "id",
        "chain_id",
        "group_id",
        "group__path",
        "group__peers_visible",
        "chain__corps_see_each_other",
        "chain__owner_corp_id",
        "invited_by_id",
    )
    if not places:
        return []
    rules = await ChainRule.filter(chain_id__in=[p["chain_id"] for p in places]).values(*_RULE_FIELDS)
    out = []
    for p in places:
        covering = [
            r
            for r in rules
            if r["chain_id"] == p["chain_id"]
            and (
                (r["object_group__path"] and p["group__path"].startswith(r["object_group__path"]))
                or r["object_chain_corp_id"] == p["id"]
            )
        ]
        member_ids = {r["subject_member_id"] for r in covering if r["subject_member_id"]}
        if p["invited_by_id"]:
            member_ids.add(p["invited_by_id"])
        out.append(
            ChainAccess(
                p["chain_id"],
                p["chain__owner_corp_id"],
                own_chain_corp_id=p["id"],
                own_group_id=p["group_id"],
                own_group_path=p["group__path"],
                peers_visible=bool(p["group__peers_visible"] or p["chain__corps_see_each_other"]),
                connector_unit_paths=tuple(sorted({r["subject_unit__path"] for r in covering if r["subject_unit__path"]})),
                connector_member_ids=frozenset(member_ids),
            )
        )
    return out


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
    grants = await AdminGrant.filter(member_id=member_id).order_by("id")
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

async def member_facts(members: list[Member]) -> dict[int, MemberFacts]:
    """MemberFacts by member id for `members` (loaded Member rows): status, hidden flag, the
    paths of the units they sit in and the chain contacts they joined as (the facts
    can_see_member and the field rules need, SPEC §2.1, §2.3). Two queries; {} for no members."""
    ids = [m.id for m in members]
    if not ids:
        return {}
    unit_paths: dict[int, list[str]] = defaultdict(list)
    for member_id, path in await Placement.filter(member_id__in=ids).values_list("member_id", "unit__path"):
        unit_paths[member_id].append(path)
    contacts: dict[int, list[ContactFacts]] = defaultdict(list)
    # A member is reached through a contact only as a member of the corp behind it (the
    # corp it joined as): the same contacts permissions.members.linked_contacts selects.
    joined_as_corp = (
        ChainContact.filter(member_id__in=ids, chain_corp__corp_id__isnull=False)
        .filter(member__corp_id=F("chain_corp__corp_id"))
    )
    for c in await contact_facts(joined_as_corp):
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
    grants = await q
    paths = await _paths_of(OrgUnit, [i for g in grants if g.kind is AdminKind.DIRECTORY_ADMIN for i in g.unit_ids])
    beyond: set[int] = set()
    ranges: dict[int, list[tuple[str, frozenset[AdminRight]]]] = defaultdict(list)
    for g in grants:
        if g.kind is AdminKind.DIRECTORY_ADMIN:
            rights = frozenset(AdminRight(r) for r in g.rights) | {AdminRight.READ}
            ranges[g.member_id].extend((paths[i], rights) for i in g.unit_ids if i in paths)
        else:
            beyond.add(g.member_id)
    return {
        m: AdminStanding(beyond_directory=m in beyond, ranges=tuple(ranges.get(m, ())))
        for m in {g.member_id for g in grants}
    }


async def admin_standing(corp_id: int, member_id: int) -> AdminStanding:
    """The AdminStanding of member `member_id` of corp `corp_id` (admin_standings for one
    member); NO_STANDING when it holds no grant. SPEC §2.4, for actions.outranks."""
    return (await admin_standings(corp_id, [member_id])).get(member_id, NO_STANDING)


async def contact_facts(query: Any) -> list[ContactFacts]:
    """ContactFacts (status, linked member, its chain corp's chain, status, group and group
    path) of the ChainContact rows `query` (a ChainContact queryset) selects, in one query:
    what can_see_contact needs (SPEC §2.3)."""
    rows = await query.values(
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
