"""A kept Viewer is the Viewer built from scratch, whatever writes came in between
(auth.viewer_cache): random sequences of the real policy writes, through flows, and after
each one every viewer's Viewer as a request gets it is compared with one built anew."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC

from hypothesis import given, settings
from hypothesis import strategies as st

from auth.backend import AuthenticationFailed, authenticate
from auth.tokens import decode, issue_member_token
from auth.viewer_cache import VIEWERS
from flows.errors import FlowError
from models import AdminGrant, AppToken, ChainCorp, ChainGroup, Member, OrgUnit
from models.enums import AdminKind, AdminRight, AppScope, ChainCorpStatus, MemberStatus, Scope
from permissions.loading import app_viewer, member_viewer
from permissions.viewer import Viewer
from tests import factories as f


@dataclass
class World:
    """One owner corp with a unit tree, a chain with two joined downstream corps, apps."""

    corp_id: int
    admin_id: int
    chain_id: int
    units: list[int]
    members: list[int]
    groups: list[int]
    places: list[int]
    extra_units: list[int] = field(default_factory=list)  # made by add_unit
    imported: list[int] = field(default_factory=list)  # members made by import_rows
    tokens: dict[int, str] = field(default_factory=dict)  # member id -> bearer token
    apps: dict[int, str] = field(default_factory=dict)  # app token id -> bearer secret


_world: World | None = None


async def world() -> World:
    global _world
    if _world is not None:
        return _world
    from flows.app_tokens import create_app_token

    corp, root = await f.corp("缓存")
    a = await f.unit(root, scope=Scope.DEPARTMENT)
    a1 = await f.unit(a)
    b = await f.unit(root, scope=Scope.SUBDEPARTMENT)
    b1 = await f.unit(b)
    c = await f.unit(root)
    units = [root, a, a1, b, b1, c]
    admin = await f.super_admin(root)
    members = [await f.member([u], name=f"成员{i}") for i, u in enumerate([a1, b1, c, a, b])]
    chain, groot = await f.chain_space(corp)
    g1 = await f.group(groot)
    g2 = await f.group(g1)
    places, downstream = [], []
    for g in (g1, g2):
        dcorp, droot = await f.corp("下游")
        leader = await f.member([droot], name="负责人")
        place = await f.chain_corp(g, dcorp, invited_by=members[0])
        await f.contact(place, leader)
        places.append(place.id)
        downstream.append(leader)
    w = World(corp.id, admin.id, chain.id, [u.id for u in units], [m.id for m in members + downstream],
              [groot.id, g1.id, g2.id], places)
    for m in [admin, *members, *downstream]:
        w.tokens[m.id] = f.token(m)
    viewer = await member_viewer(admin.id)
    assert viewer is not None
    for scopes, chain_id in (([AppScope.DIRECTORY_READ, AppScope.CHAIN_READ], None), ([AppScope.CHAIN_READ], chain.id)):
        issued = await create_app_token(viewer, corp.id, "app", scopes, chain_id=chain_id)
        w.apps[issued.token.id] = issued.secret
    _world = w
    return w


async def from_scratch(token: str) -> Viewer | None:
    """What the request should see, built without the cache: None when refused."""
    if token.startswith("cgat_"):
        from datetime import datetime

        from auth.tokens import hash_app_secret

        app = await AppToken.get_or_none(token_hash=hash_app_secret(token))
        if app is None or app.revoked_at is not None or (app.expires_at and app.expires_at <= datetime.now(UTC)):
            return None
        return await app_viewer(app)
    claims = await decode(token)
    assert claims.member_id is not None
    return await member_viewer(claims.member_id, token_id=claims.jti, issued_ms=claims.issued_ms or 0)


async def as_requested(token: str) -> Viewer | None:
    try:
        return await authenticate(f"Bearer {token}")
    except AuthenticationFailed:
        return None


# --- the writes: each a real flow, as the admin of the owner corp ---------------------------

async def admin_viewer(w: World) -> Viewer:
    viewer = await member_viewer(w.admin_id)
    assert viewer is not None
    return viewer


async def set_scope(w: World, pick: int, scope: int) -> None:
    from flows.units import update_org_unit

    await update_org_unit(await admin_viewer(w), w.units[1 + pick % 5], scope=list(Scope)[scope % len(Scope)])


async def set_lists(w: World, pick: int, whitelist: int, exclude: int) -> None:
    from flows.units import update_org_unit

    chosen = lambda bits: [u for i, u in enumerate(w.units[1:]) if bits >> i & 1]  # noqa: E731
    await update_org_unit(await admin_viewer(w), w.units[1 + pick % 5], whitelist=chosen(whitelist), exclude=chosen(exclude))


async def move_unit(w: World, pick: int, to: int) -> None:
    from flows.units import update_org_unit

    await update_org_unit(await admin_viewer(w), w.units[1 + pick % 5], parent_id=w.units[to % 6])


async def grant(w: World, pick: int, kind: int, bits: int) -> None:
    from flows.directory import grant_admin

    member_id = w.members[pick % 5]
    viewer = await admin_viewer(w)
    if kind % 3 == 0:
        units = [u for i, u in enumerate(w.units) if bits >> i & 1] or [w.units[1]]
        await grant_admin(viewer, member_id, AdminKind.DIRECTORY_ADMIN, unit_ids=units, rights=[AdminRight.MANAGE])
    elif kind % 3 == 1:
        groups = [g for i, g in enumerate(w.groups) if bits >> i & 1]
        await grant_admin(viewer, member_id, AdminKind.CHAIN_ADMIN, chain_id=w.chain_id, group_ids=groups)
    else:
        await grant_admin(viewer, member_id, AdminKind.SUPER_ADMIN)


async def revoke(w: World, pick: int) -> None:
    from flows.directory import revoke_admin

    grants = await AdminGrant.filter(corp_id=w.corp_id).exclude(member_id=w.admin_id).order_by("id")
    if grants:
        await revoke_admin(await admin_viewer(w), grants[pick % len(grants)].id)


async def move_member(w: World, pick: int, to: int) -> None:
    from flows.members import move_members

    await move_members(await admin_viewer(w), [w.members[pick % 5]], w.units[to % 6])


async def set_rules(w: World, bits: int, subject: int) -> None:
    from flows.chain_rules import RuleInput, set_chain_rules

    rules = []
    for i, g in enumerate(w.groups):
        if bits >> i & 1:
            rules.append(RuleInput(subject_unit_id=w.units[1 + subject % 5], object_group_id=g))
    for i, p in enumerate(w.places):
        if bits >> (3 + i) & 1:
            rules.append(RuleInput(subject_member_id=w.members[subject % 5], object_chain_corp_id=p))
    await set_chain_rules(await admin_viewer(w), w.chain_id, rules)


async def switch_peers(w: World, pick: int, on: bool) -> None:
    from flows.chain import update_chain_group

    await update_chain_group(await admin_viewer(w), w.groups[1 + pick % 2], peers_visible=on)


async def switch_chain(w: World, on: bool) -> None:
    from flows.chain import update_chain_space

    await update_chain_space(await admin_viewer(w), w.chain_id, corps_see_each_other=on)


async def move_group(w: World, pick: int, to: int) -> None:
    from flows.chain import update_chain_group

    await update_chain_group(await admin_viewer(w), w.groups[1 + pick % 2], parent_id=w.groups[to % 3])


async def leave_or_rejoin(w: World, pick: int) -> None:
    from flows.chain import remove_chain_corp

    place = await ChainCorp.get(id=w.places[pick % 2])
    if place.status is ChainCorpStatus.JOINED:
        await remove_chain_corp(await admin_viewer(w), place.id)
    else:  # joining again happens through the join flows; the row it leaves is this one
        place.status = ChainCorpStatus.JOINED
        await place.save(update_fields=["status"])


async def resign_or_reinstate(w: World, pick: int) -> None:
    from flows.lifecycle import reinstate_member, resign_member

    member = await Member.get(id=w.members[pick % 5])
    viewer = await admin_viewer(w)
    if member.status is MemberStatus.RESIGNED:
        await reinstate_member(viewer, member.id)
    else:
        await resign_member(viewer, member.id)


async def end_sessions(w: World, pick: int) -> None:
    from flows.sessions import revoke_member_sessions

    await revoke_member_sessions(await admin_viewer(w), w.members[pick % len(w.members)] if pick % 7 else w.members[0])


async def change_app(w: World, pick: int, revoke_it: bool) -> None:
    from flows.app_tokens import revoke_app_token

    token_id = sorted(w.apps)[pick % len(w.apps)]
    if revoke_it:
        await revoke_app_token(await admin_viewer(w), token_id)
    else:  # no flow edits scopes today: the column is written as a future one would
        app = await AppToken.get(id=token_id)
        wide = AppScope.DIRECTORY_READ if app.chain_id is None else AppScope.CHAIN_STATUS
        app.scopes = [AppScope.CHAIN_READ.value] + ([] if wide.value in app.scopes else [wide.value])
        await app.save(update_fields=["scopes"])


async def add_unit(w: World, pick: int, scope: int) -> None:
    from flows.directory import create_org_unit

    unit = await create_org_unit(await admin_viewer(w), w.units[pick % 6], f"新部门{len(w.extra_units)}",
                                 scope=list(Scope)[scope % len(Scope)])
    w.extra_units.append(unit.id)


async def remove_unit(w: World, pick: int) -> None:
    """Deletes one of the units add_unit made (refused while it holds members or units)."""
    from flows.units import delete_org_unit

    if w.extra_units:
        unit_id = w.extra_units[pick % len(w.extra_units)]
        await delete_org_unit(await admin_viewer(w), unit_id)
        w.extra_units.remove(unit_id)


async def reseat(w: World, pick: int, bits: int) -> None:
    """A member's units replaced (seats inserted and deleted), the new units included."""
    from flows.members import update_member

    units = [u for i, u in enumerate(w.units + w.extra_units) if bits >> i & 1] or [w.units[1]]
    await update_member(await admin_viewer(w), w.members[pick % 5], {}, unit_ids=units)


async def add_group(w: World, pick: int, peers: bool) -> None:
    from flows.chain import create_chain_group

    await create_chain_group(await admin_viewer(w), w.chain_id, f"新分组{pick}", parent_id=w.groups[pick % 3],
                             peers_visible=peers)


async def field_settings(w: World, pick: int, visible: bool) -> None:
    """Kept with the Viewer (Viewer.kept), not part of it: compared through the answers below."""
    from flows.directory import set_field_settings
    from models.enums import PROFILE_FIELDS

    field = sorted(PROFILE_FIELDS)[pick % len(PROFILE_FIELDS)]
    await set_field_settings(await admin_viewer(w), w.corp_id, {field: (visible, False)},
                             search_by_mobile=bool(pick & 1))


async def department(unit_id: int) -> str:
    """The import's department path of a unit (`A->B`, below the root)."""
    from permissions.paths import path_ids

    unit = await OrgUnit.get(id=unit_id)
    ids = path_ids(unit.path)[1:]
    names = dict(await OrgUnit.filter(id__in=ids).values_list("id", "name"))
    return "->".join(names[i] for i in ids)


async def import_rows(w: World, pick: int, to: int) -> None:
    """A directory import run as the worker runs it (a batch's members and seats inserted in
    bulk, a moved member's seats deleted and inserted): a new member, and a member of the
    corp moved to another unit."""
    from flows import jobs
    from flows.directory_import import submit_directory_import
    from models.enums import ImportMode

    units = w.units[1:] + w.extra_units
    mover = await Member.get(id=(w.members[:5] + w.imported)[pick % (5 + len(w.imported))])
    account = f"imported{len(w.imported)}"
    lines = ["姓名,账号,手机,部门",
             f"新成员,{account},{f.unique_mobile()},{await department(units[(to + 1) % len(units)])}",
             f"{mover.name},{mover.account},{mover.mobile},{await department(units[to % len(units)])}"]
    await submit_directory_import(await admin_viewer(w), w.corp_id, "rows.csv", "\n".join(lines).encode(),
                                  ImportMode.UPSERT)
    await jobs.run_pending_jobs()
    created = await Member.get_or_none(corp_id=w.corp_id, account_key=account)
    if created is not None:
        w.imported.append(created.id)
        w.tokens[created.id] = f.token(created)


async def bulk_seats(w: World, pick: int, bits: int) -> None:
    """Seats added and taken away in bulk behind the flows (models.bulk.insert_rows, a queryset
    delete), as an import's apply step writes them; the main seat stays."""
    from models import Placement
    from models.bulk import insert_rows

    member_id = (w.members[:5] + w.imported)[pick % (5 + len(w.imported))]
    seats = dict(await Placement.filter(member_id=member_id).values_list("unit_id", "is_main"))
    chosen = {u for i, u in enumerate(w.units + w.extra_units) if bits >> i & 1}
    await insert_rows(Placement, [Placement(member_id=member_id, unit_id=u) for u in sorted(chosen - set(seats))])
    await Placement.filter(member_id=member_id, is_main=False, unit_id__in=sorted(set(seats) - chosen)).delete()


small = st.integers(0, 63)
WRITES = st.one_of(
    st.tuples(st.just(set_scope), small, small),
    st.tuples(st.just(set_lists), small, small, small),
    st.tuples(st.just(move_unit), small, small),
    st.tuples(st.just(grant), small, small, small),
    st.tuples(st.just(revoke), small),
    st.tuples(st.just(move_member), small, small),
    st.tuples(st.just(set_rules), small, small),
    st.tuples(st.just(switch_peers), small, st.booleans()),
    st.tuples(st.just(switch_chain), st.booleans()),
    st.tuples(st.just(move_group), small, small),
    st.tuples(st.just(leave_or_rejoin), small),
    st.tuples(st.just(resign_or_reinstate), small),
    st.tuples(st.just(end_sessions), small),
    st.tuples(st.just(change_app), small, st.booleans()),
    st.tuples(st.just(add_unit), small, small),
    st.tuples(st.just(remove_unit), small),
    st.tuples(st.just(reseat), small, small),
    st.tuples(st.just(add_group), small, st.booleans()),
    st.tuples(st.just(field_settings), small, st.booleans()),
    st.tuples(st.just(import_rows), small, small),
    st.tuples(st.just(bulk_seats), small, small),
)

# What a request reads through the kept Viewer besides the Viewer itself (Viewer.kept: the
# corp's row and field settings, the scope's unit ids, the corps a chain selector names, the
# page statements): answered with the Viewers kept, then again with every Viewer built anew,
# the answers must agree. The chain's contacts twice: a first page, and the page after it.
KEPT_READS = """
query($c: ID!, $ch: ID!) {
  corp(id: $c) {
    name searchByMobile fieldSettings { field visibleToMembers selfEditable }
    members(first: 50) { totalCount edges { node { id name mobile email hiddenFields departments { unit { name } } } } }
  }
  chainSpace(id: $ch) {
    contacts(first: 50) { totalCount edges { node { id name status mobile hiddenFields } } }
    firstOne: contacts(first: 1) { totalCount pageInfo { endCursor } edges { node { id } } }
  }
}
"""
KEPT_READS_AFTER = """
query($ch: ID!, $after: String) {
  chainSpace(id: $ch) { contacts(first: 1, after: $after) { totalCount edges { node { id mobile hiddenFields } } } }
}
"""


async def refresh_tokens(w: World) -> None:
    """A member refused for a token issued before its sessions ended gets a fresh one, as
    actAs would give it, so it stays among the viewers compared."""
    from flows.sessions import token_instant

    for member in await Member.filter(id__in=list(w.tokens), status=MemberStatus.ACTIVE):
        if await as_requested(w.tokens[member.id]) is None:
            w.tokens[member.id] = issue_member_token(member.id, issued_ms=token_instant(member))


async def answers(client, w: World) -> dict[str, object]:
    """KEPT_READS as each member token gets it over HTTP (errors included)."""
    out = {}
    for _member_id, token in sorted(w.tokens.items()):
        headers = {"Authorization": f"Bearer {token}"}
        variables = {"c": f.gid("Corp", w.corp_id), "ch": f.gid("ChainSpace", w.chain_id)}
        response = await client.post("/graphql", json={"query": KEPT_READS, "variables": variables}, headers=headers)
        body = response.json()
        first = ((body.get("data") or {}).get("chainSpace") or {}).get("firstOne") or {}
        after = (first.get("pageInfo") or {}).get("endCursor")
        following = await client.post("/graphql", headers=headers, json={
            "query": KEPT_READS_AFTER, "variables": {"ch": variables["ch"], "after": after}})
        out[token] = [body, following.json()]
    return out


@settings(max_examples=25)
@given(st.lists(WRITES, min_size=1, max_size=6))
async def test_a_kept_viewer_equals_one_built_from_scratch_after_any_write(database, client, writes):
    w = await world()
    bearers = [*w.tokens.values(), *w.apps.values()]
    for token in bearers:  # every viewer is kept before the writes start
        await as_requested(token)
    await answers(client, w)  # and what its requests keep with it
    for write, *args in writes:
        try:
            await write(w, *args)
        except FlowError:
            pass  # a refused write changes nothing; the comparison below still holds
        for token in [*w.tokens.values(), *w.apps.values()]:
            assert await as_requested(token) == await from_scratch(token), write.__name__
        kept = await answers(client, w)
        VIEWERS.clear()
        assert kept == await answers(client, w), write.__name__
        await refresh_tokens(w)


async def test_a_write_the_viewer_is_not_built_from_keeps_the_viewer(database):
    """Renaming a unit, editing a profile or an app's lastUsedAt leave the version alone."""
    from models import PolicyVersion

    w = await world()
    before = (await PolicyVersion.get(id=1)).version
    await OrgUnit.filter(id=w.units[1]).update(name="改名")
    await Member.filter(id=w.members[0]).update(position="经理")
    await AppToken.filter(id=sorted(w.apps)[0]).update(last_used_at=None)
    await ChainGroup.filter(id=w.groups[1]).update(name="改名")
    assert (await PolicyVersion.get(id=1)).version == before


async def test_an_import_of_new_members_leaves_every_kept_viewer_as_it_is(database):
    """New members and their seats (an import's bulk inserts) change no Viewer kept before:
    none is built again and the policy version does not move; a member the import moves
    gets its own Viewer built again, and only it."""
    from flows import jobs
    from flows.directory_import import submit_directory_import
    from models import PolicyVersion
    from models.enums import ImportMode
    from observability.metrics import VIEWER_BUILDS

    w = await world()
    units = w.units[1:] + w.extra_units
    mover = await f.member([await OrgUnit.get(id=units[0])], name="调动")
    mover_token = f.token(mover)
    tokens = [*w.tokens.values(), *w.apps.values(), mover_token]
    kept = {}
    for token in tokens:
        await as_requested(token)
        kept[token] = await as_requested(token)
    version = (await PolicyVersion.get(id=1)).version

    def builds() -> float:
        return sum(VIEWER_BUILDS.labels(k)._value.get() for k in ("member", "app"))

    before = builds()
    lines = ["姓名,账号,手机,部门"] + [
        f"批量{i},bulk{i},{f.unique_mobile()},{await department(units[i % len(units)])}" for i in range(30)
    ]
    job = await submit_directory_import(await admin_viewer(w), w.corp_id, "bulk.csv", "\n".join(lines).encode(),
                                        ImportMode.UPSERT)
    await jobs.run_pending_jobs()
    assert (await Member.filter(corp_id=w.corp_id, account_key__startswith="bulk").count()) == 30, job.id
    assert (await PolicyVersion.get(id=1)).version == version
    for token, viewer in kept.items():
        assert await as_requested(token) == viewer == await from_scratch(token)
    assert builds() == before

    target = units[1]
    lines = ["姓名,账号,手机,部门", f"{mover.name},{mover.account},{mover.mobile},{await department(target)}"]
    await submit_directory_import(await admin_viewer(w), w.corp_id, "move.csv", "\n".join(lines).encode(),
                                  ImportMode.UPSERT)
    await jobs.run_pending_jobs()
    assert (await PolicyVersion.get(id=1)).version == version
    for token in kept:
        assert await as_requested(token) == await from_scratch(token)
    assert builds() == before + 1  # the mover's alone
    moved = await as_requested(mover_token)
    assert moved is not None and moved.directory is not None
    assert moved.directory.own_unit_paths == ((await OrgUnit.get(id=target)).path,)


async def test_a_kept_viewer_costs_one_statement(database):
    from bench.harness import count_statements

    _, root = await f.corp("单条")
    token = f.token(await f.member([await f.unit(root, scope=Scope.DEPARTMENT)]))
    VIEWERS.clear()
    cold, _ = await count_statements(lambda: authenticate(f"Bearer {token}"))
    warm, viewer = await count_statements(lambda: authenticate(f"Bearer {token}"))
    assert warm == 1 and cold > 1
    assert viewer == await from_scratch(token)


async def test_field_setting_and_corp_writes_bump_the_policy_version(database):
    """A kept Viewer keeps its corps' rows and field settings (Viewer.kept): their writes bump."""
    from models import Corp, FieldSetting, PolicyVersion

    corp, _ = await f.corp("设置")

    async def bumps(write) -> bool:
        before = (await PolicyVersion.get(id=1)).version
        await write
        return (await PolicyVersion.get(id=1)).version > before

    assert await bumps(FieldSetting.create(corp_id=corp.id, field="mobile", visible_to_members=False, self_editable=False))
    assert await bumps(FieldSetting.filter(corp_id=corp.id).update(visible_to_members=True))
    assert await bumps(FieldSetting.filter(corp_id=corp.id).delete())
    assert await bumps(Corp.filter(id=corp.id).update(name="改名"))
    assert await bumps(Corp.filter(id=corp.id).update(search_by_mobile=True))
    assert not await bumps(Corp.filter(id=corp.id).update(search_by_mobile=True))  # nothing changed


async def test_a_kept_viewer_reads_field_settings_and_the_corp_as_written_since(gql):
    from models import Corp, FieldSetting

    corp, root = await f.corp("设置")
    token = f.token(await f.super_admin(root))
    query = "query($c: ID!) { corp(id: $c) { name fieldSettings { field visibleToMembers } } }"
    variables = {"c": f.gid("Corp", corp.id)}
    before = (await gql.ok(query, variables, token))["corp"]
    assert before["name"] == corp.name and ("mobile", False) not in {(s["field"], s["visibleToMembers"]) for s in before["fieldSettings"]}
    # Written behind the API's back: only the triggers tell the kept Viewer.
    await FieldSetting.update_or_create(
        {"visible_to_members": False, "self_editable": False}, corp_id=corp.id, field="mobile"
    )
    await Corp.filter(id=corp.id).update(name="改名")
    after = (await gql.ok(query, variables, token))["corp"]
    assert after["name"] == "改名"
    assert ("mobile", False) in {(s["field"], s["visibleToMembers"]) for s in after["fieldSettings"]}
