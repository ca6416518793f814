"""Realistic large data for the benchmarks, written straight to the models with bulk_create.

    python -m bench.generate                       # SQLite file, full scale (cached)
    python -m bench.generate --db postgres          # a kept PostgreSQL database (cached)
    python -m bench.generate --scale 0.1 --force    # a tenth of the size, regenerated

What it builds (at scale 1):
- corp 1, 基准集团: 3,000 units four levels deep under twelve divisions that use every
  scope (总经办 ALL; 营销中心 DEPARTMENT excluding 大客户部; 研发中心 SUBDEPARTMENT;
  人力行政部 DEPARTMENT with 采购部 whitelisted; overrides, whitelists and excludes
  sprinkled on second-level units), 50,000 members with Chinese names (search keys from
  `flows.names.search_keys`), one in eight sitting in a second unit, some resigned,
  pending, disabled or hidden (none of those under 生产中心, so a page there is the same
  rows for a super admin and for a member scoped to it);
- chain 1, 基准供应链, owned by corp 1: a group tree (5 kinds x 6 regions x 6 provinces),
  100,000 chain corps (a tenth JOINED with a real corp and its leader as member, some
  REMOVED) and 300,000 contacts, 对接规则 from two units and one member.

The database is cached: a SQLite file under the temp directory (CHAINGATE_BENCH_DIR), or a
PostgreSQL database named after the dataset version and scale (CHAINGATE_BENCH_DB names
both instead), marked complete only once everything is in,
so a crashed run is regenerated and a finished one is reused. `manifest()` returns the
ids the measures need (viewers, units, chain).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import re
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

# Bump when the shape of the data changes: cached databases of other versions are ignored.
DATASET_VERSION = 6

SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾萧田董潘袁蔡蒋余于杜叶程魏苏吕丁任卢姚沈钟"
    "姜崔谭陆范汪廖石金韦贾夏付方邹熊白孟秦邱侯江尹薛闫段雷龙黎史陶贺毛郝顾龚邵万覃武钱戴严莫孔向常汤康易乔赖文单"
)
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉萍红娥玲芬燕彬鹏辉建国志宏海波晓东春梅俊峰雪琳子涵浩然欣怡"
POSITIONS = ("工程师", "高级工程师", "经理", "专员", "主管", "总监", "助理", "销售代表", "会计", "技术员")
CITIES = "上海杭州苏州南京宁波无锡合肥广州深圳东莞佛山厦门福州北京天津石家庄济南青岛郑州武汉长沙成都重庆西安昆明"
TRADES = ("精密机械", "电子科技", "新材料", "物流", "贸易", "汽车零部件", "包装", "化工", "食品", "医疗器械", "建材", "纺织")
SUFFIXES = ("有限公司", "股份有限公司", "科技有限公司", "实业有限公司")

DIVISIONS: tuple[tuple[str, str], ...] = (
    ("总经办", "ALL"),
    ("营销中心", "DEPARTMENT"),
    ("研发中心", "SUBDEPARTMENT"),
    ("生产中心", "DEPARTMENT"),
    ("人力行政部", "DEPARTMENT"),
    ("财务部", "DEPARTMENT"),
    ("采购部", "INHERIT"),
    ("质量部", "SUBDEPARTMENT"),
    ("信息技术部", "INHERIT"),
    ("供应链中心", "DEPARTMENT"),
    ("海外事业部", "DEPARTMENT"),
    ("客服中心", "SUBDEPARTMENT"),
)
# The division whose subtree holds only ACTIVE, listed members: P1 compares the same rows.
SAME_ROWS_DIVISION = "生产中心"
CHAIN_KINDS = ("供应商", "经销商", "服务商", "加盟商", "物流商")
REGIONS = ("华东", "华南", "华北", "华中", "西南", "西北")
PROVINCES = ("一区", "二区", "三区", "四区", "五区", "六区")


@dataclass(frozen=True)
class Scale:
    units: int = 3_000
    members: int = 50_000
    chain_corps: int = 100_000
    contacts_per_corp: int = 3
    joined_share: float = 0.10

    @classmethod
    def of(cls, factor: float) -> Scale:
        return cls(units=max(60, int(3_000 * factor)), members=max(600, int(50_000 * factor)),
                   chain_corps=max(500, int(100_000 * factor)))

    @property
    def label(self) -> str:
        return f"v{DATASET_VERSION}-u{self.units}-m{self.members}-c{self.chain_corps}"


@dataclass
class Manifest:
    """Ids the measures need, stored in the database next to the data."""

    scale: dict[str, Any]
    corp_id: int
    root_unit_id: int
    super_admin_id: int
    scoped_member_id: int  # a member under 生产中心 (DEPARTMENT): sees that subtree
    same_rows_unit_id: int  # 生产中心 itself
    narrow_member_id: int  # a member under 研发中心 (SUBDEPARTMENT): sees its own sub-department
    directory_admin_id: int  # DIRECTORY_ADMIN over 营销中心
    chain_id: int
    chain_admin_id: int  # CHAIN_ADMIN limited to the 供应商 group
    rule_member_id: int  # a 营销中心 member: the rule gives it the 经销商 group
    downstream_member_id: int  # the leader of a JOINED corp in a peers-visible 经销商 group
    search: dict[str, str] = field(default_factory=dict)
    generated_seconds: float = 0.0


# --- where the data lives -------------------------------------------------------------

def dataset_name(scale: Scale) -> str:
    """The cached dataset's name: CHAINGATE_BENCH_DB when set (so that several people
    benchmarking on one machine each keep their own copy), else one derived from the
    dataset version and scale. It names the PostgreSQL database and the SQLite file."""
    name = os.environ.get("CHAINGATE_BENCH_DB") or f"chaingate_bench_{scale.label.replace('-', '_')}"
    if not re.fullmatch(r"[a-z_][a-z0-9_]{0,62}", name):
        raise SystemExit(f"CHAINGATE_BENCH_DB must be a plain lower-case name (a-z, 0-9, _), not {name!r}")
    return name


def sqlite_path(scale: Scale) -> Path:
    folder = Path(os.environ.get("CHAINGATE_BENCH_DIR", Path(tempfile.gettempdir()) / "chaingate-bench"))
    folder.mkdir(parents=True, exist_ok=True)
    if os.environ.get("CHAINGATE_BENCH_DB"):
        return folder / f"{dataset_name(scale)}.sqlite3"
    return folder / f"dataset-{scale.label}.sqlite3"


def postgres_admin_url() -> str:
    base = os.environ.get("DATABASE_URL", "")
    if not base.startswith("postgres"):
        base = "postgres://postgres@127.0.0.1:5432/postgres"
    return base.replace("postgresql://", "postgres://", 1)


def postgres_url(scale: Scale) -> str:
    return f"{postgres_admin_url().rpartition('/')[0]}/{dataset_name(scale)}"


def postgres_app_url(url: str) -> str:
    """The URL the app is measured with: as a deployment would give it, so models.db keeps
    asyncpg's statement cache with custom plans (see models.db._custom_plans).
    CHAINGATE_BENCH_PG_STATEMENT_CACHE=off measures without the cache."""
    if os.environ.get("CHAINGATE_BENCH_PG_STATEMENT_CACHE") == "off":
        return f"{url}?statement_cache_size=0"
    return url


async def _pg_admin(sql: str) -> Any:
    import asyncpg

    conn = await asyncpg.connect(postgres_admin_url().replace("postgres://", "postgresql://", 1), timeout=5)
    try:
        return await conn.fetch(sql)
    finally:
        await conn.close()


# --- the manifest table: written last, so its presence means "complete" -----------------

async def read_manifest() -> Manifest | None:
    from tortoise.connection import get_connection

    conn = get_connection("default")
    try:
        _, rows = await conn.execute_query("SELECT body FROM bench_manifest")
    except Exception:  # no table yet: the database was never completed
        return None
    return Manifest(**json.loads(rows[0]["body"])) if rows else None


async def write_manifest(m: Manifest) -> None:
    from tortoise.connection import get_connection

    conn = get_connection("default")
    await conn.execute_script("CREATE TABLE IF NOT EXISTS bench_manifest (body TEXT NOT NULL)")
    await conn.execute_query("DELETE FROM bench_manifest")
    placeholder = "?" if conn.capabilities.dialect == "sqlite" else "$1"
    await conn.execute_query(f"INSERT INTO bench_manifest (body) VALUES ({placeholder})", [json.dumps(asdict(m))])


# --- indexes: the models declare them; the benchmark database gets them by hand ------------

INDEXED_MODELS = ("Member", "Placement", "OrgUnit", "ChainCorp", "ChainContact", "ChainGroup")


async def create_bench_indexes() -> None:
    """Every index the models declare in Meta.indexes, created IF NOT EXISTS under the names
    Tortoise gives them: the indexes this work adds are not in a migration yet, so the
    benchmark database gets them here. Then fresh statistics (and, on PostgreSQL, the
    visibility map that index-only scans need)."""
    from tortoise.connection import get_connection

    import models

    conn = get_connection("default")
    generator = conn.schema_generator(conn)
    for name in INDEXED_MODELS:
        model = getattr(models, name)
        for index in model._meta.indexes:
            await conn.execute_script(index.get_sql(generator, model, safe=True))
    await conn.execute_script("VACUUM ANALYZE" if conn.capabilities.dialect == "postgres" else "ANALYZE")


# --- generation -------------------------------------------------------------------------

def person_name(rng: random.Random) -> str:
    given = rng.choice(GIVEN) + (rng.choice(GIVEN) if rng.random() < 0.7 else "")
    return rng.choice(SURNAMES) + given


def corp_name(rng: random.Random, i: int) -> str:
    return f"{rng.choice(CITIES[::2])}{rng.choice(TRADES)}{i}{rng.choice(SUFFIXES)}"


class Ids:
    """Explicit primary keys: paths need them before the rows exist, and bulk_create keeps them."""

    def __init__(self) -> None:
        self.next: dict[str, int] = {}

    def take(self, table: str) -> int:
        value = self.next.get(table, 1)
        self.next[table] = value + 1
        return value


async def _bulk(model: Any, rows: list[Any], batch: int = 5_000) -> None:
    from tortoise.transactions import in_transaction

    for i in range(0, len(rows), batch):
        async with in_transaction():
            await model.bulk_create(rows[i:i + batch])


def _unit_tree(scale: Scale, corp_id: int, ids: Ids) -> tuple[list[Any], dict[str, Any]]:
    """Twelve divisions, then levels filled breadth first, one child per parent per round,
    until the unit count is reached: a balanced, four-to-five level tree."""
    from models import OrgUnit
    from models.enums import Scope
    from permissions.paths import make_path

    def unit(parent: Any | None, name: str, scope: str = "INHERIT", order: int = 0) -> Any:
        pk = ids.take("org_unit")
        return OrgUnit(
            id=pk, corp_id=corp_id, parent_id=parent.id if parent else None,
            path=make_path(parent.path if parent else None, pk), depth=parent.depth + 1 if parent else 0,
            name=name, order=order, scope=Scope(scope), scope_whitelist=[], scope_exclude=[],
        )

    root = unit(None, "基准集团", "ALL")
    units = [root]
    divisions = {}
    for order, (name, scope) in enumerate(DIVISIONS):
        u = unit(root, name, scope, order)
        divisions[name] = u
        units.append(u)
    level = list(divisions.values())
    fanouts = (10, 8, 4, 4, 4)
    for fanout in fanouts:
        if len(units) >= scale.units:
            break
        nxt = []
        for round_ in range(fanout):
            for parent in level:
                if len(units) >= scale.units:
                    break
                u = unit(parent, f"{parent.name[:6]}{round_ + 1}{'部组室科'[parent.depth % 4]}", order=round_)
                units.append(u)
                nxt.append(u)
        level = nxt
    # The named sub-units the demo's rules are built on.
    sales, hr, buying = divisions["营销中心"], divisions["人力行政部"], divisions["采购部"]
    key_accounts = next(u for u in units if u.parent_id == sales.id)
    key_accounts.name = "大客户部"
    sales.scope_exclude = [key_accounts.id]
    hr.scope_whitelist = [buying.id]
    # Overrides on second-level units, away from the same-rows division.
    protected = divisions[SAME_ROWS_DIVISION].path
    second = [u for u in units if u.depth == 2 and not u.path.startswith(protected)]
    for i, u in enumerate(second):
        if i % 9 == 0:
            u.scope = Scope.DEPARTMENT
        elif i % 13 == 0:
            u.scope = Scope.SUBDEPARTMENT
        if i % 17 == 0:
            u.scope = Scope.DEPARTMENT
            u.scope_whitelist = [second[(i + 5) % len(second)].id]
        if i % 19 == 0:
            children = [c for c in units if c.parent_id == u.id]
            if children:
                u.scope = Scope.DEPARTMENT
                u.scope_exclude = [children[0].id]
    return units, {"root": root, **divisions, "大客户部": key_accounts}


async def generate(scale: Scale, seed: int = 20240601) -> Manifest:
    from flows.names import normalise_corp_name, search_keys
    from models import (
        AdminGrant,
        ChainContact,
        ChainCorp,
        ChainGroup,
        ChainRule,
        ChainSpace,
        Corp,
        FieldSetting,
        Member,
        OrgUnit,
        Person,
        Placement,
    )
    from models.enums import AdminKind, ChainCorpStatus, ContactRole, ContactStatus, Gender, MemberStatus, Scope
    from permissions.paths import make_path

    started = time.perf_counter()
    rng = random.Random(seed)
    ids = Ids()
    now = datetime(2024, 6, 1, tzinfo=UTC)

    def log(msg: str) -> None:
        print(f"  [{time.perf_counter() - started:6.1f} s] {msg}", flush=True)

    # --- corp 1: the big directory ---
    corp_id = ids.take("corp")
    await Corp.create(id=corp_id, name="基准集团股份有限公司", short_name="基准集团",
                      name_key=normalise_corp_name("基准集团股份有限公司"), verified=True,
                      search_by_mobile=True)
    units, named = _unit_tree(scale, corp_id, ids)
    await _bulk(OrgUnit, units)
    log(f"{len(units)} units")
    await FieldSetting.bulk_create([
        FieldSetting(corp_id=corp_id, field="mobile", visible_to_members=False, self_editable=False),
        FieldSetting(corp_id=corp_id, field="birthday", visible_to_members=False, self_editable=True),
    ])

    same_rows = named[SAME_ROWS_DIVISION].path
    # Members land anywhere but the root, the executive office kept small.
    seats_pool = [u for u in units if u.depth >= 2]
    exec_units = [u for u in units if u.path.startswith(named["总经办"].path)]
    members: list[Any] = []
    placements: list[Any] = []
    name_keys: dict[str, tuple[str, str, str]] = {}
    leaders_done: set[int] = set()

    def add_member(name: str, account: str, unit_list: list[Any], status: MemberStatus = MemberStatus.ACTIVE,
                   hidden: bool = False, mobile: str | None = None) -> Any:
        keys = name_keys.get(name) or name_keys.setdefault(name, search_keys(name))
        pk = ids.take("member")
        m = Member(
            id=pk, corp_id=corp_id, account=account, account_key=account.lower(), name=name,
            mobile=mobile or f"+86139{pk:08d}", email=f"{account}@jizhun.example.com",
            gender=(Gender.MALE, Gender.FEMALE)[pk % 2], position=POSITIONS[pk % len(POSITIONS)],
            birthday=date(1970 + pk % 30, 1 + pk % 12, 1 + pk % 28), birth_month=1 + pk % 12,
            hire_date=date(2005 + pk % 19, 1 + pk % 12, 1),
            status=status, hidden_from_directory=hidden, pinyin_full=keys[0], pinyin_initials=keys[1],
            surname_initial=keys[2], resigned_at=now if status is MemberStatus.RESIGNED else None,
            created_at=now, updated_at=now,
        )
        members.append(m)
        for i, u in enumerate(unit_list):
            leader = i == 0 and u.id not in leaders_done and rng.random() < 0.3
            if leader:
                leaders_done.add(u.id)
            placements.append(Placement(id=ids.take("placement"), member_id=pk, unit_id=u.id,
                                        is_main=i == 0, is_leader=leader, order=i))
        return m

    super_admin = add_member("管理员", "bench_super", [named["root"]])
    scoped_unit = next(u for u in units if u.depth >= 3 and u.path.startswith(same_rows))
    scoped = add_member("范统", "bench_scoped", [scoped_unit])
    rd_leaf = next(u for u in units if u.depth >= 3 and u.path.startswith(named["研发中心"].path))
    narrow = add_member("白雪", "bench_narrow", [rd_leaf])
    dir_admin = add_member("管理分级", "bench_diradmin", [named["人力行政部"]])
    chain_admin = add_member("链管", "bench_chainadmin", [named["采购部"]])
    sales_leaf = next(u for u in units if u.depth >= 3 and u.path.startswith(named["营销中心"].path)
                      and not u.path.startswith(named["大客户部"].path))
    rule_member = add_member("对接人", "bench_rule", [sales_leaf])
    for i in range(scale.members - len(members)):
        main = rng.choice(exec_units) if i % 500 == 0 else rng.choice(seats_pool)
        seats = [main]
        if rng.random() < 0.125:
            other = rng.choice(seats_pool)
            if other.id != main.id:
                seats.append(other)
        status, hidden = MemberStatus.ACTIVE, False
        if not any(u.path.startswith(same_rows) for u in seats):
            roll = rng.random()
            if roll < 0.02:
                status = MemberStatus.RESIGNED
            elif roll < 0.03:
                status = MemberStatus.PENDING
            elif roll < 0.035:
                status = MemberStatus.DISABLED
            hidden = rng.random() < 0.01
        add_member(person_name(rng), f"u{i:06d}", seats, status, hidden)
    await _bulk(Member, members)
    await _bulk(Placement, placements)
    log(f"{len(members)} members, {len(placements)} seats")
    await AdminGrant.bulk_create([
        AdminGrant(corp_id=corp_id, member_id=super_admin.id, kind=AdminKind.SUPER_ADMIN),
        AdminGrant(corp_id=corp_id, member_id=dir_admin.id, kind=AdminKind.DIRECTORY_ADMIN,
                   unit_ids=[named["营销中心"].id], rights=["READ", "MANAGE"]),
    ])

    # --- chain 1 with its group tree ---
    chain_id = ids.take("chain_space")
    await ChainSpace.create(id=chain_id, owner_corp_id=corp_id, name="基准供应链")
    groups: list[Any] = []

    def group(parent: Any | None, name: str, order: int = 0, peers: bool = False) -> Any:
        pk = ids.take("chain_group")
        g = ChainGroup(id=pk, chain_id=chain_id, parent_id=parent.id if parent else None,
                       path=make_path(parent.path if parent else None, pk), name=name, order=order,
                       peers_visible=peers)
        groups.append(g)
        return g

    groot = group(None, "全部")
    kinds = {k: group(groot, k, i) for i, k in enumerate(CHAIN_KINDS)}
    leaves = []
    for k, kg in kinds.items():
        for i, r in enumerate(REGIONS):
            rg = group(kg, r, i)
            for j, p in enumerate(PROVINCES):
                leaves.append(group(rg, f"{r}{p}", j, peers=k == "经销商" and j % 2 == 0))
    await ChainGroup.bulk_create(groups)
    await AdminGrant.create(corp_id=corp_id, member_id=chain_admin.id, kind=AdminKind.CHAIN_ADMIN,
                            chain_id=chain_id, group_ids=[kinds["供应商"].id])

    # Downstream corps that joined: a corp, its root unit, its leader as member.
    chain_corps: list[Any] = []
    contacts: list[Any] = []
    down_corps: list[Any] = []
    down_units: list[Any] = []
    down_members: list[Any] = []
    down_seats: list[Any] = []
    persons: list[Any] = []
    downstream_member_id = 0
    mobile_seq = 0
    for i in range(scale.chain_corps):
        g = leaves[i % len(leaves)]
        name = corp_name(rng, i)
        roll = rng.random()
        status = ChainCorpStatus.IMPORTED
        if roll < scale.joined_share:
            status = ChainCorpStatus.JOINED
        elif roll < scale.joined_share + 0.03:
            status = ChainCorpStatus.REMOVED
        pk = ids.take("chain_corp")
        joined_corp_id = None
        leader_member_id = None
        if status is ChainCorpStatus.JOINED:
            joined_corp_id = ids.take("corp")
            down_corps.append(Corp(id=joined_corp_id, name=name, name_key=normalise_corp_name(name), created_at=now))
            uid = ids.take("org_unit")
            down_units.append(OrgUnit(id=uid, corp_id=joined_corp_id, path=make_path(None, uid), depth=0,
                                      name=name[:20], scope=Scope.ALL, scope_whitelist=[], scope_exclude=[]))
            leader_member_id = ids.take("member")
        chain_corps.append(ChainCorp(
            id=pk, chain_id=chain_id, group_id=g.id, corp_id=joined_corp_id, custom_corp_id=f"C{i:07d}",
            imported_name=name, name_key=normalise_corp_name(name), status=status,
            invited_by_id=super_admin.id if status is ChainCorpStatus.JOINED and i % 3 == 0 else None,
            joined_at=now if joined_corp_id else None, created_at=now,
        ))
        for k in range(scale.contacts_per_corp):
            mobile_seq += 1
            role = ContactRole.LEADER if k == 0 else ContactRole.MEMBER
            cname = person_name(rng)
            mobile = f"+86150{mobile_seq:08d}"
            member_id = None
            if status is ChainCorpStatus.REMOVED:
                cstatus = ContactStatus.REMOVED
            elif status is ChainCorpStatus.JOINED:
                cstatus = ContactStatus.JOINED if k == 0 else (ContactStatus.PENDING_CONFIRM, ContactStatus.IMPORTED)[k % 2]
                if k == 0:
                    member_id = leader_member_id
                    person_id = ids.take("person")
                    persons.append(Person(id=person_id, mobile=mobile, name=cname, created_at=now))
                    keys = search_keys(cname)
                    down_members.append(Member(
                        id=member_id, corp_id=joined_corp_id, person_id=person_id, account="leader",
                        account_key="leader", name=cname, mobile=mobile, pinyin_full=keys[0],
                        pinyin_initials=keys[1], surname_initial=keys[2], created_at=now, updated_at=now,
                    ))
                    down_seats.append(Placement(id=ids.take("placement"), member_id=member_id,
                                                unit_id=down_units[-1].id, is_main=True, is_leader=True))
                    if not downstream_member_id and g.peers_visible:
                        downstream_member_id = member_id
            else:
                cstatus = (ContactStatus.IMPORTED, ContactStatus.INVITED, ContactStatus.DECLINED)[
                    0 if rng.random() < 0.6 else (1 if rng.random() < 0.8 else 2)]
            contacts.append(ChainContact(
                id=ids.take("chain_contact"), chain_id=chain_id, chain_corp_id=pk, name=cname, mobile=mobile,
                role=role, status=cstatus, member_id=member_id,
                invited_at=now if cstatus is not ContactStatus.IMPORTED else None,
                joined_at=now if cstatus is ContactStatus.JOINED else None, created_at=now,
            ))
    log(f"built {len(chain_corps)} chain corps, {len(contacts)} contacts, {len(down_corps)} joined corps")
    await _bulk(Corp, down_corps)
    await _bulk(OrgUnit, down_units)
    await _bulk(Person, persons)
    await _bulk(Member, down_members)
    await _bulk(Placement, down_seats)
    await AdminGrant.bulk_create([AdminGrant(corp_id=m.corp_id, member_id=m.id, kind=AdminKind.SUPER_ADMIN)
                                  for m in down_members])
    await _bulk(ChainCorp, chain_corps)
    log("chain corps written")
    await _bulk(ChainContact, contacts, batch=10_000)
    log("contacts written")
    some_corps = [c.id for c in chain_corps if c.status is ChainCorpStatus.JOINED][:10]
    await ChainRule.bulk_create([
        ChainRule(chain_id=chain_id, subject_unit_id=named["营销中心"].id, object_group_id=kinds["经销商"].id),
        ChainRule(chain_id=chain_id, subject_unit_id=named["采购部"].id, object_group_id=kinds["供应商"].id),
        ChainRule(chain_id=chain_id, subject_member_id=rule_member.id, object_group_id=kinds["物流商"].id),
        *(ChainRule(chain_id=chain_id, subject_member_id=rule_member.id, object_chain_corp_id=c) for c in some_corps),
    ])
    await _fix_sequences(ids)
    await create_bench_indexes()
    seconds = time.perf_counter() - started
    log("indexes and statistics")
    manifest = Manifest(
        scale=asdict(scale), corp_id=corp_id, root_unit_id=named["root"].id, super_admin_id=super_admin.id,
        scoped_member_id=scoped.id, same_rows_unit_id=named[SAME_ROWS_DIVISION].id, narrow_member_id=narrow.id,
        directory_admin_id=dir_admin.id, chain_id=chain_id, chain_admin_id=chain_admin.id,
        rule_member_id=rule_member.id, downstream_member_id=downstream_member_id,
        search={"name": "张伟", "pinyin": "zhangwei", "initials": "zw", "department": "营销"},
        generated_seconds=seconds,
    )
    await write_manifest(manifest)
    return manifest


async def _fix_sequences(ids: Ids) -> None:
    """Explicit ids leave PostgreSQL's sequences at 1: move them past the data."""
    from tortoise.connection import get_connection

    conn = get_connection("default")
    if conn.capabilities.dialect != "postgres":
        return
    for table, nxt in ids.next.items():
        await conn.execute_script(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), {nxt})")
    await conn.execute_script("SELECT setval(pg_get_serial_sequence('placement', 'id'), (SELECT MAX(id) FROM placement))")


# --- opening a cached dataset ----------------------------------------------------------------

async def open_dataset(db: str, scale: Scale, *, force: bool = False) -> tuple[str, Manifest]:
    """Initialise Tortoise on the dataset (generating it when missing) and return (url, manifest)."""
    from models.db import close_db, init_db

    if db == "sqlite":
        path = sqlite_path(scale)
        url = f"sqlite://{path}"
        if force and path.exists():
            path.unlink()
        if path.exists():
            await init_db(url, run_migrations=False)
            manifest = await read_manifest()
            if manifest is not None:
                await create_bench_indexes()
                return url, manifest
            await close_db()
            path.unlink()
        partial = path.with_suffix(".partial")
        partial.unlink(missing_ok=True)
        print(f"generating {path} ...", flush=True)
        await init_db(f"sqlite://{partial}")
        try:
            manifest = await generate(scale)
        finally:
            await close_db()
        partial.rename(path)
        await init_db(url, run_migrations=False)
        return url, manifest

    url = postgres_url(scale)
    name = url.rpartition("/")[2]
    app_url = postgres_app_url(url)
    exists = await _pg_admin(f"SELECT 1 FROM pg_database WHERE datname = '{name}'")
    if exists and not force:
        await init_db(app_url)  # migrations added since the dataset was built (only those run)
        manifest = await read_manifest()
        if manifest is not None:
            await create_bench_indexes()
            return app_url, manifest
        await close_db()
    if exists:
        await _pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    await _pg_admin(f'CREATE DATABASE "{name}"')
    print(f"generating PostgreSQL database {name} ...", flush=True)
    await init_db(app_url)
    return app_url, await generate(scale)


async def _main(args: argparse.Namespace) -> None:
    from models.db import close_db

    scale = Scale.of(args.scale)
    if args.db == "both":
        # One database per process: Tortoise caches SQL per model, in the first dialect it met.
        for db in ("sqlite", "postgres"):
            argv = [sys.executable, "-m", "bench.generate", "--db", db, "--scale", str(args.scale)]
            subprocess.run(argv + (["--force"] if args.force else []), check=True)
        return
    for db in [args.db]:
        started = time.perf_counter()
        url, manifest = await open_dataset(db, scale, force=args.force)
        try:
            from models import ChainContact, ChainCorp, Member, OrgUnit

            counts = {
                "units": await OrgUnit.filter(corp_id=manifest.corp_id).count(),
                "members": await Member.filter(corp_id=manifest.corp_id).count(),
                "chain corps": await ChainCorp.filter(chain_id=manifest.chain_id).count(),
                "contacts": await ChainContact.filter(chain_id=manifest.chain_id).count(),
            }
        finally:
            await close_db()
        print(f"{db}: {url}\n  ready in {time.perf_counter() - started:.1f} s "
              f"(generated in {manifest.generated_seconds:.1f} s): {counts}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", choices=["sqlite", "postgres", "both"], default="sqlite")
    parser.add_argument("--scale", type=float, default=1.0, help="1.0 = 50k members, 100k chain corps")
    parser.add_argument("--force", action="store_true", help="regenerate even when a cached copy exists")
    asyncio.run(_main(parser.parse_args()))


if __name__ == "__main__":
    main()
