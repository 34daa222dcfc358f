"""The knowledge-base relevance fixture: knowledge/sample.yaml's items plus the compact ones
of tests/data/knowledge_more.txt (200 in all), the 100 caller questions of
tests/data/knowledge_questions.txt, and the 10k-item set the bench searches (the 200 as each
town's service centre publishes them)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import yaml

from hotline.knowledge.items import Item, parse_item

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "tests" / "data"
MORE = 142
TOWNS = (  # noqa: SIM905
    "高笋塘 太白 牌楼 双河口 龙都 周家坝 沙河 钟鼓楼 百安坝 五桥 陈家坝 九池 天城 熊家 "
    "小周 大周 新田 武陵 瀼渡 甘宁 李河 分水 余家 后山 弹子 长岭 龙沙 响水 孙家 高峰 "
    "龙驹 长滩 白羊 太安 罗田 溪口 燕山 长坪 梨树 普子 地宝 恒合 太龙 铁峰 白土 走马 "
    "柱山 黄柏 郭村 茨竹").split()


def _unit(short: str) -> str:
    if short.startswith(("国家", "重庆市")):
        return short
    if short == "税务局":
        return "国家税务总局重庆市万州区税务局"
    if short.startswith("住房公积金"):
        return "重庆市" + short
    return "重庆市万州区" + short


def _compact(line: str) -> dict[str, object]:
    item_id, title, unit, keywords, materials = line.split("|")
    return {"id": item_id, "title": title, "unit": _unit(unit),
            "basis": f"《{title}》相关法律法规和万州区办事指南",
            "time_limit": "材料齐全的当场受理，承诺时限内办结",
            "procedure": f"申请人提交{title}申请和材料，窗口受理审核，符合条件的办结并告知结果",
            "materials": materials.split("、"), "fees": "按规定收费，无规定的不收费",
            "where_when": f"{_unit(unit)}办事窗口，工作日 9:00-12:00、13:30-17:30",
            "refusal": "材料不齐全的一次性告知补正内容；不符合条件的书面说明理由",
            "keywords": keywords.split("、"), "effective": date(2025, 1, 1),
            "review": date(2026, 12, 31)}


def raw_items() -> list[dict[str, object]]:
    sample = yaml.safe_load((ROOT / "knowledge" / "sample.yaml").read_text(encoding="utf-8"))
    lines = [x for x in (DATA / "knowledge_more.txt").read_text(encoding="utf-8").splitlines()
             if x.strip() and not x.startswith("#")]
    return [*sample["items"], *(_compact(x) for x in lines[:MORE])]


def _parsed(raws: list[dict[str, object]]) -> list[Item]:
    out = []
    for raw in raws:
        item, problems = parse_item(raw, str(raw.get("id")))
        assert item is not None, problems
        out.append(item)
    return out


def items() -> list[Item]:
    """The 200 items of the relevance fixture."""
    return _parsed(raw_items())


def questions() -> list[tuple[str, str]]:
    """(question, the id of the item that answers it), 100 of them."""
    lines = (DATA / "knowledge_questions.txt").read_text(encoding="utf-8").splitlines()
    return [(q, i) for q, i in (x.split("|") for x in lines if x.strip() and
                                not x.startswith("#"))]


def bench_items(count: int = 10_000) -> list[Item]:
    """``count`` items: the 200 as the towns' service centres publish them, renamed."""
    base = raw_items()
    out: list[dict[str, object]] = []
    for town in TOWNS:
        for raw in base:
            if len(out) == count:
                return _parsed(out)
            out.append(dict(raw, id=f"{raw['id']}-{len(out)}",
                            title=f"{raw['title']}（{town}）"[:80],
                            where_when=f"{town}便民服务中心，工作日 9:00-17:00"))
    return _parsed(out)
