"""Name normalisation and search keys (pinyin with surname readings)."""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

from pypinyin import Style, lazy_pinyin

from flows.errors import FlowError

# Surnames whose reading differs from the character's common reading (姓氏读音), as the
# 现代汉语词典 gives them; pypinyin reads the character as a word (单 dan, 六 liu, 乜 mie).
# Compound surnames first so that they win over their first character. A surname pypinyin
# already reads right needs no entry (尉 wei and 宓 mi alone; 尉迟 yu chi).
# Changing a reading changes stored search keys: models/migrations/0008_search recomputes them.
SURNAME_READINGS: dict[str, list[str]] = {
    "尉迟": ["yu", "chi"], "万俟": ["mo", "qi"], "长孙": ["zhang", "sun"], "单于": ["chan", "yu"],
    "澹台": ["tan", "tai"], "宇文": ["yu", "wen"], "令狐": ["ling", "hu"], "乐正": ["yue", "zheng"],
    "单": ["shan"], "曾": ["zeng"], "解": ["xie"], "仇": ["qiu"], "朴": ["piao"], "查": ["zha"],
    "区": ["ou"], "盖": ["ge"], "缪": ["miao"], "覃": ["qin"], "翟": ["zhai"], "乐": ["yue"],
    "沈": ["shen"], "秘": ["bi"], "种": ["chong"], "员": ["yun"], "貟": ["yun"], "繁": ["po"],
    "折": ["she"], "召": ["shao"], "都": ["du"], "隗": ["wei"], "阚": ["kan"], "华": ["hua"],
    "任": ["ren"], "纪": ["ji"], "过": ["guo"], "薄": ["bo"], "黑": ["he"], "句": ["gou"],
    "逄": ["pang"], "叶": ["ye"], "贾": ["jia"], "莘": ["shen"], "藏": ["zang"],
    "粘": ["nian"], "六": ["lu"], "乜": ["nie"], "洗": ["xian"], "么": ["yao"], "能": ["nai"],
    "佴": ["nai"], "蕃": ["pi"], "祭": ["zhai"], "重": ["chong"], "卜": ["bu"], "角": ["jue"],
    "校": ["jiao"], "沓": ["ta"], "炅": ["gui"], "适": ["kuo"],
}

_SPACES = re.compile(r"\s+")


def bounded_name(text: str, most: int, what: str) -> str:
    """`text` stripped, when it has 1 to `most` characters. Code: INVALID_NAME (field `name`),
    "<what> has 1 to <most> characters." otherwise (`what`: e.g. "A chain name")."""
    name = text.strip()
    if not 1 <= len(name) <= most:
        raise FlowError("INVALID_NAME", f"{what} has 1 to {most} characters.", "name")
    return name


def normalise_corp_name(name: str) -> str:
    """Full-width to half-width, case and spaces folded: the key corp names are matched on."""
    folded = unicodedata.normalize("NFKC", name).casefold()
    return _SPACES.sub("", folded).replace("（", "(").replace("）", ")")


_SURNAMES_LONGEST_FIRST = sorted(SURNAME_READINGS, key=len, reverse=True)


def _syllables(name: str) -> list[str]:
    for surname in _SURNAMES_LONGEST_FIRST:
        if name.startswith(surname) and len(name) > len(surname):
            return SURNAME_READINGS[surname] + lazy_pinyin(name[len(surname):], style=Style.NORMAL)
    return lazy_pinyin(name, style=Style.NORMAL)


@lru_cache(maxsize=65536)
def search_keys(name: str) -> tuple[str, str, str]:
    """(full pinyin, initials, surname initial) for a person's name, lower-case ASCII where possible.
    Kept for the last names asked (an import meets the same names again and again)."""
    syllables = [s.lower() for s in _syllables(name.strip()) if s.strip()]
    full = "".join(syllables).replace(" ", "")
    initials = "".join(s[0] for s in syllables if s)
    first = initials[:1] if initials[:1].isascii() and initials[:1].isalpha() else "#"
    return full, initials, first
