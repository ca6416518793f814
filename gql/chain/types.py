"""Chain types: ChainSpace, ChainGroup, ChainCorp, ChainContact."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Annotated, Any

import strawberry
from strawberry import relay
from tortoise.expressions import Q
from tortoise.functions import Count

from gql.chain.invitation_types import InvitationNode, invitation_node, invitation_nodes
from gql.context import Info
from gql.directory.types import CorpNode, MemberNode, OrgUnitNode, kept_statements, member_node, member_nodes, selects
from gql.enums import ChainCorpStatus, ContactRole, ContactStatus
from gql.feed import queries as feed_queries
from gql.relay import Connection, Deferred, Total, paginate
from gql.shown_to import ShownOnlyTo
from models import ChainContact, ChainCorp, ChainGroup, ChainRule, ChainSpace, Invitation, Member
from models.enums import ChainCorpStatus as ChainCorpStatusValue
from models.enums import ContactRole as ContactRoleValue
from models.enums import ContactStatus as ContactStatusValue
from permissions import chain
from permissions.facts import MemberFacts
from permissions.fields import contact_mobile_by_standing, contact_shows_mobile, visible_fields
from permissions.loading import CONTACT_MEMBER_COLUMNS, linked_member_facts, selector_corps, with_linked_member_facts
from permissions.members import can_see_member_by_some_contacts
from permissions.restricted import restricted
from permissions.sql import path_ranges_enabled

# What a contacts page reads of each contact (ChainContactNode's fields, contact_nodes' tests).
CONTACT_COLUMNS = ("id", "chain_id", "chain_corp_id", "name", "role", "status", "mobile", "member_id")


@dataclass(frozen=True, slots=True)
class ContactRow:
    """A contact as a page reads it (CONTACT_COLUMNS, values converted as Tortoise converts
    them): no ChainContact model is built per row."""

    id: int
    chain_id: int
    chain_corp_id: int
    name: str
    role: ContactRoleValue
    status: ContactStatusValue
    mobile: str
    member_id: int | None

    @classmethod
    def of(cls, row: dict[str, Any]) -> ContactRow:
        return cls(**{name: row[name] for name in CONTACT_COLUMNS})


async def contact_nodes(
    info: Info, rows: Sequence[ChainContact | ContactRow], facts: Mapping[int, MemberFacts] | None = None
) -> list[ChainContactNode]:
    """Nodes of policy-filtered contacts. What the linked members decide (the contact's
    `member`, and its mobile for viewers who get mobiles through the member's field policy)
    comes from `facts` (permissions.loading.linked_member_facts, read with the page) where
    they settle it and `member` is not selected: no statement. Else the members are loaded
    (visible_member, member_nodes) in one batch."""
    viewer = info.context.viewer
    loaders = info.context.directory
    with_member = selects(info, "member")
    by_standing = {i: contact_mobile_by_standing(viewer, i) for i in {c.chain_id for c in rows}}
    wanted = list(dict.fromkeys(
        c.member_id for c in rows if c.member_id is not None and (with_member or by_standing[c.chain_id] is None)
    ))
    # Fields shown of each linked member the viewer sees (absent: not seen).
    shown: dict[int, frozenset[str]] = {}
    settled: set[int] = set()
    known = [i for i in wanted if facts is not None and i in facts] if not with_member else []
    if known:
        assert facts is not None
        settings = await loaders.settings_of([facts[i].corp_id for i in known])
        for i, corp_settings in zip(known, settings, strict=True):
            sees = can_see_member_by_some_contacts(viewer, facts[i])
            if sees is not None:
                settled.add(i)
                if sees:
                    shown[i] = visible_fields(viewer, facts[i], corp_settings)
    loaded = [i for i in wanted if i not in settled]
    nodes: dict[int, MemberNode] = {}
    if loaded:
        members = await loaders.visible_member.load_many(loaded)
        nodes = {n.pk: n for n in await member_nodes(info, [m for m in members if m is not None])}
        shown.update((i, n._shown) for i, n in nodes.items())
    return [
        _contact_node(c, nodes, contact_shows_mobile(viewer, c.chain_id, shown.get(c.member_id) if c.member_id else None))
        for c in rows
    ]


# hiddenFields of a contact, shared by the nodes (read only: the executor writes its own lists).
_MOBILE_SHOWN: list[str] = []
_MOBILE_HIDDEN = ["mobile"]


def _contact_node(c: ChainContact | ContactRow, members: Mapping[int, MemberNode], shows_mobile: bool) -> ChainContactNode:
    joined = c.status is ContactStatusValue.JOINED and c.member_id is not None
    return ChainContactNode(
        pk=c.id,
        name=c.name,
        role=c.role,
        status=c.status,
        mobile=c.mobile if shows_mobile else None,
        hidden_fields=_MOBILE_SHOWN if shows_mobile else _MOBILE_HIDDEN,
        member_id=relay.GlobalID("Member", str(c.member_id)) if joined else None,
        member=members.get(c.member_id) if c.member_id is not None else None,
        _c=c,
    )


@strawberry.type(name="ChainGroup", description=(
    "A group of a chain space's tree (上下游分组, e.g. 经销商 → 华东). Seen by the owner's super admins, the "
    "chain's admins over it, and corps of the chain that may see it (SPEC §2.3)."))
class ChainGroupNode(relay.Node):
    pk: relay.NodeID[int]
    _g: strawberry.Private[ChainGroup]

    @strawberry.field(description="Name, 1-32 characters, unique among its sibling groups.")
    def name(self) -> str:
        return self._g.name

    @strawberry.field(description="Whether corps of this group see each other (default false, SPEC §2.3).")
    def peers_visible(self) -> bool:
        return self._g.peers_visible

    @strawberry.field(description="The parent group; null at the top, or when this viewer may not see it.")
    async def parent(self, info: Info) -> ChainGroupNode | None:
        if self._g.parent_id is None:
            return None
        g = await info.context.chain.visible_group.load(self._g.parent_id)
        return ChainGroupNode(pk=g.id, _g=g) if g is not None else None


@strawberry.type(name="ChainContact", description=(
    "A person's place in a chain space (SPEC §1): imported by the owner, then invited, joined or declined. "
    "Seen per the chain rules (SPEC §2.3)."))
class ChainContactNode(relay.Node):
    # Plain attributes, already cut by the policy (contact_nodes): no resolver runs per field.
    pk: relay.NodeID[int]
    name: str = strawberry.field(description="The name the contact was imported under (联系人姓名), 1-32 characters.")
    role: ContactRole = strawberry.field(description="LEADER (负责人) or MEMBER (成员) of its corp.")
    status: ContactStatus = strawberry.field(description="Where the person stands: imported, invited, joined, declined...")
    mobile: str | None = strawberry.field(description=(
        "Mobile, E.164 (e.g. +8613800000000). Chain admins see it (apps with fields:sensitive); anyone else "
        "only when the joined member's field policy shows it (SPEC §2.2). Null otherwise, and named in hiddenFields."))
    hidden_fields: list[str] = strawberry.field(
        description='["mobile"] when the mobile is withheld from this viewer, else empty.')
    member_id: relay.GlobalID | None = strawberry.field(
        description="Global id of the member behind a joined contact (what partner apps key on).")
    member: MemberNode | None = strawberry.field(
        description="The member behind the contact once joined, when this viewer may see it.")
    _c: strawberry.Private[ChainContact | ContactRow]

    @strawberry.field(description="The contact's corp in the chain; null when this viewer may not see it.")
    async def chain_corp(self, info: Info) -> ChainCorpNode | None:
        c = await info.context.chain.visible_chain_corp.load(self._c.chain_corp_id)
        return ChainCorpNode(pk=c.id, _c=c) if c is not None else None


@strawberry.type(name="ChainCorp", description=(
    "A corp's place in a chain space (SPEC §1): exists from the import row on, before the real corp joins. "
    "Seen per the chain rules (SPEC §2.3)."))
class ChainCorpNode(relay.Node):
    pk: relay.NodeID[int]
    _c: strawberry.Private[ChainCorp]

    @strawberry.field(description="IMPORTED, JOINED or REMOVED.")
    def status(self) -> ChainCorpStatus:
        return self._c.status

    @strawberry.field(description="The owner's own id for the corp (自定义企业id), unique in the chain; null when none.")
    def custom_corp_id(self) -> str | None:
        return self._c.custom_corp_id

    @strawberry.field(description="The corp name as imported (or as joined, for corps that joined without an import).")
    def imported_name(self) -> str:
        return self._c.imported_name

    @strawberry.field(
        description="The corp's name: the joined corp's own name when this viewer may see that corp "
        "(as `corp { name }`), else the name it was imported or joined under (`importedName`)."
    )
    async def name(self, info: Info) -> str:
        if self._c.corp_id is not None:
            c = await info.context.directory.visible_corp.load(self._c.corp_id)
            if c is not None:
                return str(c.name)
        return self._c.imported_name

    @strawberry.field(description="The real corp that joined in this place; null before that, or when not visible.")
    async def corp(self, info: Info) -> CorpNode | None:
        if self._c.corp_id is None:
            return None
        c = await info.context.directory.visible_corp.load(self._c.corp_id)
        return CorpNode(pk=c.id, _c=c) if c is not None else None

    @strawberry.field(description="The group it sits in; null when this viewer may not see the group.")
    async def group(self, info: Info) -> ChainGroupNode | None:
        g = await info.context.chain.visible_group.load(self._c.group_id)
        return ChainGroupNode(pk=g.id, _g=g) if g is not None else None

    @strawberry.field(description="Its contacts this viewer sees, in import order.")
    async def contacts(self, info: Info) -> list[ChainContactNode]:
        rows = await restricted(ChainContact, info.context.viewer).filter(chain_corp_id=self._c.id).order_by("id")
        return await contact_nodes(info, rows)

    @strawberry.field(description="The member whose leader decision chose this corp (the first leader).")
    async def first_leader(self, info: Info) -> MemberNode | None:
        return await member_node(info, self._c.decided_by_id) if self._c.decided_by_id else None


@strawberry.type(name="ChainSpace", description=(
    "An upstream corp's chain space (上下游, SPEC §1): its groups, corps and contacts. Seen by the owner's members "
    "and the corps that joined it, each cut to what it may see (SPEC §2.3)."))
class ChainSpaceNode(relay.Node):
    pk: relay.NodeID[int]
    # The chain's row, read when a field needs it (lists need only the id): None until then.
    _c: strawberry.Private[ChainSpace | None] = None
    changes = strawberry.field(resolver=feed_queries.chain_changes, description=feed_queries.CHANGES_DESCRIPTION.format(
        what="the chain's corps and contacts (as ChainSpace.corps and contacts list them)",
        who="Null when the viewer does not see the chain."))
    sync_token = strawberry.field(resolver=feed_queries.chain_sync_token, description=(
        "A token for ChainSpace.changes, taken before this request's reads (see Corp.syncToken)."))

    async def row(self, info: Info) -> ChainSpace:
        """The chain's row, read once per request (the chain exists: the viewer has a
        standing in it, see chain_space_node)."""
        if self._c is None:
            self._c = await info.context.chain.chain_raw.load(self.pk)
        assert self._c is not None
        return self._c

    @strawberry.field(description="The chain's name, 1-64 characters.")
    async def name(self, info: Info) -> str:
        return (await self.row(info)).name

    @strawberry.field(description=(
        "仅导入的企业可加入: only imported corps may join; invitations then live 90 days instead of 7."))
    async def import_only(self, info: Info) -> bool:
        return (await self.row(info)).import_only

    @strawberry.field(description='The chain-wide switch "corps may see each other".')
    async def corps_see_each_other(self, info: Info) -> bool:
        return (await self.row(info)).corps_see_each_other

    @strawberry.field(description="The upstream corp that owns the chain (上级企业).")
    async def owner(self, info: Info) -> CorpNode | None:
        c = await info.context.directory.visible_corp.load((await self.row(info)).owner_corp_id)
        return CorpNode(pk=c.id, _c=c) if c is not None else None

    @strawberry.field(description="The groups this viewer sees, in tree order (a parent before its children).")
    async def groups(self, info: Info) -> list[ChainGroupNode]:
        rows = await restricted(ChainGroup, info.context.viewer).filter(chain_id=self.pk).order_by("path")
        return [ChainGroupNode(pk=g.id, _g=g) for g in rows]

    @strawberry.field(description="The corps of the chain this viewer sees, in import order.")
    async def corps(
        self,
        info: Info,
        first: Annotated[int | None, strawberry.argument(description="Page size, 0-100; default 20.")] = None,
        after: Annotated[str | None, strawberry.argument(description="endCursor of the previous page.")] = None,
        status: Annotated[ChainCorpStatus | None, strawberry.argument(
            description="Only corps in this status; default every status but REMOVED.")] = None,
    ) -> Connection[ChainCorpNode]:
        viewer = info.context.viewer
        if status is not None:
            admitted = Q(status=ChainCorpStatusValue(status.value).value)
        else:
            # Removed corps have left the chain: only an admin asking for status REMOVED lists them.
            admitted = ~Q(status=ChainCorpStatusValue.REMOVED.value)
        query = restricted(ChainCorp, viewer).filter(admitted, chain_id=self.pk)
        parts = chain.chain_corp_count_parts(viewer, self.pk, admitted)

        async def build(rows: Sequence[ChainCorp]) -> list[ChainCorpNode]:
            return [ChainCorpNode(pk=c.id, _c=c) for c in rows]

        return await paginate(query.order_by("id"), first, after, build,
                              total=None if parts is None else Total(parts, ChainSpace.filter(id=self.pk)))

    @strawberry.field(description="The chain's contacts this viewer sees (SPEC §2.3), in import order.")
    async def contacts(
        self,
        info: Info,
        first: Annotated[int | None, strawberry.argument(description="Page size, 0-100; default 20.")] = None,
        after: Annotated[str | None, strawberry.argument(description="endCursor of the previous page.")] = None,
        status: Annotated[ContactStatus | None, strawberry.argument(
            description="Only contacts in this status; default every status but REMOVED.")] = None,
    ) -> Connection[ChainContactNode]:
        viewer = info.context.viewer
        chain_id = self.pk

        # Viewers who get mobiles through the linked members' field policy read what decides
        # it with the page (one statement), unless `member` is selected (loaded in full then).
        with_facts = contact_mobile_by_standing(viewer, chain_id) is None and not selects(info, "member")

        async def make() -> tuple[Any, Total | None]:
            listed = await selector_corps(viewer, chain_id)
            if status is not None:
                admitted = Q(status=ContactStatusValue(status.value).value)
            else:
                admitted = ~Q(status=ContactStatusValue.REMOVED.value)
            query = restricted(ChainContact, viewer, listed=listed).filter(admitted, chain_id=chain_id)
            parts = chain.contact_count_parts(viewer, chain_id, admitted, listed)
            total = Total(parts if parts is not None else [query.annotate(n=Count("id")).values("n")],
                          ChainSpace.filter(id=chain_id))
            return (with_linked_member_facts(query) if with_facts else query).order_by("id"), total

        async def build(rows: Sequence[dict[str, Any]]) -> list[ChainContactNode]:
            facts = linked_member_facts(rows) if with_facts else None
            return await contact_nodes(info, [ContactRow.of(r) for r in rows], facts)

        # The page statement (with totalCount folded in) is rendered once per kept Viewer:
        # everything it depends on besides the Viewer (whose selectors' corps are kept with
        # it, permissions.loading.selector_corps) is in the key.
        key = ("chain contacts", chain_id, status, path_ranges_enabled(), with_facts)
        columns = (*CONTACT_COLUMNS, *CONTACT_MEMBER_COLUMNS) if with_facts else CONTACT_COLUMNS
        return await paginate(Deferred(make), first, after, build, columns=columns,
                              fold_total=selects(info, "totalCount"), shape_key=key, shapes=kept_statements(info))

    @strawberry.field(description="Invitation links into this chain: chain admins see those in their range, members their own.")
    async def invitations(
        self,
        info: Info,
        first: Annotated[int | None, strawberry.argument(description="Page size, 0-100; default 20.")] = None,
        after: Annotated[str | None, strawberry.argument(description="endCursor of the previous page.")] = None,
    ) -> Connection[InvitationNode]:
        query = restricted(Invitation, info.context.viewer).filter(chain_id=self.pk).order_by("-id")
        chain_row = await self.row(info)

        async def build(rows: Sequence[Invitation]) -> list[InvitationNode]:
            return await invitation_nodes(rows, chain_row)

        return await paginate(query, first, after, build)

    @strawberry.field(description="对接规则, for those who manage the chain; empty for everyone else.",
                      extensions=[ShownOnlyTo(chain.can_read_rules)])
    async def rules(self) -> list[ChainRuleNode]:
        # Read under a chain the viewer sees, for the viewers can_read_rules admits.
        return [ChainRuleNode(pk=r.id, _r=r) for r in await ChainRule.filter(chain_id=self.pk).order_by("id")]

    @strawberry.field(description="Invitation progress: corps and contacts by status, for the chain's admins (null otherwise).",
                      extensions=[ShownOnlyTo(chain.can_read_import_progress)])
    async def import_progress(self, info: Info) -> ImportProgress | None:
        viewer = info.context.viewer
        corps = await restricted(ChainCorp, viewer).filter(chain_id=self.pk).annotate(
            n=Count("id")
        ).group_by("status").values_list("status", "n")
        contacts = await restricted(ChainContact, viewer).filter(chain_id=self.pk).annotate(
            n=Count("id")
        ).group_by("status").values_list("status", "n")
        corp_counts, contact_counts = dict(corps), dict(contacts)
        return ImportProgress(
            corps=[ChainCorpStatusCount(status=s, count=corp_counts.get(s.value, 0)) for s in ChainCorpStatusValue],
            contacts=[ContactStatusCount(status=s, count=contact_counts.get(s.value, 0)) for s in ContactStatusValue],
        )

    @strawberry.field(description="The owner's members this viewer's corp deals with in this chain (对接人).",
                      extensions=[ShownOnlyTo(chain.can_see_chain)])
    async def connectors(self, info: Info) -> list[MemberNode]:
        rows = await restricted(Member, info.context.viewer, connectors_in=self.pk).order_by("pinyin_full", "id")
        return await member_nodes(info, rows)


@strawberry.type(description="How many of the chain's corps (that the admin sees) are in one status.")
class ChainCorpStatusCount:
    status: ChainCorpStatus = strawberry.field(description="The status.")
    count: int = strawberry.field(description="Corps in it.")


@strawberry.type(description="How many of the chain's contacts (that the admin sees) are in one status.")
class ContactStatusCount:
    status: ContactStatus = strawberry.field(description="The status.")
    count: int = strawberry.field(description="Contacts in it.")


@strawberry.type(description="A chain's import and invitation progress (SPEC §3.2): counts by status.")
class ImportProgress:
    corps: list[ChainCorpStatusCount] = strawberry.field(description="Corps by status, every status listed.")
    contacts: list[ContactStatusCount] = strawberry.field(description="Contacts by status, every status listed.")

    @strawberry.field(description="Corps in the chain, removed ones aside.")
    def corps_total(self) -> int:
        return sum(c.count for c in self.corps if c.status is not ChainCorpStatusValue.REMOVED)

    @strawberry.field(description="Corps that have joined.")
    def corps_joined(self) -> int:
        return sum(c.count for c in self.corps if c.status is ChainCorpStatusValue.JOINED)


@strawberry.type(name="ChainRule", description=(
    "对接规则 (SPEC §1): the owner-side subject (a unit subtree or a member) sees the object's contacts (a group "
    "with its subgroups, or one corp), and they see the subject. One of each side is set."))
class ChainRuleNode:
    pk: strawberry.Private[int]
    _r: strawberry.Private[ChainRule]

    @strawberry.field(description="The owner's unit whose subtree is the subject; null when the subject is a member.")
    async def subject_unit(self, info: Info) -> OrgUnitNode | None:
        if self._r.subject_unit_id is None:
            return None
        u = await info.context.directory.visible_unit.load(self._r.subject_unit_id)
        return OrgUnitNode(pk=u.id, _u=u) if u is not None else None

    @strawberry.field(description="The owner's member who is the subject; null when the subject is a unit.")
    async def subject_member(self, info: Info) -> MemberNode | None:
        return await member_node(info, self._r.subject_member_id) if self._r.subject_member_id else None

    @strawberry.field(description="The group (with its subgroups) that is the object; null when it is a corp.")
    async def object_group(self, info: Info) -> ChainGroupNode | None:
        return await group_node(info, self._r.object_group_id) if self._r.object_group_id else None

    @strawberry.field(description="The chain corp that is the object; null when it is a group.")
    async def object_chain_corp(self, info: Info) -> ChainCorpNode | None:
        return await chain_corp_node(info, self._r.object_chain_corp_id) if self._r.object_chain_corp_id else None


async def chain_space_node(info: Info, chain_id: int) -> ChainSpaceNode | None:
    """The chain's node when the viewer sees it (chain.can_see_chain: a standing in it, which
    only an existing chain gives), else None; its row is read only when a field needs it."""
    return ChainSpaceNode(pk=chain_id) if chain.can_see_chain(info.context.viewer, chain_id) else None


async def chain_corp_node(info: Info, chain_corp_id: int) -> ChainCorpNode | None:
    c = await info.context.chain.visible_chain_corp.load(chain_corp_id)
    return ChainCorpNode(pk=c.id, _c=c) if c is not None else None


async def contact_node(info: Info, contact_id: int) -> ChainContactNode | None:
    c = await info.context.chain.visible_contact.load(contact_id)
    return (await contact_nodes(info, [c]))[0] if c is not None else None


async def group_node(info: Info, group_id: int) -> ChainGroupNode | None:
    g = await info.context.chain.visible_group.load(group_id)
    return ChainGroupNode(pk=g.id, _g=g) if g is not None else None


__all__ = [
    "ChainContactNode", "ChainCorpNode", "ChainGroupNode", "ChainRuleNode", "ChainSpaceNode", "InvitationNode",
    "invitation_node", "invitation_nodes", "member_node",
]
