"""A synthetic enterprise directory with near-duplicates, and a noisy evaluation set.

Entries: government bureaus in every district (the same bureau in other districts), bank
and chain outlets (brand outlets), hospitals and schools, and Faker zh_CN companies as the
bulk. Queries: what a caller says as a recogniser writes it: homophones, regional near-
homophones (n/l, z/zh, an/ang, f/h...), dropped or extra characters, aliases, sentence
frames and Vosk's word spacing. Absent queries name organisations that are not listed.
"""

from __future__ import annotations

import functools
import random
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass

from faker import Faker

from hotline.directory.build import core_name
from hotline.directory.pinyin import _tables, fuzzy, fuzzy_code
from hotline.directory.records import Entry

DISTRICTS = ["万州区", "渝中区", "江北区", "沙坪坝区", "九龙坡区", "南岸区", "北碚区", "渝北区", "巴南区", "涪陵区", "永川区", "合川区", "江津区", "綦江区", "大足区", "璧山区", "铜梁区", "潼南区", "荣昌区", "开州区", "梁平区", "武隆区", "黔江区", "长寿区", "南川区", "大渡口区", "城口县", "丰都县", "垫江县", "忠县", "云阳县", "奉节县", "巫山县", "巫溪县"]
BUREAUS = [("人力资源和社会保障局", "人社局|社保局"), ("市场监督管理局", "市场监管局|工商局"),
           ("公安局", "公安局"), ("民政局", "民政局"), ("教育委员会", "教委"), ("卫生健康委员会", "卫健委"),
           ("住房和城乡建设委员会", "住建委"), ("税务局", "税务局"), ("交通运输委员会", "交委"),
           ("生态环境局", "环保局"), ("医疗保障局", "医保局"), ("不动产登记中心", "不动产中心"),
           ("规划和自然资源局", "规划局"), ("退役军人事务局", "退役军人局"), ("司法局", "司法局"),
           ("农业农村委员会", "农委"), ("文化和旅游发展委员会", "文旅委"), ("城市管理局", "城管局")]
BANKS = [("中国工商银行", "工行|工商银行"), ("中国建设银行", "建行|建设银行"), ("中国农业银行", "农行|农业银行"),
         ("中国银行", "中行"), ("交通银行", "交行"), ("重庆农村商业银行", "农商行|重庆农商行"),
         ("招商银行", "招行"), ("中国邮政储蓄银行", "邮储银行|邮政银行")]
CHAINS = [("德庄火锅", "餐饮"), ("小天鹅火锅", "餐饮"), ("秦妈火锅", "餐饮"), ("重庆百货", "零售"),
          ("新世纪超市", "零售"), ("永辉超市", "零售"), ("中国移动营业厅", "通信"), ("中国电信营业厅", "通信"),
          ("桐君阁大药房", "医药"), ("和平药房", "医药")]
INDUSTRIES = ["科技", "商贸", "物流", "建筑", "餐饮", "文化传媒", "医药", "房地产", "汽车服务", "家政服务",
              "装饰工程", "农业开发", "信息技术", "教育咨询", "旅游", "酒店管理", "广告", "电子", "机械", "服装"]
FRAMES = ["{}", "{}", "帮我查一下{}的电话", "{}电话是多少", "我想找{}", "喂你好{}", "请问{}的号码",
          "麻烦查下{}", "{}的电话", "我要找一下{}"]


@dataclass(frozen=True)
class Query:
    text: str
    expected: str | None  # an entry id, or None for an organisation that is not listed
    redrawn: bool = False  # the first noise made it another listed name, word for word by ear


def build_directory(n: int, seed: int = 7) -> list[Entry]:
    rnd = random.Random(seed)
    fake = Faker("zh_CN")
    Faker.seed(seed)
    out: list[Entry] = []

    def add(name: str, aliases: str, industry: str, district: str, transfer: str = "") -> None:
        phone = f"023{rnd.randrange(10**7, 10**8)}"
        out.append(Entry(str(len(out) + 1), name, tuple(a for a in aliases.split("|") if a),
                         industry, district, f"{district}{rnd.randrange(1, 999)}号", phone,
                         transfer))

    for d in DISTRICTS:
        city = "重庆市" + d
        for bureau, alias in BUREAUS:
            add(city + bureau, alias, "政府机关", d, "PJSIP/departments")
        for bank, alias in BANKS:
            add(f"{bank}重庆{d[:-1]}支行", alias, "银行", d)
        for chain, industry in CHAINS:
            add(f"{chain}{d[:-1]}店", "", industry, d)
        add(f"重庆市{d[:-1]}人民医院", f"{d[:-1]}人民医院", "医院", d)
        add(f"重庆市{d[:-1]}中医院", f"{d[:-1]}中医院", "医院", d)
        add(f"{d[:-1]}第一中学", f"{d[:-1]}一中", "学校", d)
    pool = _brand_pool(fake, rnd)
    seen = {e.name for e in out}
    while len(out) < n:
        d = rnd.choice(DISTRICTS)
        industry = rnd.choice(INDUSTRIES)
        brand = rnd.choice(pool)
        name = f"重庆{brand}{industry}有限公司" if rnd.random() < 0.5 else \
            f"重庆市{d[:-1]}{brand}{industry}有限公司"
        if name in seen:
            continue
        seen.add(name)
        add(name, "", industry, d)
    return out[:n]


def _brand_pool(fake: Faker, rnd: random.Random) -> list[str]:
    words = sorted({fake.company_prefix() for _ in range(3000)})
    chars = [c for w in words for c in w]
    pool = set(words)
    while len(pool) < 60_000:
        pool.add(rnd.choice(chars) + rnd.choice(chars) + (rnd.choice(chars)
                                                          if rnd.random() < 0.3 else ""))
    return sorted(pool)


def _sound_tables() -> tuple[dict[str, list[str]], dict[str, list[str]], dict[str, str]]:
    readings, _ = _tables()
    common = {c for c, r in readings.items() if "\u4e00" <= c <= "\u9fa5"}
    same: dict[str, list[str]] = defaultdict(list)
    near: dict[str, list[str]] = defaultdict(list)
    for c in sorted(common)[:21000]:
        same[readings[c]].append(c)
        near[fuzzy(readings[c])].append(c)
    return same, near, readings


class Noise:
    def __init__(self, seed: int) -> None:
        self.rnd = random.Random(seed)
        self.same, self.near, self.readings = _sound_tables()

    def homophone(self, s: str, kind: str) -> str:
        positions = [i for i, c in enumerate(s) if c in self.readings]
        if not positions:
            return s
        i = self.rnd.choice(positions)
        r = self.readings[s[i]]
        options = self.same[r] if kind == "same" else self.near[fuzzy(r)]
        options = [c for c in options if c != s[i]]
        return s[:i] + self.rnd.choice(options) + s[i + 1:] if options else s

    def apply(self, s: str) -> str:
        for _ in range(self.rnd.choice((1, 1, 2))):
            k = self.rnd.random()
            if k < 0.4:
                s = self.homophone(s, "same")
            elif k < 0.75:
                s = self.homophone(s, "near")
            elif k < 0.88 and len(s) > 4:
                i = self.rnd.randrange(1, len(s) - 1)
                s = s[:i] + s[i + 1:]
            else:
                i = self.rnd.randrange(0, len(s) + 1)
                s = s[:i] + self.rnd.choice("的了啊呃那个") + s[i:]
        return s

    def spaced(self, s: str) -> str:
        out, i = [], 0
        while i < len(s):
            n = self.rnd.choice((1, 2, 2, 3))
            out.append(s[i:i + n])
            i += n
        return " ".join(out)


def _heard(noise: Noise, form: str, unclear: Callable[[str], bool]) -> tuple[str, bool]:
    """The name as the recogniser writes it, drawn again while that is another listed name;
    and whether it was drawn again."""
    for attempt in range(10):
        text = noise.apply(form)
        if not unclear(text):
            return text, attempt > 0
    return form, True


def build_queries(entries: list[Entry], present: int, absent: int,
                  seed: int = 11) -> list[Query]:
    noise = Noise(seed)
    rnd = noise.rnd
    # District forms as the index strips them (重庆市万州X公司 and 重庆X公司 share the name X).
    places = sorted({*DISTRICTS, *(d[:-1] for d in DISTRICTS if len(d) > 2)}, key=len,
                    reverse=True)
    # A name that sounds like another entry's (same fuzzy pinyin) cannot be told apart by
    # ear: the caller says where (the dialogue would ask which district anyway).
    by_core: dict[str, int] = defaultdict(int)
    by_sound: dict[str, set[tuple[str, str]]] = defaultdict(set)
    for e in entries:
        core = core_name(e.name, places)
        by_core[core] += 1
        for name in (core, e.name, *e.aliases):
            by_sound[fuzzy_code(name)].add((e.phone, e.district))
        for a in e.aliases:
            by_core[a] += 1

    def sounds_like_another(text: str, *, e: Entry, where: str | None) -> bool:
        """The noise made the name another listed organisation's, word for word by ear."""
        heard = by_sound.get(fuzzy_code(text), set()) | \
            {(p, d) for p, d in by_sound.get(fuzzy_code(core_name(text, places)), set())
             if where is None or d == e.district}
        return any(p != e.phone for p, _ in heard)

    queries: list[Query] = []
    for e in rnd.sample(entries, present):
        forms = [e.name, core_name(e.name, places), *e.aliases]
        form = rnd.choice(forms)
        where = None
        if by_core.get(form, 0) > 1 or len({p for p, _ in by_sound.get(fuzzy_code(form),
                                                                       ())}) > 1:
            where = rnd.choice((e.district, e.district[:-1] if len(e.district) > 2 else
                                e.district))
            form = where + form  # a shared name: the caller says where
        text, redrawn = form, False
        if len(form) >= 4:
            text, redrawn = _heard(noise, form, functools.partial(sounds_like_another, e=e, where=where))
        queries.append(Query(noise.spaced(rnd.choice(FRAMES).format(text)), e.id, redrawn))
    fake = Faker("zh_CN")
    Faker.seed(seed)
    taken = set(by_sound)
    made = 0
    absent_kinds = ["气象局", "档案馆", "地震局", "科学技术协会", "红十字会", "侨务办公室"]
    while made < absent:
        if made % 3 == 0:
            name = "重庆市" + rnd.choice(DISTRICTS) + rnd.choice(absent_kinds)
        else:
            name = fake.company()
        if fuzzy_code(name) in taken or fuzzy_code(core_name(name, places)) in taken:
            continue
        queries.append(Query(noise.spaced(rnd.choice(FRAMES).format(name)), None))
        made += 1
    rnd.shuffle(queries)
    return queries
