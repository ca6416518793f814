"""The leak matrix, generated: every entity type registered in NODE_RESOLVERS × every access
path (node, lists, search, nesting through unit / corp / chain, counts, status lookups, one
request mixing an own and a foreign id) × every kind of viewer.

The expected answer is never written by hand: the policy engine's in-memory evaluators
(`can_see_*` in permissions/) decide, object by object, what each viewer may see, and the
API must agree exactly: nothing more (no leak), nothing less, and counts that match.
"""

from __future__ import annotations

import base64
import json
import uuid
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from strawberry import relay

from auth.backend import authenticate
from auth.ratelimit import RateRule
from auth.tokens import issue_person_token
from gql.schema import NODE_RESOLVERS
from models import (
    AuditEvent,
    ChainContact,
    ChainCorp,
    ChainGroup,
    ChainSpace,
    Corp,
    ImportJob,
    Invitation,
    Member,
    Placement,
    WebhookSubscription,
)
from models.chain import JoinRequest, JoinRequestKind
from models.enums import (
    AdminKind,
    AdminRight,
    AppScope,
    ChainCorpStatus,
    ContactRole,
    ContactStatus,
    ImportKind,
    MemberStatus,
    Scope,
)
from permissions import chain as chain_rules
from permissions import scope
from permissions.actions import can_manage_app_tokens, can_read_audit
from permissions.corps import can_see_corp
from permissions.facts import ChainCorpFacts, ContactFacts, GroupFacts, MemberFacts, UnitFacts
from permissions.jobs import JobFacts, can_see_import_job
from permissions.loading import chain_corp_facts, contact_facts, member_facts
from permissions.members import can_see_member
from permissions.viewer import Viewer
from tests import factories as f
from tests.gateway import app_token, bearer
from web.gate import Budgets

UNLIMITED = Budgets(caller=RateRule(0, 0), anonymous=RateRule(0, 0), auth_failures=RateRule(0, 0))
ALL_STATUSES = "[ACTIVE, DISABLED, PENDING, RESIGNED]"
SEARCH_TEXT = "员"  # every member of the world carries it in its name

# --- the world -------------------------------------------------------------------------


@dataclass
class World:
    """Everything built for the matrix, by type, and the tokens of every kind of viewer."""

    objects: dict[str, dict[int, Any]] = field(default_factory=lambda: defaultdict(dict))
    tokens: dict[str, str | None] = field(default_factory=dict)
    corps: dict[str, Corp] = field(default_factory=dict)
    chains: dict[str, ChainSpace] = field(default_factory=dict)

    def add(self, type_name: str, *rows: Any) -> None:
        for row in rows:
            self.objects[type_name][row.id] = row


async def build_world() -> World:
    w = World()

    # The upstream corp: every scope, an admin over one branch, hidden and resigned people.
    up, root = await f.corp("上游制造")
    exec_unit = await f.unit(root, "总经办", Scope.ALL)
    sales = await f.unit(root, "营销中心", Scope.DEPARTMENT)
    east = await f.unit(sales, "华东大区")
    key_accounts = await f.unit(sales, "大客户部")
    sales.scope_exclude = [key_accounts.id]
    await sales.save(update_fields=["scope_exclude"])
    rnd = await f.unit(root, "研发中心", Scope.SUBDEPARTMENT)
    platform = await f.unit(rnd, "平台组")
    w.add("OrgUnit", root, exec_unit, sales, east, key_accounts, rnd, platform)

    boss = await f.member([exec_unit], name="员总经理", leader=True)
    hidden = await f.member([exec_unit], name="员隐身", hidden=True)
    plain = await f.member([root], name="员普通")
    dept = await f.member([east], name="员华东")
    east_peer = await f.member([east], name="员华东二", leader=True)
    key_account = await f.member([key_accounts], name="员大客户")
    rnd_member = await f.member([platform], name="员平台")
    resigned = await f.member([east], name="员离职", status=MemberStatus.RESIGNED)
    disabled = await f.member([rnd], name="员停用", status=MemberStatus.DISABLED)
    pending = await f.member([sales], name="员待激活", status=MemberStatus.PENDING)
    two_seats = await f.member([platform, key_accounts], name="员双岗")
    admin = await f.super_admin(root, name="员超管")
    directory_admin = await f.member([root], name="员分管")
    await f.grant(directory_admin, AdminKind.DIRECTORY_ADMIN, unit_ids=[sales.id],
                  rights=[AdminRight.READ.value, AdminRight.MANAGE.value])
    w.add("Member", boss, hidden, plain, dept, east_peer, key_account, rnd_member, resigned, disabled, pending,
          two_seats, admin, directory_admin)

    # Its chain: suppliers (raw materials) and dealers (peers visible), a rule each way.
    chain, top = await f.chain_space(up)
    suppliers = await f.group(top, "供应商")
    raw = await f.group(suppliers, "原材料")
    dealers = await f.group(top, "经销商", peers_visible=True)
    w.add("ChainGroup", top, suppliers, raw, dealers)

    async def downstream(name: str, group: ChainGroup, status: ChainCorpStatus = ChainCorpStatus.JOINED):
        corp, corp_root = await f.corp(name)
        leader = await f.member([corp_root], name=f"员{name}负责人")
        colleague = await f.member([corp_root], name=f"员{name}同事")
        place = await f.chain_corp(group, corp, status=status, invited_by=admin)
        joined = await f.contact(place, leader)
        invited = await f.contact(place, status=ContactStatus.INVITED, role=ContactRole.MEMBER, name="员受邀")
        w.add("Corp", corp)
        w.add("OrgUnit", corp_root)
        w.add("Member", leader, colleague)
        w.add("ChainCorp", place)
        w.add("ChainContact", joined, invited)
        return corp, corp_root, leader, place, invited

    supplier, supplier_root, supplier_leader, supplier_place, supplier_invited = await downstream("甲供应商", raw)
    supplier_admin = await f.super_admin(supplier_root, name="员甲超管")
    w.add("Member", supplier_admin)
    # Contacts whose members left (SPEC §3.5): only the chain's admins still see them.
    for status in (MemberStatus.RESIGNED, MemberStatus.DISABLED):
        gone = await f.member([supplier_root], name=f"员甲{status.value}", status=status)
        w.add("Member", gone)
        w.add("ChainContact", await f.contact(supplier_place, gone, role=ContactRole.MEMBER))
    await downstream("乙供应商", raw)
    dealer, _, dealer_leader, dealer_place, dealer_invited = await downstream("丙经销商", dealers)
    await downstream("丁经销商", dealers)
    await downstream("戊退出", raw, ChainCorpStatus.REMOVED)
    imported = await f.chain_corp(suppliers, status=ChainCorpStatus.IMPORTED)
    imported_contact = await f.contact(imported, status=ContactStatus.IMPORTED, name="员未加入")
    w.add("ChainCorp", imported)
    w.add("ChainContact", imported_contact)
    await f.rule(chain, subject_unit=sales, object_group=dealers)
    await f.rule(chain, subject_member=rnd_member, object_chain_corp=supplier_place)

    # Another corp with its own chain, in which the same supplier also sits.
    other, other_root = await f.corp("无关企业")
    other_admin = await f.super_admin(other_root, name="员外企超管")
    other_member = await f.member([other_root], name="员外企")
    other_chain, other_top = await f.chain_space(other)
    also_there = await f.chain_corp(other_top, supplier, invited_by=other_admin)
    also_contact = await f.contact(also_there, supplier_leader)
    w.add("Corp", up, other)
    w.add("OrgUnit", other_root)
    w.add("Member", other_admin, other_member)
    w.add("ChainSpace", chain, other_chain)
    w.add("ChainGroup", other_top)
    w.add("ChainCorp", also_there)
    w.add("ChainContact", also_contact)
    # Invitation links (by the owner's admin, by a joined leader into its own group, in the
    # other chain) and requests to join a corp, waiting for that corp's super admins.
    w.add(
        "Invitation",
        await Invitation.create(chain=chain, code=f"inv-{uuid.uuid4().hex}", created_by=admin),
        await Invitation.create(chain=chain, group=raw, code=f"inv-{uuid.uuid4().hex}", created_by=supplier_leader),
        await Invitation.create(chain=other_chain, code=f"inv-{uuid.uuid4().hex}", created_by=other_admin),
    )
    w.add(
        "JoinRequest",
        *[
            await JoinRequest.create(chain=chain, chain_corp=place, contact=contact, corp=corp,
                                     kind=JoinRequestKind.JOIN, open_key=contact.id)
            for corp, place, contact in ((supplier, supplier_place, supplier_invited),
                                         (dealer, dealer_place, dealer_invited))
        ],
    )
    w.corps.update(up=up, other=other, supplier=supplier)
    w.chains.update(up=chain, other=other_chain)

    # Partner apps: every scope, none, bound to the chain, and the supplier's own.
    every_scope, every_row = await app_token(up, *(s.value for s in AppScope))
    no_scope, no_row = await app_token(up)
    bound, bound_row = await app_token(up, AppScope.CHAIN_READ.value, AppScope.CHAIN_STATUS.value, chain=chain)
    supplier_app, supplier_row = await app_token(supplier, AppScope.DIRECTORY_READ.value, AppScope.CHAIN_READ.value)
    w.add("AppToken", every_row, no_row, bound_row, supplier_row)
    w.add("WebhookSubscription", *[
        await WebhookSubscription.create(corp_id=t.corp_id, app_token=t, url="https://example.com/hook",
                                         secret="whsec_" + "A" * 44, position="{}")
        for t in (every_row, supplier_row)])

    # Import jobs and audit events, in several corps, by several actors.
    jobs = [
        await ImportJob.create(corp=up, kind=ImportKind.DIRECTORY, actor_kind="MEMBER", actor_id=directory_admin.id,
                               created_by=directory_admin),
        await ImportJob.create(corp=up, kind=ImportKind.DIRECTORY, actor_kind="APP", actor_id=every_row.id),
        await ImportJob.create(corp=up, chain=chain, kind=ImportKind.CHAIN_CONTACTS, actor_kind="MEMBER",
                               actor_id=admin.id, created_by=admin),
        await ImportJob.create(corp=other, kind=ImportKind.DIRECTORY, actor_kind="MEMBER", actor_id=other_admin.id,
                               created_by=other_admin),
    ]
    w.add("ImportJob", *jobs)
    events = [
        await AuditEvent.create(corp=up, actor_kind="MEMBER", actor_id=admin.id, action="unit.create",
                                target_type="OrgUnit", target_id=sales.id),
        await AuditEvent.create(corp=up, actor_kind="APP", actor_id=every_row.id, action="member.update",
                                target_type="Member", target_id=plain.id),
        await AuditEvent.create(corp=other, actor_kind="MEMBER", actor_id=other_admin.id, action="member.create",
                                target_type="Member", target_id=other_member.id),
        await AuditEvent.create(corp=supplier, actor_kind="MEMBER", actor_id=supplier_admin.id,
                                action="member.create", target_type="Member", target_id=supplier_leader.id),
    ]
    w.add("AuditEvent", *events)

    w.tokens = {
        "anonymous": None,
        "person": issue_person_token(f.unique_mobile()),
        "person with a member's mobile": issue_person_token(plain.mobile or f.unique_mobile()),
        "plain member": f.token(plain),
        "dept-scoped member": f.token(dept),
        "subdepartment member": f.token(rnd_member),
        "directory admin": f.token(directory_admin),
        "super admin": f.token(admin),
        "super admin of another corp": f.token(other_admin),
        "supplier member": f.token(supplier_leader),
        "supplier super admin": f.token(supplier_admin),
        "dealer member": f.token(dealer_leader),
        "partner app with every scope": every_scope,
        "partner app without scopes": no_scope,
        "partner app bound to the chain": bound,
        "supplier's partner app": supplier_app,
    }
    return w


# --- the oracle: what the policy engine says each viewer may see ----------------------


@dataclass
class Facts:
    members: dict[int, MemberFacts]
    units: dict[int, UnitFacts]
    groups: dict[int, GroupFacts]
    chain_corps: dict[int, ChainCorpFacts]
    contacts: dict[int, ContactFacts]
    corp_places: dict[int, list[ChainCorpFacts]]
    jobs: dict[int, JobFacts]


async def load_facts(w: World) -> Facts:
    members = await member_facts(list(w.objects["Member"].values()))
    units = {u.id: UnitFacts(u.id, u.corp_id, u.path) for u in w.objects["OrgUnit"].values()}
    groups = {g.id: GroupFacts(g.id, g.chain_id, g.path) for g in w.objects["ChainGroup"].values()}
    chain_corps = {c.id: c for c in await chain_corp_facts(ChainCorp.filter(id__in=list(w.objects["ChainCorp"])))}
    contacts = {c.id: c for c in await contact_facts(ChainContact.filter(id__in=list(w.objects["ChainContact"])))}
    places: dict[int, list[ChainCorpFacts]] = defaultdict(list)
    for row in w.objects["ChainCorp"].values():
        if row.corp_id is not None:
            places[row.corp_id].append(chain_corps[row.id])
    jobs = {j.id: JobFacts(j.corp_id, j.chain_id, j.actor_kind, j.actor_id) for j in w.objects["ImportJob"].values()}
    return Facts(members, units, groups, chain_corps, contacts, places, jobs)


Oracle = Callable[[Viewer, Any, Facts], bool]

# One in-memory evaluator per registered node type. A type registered in NODE_RESOLVERS
# without an entry here fails test_every_registered_node_type_is_in_the_matrix.
ORACLES: dict[str, Oracle] = {
    "Member": lambda v, row, fx: can_see_member(v, fx.members[row.id]),
    "OrgUnit": lambda v, row, fx: scope.can_see_unit(v, fx.units[row.id]),
    "Corp": lambda v, row, fx: can_see_corp(v, row.id, fx.corp_places[row.id]),
    "ChainSpace": lambda v, row, fx: chain_rules.can_see_chain(v, row.id),
    "ChainGroup": lambda v, row, fx: chain_rules.can_see_group(v, fx.groups[row.id]),
    "ChainCorp": lambda v, row, fx: chain_rules.can_see_chain_corp(v, fx.chain_corps[row.id]),
    "ChainContact": lambda v, row, fx: chain_rules.can_see_contact(v, fx.contacts[row.id]),
    "ImportJob": lambda v, row, fx: can_see_import_job(v, fx.jobs[row.id]),
    "AppToken": lambda v, row, fx: can_manage_app_tokens(v, row.corp_id),
    "WebhookSubscription": lambda v, row, fx: can_manage_app_tokens(v, row.corp_id),
    "AuditEvent": lambda v, row, fx: row.corp_id is not None and can_read_audit(v, row.corp_id),
    "Invitation": lambda v, row, fx: chain_rules.can_see_invitation(v, chain_rules.InvitationFacts(
        row.id, row.chain_id, fx.groups[row.group_id].path if row.group_id else None, row.created_by_id)),
    "JoinRequest": lambda v, row, fx: chain_rules.can_see_join_request(v, row.corp_id),
}


@dataclass
class Expected:
    visible: dict[str, set[int]]

    def sees(self, type_name: str, pk: int | None) -> bool:
        return pk is not None and pk in self.visible[type_name]

    def gids(self, type_name: str, pks: Iterable[int]) -> set[str]:
        return {f.gid(type_name, pk) for pk in pks if self.sees(type_name, pk)}


def expected_for(viewer: Viewer, w: World, fx: Facts) -> Expected:
    return Expected({
        type_name: {pk for pk, row in w.objects[type_name].items() if ORACLES[type_name](viewer, row, fx)}
        for type_name in ORACLES
    })


# --- talking to the API ----------------------------------------------------------------


class Api:
    def __init__(self, client: httpx.AsyncClient, token: str | None) -> None:
        self.client = client
        self.token = token
        self.seen_ids: set[str] = set()

    async def ask(self, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        response = await self.client.post(
            "/graphql", json={"query": query, "variables": variables or {}}, headers=bearer(self.token)
        )
        body = response.json()
        assert response.status_code == 200 and not body.get("errors"), (query, body)
        self._collect(body["data"])
        return body["data"]

    def _collect(self, value: Any) -> None:
        if isinstance(value, dict):
            for key, item in value.items():
                if key == "id" and isinstance(item, str):
                    self.seen_ids.add(item)
                else:
                    self._collect(item)
        elif isinstance(value, list):
            for item in value:
                self._collect(item)


def ids(items: Iterable[dict[str, Any] | None]) -> set[str]:
    return {i["id"] for i in items if i is not None}


def edge_ids(connection: dict[str, Any]) -> set[str]:
    return {e["node"]["id"] for e in connection["edges"]}


def chunks(items: list[Any], size: int) -> Iterable[list[Any]]:
    for i in range(0, len(items), size):
        yield items[i:i + size]


def pk_of(gid: str) -> tuple[str, int]:
    parsed = relay.GlobalID.from_id(gid)
    return parsed.type_name, int(parsed.node_id)


# --- the paths -------------------------------------------------------------------------

NODE_SELECTION = """
  id __typename
  ... on Member { corp { id } departments { unit { id } } }
  ... on OrgUnit { parent { id } }
  ... on ChainSpace { owner { id } }
  ... on ChainGroup { parent { id } }
  ... on ChainCorp { corp { id } group { id } firstLeader { id } }
  ... on ChainContact { member { id } chainCorp { id } }
  ... on Invitation { group { id } createdBy { id } }
  ... on JoinRequest { contact { id } }
"""


async def path_node(api: Api, w: World, exp: Expected, fx: Facts) -> None:
    """node(id:) for every object of every type: the object iff visible, nested references
    only where their targets are visible."""
    everything = [(t, pk) for t in ORACLES for pk in w.objects[t]]
    for batch in chunks(everything, 25):
        fields = " ".join(f'n{i}: node(id: "{f.gid(t, pk)}") {{ ...N }}' for i, (t, pk) in enumerate(batch))
        data = await api.ask(f"{{ {fields} }} fragment N on Node {{ {NODE_SELECTION} }}")
        for i, (t, pk) in enumerate(batch):
            got = data[f"n{i}"]
            assert (got is not None) == exp.sees(t, pk), ("node", t, pk, got)
            if got is not None:
                assert got["id"] == f.gid(t, pk) and got["__typename"] == t
                check_references(t, w.objects[t][pk], got, exp)


async def check_placements(member_id: int, got: dict[str, Any], exp: Expected) -> None:
    unit_ids = await Placement.filter(member_id=member_id).values_list("unit_id", flat=True)
    assert {d["unit"]["id"] for d in got["departments"]} == exp.gids("OrgUnit", unit_ids), ("departments", member_id)


def check_references(type_name: str, row: Any, got: dict[str, Any], exp: Expected) -> None:
    def one(key: str, target: str, pk: int | None) -> None:
        value = got[key]
        assert (value is not None) == exp.sees(target, pk), (type_name, row.id, key, value)
        if value is not None:
            assert value["id"] == f.gid(target, pk)  # type: ignore[arg-type]

    if type_name == "Member":
        one("corp", "Corp", row.corp_id)
    elif type_name == "OrgUnit":
        one("parent", "OrgUnit", row.parent_id)
    elif type_name == "ChainSpace":
        one("owner", "Corp", row.owner_corp_id)
    elif type_name == "ChainGroup":
        one("parent", "ChainGroup", row.parent_id)
    elif type_name == "ChainCorp":
        one("corp", "Corp", row.corp_id)
        one("group", "ChainGroup", row.group_id)
    elif type_name == "ChainContact":
        one("member", "Member", row.member_id)
        one("chainCorp", "ChainCorp", row.chain_corp_id)


CORP_PATHS = """
  id
  all: members(first: 50, status: %s) { totalCount edges { node { id corp { id } departments { unit { id } } } } }
  listed: members(first: 50) { totalCount edges { node { id } } }
  search: searchMembers(query: "%s", first: 50) { totalCount edges { node { id } } }
  rootUnit { id }
  chainSpaces { id owner { id } }
  appTokens { id }
  auditEvents(first: 50) { totalCount edges { node { id } } }
""" % (ALL_STATUSES, SEARCH_TEXT)


async def path_corp(api: Api, w: World, exp: Expected, fx: Facts) -> None:
    """Lists, search and counts through a corp, and the chains it takes part in."""
    members_of: dict[int, list[Member]] = defaultdict(list)
    for m in w.objects["Member"].values():
        members_of[m.corp_id].append(m)
    corps = list(w.objects["Corp"].values())
    for batch in chunks(corps, 3):
        fields = " ".join(f'c{i}: corp(id: "{f.gid("Corp", c.id)}") {{ ...C }}' for i, c in enumerate(batch))
        data = await api.ask(f"{{ {fields} }} fragment C on Corp {{ {CORP_PATHS} }}")
        for i, c in enumerate(batch):
            got = data[f"c{i}"]
            assert (got is not None) == exp.sees("Corp", c.id), ("corp", c.id, got)
            if got is None:
                continue
            everyone = [m.id for m in members_of[c.id]]
            listed = [m.id for m in members_of[c.id] if m.status is not MemberStatus.RESIGNED]
            for key, pks in (("all", everyone), ("listed", listed), ("search", listed)):
                assert edge_ids(got[key]) == exp.gids("Member", pks), (key, c.id)
                assert got[key]["totalCount"] == len(exp.gids("Member", pks)), (key, c.id, "totalCount")
            for edge in got["all"]["edges"]:
                node = edge["node"]
                assert node["corp"] == {"id": f.gid("Corp", c.id)}
                await check_placements(pk_of(node["id"])[1], node, exp)
            root = next(u for u in w.objects["OrgUnit"].values() if u.corp_id == c.id and u.parent_id is None)
            assert (got["rootUnit"] is not None) == exp.sees("OrgUnit", root.id), ("rootUnit", c.id)
            joined = {p.chain_id for p in w.objects["ChainCorp"].values()
                      if p.corp_id == c.id and p.status is ChainCorpStatus.JOINED}
            chains = [s.id for s in w.objects["ChainSpace"].values() if s.owner_corp_id == c.id or s.id in joined]
            assert ids(got["chainSpaces"]) == exp.gids("ChainSpace", chains), ("chainSpaces", c.id)
            tokens = [t.id for t in w.objects["AppToken"].values() if t.corp_id == c.id]
            assert ids(got["appTokens"]) == exp.gids("AppToken", tokens), ("appTokens", c.id)
            events = [e.id for e in w.objects["AuditEvent"].values() if e.corp_id == c.id]
            assert edge_ids(got["auditEvents"]) == exp.gids("AuditEvent", events), ("auditEvents", c.id)
            assert got["auditEvents"]["totalCount"] == len(exp.gids("AuditEvent", events))


UNIT_PATHS = """
  id parent { id } children { id } memberCount leaders { id }
  direct: members(first: 50) { totalCount edges { node { id } } }
  subtree: members(first: 50, includeDescendants: true) { totalCount edges { node { id } } }
"""


async def path_unit(api: Api, w: World, exp: Expected, fx: Facts) -> None:
    """The department tree: children, members (direct and subtree), head-counts, leaders."""
    units = list(w.objects["OrgUnit"].values())
    seats = await Placement.filter(unit_id__in=[u.id for u in units]).values("member_id", "unit_id", "is_leader")
    for batch in chunks(units, 15):
        fields = " ".join(f'u{i}: node(id: "{f.gid("OrgUnit", u.id)}") {{ ...U }}' for i, u in enumerate(batch))
        data = await api.ask(f"{{ {fields} }} fragment U on OrgUnit {{ {UNIT_PATHS} }}")
        for i, u in enumerate(batch):
            got = data[f"u{i}"]
            assert (got is not None) == exp.sees("OrgUnit", u.id), ("unit", u.id)
            if got is None:
                continue
            subtree_units = {x.id for x in units if x.path.startswith(u.path)}

            def listed(pks: Iterable[int]) -> list[int]:
                return [p for p in pks if w.objects["Member"][p].status is not MemberStatus.RESIGNED]

            direct = listed({s["member_id"] for s in seats if s["unit_id"] == u.id})
            below = listed({s["member_id"] for s in seats if s["unit_id"] in subtree_units})
            leaders = listed({s["member_id"] for s in seats if s["unit_id"] == u.id and s["is_leader"]})
            children = [x.id for x in units if x.parent_id == u.id]
            assert ids(got["children"]) == exp.gids("OrgUnit", children), ("children", u.id)
            assert edge_ids(got["direct"]) == exp.gids("Member", direct), ("members", u.id)
            assert edge_ids(got["subtree"]) == exp.gids("Member", below), ("members below", u.id)
            assert got["direct"]["totalCount"] == len(exp.gids("Member", direct))
            assert got["memberCount"] == got["subtree"]["totalCount"] == len(exp.gids("Member", below)), u.id
            assert ids(got["leaders"]) == exp.gids("Member", leaders), ("leaders", u.id)
            assert (got["parent"] is not None) == exp.sees("OrgUnit", u.parent_id)


CHAIN_PATHS = """
  id owner { id } groups { id parent { id } } connectors { id }
  corps(first: 50) { totalCount edges { node { id corp { id } group { id }
    contacts { id member { id } chainCorp { id } } } } }
  removed: corps(first: 50, status: REMOVED) { totalCount edges { node { id } } }
  contacts(first: 50) { totalCount edges { node { id member { id } chainCorp { id } } } }
  invitations(first: 50) { totalCount edges { node { id } } }
"""


async def path_chain(api: Api, w: World, exp: Expected, fx: Facts, viewer: Viewer) -> None:
    """Through a chain space: groups, corps, contacts (twice), connectors, owner."""
    for s in w.objects["ChainSpace"].values():
        data = await api.ask(f'{{ chainSpace(id: "{f.gid("ChainSpace", s.id)}") {{ {CHAIN_PATHS} }} }}')
        got = data["chainSpace"]
        assert (got is not None) == exp.sees("ChainSpace", s.id), ("chainSpace", s.id)
        if got is None:
            continue
        groups = [g.id for g in w.objects["ChainGroup"].values() if g.chain_id == s.id]
        places = [c for c in w.objects["ChainCorp"].values() if c.chain_id == s.id]
        contacts = [c for c in w.objects["ChainContact"].values() if c.chain_id == s.id]
        assert ids(got["groups"]) == exp.gids("ChainGroup", groups), ("groups", s.id)
        present = [c.id for c in places if c.status is not ChainCorpStatus.REMOVED]
        removed = [c.id for c in places if c.status is ChainCorpStatus.REMOVED]
        assert edge_ids(got["corps"]) == exp.gids("ChainCorp", present), ("corps", s.id)
        assert got["corps"]["totalCount"] == len(exp.gids("ChainCorp", present))
        assert edge_ids(got["removed"]) == exp.gids("ChainCorp", removed), ("removed corps", s.id)
        invitations = [i.id for i in w.objects["Invitation"].values() if i.chain_id == s.id]
        assert edge_ids(got["invitations"]) == exp.gids("Invitation", invitations), ("invitations", s.id)
        assert got["invitations"]["totalCount"] == len(exp.gids("Invitation", invitations))
        assert edge_ids(got["contacts"]) == exp.gids("ChainContact", [c.id for c in contacts]), ("contacts", s.id)
        assert got["contacts"]["totalCount"] == len(exp.gids("ChainContact", [c.id for c in contacts]))
        for edge in got["corps"]["edges"]:
            place = w.objects["ChainCorp"][pk_of(edge["node"]["id"])[1]]
            check_references("ChainCorp", place, edge["node"], exp)
            mine = [c.id for c in contacts if c.chain_corp_id == place.id]
            assert ids(edge["node"]["contacts"]) == exp.gids("ChainContact", mine), ("corp contacts", place.id)
            for contact in edge["node"]["contacts"]:
                check_references("ChainContact", w.objects["ChainContact"][pk_of(contact["id"])[1]], contact, exp)
        for edge in got["contacts"]["edges"]:
            check_references("ChainContact", w.objects["ChainContact"][pk_of(edge["node"]["id"])[1]], edge["node"], exp)
        access = viewer.chain(s.id)
        connectors = [
            m.id for m in w.objects["Member"].values()
            if access is not None and chain_rules.is_connector(access, fx.members[m.id])
        ]
        assert ids(got["connectors"]) == exp.gids("Member", connectors), ("connectors", s.id)
        assert ids(got["connectors"]) <= exp.gids("Member", w.objects["Member"]), "a connector the viewer cannot see"


async def path_status_lookups(api: Api, w: World, exp: Expected, fx: Facts, viewer: Viewer) -> None:
    """The partner-app lookups by custom corp id and by mobile."""
    lookups = []
    for place in w.objects["ChainCorp"].values():
        lookups.append(("corp", place, f'chainCorpByCustomId(chainId: "{f.gid("ChainSpace", place.chain_id)}", '
                                        f'customCorpId: {json.dumps(place.custom_corp_id)}) {{ id }}'))
    for contact in w.objects["ChainContact"].values():
        lookups.append(("mobile", contact, f'chainMemberByMobile(chainId: "{f.gid("ChainSpace", contact.chain_id)}", '
                                           f'mobile: {json.dumps(contact.mobile)}) {{ id }}'))
    for batch in chunks(lookups, 25):
        data = await api.ask("{ " + " ".join(f"l{i}: {q}" for i, (_, _, q) in enumerate(batch)) + " }")
        for i, (kind, row, _) in enumerate(batch):
            chain = w.objects["ChainSpace"][row.chain_id]
            allowed = chain_rules.can_query_status(viewer, chain.id, chain.owner_corp_id)
            if kind == "corp":
                expected = f.gid("ChainCorp", row.id) if allowed else None
            else:
                expected = f.gid("ChainContact", row.id) if allowed and row.status is ContactStatus.JOINED else None
            got = data[f"l{i}"]
            assert (got["id"] if got else None) == expected, (kind, row.id, got)


async def path_own_and_foreign_in_one_request(api: Api, w: World, exp: Expected, fx: Facts) -> None:
    """One request, two aliases: an object the viewer sees and one it does not, per type.
    Per-request loaders must not let the first open the door to the second."""
    for type_name in ORACLES:
        pks = list(w.objects[type_name])
        own = next((pk for pk in pks if exp.sees(type_name, pk)), None)
        foreign = next((pk for pk in pks if not exp.sees(type_name, pk)), None)
        if own is None or foreign is None:
            continue
        data = await api.ask(
            "query($own: ID!, $foreign: ID!) { own: node(id: $own) { id } foreign: node(id: $foreign) { id } }",
            {"own": f.gid(type_name, own), "foreign": f.gid(type_name, foreign)},
        )
        assert data == {"own": {"id": f.gid(type_name, own)}, "foreign": None}, type_name


async def path_entry_points(api: Api, w: World, exp: Expected, fx: Facts, viewer: Viewer) -> None:
    """viewer { member corp }, joinRequests and importJob(id:)."""
    data = await api.ask("{ viewer { member { id } corp { id } } }")
    assert (data["viewer"]["member"] is not None) == exp.sees("Member", viewer.member_id)
    assert (data["viewer"]["corp"] is not None) == exp.sees("Corp", viewer.corp_id)
    data = await api.ask("{ joinRequests(status: null, first: 50) { totalCount edges { node { id contact { id } } } } }")
    requests = exp.gids("JoinRequest", w.objects["JoinRequest"])
    assert edge_ids(data["joinRequests"]) == requests and data["joinRequests"]["totalCount"] == len(requests)
    jobs = list(w.objects["ImportJob"])
    data = await api.ask("{ " + " ".join(
        f'j{i}: importJob(id: "{f.gid("ImportJob", pk)}") {{ id }}' for i, pk in enumerate(jobs)) + " }")
    for i, pk in enumerate(jobs):
        assert (data[f"j{i}"] is not None) == exp.sees("ImportJob", pk), ("importJob", pk)


# --- the matrix --------------------------------------------------------------------------


@pytest.fixture(scope="module")
async def world(database: str) -> World:
    return await build_world()


VIEWER_KINDS = [
    "anonymous", "person", "person with a member's mobile", "plain member", "dept-scoped member",
    "subdepartment member", "directory admin", "super admin", "super admin of another corp", "supplier member",
    "supplier super admin", "dealer member", "partner app with every scope", "partner app without scopes",
    "partner app bound to the chain", "supplier's partner app",
]


def test_every_registered_node_type_is_in_the_matrix():
    missing = sorted(set(NODE_RESOLVERS) - set(ORACLES))
    assert not missing, (
        f"{missing} are registered in NODE_RESOLVERS but not in the leak matrix: add an oracle (its can_see_* "
        "evaluator) to ORACLES and instances to build_world in tests/permissions/test_leak_matrix.py"
    )


@pytest.mark.parametrize("kind", VIEWER_KINDS)
async def test_the_api_shows_exactly_what_the_policy_allows(world: World, kind: str):
    from web.app import create_app

    token = world.tokens[kind]
    viewer = await authenticate(f"Bearer {token}" if token else None)
    facts = await load_facts(world)
    exp = expected_for(viewer, world, facts)
    app = create_app(manage_db=False, budgets=UNLIMITED)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as client:
        api = Api(client, token)
        await path_node(api, world, exp, facts)
        await path_corp(api, world, exp, facts)
        await path_unit(api, world, exp, facts)
        await path_chain(api, world, exp, facts, viewer)
        await path_status_lookups(api, world, exp, facts, viewer)
        await path_own_and_foreign_in_one_request(api, world, exp, facts)
        await path_entry_points(api, world, exp, facts, viewer)

    # Whatever path it came by, no id outside the viewer's visible set ever appeared.
    leaked = []
    for gid in api.seen_ids:
        type_name, pk = pk_of(gid)
        if type_name in ORACLES and not exp.sees(type_name, pk):
            leaked.append(gid)
    assert not leaked, f"{kind} was shown {sorted(base64.b64decode(g).decode() for g in leaked)}"


async def test_the_matrix_is_not_vacuous(world: World):
    """Each type is visible to some viewers and hidden from others, so every cell above can fail."""
    facts = await load_facts(world)
    for type_name in ORACLES:
        seen_by = set()
        for kind in VIEWER_KINDS:
            token = world.tokens[kind]
            viewer = await authenticate(f"Bearer {token}" if token else None)
            if expected_for(viewer, world, facts).visible[type_name]:
                seen_by.add(kind)
        assert seen_by and seen_by != set(VIEWER_KINDS), (type_name, seen_by)
