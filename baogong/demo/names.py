"""Realistic Chinese names for people and places, drawn from a seeded `random.Random`.

Plain module (no ORM): the demo district (`load_demo`) and the synthetic city
(`make_city`, benchmarks) share it, so both read like a real register.
Every function takes the generator as its first argument and never touches
the global `random` state, so the same seed gives the same names everywhere.
"""

from __future__ import annotations

import itertools
import random
from collections.abc import Collection
from enum import Enum

# fmt: off
# The most common surnames with rough weights (per mille of the population), so
# a register of a thousand people has many 王, 李 and 张 and a few 覃 and 向.
_SURNAMES: tuple[tuple[str, float], ...] = (
    ("王", 71), ("李", 72), ("张", 68), ("刘", 53), ("陈", 46), ("杨", 31), ("黄", 23),
    ("赵", 22), ("吴", 20), ("周", 19), ("徐", 16), ("孙", 15), ("马", 14), ("朱", 13),
    ("胡", 13), ("郭", 12), ("何", 12), ("高", 11), ("林", 11), ("罗", 10), ("郑", 10),
    ("梁", 9), ("谢", 8), ("宋", 7), ("唐", 7), ("许", 6), ("韩", 6), ("冯", 6), ("邓", 6),
    ("曹", 6), ("彭", 5), ("曾", 5), ("肖", 5), ("田", 5), ("董", 5), ("袁", 4), ("潘", 4),
    ("于", 4), ("蒋", 4), ("蔡", 4), ("余", 4), ("杜", 4), ("叶", 4), ("程", 4), ("苏", 3),
    ("魏", 3), ("吕", 3), ("丁", 3), ("任", 3), ("沈", 3), ("姚", 3), ("卢", 3), ("姜", 3),
    ("崔", 3), ("钟", 3), ("谭", 3), ("陆", 3), ("汪", 3), ("范", 3), ("金", 3), ("石", 3),
    ("廖", 3), ("贾", 2), ("夏", 2), ("韦", 2), ("付", 2), ("方", 2), ("白", 2), ("邹", 2),
    ("孟", 2), ("熊", 2), ("秦", 2), ("邱", 2), ("江", 2), ("尹", 2), ("薛", 2), ("闫", 2),
    ("段", 2), ("雷", 2), ("侯", 2), ("龙", 2), ("史", 2), ("陶", 2), ("黎", 2), ("贺", 2),
    ("顾", 2), ("毛", 2), ("郝", 2), ("龚", 2), ("邵", 2), ("万", 2), ("钱", 2), ("严", 2),
    ("覃", 1), ("武", 1), ("戴", 1), ("莫", 1), ("孔", 1), ("向", 1), ("汤", 1), ("欧阳", 0.5),
)
# fmt: on
SURNAMES: tuple[str, ...] = tuple(s for s, _ in _SURNAMES)
# Cumulative, so each draw is a bisect rather than a sum over the table (a
# 100,000-household city draws a surname per person).
_SURNAME_CUM_WEIGHTS: tuple[float, ...] = tuple(itertools.accumulate(w for _, w in _SURNAMES))


class Gender(Enum):
    MALE = "m"
    FEMALE = "f"


class Generation(Enum):
    """Given names follow fashions; an 80-year-old is rarely called 梓涵."""

    ELDER = "elder"  # born 1940s–1960s
    ADULT = "adult"  # born 1965–2000
    CHILD = "child"  # born after 2005


# Whole given names typical of each generation, and characters that compose
# more of them, so that a large city does not repeat the same few names.
# fmt: off
_GIVEN: dict[tuple[Generation, Gender], tuple[tuple[str, ...], str, str]] = {
    (Generation.ELDER, Gender.MALE): (
        ("建国", "国华", "德明", "志强", "建华", "国庆", "振华", "长春", "文斌", "保国", "树林",
         "德才", "永福", "玉林", "富贵", "正清", "家富", "春生", "金山", "德胜"),
        "建国德志永振玉长文保树家正春金光富庆",
        "国华明强民林才福山生胜清贵华祥元荣海",
    ),
    (Generation.ELDER, Gender.FEMALE): (
        ("秀英", "桂英", "秀兰", "玉兰", "桂兰", "淑珍", "凤英", "玉梅", "秀珍", "素芬", "玉珍",
         "翠花", "桂芳", "秀云", "淑华", "金凤", "凤兰", "玉华", "巧云", "素琴"),
        "秀桂玉淑凤翠素金巧月春爱美丽",
        "英兰珍梅芳云华凤琴芬霞莲花香",
    ),
    (Generation.ADULT, Gender.MALE): (
        ("伟", "强", "磊", "军", "勇", "杰", "涛", "斌", "超", "明", "刚", "鹏", "志刚", "晓东",
         "建军", "海波", "永强", "俊杰", "文博", "浩", "宇", "亮", "建平", "国强", "立新"),
        "志晓建海永俊文国立宏明德子家鹏浩云",
        "刚东军波强杰博涛平新伟斌华明峰宇辉龙",
    ),
    (Generation.ADULT, Gender.FEMALE): (
        ("敏", "静", "丽", "艳", "娟", "霞", "燕", "芳", "玲", "婷", "海燕", "丽娟", "晓红",
         "小燕", "春梅", "雪梅", "慧敏", "文静", "红梅", "晓丽", "丹", "倩", "娜", "颖", "琳"),
        "海丽晓小春雪慧文红美秀月佳玉静婷",
        "燕娟红梅丽敏静霞琴芳玲艳萍洁婷颖",
    ),
    (Generation.CHILD, Gender.MALE): (
        ("浩然", "子轩", "宇轩", "梓豪", "俊熙", "一鸣", "子墨", "浩宇", "博文", "皓轩", "睿",
         "沐阳", "梓睿", "奕辰", "宇航", "子豪", "铭泽", "思远", "嘉懿", "天佑"),
        "浩子宇梓俊一博皓沐奕铭思嘉天睿明",
        "然轩豪熙鸣墨宇文辰航泽远懿佑睿阳",
    ),
    (Generation.CHILD, Gender.FEMALE): (
        ("子涵", "欣怡", "梓涵", "一诺", "思涵", "雨桐", "诗涵", "梓萱", "可欣", "雨涵", "语嫣",
         "欣妍", "佳怡", "若汐", "紫涵", "梦琪", "心怡", "依诺", "雨萱", "安琪"),
        "子欣梓一思雨诗可语佳若紫梦心依安",
        "涵怡萱诺桐欣嫣妍汐琪冉然瑶彤琳",
    ),
}
# fmt: on


def surname(rng: random.Random) -> str:
    """Draw a surname, common ones more often."""
    return rng.choices(SURNAMES, cum_weights=_SURNAME_CUM_WEIGHTS)[0]


def given_name(rng: random.Random, gender: Gender, generation: Generation) -> str:
    """Draw a given name fitting the person's gender and generation."""
    whole, first_chars, second_chars = _GIVEN[(generation, gender)]
    if rng.random() < 0.5:
        return rng.choice(whole)
    name = rng.choice(first_chars) + rng.choice(second_chars)
    # Composed names like 明明 read as nicknames on a register; redraw the second.
    while name[0] == name[1]:
        name = name[0] + rng.choice(second_chars)
    return name


def person_name(
    rng: random.Random,
    *,
    family: str | None = None,
    gender: Gender | None = None,
    generation: Generation = Generation.ADULT,
    taken: Collection[str] = (),
) -> str:
    """Draw a full name (surname + given name) that is not in `taken`.

    `taken` holds names already used in the same household: the register keys
    a person by household and name, so two members never share one.
    """
    gender = gender or rng.choice((Gender.MALE, Gender.FEMALE))
    for _attempt in range(50):
        name = (family or surname(rng)) + given_name(rng, gender, generation)
        if name not in taken:
            return name
    # Fifty clashes in a household of five cannot happen with these pools, but a
    # caller passing a huge `taken` must still get an answer, not a loop.
    base = (family or surname(rng)) + given_name(rng, gender, generation)
    suffix = 2
    while f"{base}{suffix}" in taken:
        suffix += 1
    return f"{base}{suffix}"


# --- places ------------------------------------------------------------------

# Words that real street offices, communities and compounds are named after:
# landmarks, rivers, virtues, flowers, and the 1950s–1990s vocabulary of work units.
# fmt: off
PLACE_WORDS: tuple[str, ...] = (
    "长虹", "锦绣", "阳光", "幸福", "汉江", "春华", "翠苑", "金色", "丽景", "御景", "东方",
    "滨江", "清河", "紫荆", "桂花", "和平", "建设", "人民", "园林", "红星", "新华", "银河",
    "天润", "富康", "泰和", "永安", "盛世", "怡景", "龙湖", "碧桂", "凤凰", "明珠", "檀溪",
    "襄江", "鹿门", "荆山", "胜利", "前进", "光明", "团结", "友谊", "华联", "祥和", "兴业",
    "嘉禾", "润华", "恒大", "宏发", "振兴", "民主", "解放", "朝阳", "向阳", "东风", "星光",
    "绿洲", "学府", "书香", "铁路", "电力", "纺织", "机电", "航空", "化纤", "邮电", "柳林",
    "樱花", "枫林", "松鹤", "梧桐", "青山", "白云", "北苑", "南湖", "西园",
)
COMPOUND_SUFFIXES: tuple[str, ...] = (
    "小区", "小区", "小区", "花园", "家园", "苑", "新村", "公寓", "名都", "华府", "雅居", "城",
    "佳园", "宿舍",
)
_PHASES: tuple[str, ...] = ("二期", "三期", "四期", "五期", "六期", "七期", "八期", "九期")
# fmt: on


def place_name(rng: random.Random, suffix: str, taken: Collection[str]) -> str:
    """Draw '<word><suffix>' (e.g. 汉江社区) not in `taken`; number it when the words run out."""
    for _attempt in range(20):
        name = rng.choice(PLACE_WORDS) + suffix
        if name not in taken:
            return name
    base = rng.choice(PLACE_WORDS)
    number = 2
    while f"{base}{number}{suffix}" in taken:
        number += 1
    return f"{base}{number}{suffix}"


def compound_name(rng: random.Random, taken: Collection[str]) -> str:
    """Draw a compound name (锦绣花园, 长虹小区…) not in `taken`.

    When a name is taken, the newer estate becomes its second phase (锦绣花园二期),
    which is how real developers name them.
    """
    for _attempt in range(20):
        name = rng.choice(PLACE_WORDS) + rng.choice(COMPOUND_SUFFIXES)
        if name not in taken:
            return name
    base = rng.choice(PLACE_WORDS) + rng.choice(COMPOUND_SUFFIXES)
    for phase in _PHASES:
        if base + phase not in taken:
            return base + phase
    number = 10
    while f"{base}{number}期" in taken:
        number += 1
    return f"{base}{number}期"
