"""SPEC §3.7: surnames are read in their surname pronunciation (姓氏读音), so a member is
found by the pinyin people say; and the migration that brings the readings recomputes the
keys already stored."""

from __future__ import annotations

from datetime import date
from types import SimpleNamespace

import pytest
from pypinyin import Style, lazy_pinyin
from tortoise.connection import get_connection

from flows.names import search_keys
from models import Member
from tests import factories as f

# (name, full pinyin, initials): surnames pypinyin reads as the common word. Each row is
# one that pypinyin alone gets wrong (checked below), so the table is what fixes it.
HETERONYM_SURNAMES = [
    ("单田芳", "shantianfang", "stf"), ("曾志强", "zengzhiqiang", "zzq"), ("解缙", "xiejin", "xj"),
    ("仇英", "qiuying", "qy"), ("朴槿惠", "piaojinhui", "pjh"), ("查良镛", "zhaliangyong", "zly"),
    ("区丽芳", "oulifang", "olf"), ("盖叫天", "gejiaotian", "gjt"), ("缪晓明", "miaoxiaoming", "mxm"),
    ("覃海", "qinhai", "qh"), ("翟天临", "zhaitianlin", "ztl"), ("乐嘉", "yuejia", "yj"),
    ("秘书文", "bishuwen", "bsw"), ("种师道", "chongshidao", "csd"), ("员明", "yunming", "ym"),
    ("貟丽", "yunli", "yl"), ("繁钦", "poqin", "pq"), ("折从阮", "shecongruan", "scr"),
    ("召忠", "shaozhong", "sz"), ("都明", "duming", "dm"), ("隗嚣", "weixiao", "wx"),
    ("阚泽", "kanze", "kz"), ("薄熙", "boxi", "bx"), ("黑明", "heming", "hm"),
    ("句明", "gouming", "gm"), ("藏明", "zangming", "zm"), ("粘伟", "nianwei", "nw"),
    ("六明", "luming", "lm"), ("乜伟", "niewei", "nw"), ("洗明", "xianming", "xm"),
    ("么明", "yaoming", "ym"), ("能明", "naiming", "nm"), ("佴明", "naiming", "nm"),
    ("蕃明", "piming", "pm"), ("祭明", "zhaiming", "zm"), ("重明", "chongming", "cm"),
    ("卜明", "buming", "bm"), ("角明", "jueming", "jm"), ("校明", "jiaoming", "jm"),
    ("沓明", "taming", "tm"), ("炅明", "guiming", "gm"), ("适明", "kuoming", "km"),
    ("乐正明", "yuezhengming", "yzm"),
]
# Read right by pypinyin already: no entry needed, and none may spoil them.
ALREADY_RIGHT = [
    ("尉迟恭", "yuchigong", "ycg"), ("万俟卨", "moqixie", "mqx"), ("单于丽", "chanyuli", "cyl"),
    ("澹台明", "tantaiming", "ttm"), ("长孙无忌", "zhangsunwuji", "zswj"), ("令狐冲", "linghuchong", "lhc"),
    ("尉缭", "weiliao", "wl"), ("宓明", "miming", "mm"), ("沈伟", "shenwei", "sw"), ("张三", "zhangsan", "zs"),
]


def test_the_table_covers_at_least_30_surnames_pypinyin_misreads():
    misread = [name for name, full, _ in HETERONYM_SURNAMES if "".join(lazy_pinyin(name, style=Style.NORMAL)) != full]
    assert len(misread) == len(HETERONYM_SURNAMES) >= 30


@pytest.mark.parametrize("name, full, initials", HETERONYM_SURNAMES + ALREADY_RIGHT)
def test_surnames_are_read_in_their_surname_pronunciation(name, full, initials):
    assert search_keys(name) == (full, initials, initials[0])


SEARCH = """
query($c: ID!, $q: String!) { corp(id: $c) { searchMembers(query: $q) { edges { node { name } } } } }
"""


async def test_members_with_heteronym_surnames_are_found_by_their_pinyin(gql):
    corp, root = await f.corp()
    boss = await f.super_admin(root)
    for name in ("粘伟", "六明", "乜伟"):
        await f.member([root], name=name)
    for term, name in (("nianwei", "粘伟"), ("lum", "六明"), ("niew", "乜伟"), ("nw", "粘伟")):
        data = await gql.ok(SEARCH, {"c": f.gid("Corp", corp.id), "q": term}, token=f.token(boss))
        assert name in [e["node"]["name"] for e in data["corp"]["searchMembers"]["edges"]], term


async def test_the_search_migration_recomputes_stored_keys_and_birth_months(database):
    """Rows written before 0008 hold pypinyin's readings and no birth month: the migration's
    data step fixes exactly those, and a second run changes nothing."""
    from importlib import import_module

    recompute = import_module("models.migrations.0008_search").recompute_search_keys
    corp, root = await f.corp()
    stale = await f.member([root], name="粘伟", birthday=date(1990, 4, 5))
    right = await f.member([root], name="张三")
    await Member.filter(id=stale.id).update(pinyin_full="zhanwei", pinyin_initials="zw", surname_initial="z",
                                            birth_month=None)
    editor = SimpleNamespace(client=get_connection("default"))
    await recompute(None, editor)
    row = await Member.get(id=stale.id)
    assert (row.pinyin_full, row.pinyin_initials, row.surname_initial, row.birth_month) == ("nianwei", "nw", "n", 4)
    before = await Member.get(id=right.id)
    await recompute(None, editor)
    after = await Member.get(id=right.id)
    assert (after.pinyin_full, after.updated_at) == (before.pinyin_full, before.updated_at)
