"""Directory types: Corp, OrgUnit, Member. Every list starts from a policy-filtered query."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import TYPE_CHECKING, Annotated

import strawberry
from strawberry import relay
from tortoise.expressions import Q, Subquery

from gql.audit.queries import corp_audit_events
from gql.context import Info
from gql.enums import Gender, MemberStatus, Scope
from gql.relay import Connection, paginate
from models import ChainCorp, ChainSpace, Corp, Member, OrgUnit, Placement
from models.enums import PROFILE_FIELDS, ChainCorpStatus
from models.enums import MemberStatus as MemberStatusValue
from permissions import chain, scope
from permissions.fields import can_read_field_settings, visible_fields
from permissions.members import visible_members_q
from permissions.sql import members_placed_under

if TYPE_CHECKING:
    from gql.chain.types import ChainSpaceNode

MEMBER_ORDER = ("pinyin_full", "id")


async def member_nodes(info: Info, rows: Sequence[Member]) -> list[MemberNode]:
    """Wrap policy-filtered rows; the field policy is decided here once per row, in batch."""
    loaders = info.context.directory
    loaders.prime_members(rows)
    facts = await loaders.member_facts.load_many([m.id for m in rows])
    settings = await loaders.settings.load_many([m.corp_id for m in rows])
    viewer = info.context.viewer
    return [
        MemberNode(pk=m.id, _m=m, _shown=visible_fields(viewer, f, s))
        for m, f, s in zip(rows, facts, settings)
    ]


async def member_node(info: Info, member_id: int) -> MemberNode | None:
    m = await info.context.directory.visible_member.load(member_id)
    return (await member_nodes(info, [m]))[0] if m is not None else None


def members_query(info: Info, status: list[MemberStatusValue] | None = None):  # type: ignore[no-untyped-def]
    """Visible members; resigned ones only when asked for by status (admins may list them)."""
    query = Member.filter(visible_members_q(info.context.viewer))
    if status:
        return query.filter(status__in=[s.value for s in status])
    return query.exclude(status=MemberStatusValue.RESIGNED.value)


@strawberry.type
class MemberDepartment:
    unit: OrgUnitNode
    is_main: bool
    is_leader: bool


@strawberry.type(name="Member")
class MemberNode(relay.Node):
    pk: relay.NodeID[int]
    _m: strawberry.Private[Member]
    _shown: strawberry.Private[frozenset[str]]

    def _field(self, name: str, value: object) -> object:
        return value if name in self._shown else None

    @strawberry.field
    def account(self) -> str:
        return self._m.account

    @strawberry.field
    def name(self) -> str:
        return self._m.name

    @strawberry.field
    def status(self) -> MemberStatus:
        return self._m.status

    @strawberry.field
    def alias(self) -> str | None:
        return self._field("alias", self._m.alias)  # type: ignore[return-value]

    @strawberry.field
    def mobile(self) -> str | None:
        return self._field("mobile", self._m.mobile)  # type: ignore[return-value]

    @strawberry.field
    def email(self) -> str | None:
        return self._field("email", self._m.email)  # type: ignore[return-value]

    @strawberry.field
    def wechat_id(self) -> str | None:
        return self._field("wechatId", self._m.wechat_id)  # type: ignore[return-value]

    @strawberry.field
    def telephone(self) -> str | None:
        return self._field("telephone", self._m.telephone)  # type: ignore[return-value]

    @strawberry.field
    def gender(self) -> Gender | None:
        return self._field("gender", self._m.gender)  # type: ignore[return-value]

    @strawberry.field
    def position(self) -> str | None:
        return self._field("position", self._m.position)  # type: ignore[return-value]

    @strawberry.field
    def address(self) -> str | None:
        return self._field("address", self._m.address)  # type: ignore[return-value]

    @strawberry.field
    def birthday(self) -> date | None:
        return self._field("birthday", self._m.birthday)  # type: ignore[return-value]

    @strawberry.field
    def hire_date(self) -> date | None:
        return self._field("hireDate", self._m.hire_date)  # type: ignore[return-value]

    @strawberry.field(description="Profile fields withheld from this viewer (null above means hidden, not empty).")
    def hidden_fields(self) -> list[str]:
        return [f for f in PROFILE_FIELDS if f not in self._shown]

    @strawberry.field(description="The member's units that this viewer may see, the main one first.")
    async def departments(self, info: Info) -> list[MemberDepartment]:
        loaders = info.context.directory
        seats = await loaders.placements.load(self._m.id)
        units = await loaders.visible_unit.load_many([p.unit_id for p in seats])
        return [
            MemberDepartment(unit=OrgUnitNode(pk=u.id, _u=u), is_main=p.is_main, is_leader=p.is_leader)
            for p, u in zip(seats, units)
            if u is not None
        ]

    @strawberry.field
    async def corp(self, info: Info) -> CorpNode | None:
        c = await info.context.directory.visible_corp.load(self._m.corp_id)
        return CorpNode(pk=c.id, _c=c) if c is not None else None


@strawberry.type(name="OrgUnit")
class OrgUnitNode(relay.Node):
    pk: relay.NodeID[int]
    _u: strawberry.Private[OrgUnit]

    @strawberry.field
    def name(self) -> str:
        return self._u.name

    @strawberry.field
    def order(self) -> int:
        return self._u.order

    @strawberry.field(description="The scope set on this unit; INHERIT takes the nearest ancestor's.")
    def scope(self) -> Scope:
        return self._u.scope

    @strawberry.field
    def depth(self) -> int:
        return self._u.depth

    @strawberry.field
    async def parent(self, info: Info) -> OrgUnitNode | None:
        if self._u.parent_id is None:
            return None
        u = await info.context.directory.visible_unit.load(self._u.parent_id)
        return OrgUnitNode(pk=u.id, _u=u) if u is not None else None

    @strawberry.field
    async def children(self, info: Info) -> list[OrgUnitNode]:
        return [OrgUnitNode(pk=u.id, _u=u) for u in await info.context.directory.children.load(self._u.id)]

    def _members(self, info: Info, include_descendants: bool):  # type: ignore[no-untyped-def]
        if include_descendants:
            return members_query(info).filter(id__in=members_placed_under([self._u.path]))
        return members_query(info).filter(id__in=Subquery(Placement.filter(unit_id=self._u.id).values("member_id")))

    @strawberry.field
    async def members(
        self, info: Info, first: int | None = None, after: str | None = None, include_descendants: bool = False
    ) -> Connection[MemberNode]:
        query = self._members(info, include_descendants).order_by(*MEMBER_ORDER)
        return await paginate(query, first, after, lambda rows: member_nodes(info, rows))

    @strawberry.field(description="Head-count of the unit and its subtree, counting only members this viewer sees.")
    async def member_count(self, info: Info) -> int:
        return await self._members(info, True).count()

    @strawberry.field
    async def leaders(self, info: Info) -> list[MemberNode]:
        leader_ids = Subquery(Placement.filter(unit_id=self._u.id, is_leader=True).values("member_id"))
        rows = await members_query(info).filter(id__in=leader_ids).order_by(*MEMBER_ORDER)
        return await member_nodes(info, rows)


@strawberry.type
class FieldSetting:
    field: str
    visible_to_members: bool
    self_editable: bool


@strawberry.type(name="Corp")
class CorpNode(relay.Node):
    pk: relay.NodeID[int]
    _c: strawberry.Private[Corp]
    audit_events = strawberry.field(
        resolver=corp_audit_events, description="The corp's audit trail, newest first: super admins and audit:read apps."
    )

    @strawberry.field
    def name(self) -> str:
        return self._c.name

    @strawberry.field
    def short_name(self) -> str | None:
        return self._c.short_name

    @strawberry.field
    def verified(self) -> bool:
        return self._c.verified

    @strawberry.field
    async def members(
        self,
        info: Info,
        first: int | None = None,
        after: str | None = None,
        status: list[MemberStatus] | None = None,
    ) -> Connection[MemberNode]:
        query = members_query(info, status).filter(corp_id=self._c.id).order_by(*MEMBER_ORDER)
        return await paginate(query, first, after, lambda rows: member_nodes(info, rows))

    @strawberry.field(description="Name, full pinyin, pinyin initials (surname readings) or account.")
    async def search_members(
        self,
        info: Info,
        query: str,
        first: int | None = None,
        after: str | None = None,
        surname_initial: str | None = None,
        position: str | None = None,
        gender: Gender | None = None,
    ) -> Connection[MemberNode]:
        text = query.strip().lower()
        match = Q(name__icontains=text) | Q(account_key__startswith=text)
        if text.isascii():
            compact = text.replace(" ", "")
            match |= Q(pinyin_full__startswith=compact) | Q(pinyin_initials__startswith=compact)
        found = members_query(info).filter(corp_id=self._c.id).filter(match)
        if surname_initial:
            found = found.filter(surname_initial=surname_initial.lower()[:1])
        if position:
            found = found.filter(position__icontains=position)
        if gender:
            found = found.filter(gender=gender.value)
        return await paginate(found.order_by(*MEMBER_ORDER), first, after, lambda rows: member_nodes(info, rows))

    @strawberry.field
    async def root_unit(self, info: Info) -> OrgUnitNode | None:
        u = await OrgUnit.filter(scope.units_q(info.context.viewer), corp_id=self._c.id, parent_id=None).first()
        return OrgUnitNode(pk=u.id, _u=u) if u is not None else None

    @strawberry.field(description="The corp's field settings; empty for viewers outside the corp.")
    async def field_settings(self, info: Info) -> list[FieldSetting]:
        if not can_read_field_settings(info.context.viewer, self._c.id):
            return []
        s = await info.context.directory.settings.load(self._c.id)
        return [
            FieldSetting(field=f, visible_to_members=f in s.visible_to_members, self_editable=f in s.self_editable)
            for f in PROFILE_FIELDS
        ]

    @strawberry.field
    async def chain_spaces(
        self, info: Info
    ) -> list[Annotated[ChainSpaceNode, strawberry.lazy("gql.chain.types")]]:
        from gql.chain.types import ChainSpaceNode

        joined = Subquery(ChainCorp.filter(corp_id=self._c.id, status=ChainCorpStatus.JOINED.value).values("chain_id"))
        rows = await ChainSpace.filter(
            chain.chains_q(info.context.viewer) & (Q(owner_corp_id=self._c.id) | Q(id__in=joined))
        ).order_by("id")
        return [ChainSpaceNode(pk=c.id, _c=c) for c in rows]

    @strawberry.field(description="Partner-app tokens of this corp; its super admins only, empty for anyone else.")
    async def app_tokens(self, info: Info) -> list[Annotated[AppTokenNode, strawberry.lazy("gql.apps.types")]]:
        from gql.apps.types import corp_app_tokens

        return await corp_app_tokens(info, self._c.id)  # type: ignore[return-value]
