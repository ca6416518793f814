"""Directory types: Corp, OrgUnit, Member. Every list starts from a policy-filtered query."""

from __future__ import annotations

import functools
from collections.abc import Callable, Hashable, Sequence
from datetime import date
from typing import TYPE_CHECKING, Annotated, Any

import strawberry
from graphql import FieldNode, FragmentSpreadNode
from strawberry import relay
from tortoise.expressions import Q, Subquery
from tortoise.functions import Count

from gql.audit.queries import corp_audit_events
from gql.context import Info
from gql.directory import search
from gql.enums import Gender, MemberStatus, Month, Scope
from gql.execution import prefetched
from gql.feed import queries as feed_queries
from gql.relay import Connection, Deferred, Total, paginate
from gql.shown_to import ShownOnlyTo
from models import ChainCorp, ChainSpace, Corp, Member, OrgUnit, Placement
from models.enums import PROFILE_FIELDS, ChainCorpStatus
from models.enums import MemberStatus as MemberStatusValue
from models.settings import public_link
from permissions import actions, scope
from permissions.actions import can_manage_app_tokens
from permissions.counts import member_count_parts
from permissions.facts import MemberFacts
from permissions.fields import can_read_field_settings, visible_fields
from permissions.restricted import restricted
from permissions.sql import ids_written_in, members_placed_under, path_ranges_enabled, path_under

if TYPE_CHECKING:
    from gql.apps.types import AppTokenNode
    from gql.chain.types import ChainSpaceNode

MEMBER_ORDER = ("pinyin_full", "id")
# How a profile field the policy withholds reads (SPEC §2.2); said on each such field.
_WITHHELD = (
    " Null when the viewer may not read it: it is then named in hiddenFields (the viewer is the member, "
    "administers it, or sees it and the corp shows the field to members; apps need fields:sensitive for "
    "mobile, email, telephone, address and birthday; SPEC §2.2)."
)


# The columns a Member node reads: pages fetch only these, as plain rows.
MEMBER_COLUMNS = (
    "id", "corp_id", "account", "name", "status", "hidden_from_directory", "alias", "mobile", "email",
    "wechat_id", "telephone", "gender", "position", "address", "birthday", "hire_date",
)
# Profile field (API name) -> column, in PROFILE_FIELDS order.
_PROFILE_COLUMNS = {
    "alias": "alias", "mobile": "mobile", "email": "email", "wechatId": "wechat_id", "telephone": "telephone",
    "gender": "gender", "position": "position", "address": "address", "birthday": "birthday", "hireDate": "hire_date",
}
assert tuple(_PROFILE_COLUMNS) == PROFILE_FIELDS


def _reader(row: Any) -> Callable[[str], Any]:
    """Column access for a dict row (a page fetched with MEMBER_COLUMNS) or a Member instance."""
    return row.__getitem__ if isinstance(row, dict) else functools.partial(getattr, row)


def selects(info: Info, name: str) -> bool:
    """Whether the field being resolved selects the field `name` anywhere below it (fragments
    included). Read from the document's syntax tree: Strawberry's `selected_fields` would
    convert every selection and its arguments first, on each call."""
    raw = info._raw_info
    fragments = raw.fragments
    stack: list[Any] = list(raw.field_nodes)
    seen: set[str] = set()
    while stack:
        node = stack.pop()
        if isinstance(node, FragmentSpreadNode):
            if node.name.value not in seen and node.name.value in fragments:
                seen.add(node.name.value)
                stack.extend(fragments[node.name.value].selection_set.selections)
            continue
        if isinstance(node, FieldNode) and node.name.value == name:
            return True
        if node.selection_set is not None:
            stack.extend(node.selection_set.selections)
    return False


async def member_nodes(info: Info, rows: Sequence[Any]) -> list[MemberNode]:
    """Wrap policy-filtered rows (Member instances or MEMBER_COLUMNS dicts). The field policy
    is decided here once per row, in batch, and every field becomes a plain attribute:
    no resolver runs per field. Departments are batch-loaded here when the query asks."""
    if not rows:
        return []
    loaders = info.context.directory
    loaders.prime_members([r for r in rows if isinstance(r, Member)])
    readers = [_reader(r) for r in rows]
    viewer = info.context.viewer
    with_departments = selects(info, "departments")
    # Seats serve the departments and, for a directory admin, the field policy; else no query.
    if with_departments or scope.needs_member_units(viewer):
        seats = await loaders.seats_of([get("id") for get in readers])
    else:
        seats = [[] for _ in readers]
    corp_ids = [get("corp_id") for get in readers]
    settings = await loaders.settings_of(corp_ids)
    units: dict[int, Any] = {}
    if with_departments:
        wanted = sorted({seat.unit_id for member_seats in seats for seat in member_seats})
        units = {i: u for i, u in zip(wanted, await loaders.visible_units(wanted), strict=True) if u is not None}
    # One OrgUnit node per unit and one hiddenFields list per field set, shared by the rows
    # (read only: the executor writes its own lists).
    unit_nodes = {i: OrgUnitNode(pk=i, _u=u) for i, u in units.items()}
    hidden_of: dict[frozenset[str], list[str]] = {}
    nodes = []
    for get, member_seats, corp_settings in zip(readers, seats, settings, strict=True):
        facts = MemberFacts(
            id=get("id"), corp_id=get("corp_id"), status=get("status"), hidden=get("hidden_from_directory"),
            unit_paths=tuple(sorted(seat.path for seat in member_seats)),
        )
        shown = visible_fields(viewer, facts, corp_settings)
        profile = {f: get(column) if f in shown else None for f, column in _PROFILE_COLUMNS.items()}
        hidden = hidden_of.get(shown)
        if hidden is None:
            hidden = hidden_of[shown] = [f for f in PROFILE_FIELDS if f not in shown]
        departments = None
        if with_departments:
            departments = [
                MemberDepartment(unit=unit_nodes[s.unit_id], is_main=s.is_main, is_leader=s.is_leader)
                for s in member_seats if s.unit_id in unit_nodes
            ]
        nodes.append(MemberNode(
            pk=facts.id, account=get("account"), name=get("name"), status=facts.status,
            alias=profile["alias"], mobile=profile["mobile"], email=profile["email"], wechat_id=profile["wechatId"],
            telephone=profile["telephone"], gender=profile["gender"], position=profile["position"],
            address=profile["address"], birthday=profile["birthday"], hire_date=profile["hireDate"],
            hidden_fields=hidden, _corp_id=facts.corp_id, _shown=shown, _departments=departments,
        ))
    return nodes


async def member_node(info: Info, member_id: int) -> MemberNode | None:
    m = await info.context.directory.visible_member.load(member_id)
    return (await member_nodes(info, [m]))[0] if m is not None else None


def _status_q(status: list[MemberStatusValue] | None) -> Q:
    """A list's status filter: the statuses asked for, else every status but RESIGNED."""
    if status:
        return Q(status__in=[s.value for s in status])
    return ~Q(status=MemberStatusValue.RESIGNED.value)


async def members_query(  # type: ignore[no-untyped-def]
    info: Info,
    corp_id: int,
    status: list[MemberStatusValue] | None = None,
    *,
    ids_given: bool = False,
    within: tuple[str, ...] | None = None,
):
    """Visible members of one corp; resigned ones only when asked for by status (admins may
    list them). `ids_given`, `within`: how the caller narrows it (see visible_members_in_corp_q).
    The units of the subtrees the policy names are read first (once per request), so the
    seat tests list them."""
    viewer = info.context.viewer
    units = await info.context.directory.scope_units(corp_id, within)
    query = restricted(Member, viewer, corp_id=corp_id, ids_given=ids_given, within=within, units=units)
    return query.filter(_status_q(status))


async def members_listed(
    info: Info,
    corp_id: int,
    status: list[MemberStatusValue] | None = None,
    *,
    unit: Any = None,
    include_descendants: bool = True,
) -> tuple[Any, Total]:
    """members_query for a directory list (a corp's members; with `unit`, a unit's or its
    subtree's), and its totalCount from head-counts (permissions.counts)."""
    viewer = info.context.viewer
    within = (unit.path,) if unit is not None else None
    query = await members_query(info, corp_id, status, within=within)
    units = await info.context.directory.scope_units(corp_id, within)
    within_units = None
    if unit is not None and include_descendants:
        query = query.filter(id__in=members_placed_under(within or (), corp_id, units))
        within_units = path_under(unit.path)
    elif unit is not None:
        query = query.filter(id__in=Subquery(Placement.filter(unit_id=unit.id).values("member_id")))
        within_units = Q(id=unit.id)
    parts = member_count_parts(
        viewer, corp_id, query, _status_q(status), within_units=within_units, within=within, units=units
    )
    return query, Total(parts, Corp.filter(id=corp_id))


# Page statements a kept Viewer keeps at most (one per list, page size and cursor kind it
# reads); past it they are dropped and rendered again.
MAX_KEPT_STATEMENTS = 64


def kept_statements(info: Info) -> dict[Any, Any] | None:
    """Where the viewer's page statements are kept (models.statements): with the kept Viewer,
    which is dropped after any write that changes what it sees, so a kept text never outlives
    the policy it was rendered from. None for a Viewer that is not kept."""
    kept = info.context.viewer.kept
    if kept is None:
        return None
    store: dict[Any, Any] = kept.setdefault("statements", {})
    if len(store) >= MAX_KEPT_STATEMENTS:
        store.clear()
    return store


async def member_page(
    info: Info, query: Any, first: int | None, after: str | None, total: Total | None = None,
    shape_key: Hashable | None = None,
) -> Connection[MemberNode]:
    """A page of members as plain rows: no Member model is built per row. `total`: how
    totalCount is counted (default: COUNT of `query`), carried by the page query when the
    client selects it. `shape_key`: names the list (everything `query` and `total` depend on
    besides the Viewer), so that its page statement is rendered once per kept Viewer.
    `query` may be a Deferred of (query, total): built only when the kept statement is not enough."""

    def ordered(q: Any, t: Total | None) -> tuple[Any, Total]:
        return q.order_by(*MEMBER_ORDER), t if t is not None else Total([q.annotate(n=Count("id")).values("n")])

    if isinstance(query, Deferred):
        made = query

        async def make() -> tuple[Any, Total | None]:
            return ordered(*await made.get())

        listed: Any = Deferred(make)
    else:
        listed, total = ordered(query, total)
    key = None if shape_key is None else (shape_key, path_ranges_enabled())
    return await paginate(
        listed, first, after, lambda rows: member_nodes(info, rows), columns=MEMBER_COLUMNS,
        total=total, fold_total=selects(info, "totalCount"), shape_key=key,
        shapes=kept_statements(info) if key is not None else None,
    )


@strawberry.type(description="A member's seat in one org unit (部门).")
class MemberDepartment:
    unit: OrgUnitNode = strawberry.field(description="The unit.")
    is_main: bool = strawberry.field(description="True for the member's main unit (主部门; exactly one per member).")
    is_leader: bool = strawberry.field(description="True when the member leads this unit (部门负责人).")


@strawberry.type(name="Member", description=(
    "A person's identity inside one corp (成员, SPEC §1). Seen per the directory and chain rules (SPEC §2.1, "
    "§2.3); profile fields the viewer may not read are null and named in hiddenFields (SPEC §2.2)."))
class MemberNode(relay.Node):
    # Plain attributes, already cut by the field policy (None = withheld, named in hiddenFields).
    pk: relay.NodeID[int]
    account: str = strawberry.field(description=(
        "账号 (userid): unique in the corp ignoring case, [A-Za-z0-9_.@-]{1,64}, immutable; always visible."))
    name: str = strawberry.field(description="Full name (姓名); always visible to whoever sees the member.")
    status: MemberStatus = strawberry.field(description="ACTIVE, DISABLED, PENDING or RESIGNED; always visible.")
    alias: str | None = strawberry.field(description="Nickname (别名/昵称)." + _WITHHELD)
    mobile: str | None = strawberry.field(description="Mobile in E.164, e.g. +8613800000000." + _WITHHELD)
    email: str | None = strawberry.field(description="Email address." + _WITHHELD)
    wechat_id: str | None = strawberry.field(description="WeChat id (微信号), never all digits." + _WITHHELD)
    telephone: str | None = strawberry.field(description="Landline (座机) as written, e.g. 021-12345678." + _WITHHELD)
    gender: Gender | None = strawberry.field(description="Gender." + _WITHHELD)
    position: str | None = strawberry.field(description="Job title (职位)." + _WITHHELD)
    address: str | None = strawberry.field(description="Postal or office address." + _WITHHELD)
    birthday: date | None = strawberry.field(description="Birthday, ISO date (YYYY-MM-DD)." + _WITHHELD)
    hire_date: date | None = strawberry.field(description="Date of joining the corp (入职日期), ISO date." + _WITHHELD)
    hidden_fields: list[str] = strawberry.field(
        description="Profile fields withheld from this viewer, by API name (e.g. `mobile`, `hireDate`): null above "
        "means hidden, not empty (SPEC §2.2)."
    )
    _corp_id: strawberry.Private[int]
    _shown: strawberry.Private[frozenset[str]]
    _departments: strawberry.Private[list[MemberDepartment] | None]

    @strawberry.field(
        graphql_type=list[MemberDepartment],
        description="The member's units that this viewer may see, the main one first.",
    )
    @prefetched("_departments")
    async def departments(self, info: Info) -> list[MemberDepartment]:
        # Batch-loaded with the page when the query selects them (read without calling this).
        loaders = info.context.directory
        seats = await loaders.seats.load(self.pk)
        units = await loaders.visible_units([s.unit_id for s in seats])
        return [
            MemberDepartment(unit=OrgUnitNode(pk=u.id, _u=u), is_main=s.is_main, is_leader=s.is_leader)
            for s, u in zip(seats, units, strict=True)
            if u is not None
        ]

    @strawberry.field(description="The member's corp; null when the viewer may not see that corp.")
    async def corp(self, info: Info) -> CorpNode | None:
        c = await info.context.directory.visible_corp.load(self._corp_id)
        return CorpNode(pk=c.id, _c=c) if c is not None else None


@strawberry.type(name="OrgUnit", description=(
    "A department (部门) of a corp's tree. A viewer sees the units of its visible subtrees and their ancestors "
    "(name and structure only, so the tree can be walked; SPEC §2.1)."))
class OrgUnitNode(relay.Node):
    pk: relay.NodeID[int]
    _u: strawberry.Private[Any]  # an OrgUnit, or a UnitRow from the loaders
    # Plain attributes copied from the unit (no resolver per field).
    name: str = strawberry.field(default="", description=(
        "Name: at most 50 display columns (a CJK character counts 2), unique among its siblings."))
    order: int = strawberry.field(default=0, description="Position among its siblings: smaller first.")
    scope: Scope = strawberry.field(
        default=Scope.INHERIT, description="The scope set on this unit; INHERIT takes the nearest ancestor's."
    )
    depth: int = strawberry.field(default=0, description="Levels below the root: the root is 0 (at most 15 levels).")

    def __post_init__(self) -> None:
        self.name, self.order, self.scope, self.depth = self._u.name, self._u.order, self._u.scope, self._u.depth

    @strawberry.field(description="The parent unit; null for the root.")
    async def parent(self, info: Info) -> OrgUnitNode | None:
        if self._u.parent_id is None:
            return None
        u = await info.context.directory.visible_unit.load(self._u.parent_id)
        return OrgUnitNode(pk=u.id, _u=u) if u is not None else None

    @strawberry.field(description="The child units this viewer sees, in `order`.")
    async def children(self, info: Info) -> list[OrgUnitNode]:
        return [OrgUnitNode(pk=u.id, _u=u) for u in await info.context.directory.children.load(self._u.id)]

    async def _members(self, info: Info, include_descendants: bool) -> tuple[Any, Total]:
        # A unit seats members of its own corp only; the query keeps to its subtree.
        return await members_listed(info, self._u.corp_id, unit=self._u, include_descendants=include_descendants)

    @strawberry.field(description="Members seated in this unit that this viewer sees (resigned ones never), by pinyin.")
    async def members(
        self,
        info: Info,
        first: Annotated[int | None, strawberry.argument(description="Page size, 0-100; default 20.")] = None,
        after: Annotated[str | None, strawberry.argument(description="endCursor of the previous page.")] = None,
        include_descendants: Annotated[bool, strawberry.argument(
            description="Also the members of every unit below this one.")] = False,
    ) -> Connection[MemberNode]:
        # Built only when this viewer's page statement for the list is not kept yet.
        listed = Deferred(lambda: self._members(info, include_descendants))
        key = ("unit members", self._u.corp_id, self._u.id, self._u.path, include_descendants)
        return await member_page(info, listed, first, after, None, key)

    @strawberry.field(description="Head-count of the unit and its subtree, counting only members this viewer sees.")
    async def member_count(self, info: Info) -> int:
        _, total = await self._members(info, True)
        return await total.read()

    @strawberry.field(description="The unit's leaders (部门负责人) that this viewer sees, by pinyin.")
    async def leaders(self, info: Info) -> list[MemberNode]:
        leader_ids = Subquery(Placement.filter(unit_id=self._u.id, is_leader=True).values("member_id"))
        query = (await members_query(info, self._u.corp_id, within=(self._u.path,))).filter(id__in=leader_ids)
        query = query.order_by(*MEMBER_ORDER)
        return await member_nodes(info, await query.values(*MEMBER_COLUMNS))


PROFILE_FIELD_NAME = (
    "Profile field by API name: alias, mobile, email, wechatId, telephone, gender, position, address, birthday or "
    "hireDate."
)


@strawberry.type(description="How a corp treats one profile field (管理后台 显示 / 成员自行修改, SPEC §2.2).")
class FieldSetting:
    field: str = strawberry.field(description=PROFILE_FIELD_NAME)
    visible_to_members: bool = strawberry.field(description="Members who see a colleague also read this field.")
    self_editable: bool = strawberry.field(description="Members may change this field of their own profile.")


@strawberry.type(name="Corp", description=(
    "An organisation with its own directory (企业, SPEC §1). Visible to its members, to corps in the chains it "
    "owns and to corps of a chain that may see it (SPEC §2.3); invisible corps are null, as if absent."))
class CorpNode(relay.Node):
    pk: relay.NodeID[int]
    _c: strawberry.Private[Corp]
    changes = strawberry.field(resolver=feed_queries.corp_changes, description=feed_queries.CHANGES_DESCRIPTION.format(
        what="the corp's members (as Corp.members lists them) and units",
        who="Served to the corp's own members and apps; null for anyone else (a chain partner syncs through "
            "ChainSpace.changes)."))
    sync_token = strawberry.field(resolver=feed_queries.corp_sync_token, description=(
        "A token for Corp.changes, taken before this request's reads: read the full lists in the same request, "
        "then ask for changes after it (a change may come both in the read and as a delta; applying it twice is "
        "harmless). Null when the viewer is not served the corp's feed."))
    audit_events = strawberry.field(
        resolver=corp_audit_events, description="The corp's audit trail, newest first: super admins and audit:read apps."
    )

    @strawberry.field(description="Full name.")
    def name(self) -> str:
        return self._c.name

    @strawberry.field(description="Short name (简称); null when none is set.")
    def short_name(self) -> str | None:
        return self._c.short_name

    @strawberry.field(description="True once the corp's identity has been verified (认证).")
    def verified(self) -> bool:
        return self._c.verified

    @strawberry.field(description=(
        "The corp's members this viewer sees (SPEC §2.1), by pinyin. Resigned members only when `status` asks "
        "for them, and then only for their admins."))
    async def members(
        self,
        info: Info,
        first: Annotated[int | None, strawberry.argument(description="Page size, 0-100; default 20.")] = None,
        after: Annotated[str | None, strawberry.argument(description="endCursor of the previous page.")] = None,
        status: Annotated[list[MemberStatus] | None, strawberry.argument(
            description="Only members in these statuses; default every status but RESIGNED.")] = None,
    ) -> Connection[MemberNode]:
        # Built only when this viewer's page statement for the list is not kept yet.
        listed = Deferred(lambda: members_listed(info, self._c.id, status))
        key = ("corp members", self._c.id, tuple(s.value for s in status or ()))
        return await member_page(info, listed, first, after, None, key)

    @strawberry.field(description=(
        "Members of this corp that this viewer sees, matching `query` (SPEC §3.7), in pinyin order. The term "
        "matches: name (contains); account, full pinyin or pinyin initials (start with; surnames in their "
        "surname reading: 单 shan, 曾 zeng); mobile, written any common way (139 0000 0007, +86..., 0086...), "
        "only when the corp allows search by mobile (Corp.searchByMobile) and the viewer reads that member's "
        "mobile; and the members in the subtree of a unit whose name contains it, among the units this viewer "
        "sees. An empty query matches everyone. Filters narrow further; a filter on a profile field treats a "
        "value withheld from this viewer (hiddenFields) as empty, so it never matches it."
    ))
    async def search_members(
        self,
        info: Info,
        query: Annotated[str, strawberry.argument(description="The search term (at most 64 characters); empty for all.")],
        first: Annotated[int | None, strawberry.argument(description="Page size, 0-100; default 20.")] = None,
        after: Annotated[str | None, strawberry.argument(description="endCursor of the previous page.")] = None,
        surname_initial: Annotated[str | None, strawberry.argument(
            description="First letter of the surname's pinyin (surname readings), e.g. z for 张 and 曾; # for names without one."
        )] = None,
        position: Annotated[str | None, strawberry.argument(
            description="Position contains this text, ignoring case."
        )] = None,
        gender: Annotated[Gender | None, strawberry.argument(
            description="Only members of this gender; a gender withheld from this viewer never matches."
        )] = None,
        status: Annotated[list[MemberStatus] | None, strawberry.argument(
            description=(
                "Only members in these statuses; default every status but RESIGNED. Members of other "
                "statuses than ACTIVE and PENDING are listed to admins over them only, as everywhere."
            )
        )] = None,
        hired_from: Annotated[date | None, strawberry.argument(
            description="Hire date on or after this day (ISO date, inclusive)."
        )] = None,
        hired_to: Annotated[date | None, strawberry.argument(
            description="Hire date on or before this day (ISO date, inclusive); not before hiredFrom."
        )] = None,
        birthday_month: Annotated[Month | None, strawberry.argument(
            description="Birthday in this month, any year and day."
        )] = None,
    ) -> Connection[MemberNode]:
        filters = search.SearchFilters(
            surname_initial=surname_initial, position=position, gender=gender.value if gender else None,
            hired_from=hired_from, hired_to=hired_to, birthday_month=birthday_month.value if birthday_month else None,
        )
        filters.check()
        text = query.strip().lower()
        viewer, corp_id = info.context.viewer, self._c.id
        settings = None
        if search.needs_settings(self._c, text, filters):
            settings = await info.context.directory.settings.load(corp_id)
        statuses = [MemberStatusValue(s.value) for s in status] if status else None
        tests = await search.match_tests(viewer, self._c, text, settings) if text else []
        matched = await search.match_by_ids(tests) if tests else None
        match, ids_given = (matched.members, matched.ids_given) if matched else (None, False)
        filtered = await search.filter_tests(viewer, corp_id, settings, filters, ids_given=ids_given)
        narrowed = [*([match] if match is not None else []), *filtered]
        found = (await members_query(info, corp_id, statuses, ids_given=ids_given)).filter(*narrowed)
        total = None
        if matched is not None and matched.units is not None and not filtered:
            # Only a department matched, with no filter: the members seated in its units, as
            # a unit subtree list counts them, from head-counts (permissions.counts) instead
            # of a policy test per member (4,700 members: 64 ms for a directory admin).
            units = matched.units
            within_units = ids_written_in(OrgUnit, "id", units) if isinstance(units, list) else Q(id__in=units)
            parts = member_count_parts(
                viewer, corp_id, found, _status_q(statuses), within_units=within_units,
                units=await info.context.directory.scope_units(corp_id, None))
            total = Total(parts, Corp.filter(id=corp_id))
        elif match is not None:
            # A broad match (a department's seats, a short term): the page walks the pinyin
            # index, but its count starts from the match's own ids, the corp test written
            # so that SQLite does not scan the corp's members for it instead. COUNT(account),
            # a column no index of the corp's members covers: for COUNT(id) SQLite read the
            # whole (corp_id, status, hidden) covering index (50,000 entries, 17 ms at bench
            # scale) rather than look up a hundred listed ids (0.1 ms).
            counted = found if ids_given else (await members_query(info, corp_id, statuses, ids_given=True)).filter(
                *narrowed)
            total = Total([counted.annotate(n=Count("account")).values("n")])
        return await member_page(info, found, first, after, total)

    @strawberry.field(description=(
        "Whether searchMembers matches mobile numbers in this corp (off by default; set with "
        "setFieldSettings(input: {searchByMobile})). Null for viewers outside the corp."
    ), extensions=[ShownOnlyTo(can_read_field_settings)])
    def search_by_mobile(self) -> bool | None:
        return self._c.search_by_mobile

    @strawberry.field(description="The root of the department tree; null when this viewer sees none of the corp's units.")
    async def root_unit(self, info: Info) -> OrgUnitNode | None:
        u = await restricted(OrgUnit, info.context.viewer).filter(corp_id=self._c.id, parent_id=None).first()
        return OrgUnitNode(pk=u.id, _u=u) if u is not None else None

    @strawberry.field(description="The corp's field settings; empty for viewers outside the corp.",
                      extensions=[ShownOnlyTo(can_read_field_settings)])
    async def field_settings(self, info: Info) -> list[FieldSetting]:
        s = await info.context.directory.settings.load(self._c.id)
        return [
            FieldSetting(field=f, visible_to_members=f in s.visible_to_members, self_editable=f in s.self_editable)
            for f in PROFILE_FIELDS
        ]

    @strawberry.field(description="Chain spaces (上下游) the corp owns or has joined, that this viewer sees.")
    async def chain_spaces(
        self, info: Info
    ) -> list[Annotated[ChainSpaceNode, strawberry.lazy("gql.chain.types")]]:
        from gql.chain.types import ChainSpaceNode

        joined = Subquery(ChainCorp.filter(corp_id=self._c.id, status=ChainCorpStatus.JOINED.value).values("chain_id"))
        rows = await restricted(ChainSpace, info.context.viewer).filter(
            Q(owner_corp_id=self._c.id) | Q(id__in=joined)
        ).order_by("id")
        return [ChainSpaceNode(pk=c.id, _c=c) for c in rows]

    @strawberry.field(
        description="The corp's departments this viewer sees, as a flat list in tree order (a parent before its "
        "children); rebuild the tree from `parent`. Empty for viewers outside the corp."
    )
    async def units(
        self,
        info: Info,
        first: Annotated[int | None, strawberry.argument(description="Page size, 0-100; default 20.")] = None,
        after: Annotated[str | None, strawberry.argument(description="endCursor of the previous page.")] = None,
    ) -> Connection[OrgUnitNode]:
        query = restricted(OrgUnit, info.context.viewer).filter(corp_id=self._c.id).order_by("path", "id")

        async def build(rows: Sequence[OrgUnit]) -> list[OrgUnitNode]:
            return [OrgUnitNode(pk=u.id, _u=u) for u in rows]

        return await paginate(query, first, after, build)

    @strawberry.field(
        description="Where to download the directory as .xlsx (GET, Authorization: Bearer). Null for viewers who "
        "may not export it (super admins, directory admins holding EXPORT and apps with directory:export may).",
        extensions=[ShownOnlyTo(actions.can_export_directory)],
    )
    def export_url(self) -> str | None:
        return public_link(f"/corps/{relay.GlobalID('Corp', str(self._c.id))}/directory.xlsx")

    @strawberry.field(description="Partner-app tokens of this corp; its super admins only, empty for anyone else.",
                      extensions=[ShownOnlyTo(can_manage_app_tokens)])
    async def app_tokens(self, info: Info) -> list[Annotated[AppTokenNode, strawberry.lazy("gql.apps.types")]]:
        from gql.apps.types import corp_app_tokens

        return await corp_app_tokens(info, self._c.id)  # type: ignore[return-value]
