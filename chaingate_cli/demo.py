"""The demo dataset: a manufacturer (华东精密) with its directory and its supply chain.

Everything a flow exists for goes through the flow (corps, units, members, field
settings, admin grants, chain spaces and groups), so the demo also exercises the
policy checks and writes audit events. Chain corps, contacts and rules are written
straight to the models: their flows (import, join, setChainRules) come later.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime

from tortoise.transactions import in_transaction

from auth.tokens import issue_member_token, issue_person_token
from flows import chain as chain_flows
from flows import directory, identity
from flows.members import MemberInput, create_member
from flows.names import normalise_corp_name
from models import ChainContact, ChainCorp, ChainGroup, ChainRule, Corp, Member, OrgUnit
from models.enums import (
    AdminKind,
    AdminRight,
    ChainCorpStatus,
    ContactRole,
    ContactStatus,
    Gender,
    MemberStatus,
    Scope,
)
from permissions.loading import member_viewer
from permissions.viewer import Viewer, ViewerKind

UPSTREAM_NAME = "华东精密制造股份有限公司"
UPSTREAM_SHORT_NAME = "华东精密"
SUPER_ADMIN_MOBILE = "+8613800000001"
SUPER_ADMIN_NAME = "王建国"
SCOPED_ACCOUNT = "sun.hao"
SUPPLIER_MOBILE = "+8613700001002"
CHAIN_NAME = "华东精密供应链"
EMAIL_DOMAIN = "hdjm.example.com"

M, F = Gender.MALE, Gender.FEMALE


@dataclass(frozen=True)
class DemoToken:
    role: str
    who: str
    sees: str
    token: str


@dataclass(frozen=True)
class DemoTokens:
    super_admin: DemoToken
    scoped_member: DemoToken
    supplier_member: DemoToken
    person: DemoToken

    def all(self) -> tuple[DemoToken, ...]:
        return (self.super_admin, self.scoped_member, self.supplier_member, self.person)


@dataclass(frozen=True)
class _Unit:
    key: str
    parent: str | None
    name: str
    order: int
    scope: Scope = Scope.INHERIT
    whitelist: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()


# The root (scope ALL) comes from create_corp. Each scope is used once at least.
UNITS: tuple[_Unit, ...] = (
    _Unit("exec", None, "总经办", 1, Scope.ALL),  # executives see everyone
    # Sales staff see the sales centre, except the key-account team (exclude) ...
    _Unit("sales", None, "营销中心", 2, Scope.DEPARTMENT, exclude=("key_accounts",)),
    _Unit("east", "sales", "华东大区", 1),
    _Unit("south", "sales", "华南大区", 2),
    # ... while the key-account team sees itself and, whitelisted, the whole sales centre.
    _Unit("key_accounts", "sales", "大客户部", 3, Scope.DEPARTMENT, whitelist=("sales",)),
    _Unit("rnd", None, "研发中心", 3, Scope.SUBDEPARTMENT),  # each R&D team sees only itself
    _Unit("mech", "rnd", "结构设计部", 1),
    _Unit("ctrl", "rnd", "电控部", 2),
    _Unit("purchasing", "rnd", "采购部", 3),
    # HR sees its own department and, whitelisted, purchasing (it staffs the buyers).
    _Unit("hr", None, "人力行政部", 4, Scope.DEPARTMENT, whitelist=("purchasing",)),
    _Unit("finance", None, "财务部", 5),  # inherits ALL from the root
)


@dataclass(frozen=True)
class _Staff:
    account: str
    name: str
    gender: Gender
    position: str
    units: tuple[str, ...]
    alias: str | None = None
    leader: bool = False
    hidden: bool = False
    resigned: bool = False


STAFF: tuple[_Staff, ...] = (
    _Staff("li.zhiming", "李志明", M, "总经理", ("exec",), leader=True),
    _Staff("liu.fang", "刘芳", F, "总经理助理", ("exec",)),
    _Staff("zhao.desheng", "赵德胜", M, "副董事长", ("exec",), hidden=True),
    _Staff("chen.wei", "陈伟", M, "营销中心总监", ("sales",), alias="David", leader=True),
    _Staff("yang.yang", "杨洋", F, "市场专员", ("sales",)),
    _Staff("zhang.lei", "张磊", M, "华东大区经理", ("east",), leader=True),
    _Staff("sun.hao", "孙浩", M, "销售代表", ("east",)),
    _Staff("zeng.zhiqiang", "曾志强", M, "销售代表", ("east",)),
    _Staff("cao.yang", "曹阳", F, "销售助理", ("east",)),
    _Staff("huang.lihua", "黄丽华", F, "华南大区经理", ("south",), leader=True),
    _Staff("shan.lijuan", "单丽娟", F, "销售代表", ("south",)),
    _Staff("deng.zihao", "邓子豪", M, "销售代表", ("south",)),
    _Staff("wu.jianjun", "吴建军", M, "大客户部经理", ("key_accounts",), leader=True),
    _Staff("zheng.yawen", "郑雅文", F, "大客户经理", ("key_accounts",), alias="Vivian"),
    _Staff("he.zhenhua", "何振华", M, "研发总监", ("rnd",), leader=True),
    _Staff("luo.ming", "罗明", M, "结构设计主管", ("mech",), leader=True),
    _Staff("xie.xiaodong", "解晓东", M, "结构工程师", ("mech",)),
    _Staff("gao.jianping", "高建平", M, "电控部经理", ("ctrl",), leader=True),
    _Staff("xie.ting", "谢婷", F, "电气工程师", ("ctrl", "purchasing")),  # also selects parts with buyers
    _Staff("lin.feng", "林峰", M, "嵌入式软件工程师", ("ctrl",)),
    _Staff("feng.yu", "冯宇", M, "测试工程师", ("ctrl",)),
    _Staff("ma.jun", "马俊", M, "采购经理", ("purchasing",), leader=True),
    _Staff("hu.jing", "胡静", F, "采购专员", ("purchasing",)),
    _Staff("zhu.xiaofeng", "朱晓峰", M, "采购专员", ("purchasing",), resigned=True),
    _Staff("xu.min", "徐敏", F, "人力资源经理", ("hr",), leader=True),
    _Staff("guo.lei", "郭蕾", F, "行政专员", ("hr",)),
    _Staff("peng.li", "彭丽", F, "前台", ("hr",)),
    _Staff("liang.shufen", "梁淑芬", F, "财务经理", ("finance",), leader=True),
    _Staff("song.jia", "宋佳", F, "会计", ("finance",)),
    _Staff("han.bing", "韩冰", M, "出纳", ("finance",)),
)

# visibleToMembers, selfEditable (管理后台 "显示" / "成员自行修改").
FIELD_SETTINGS: dict[str, tuple[bool, bool]] = {
    "mobile": (True, False),
    "email": (True, False),
    "telephone": (True, True),
    "position": (True, False),
    "birthday": (False, True),
    "address": (False, True),
    "hireDate": (False, False),
}

# (key, parent key, name, peersVisible): suppliers never see each other, dealers do.
GROUPS: tuple[tuple[str, str | None, str, bool], ...] = (
    ("suppliers", None, "供应商", False),
    ("raw", "suppliers", "原材料", False),
    ("parts", "suppliers", "零部件", False),
    ("dealers", None, "经销商", True),
    ("dealer_east", "dealers", "华东", True),
    ("dealer_south", "dealers", "华南", True),
)


@dataclass(frozen=True)
class _Contact:
    name: str
    mobile: str
    role: ContactRole = ContactRole.MEMBER
    account: str | None = None  # set for people who are members of a joined corp
    position: str | None = None


@dataclass(frozen=True)
class _Downstream:
    name: str
    short_name: str | None
    custom_id: str
    group: str
    contacts: tuple[_Contact, ...]
    invited_by: str | None = None  # owner-side account; None for imported-only corps
    staff: tuple[_Contact, ...] = field(default=())  # members who are not chain contacts


# Joined corps: the first contact (LEADER) created the corp and is its super admin.
JOINED: tuple[_Downstream, ...] = (
    _Downstream("苏州恒通金属材料有限公司", "恒通金属", "SUP-001", "raw", (
        _Contact("周海涛", "+8613700001001", ContactRole.LEADER, position="总经理"),
        _Contact("钱丽", SUPPLIER_MOBILE, account="qian.li", position="销售经理"),
    ), "ma.jun", (_Contact("吴刚", "+8613700001003", account="wu.gang", position="质检主管"),)),
    _Downstream("宁波精锐五金零部件有限公司", "精锐五金", "SUP-002", "parts", (
        _Contact("蒋文斌", "+8613700002001", ContactRole.LEADER, position="董事长"),
        _Contact("沈晓燕", "+8613700002002", account="shen.xiaoyan", position="客户经理"),
    ), "ma.jun", (_Contact("唐军", "+8613700002003", account="tang.jun", position="生产主管"),)),
    _Downstream("上海华瑞机电设备有限公司", "华瑞机电", "DLR-001", "dealer_east", (
        _Contact("陆志刚", "+8613700003001", ContactRole.LEADER, position="总经理"),
        _Contact("顾敏", "+8613700003002", account="gu.min", position="采购主管"),
    ), "zhang.lei"),
    _Downstream("杭州博远工业贸易有限公司", "博远工贸", "DLR-002", "dealer_east", (
        _Contact("方建华", "+8613700004001", ContactRole.LEADER, position="总经理"),
        _Contact("叶青", "+8613700004002", account="ye.qing", position="销售内勤"),
    ), "zhang.lei"),
    _Downstream("广州粤达机械销售有限公司", "粤达机械", "DLR-003", "dealer_south", (
        _Contact("邓伟明", "+8613700005001", ContactRole.LEADER, position="总经理"),
        _Contact("卢慧", "+8613700005002", account="lu.hui", position="采购专员"),
    ), "huang.lihua"),
)

# Imported from a chain import file, not joined yet: no corp, contacts IMPORTED.
IMPORTED: tuple[_Downstream, ...] = (
    _Downstream("无锡新锐材料科技有限公司", None, "SUP-003", "raw", (
        _Contact("任国强", "+8613500001001", ContactRole.LEADER),
        _Contact("石小红", "+8613500001002"),
    )),
    _Downstream("福州闽信机电有限公司", None, "DLR-004", "dealer_south", (
        _Contact("许志远", "+8613500002001", ContactRole.LEADER),
    )),
)


async def _admin_viewer(member_id: int) -> Viewer:
    viewer = await member_viewer(member_id)
    assert viewer is not None, "a freshly created corp's owner is an active member"
    return viewer


async def _create_corp_as(mobile: str, name: str, corp_name: str, short_name: str | None) -> Member:
    """A person signs in and creates a corp, as `createCorp` with a person token does."""
    person = await identity.ensure_person(mobile, name)
    return await directory.create_corp(Viewer(kind=ViewerKind.PERSON, person_id=person.id), corp_name, short_name)


async def _seed_upstream() -> tuple[Member, dict[str, OrgUnit], dict[str, Member]]:
    owner = await _create_corp_as(SUPER_ADMIN_MOBILE, SUPER_ADMIN_NAME, UPSTREAM_NAME, UPSTREAM_SHORT_NAME)
    # No updateMember flow yet: the founder's profile is completed on the row.
    await Member.filter(id=owner.id).update(position="董事长", email=f"wang.jianguo@{EMAIL_DOMAIN}")
    admin = await _admin_viewer(owner.id)
    root = await OrgUnit.get(corp_id=owner.corp_id, parent_id=None)

    units: dict[str, OrgUnit] = {}
    deferred_exclude: dict[str, tuple[str, ...]] = {}
    for u in UNITS:
        # A scope may only list existing units; 营销中心 excludes its own child, made after it.
        ready = all(k in units for k in u.exclude)
        if not ready:
            deferred_exclude[u.key] = u.exclude
        units[u.key] = await directory.create_org_unit(
            admin,
            units[u.parent].id if u.parent else root.id,
            u.name,
            order=u.order,
            scope=u.scope,
            whitelist=[units[k].id for k in u.whitelist],
            exclude=[units[k].id for k in u.exclude] if ready else [],
        )
    for key, excluded in deferred_exclude.items():
        # No updateOrgUnit flow yet: set the list on the row once the excluded units exist.
        await OrgUnit.filter(id=units[key].id).update(scope_exclude=sorted(units[k].id for k in excluded))

    staff: dict[str, Member] = {}
    for i, s in enumerate(STAFF, start=2):
        unit_ids = [units[k].id for k in s.units]
        staff[s.account] = member = await create_member(
            admin,
            owner.corp_id,
            MemberInput(
                account=s.account,
                name=s.name,
                unit_ids=unit_ids,
                alias=s.alias,
                mobile=f"+86139{i:08d}",
                email=f"{s.account}@{EMAIL_DOMAIN}",
                telephone=f"0512-6655{8000 + i}",
                gender=s.gender,
                position=s.position,
                birthday=date(1970 + (i * 7) % 30, 1 + i % 12, 1 + (i * 11) % 28),
                hire_date=date(2008 + i % 16, 1 + (i * 5) % 12, 1 + (i * 3) % 28),
                hidden_from_directory=s.hidden,
                leader_of=unit_ids[:1] if s.leader else [],
            ),
        )
        if s.resigned:
            # No resignMember flow yet; the status alone is what every view honours.
            await Member.filter(id=member.id).update(status=MemberStatus.RESIGNED)

    await directory.set_field_settings(admin, owner.corp_id, FIELD_SETTINGS)
    await directory.grant_admin(
        admin, staff["chen.wei"].id, AdminKind.DIRECTORY_ADMIN,
        unit_ids=[units["sales"].id], rights=[AdminRight.READ, AdminRight.MANAGE],
    )
    return owner, units, staff


async def _seed_chain(owner: Member, units: dict[str, OrgUnit], staff: dict[str, Member]) -> None:
    chain = await chain_flows.create_chain_space(await _admin_viewer(owner.id), owner.corp_id, CHAIN_NAME)
    admin = await _admin_viewer(owner.id)  # again: the viewer now holds the new chain
    groups: dict[str, ChainGroup] = {}
    for order, (key, parent, name, peers) in enumerate(GROUPS):
        groups[key] = await chain_flows.create_chain_group(
            admin, chain.id, name, parent_id=groups[parent].id if parent else None, peers_visible=peers, order=order
        )

    now = datetime.now(UTC)
    for d in JOINED:
        leader, *others = d.contacts
        corp_owner = await _create_corp_as(leader.mobile, leader.name, d.name, d.short_name)
        await Member.filter(id=corp_owner.id).update(position=leader.position)
        corp_admin = await _admin_viewer(corp_owner.id)
        root = await OrgUnit.get(corp_id=corp_owner.corp_id, parent_id=None)
        members: dict[str, Member] = {}
        for c in (*others, *d.staff):
            assert c.account is not None
            members[c.mobile] = await create_member(
                corp_admin, corp_owner.corp_id,
                MemberInput(account=c.account, name=c.name, unit_ids=[root.id], mobile=c.mobile, position=c.position),
            )
        place = await ChainCorp.create(
            chain=chain, group=groups[d.group], corp_id=corp_owner.corp_id, custom_corp_id=d.custom_id,
            imported_name=d.name, name_key=normalise_corp_name(d.name), status=ChainCorpStatus.JOINED,
            invited_by=staff[d.invited_by] if d.invited_by else None, joined_at=now,
        )
        for c in d.contacts:
            await ChainContact.create(
                chain=chain, chain_corp=place, name=c.name, mobile=c.mobile, role=c.role,
                status=ContactStatus.JOINED, member=corp_owner if c is leader else members[c.mobile],
            )

    for d in IMPORTED:
        place = await ChainCorp.create(
            chain=chain, group=groups[d.group], custom_corp_id=d.custom_id, imported_name=d.name,
            name_key=normalise_corp_name(d.name), status=ChainCorpStatus.IMPORTED,
        )
        for c in d.contacts:
            await ChainContact.create(
                chain=chain, chain_corp=place, name=c.name, mobile=c.mobile, role=c.role, status=ContactStatus.IMPORTED,
            )

    # 对接规则: buyers face all suppliers; 张磊 the East dealers; the South region the South dealers.
    await ChainRule.create(chain=chain, subject_unit=units["purchasing"], object_group=groups["suppliers"])
    await ChainRule.create(chain=chain, subject_member=staff["zhang.lei"], object_group=groups["dealer_east"])
    await ChainRule.create(chain=chain, subject_unit=units["south"], object_group=groups["dealer_south"])


async def seed_demo() -> DemoTokens:
    """Fill an empty database with the demo; all of it or, on any error, none of it."""
    async with in_transaction():
        owner, units, staff = await _seed_upstream()
        await _seed_chain(owner, units, staff)
    tokens = await demo_tokens()
    assert tokens is not None, "the demo just seeded must be found again"
    return tokens


async def demo_tokens() -> DemoTokens | None:
    """Fresh tokens for the demo's viewers, or None when this database does not hold the demo."""
    corp = await Corp.filter(name_key=normalise_corp_name(UPSTREAM_NAME)).order_by("id").first()
    if corp is None:
        return None
    boss = await Member.filter(corp_id=corp.id, mobile=SUPER_ADMIN_MOBILE, status=MemberStatus.ACTIVE).first()
    scoped = await Member.filter(corp_id=corp.id, account_key=SCOPED_ACCOUNT, status=MemberStatus.ACTIVE).first()
    supplier = await (
        Member.filter(mobile=SUPPLIER_MOBILE, status=MemberStatus.ACTIVE, chain_contacts__chain__owner_corp_id=corp.id)
        .prefetch_related("corp")
        .first()
    )
    if boss is None or scoped is None or supplier is None:
        return None
    return DemoTokens(
        super_admin=DemoToken(
            "super admin", f"{boss.name} · {UPSTREAM_SHORT_NAME} (member {boss.id})",
            f"the whole corp, and all of {CHAIN_NAME} incl. imported corps", issue_member_token(boss.id),
        ),
        scoped_member=DemoToken(
            "scoped member", f"{scoped.name} · 营销中心/华东大区 (member {scoped.id})",
            "营销中心 except 大客户部; not 总经办 (DEPARTMENT scope)", issue_member_token(scoped.id),
        ),
        supplier_member=DemoToken(
            "supplier member", f"{supplier.name} · {supplier.corp.short_name or supplier.corp.name} (member {supplier.id})",
            "own corp; its chain contacts and 华东精密's buyers; no other supplier",
            issue_member_token(supplier.id),
        ),
        person=DemoToken(
            "person", f"{SUPER_ADMIN_NAME} · {SUPER_ADMIN_MOBILE}",
            "no directory: actAs(input: {corpId}) / createCorp",
            issue_person_token(SUPER_ADMIN_MOBILE, SUPER_ADMIN_NAME),
        ),
    )
