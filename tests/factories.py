"""Builders for test data, written straight to the models (fast enough for property tests)."""

from __future__ import annotations

import itertools
import random
from datetime import UTC
from typing import Any

from strawberry import relay

from auth.tokens import issue_member_token
from flows.names import normalise_corp_name, search_keys
from flows.profile import birth_month_of
from models import (
    AdminGrant,
    ChainContact,
    ChainCorp,
    ChainGroup,
    ChainRule,
    ChainSpace,
    Corp,
    Member,
    OrgUnit,
    Placement,
)
from models.enums import AdminKind, ChainCorpStatus, ContactRole, ContactStatus, MemberStatus, Scope
from permissions.paths import make_path

_seq = itertools.count(random.randint(0, 10_000_000))


def gid(type_name: str, pk: int) -> str:
    return str(relay.GlobalID(type_name, str(pk)))


def unique_mobile() -> str:
    return f"+86139{next(_seq) % 100_000_000:08d}"


def token(member: Member) -> str:
    return issue_member_token(member.id)


async def corp(name: str = "测试企业") -> tuple[Corp, OrgUnit]:
    name = f"{name}{next(_seq)}"
    c = await Corp.create(name=name, name_key=normalise_corp_name(name))
    root = await OrgUnit.create(corp=c, name="root", path="", scope=Scope.ALL)
    root.path = make_path(None, root.id)
    await root.save(update_fields=["path"])
    return c, root


async def unit(
    parent: OrgUnit,
    name: str | None = None,
    scope: Scope = Scope.INHERIT,
    whitelist: list[OrgUnit] | None = None,
    exclude: list[OrgUnit] | None = None,
) -> OrgUnit:
    u = await OrgUnit.create(
        corp_id=parent.corp_id,
        parent=parent,
        path="",
        depth=parent.depth + 1,
        name=name or f"u{next(_seq)}",
        scope=scope,
        scope_whitelist=[w.id for w in whitelist or []],
        scope_exclude=[e.id for e in exclude or []],
    )
    u.path = make_path(parent.path, u.id)
    await u.save(update_fields=["path"])
    return u


async def member(
    units: list[OrgUnit],
    name: str = "张三",
    status: MemberStatus = MemberStatus.ACTIVE,
    hidden: bool = False,
    leader: bool = False,
    **profile: Any,
) -> Member:
    account = f"m{next(_seq)}"
    full, initials, first = search_keys(name)
    profile.setdefault("mobile", unique_mobile())
    # Derived columns, as the flows write them (search keys from the name, month from the birthday).
    profile.setdefault("birth_month", birth_month_of(profile.get("birthday")))
    m = await Member.create(
        corp_id=units[0].corp_id,
        account=account,
        account_key=account,
        name=name,
        status=status,
        hidden_from_directory=hidden,
        pinyin_full=full,
        pinyin_initials=initials,
        surname_initial=first,
        **profile,
    )
    await Placement.bulk_create(
        [Placement(member=m, unit=u, is_main=(i == 0), is_leader=leader) for i, u in enumerate(units)]
    )
    return m


async def grant(m: Member, kind: AdminKind, **kw: Any) -> AdminGrant:
    return await AdminGrant.create(corp_id=m.corp_id, member=m, kind=kind, **kw)


async def super_admin(root: OrgUnit, name: str = "管理员") -> Member:
    m = await member([root], name=name)
    await grant(m, AdminKind.SUPER_ADMIN)
    return m


async def chain_space(owner: Corp, **kw: Any) -> tuple[ChainSpace, ChainGroup]:
    c = await ChainSpace.create(owner_corp=owner, name=f"链{next(_seq)}", **kw)
    root = await ChainGroup.create(chain=c, name="全部", path="")
    root.path = make_path(None, root.id)
    await root.save(update_fields=["path"])
    return c, root


async def group(parent: ChainGroup, name: str | None = None, peers_visible: bool = False) -> ChainGroup:
    g = await ChainGroup.create(
        chain_id=parent.chain_id, parent=parent, path="", name=name or f"g{next(_seq)}", peers_visible=peers_visible
    )
    g.path = make_path(parent.path, g.id)
    await g.save(update_fields=["path"])
    return g


async def chain_corp(
    g: ChainGroup,
    corp_: Corp | None = None,
    status: ChainCorpStatus = ChainCorpStatus.JOINED,
    invited_by: Member | None = None,
) -> ChainCorp:
    name = corp_.name if corp_ else f"导入企业{next(_seq)}"
    return await ChainCorp.create(
        chain_id=g.chain_id,
        group=g,
        corp=corp_,
        custom_corp_id=f"C{next(_seq)}",
        imported_name=name,
        name_key=normalise_corp_name(name),
        status=status,
        invited_by=invited_by,
    )


async def contact(
    cc: ChainCorp,
    m: Member | None = None,
    status: ContactStatus = ContactStatus.JOINED,
    role: ContactRole = ContactRole.LEADER,
    name: str = "联系人",
) -> ChainContact:
    return await ChainContact.create(
        chain_id=cc.chain_id,
        chain_corp=cc,
        name=m.name if m else name,
        mobile=(m.mobile if m and m.mobile else unique_mobile()),
        role=role,
        status=status,
        member=m,
    )


async def rule(chain: ChainSpace, **kw: Any) -> ChainRule:
    return await ChainRule.create(chain=chain, **kw)


def person_token(mobile: str, name: str | None = None) -> str:
    from auth.tokens import issue_person_token

    return issue_person_token(mobile, name)


async def invitation(chain: ChainSpace, creator: Member, g: ChainGroup | None = None, **kw: Any) -> Any:
    from models import Invitation

    return await Invitation.create(chain=chain, group=g, code=f"inv{next(_seq)}", created_by=creator, **kw)


async def imported_contact(
    place: ChainCorp, name: str, role: ContactRole = ContactRole.LEADER, mobile: str | None = None
) -> ChainContact:
    """An imported, not yet joined contact with its personal join code (as the chain import writes it)."""
    from datetime import datetime

    leader = role is ContactRole.LEADER
    return await ChainContact.create(
        chain_id=place.chain_id,
        chain_corp=place,
        name=name,
        mobile=mobile or unique_mobile(),
        role=role,
        status=ContactStatus.INVITED if leader else ContactStatus.IMPORTED,
        join_code=f"jc{next(_seq)}",
        invited_at=datetime.now(UTC),
    )


async def imported_place(g: ChainGroup, name: str, custom_corp_id: str | None = None) -> ChainCorp:
    """An imported corp that has not joined yet (no corp identity chosen)."""
    return await ChainCorp.create(
        chain_id=g.chain_id,
        group=g,
        custom_corp_id=custom_corp_id,
        imported_name=name,
        name_key=normalise_corp_name(name),
        status=ChainCorpStatus.IMPORTED,
    )
