"""Forbidden service phrases (服务禁语) of 003 附件, with the situation they belong to and the
polite phrasing to use instead; ``flag`` finds them in what an operator said. Pure data and
logic for the supervisor's inspection list (003 巡查制度: 服务用语规范)."""

from __future__ import annotations

import re
from dataclasses import dataclass

# (situation, polite alternative, forbidden phrases)
RULES: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("服务对象来电/到来时", "您好，请问有什么可以帮您？",
     ("你有什么事", "你要干什么", "叫你没听见吗")),
    ("服务对象咨询问题时", "您好，我来向您详细解释……",
     ("自己看去", "资料上都写着", "不是告诉你了吗", "怎么还不明白", "你要我说多少遍",
      "有完没完")),
    ("不清楚或不能处理时", "对不起，让我问问同事（领导），再回答您，好吗？",
     ("我不懂", "我不管", "不知道", "不清楚", "不归我管", "找别人去")),  # the last three: 推诿
    ("没有听清时", "对不起，麻烦您再重复一遍，好吗？", ("声音大点", "说清楚点")),
    ("需要服务对象等候时", "请稍候，我正在为您办理。",
     ("我正忙着呢", "没看见我正忙着吗", "急什么", "等等又怎么啦")),
    ("服务对象投诉、建议或情绪激动时",
     "非常感谢您告诉我们工作中的问题，请您留下姓名和电话号码，我们处理后尽快与您联系。",
     ("就这样，没办法", "没办法", "等着吧", "到别的地方去", "我就这样，怎么了",
      "爱到哪告就到哪告", "写去")),
    ("设备故障时", "请原谅，系统暂时通讯不畅，我们正在联系中，请稍候。",
     ("又不是我让它坏的", "我怎么知道什么时间能修好")),
)


@dataclass(frozen=True)
class Finding:
    phrase: str
    situation: str
    instead: str


def _loose(phrase: str) -> re.Pattern[str]:
    """Tolerate recogniser spacing and punctuation between characters."""
    chars = [re.escape(c) for c in phrase if c not in "，,。 "]
    return re.compile(r"[\s，,。]*".join(chars))


_PATTERNS = [(p, _loose(p), situation, instead)
             for situation, instead, phrases in RULES for p in phrases]


def flag(text: str) -> list[Finding]:
    found: list[Finding] = []
    for phrase, pattern, situation, instead in _PATTERNS:
        if pattern.search(text) and not any(phrase in f.phrase for f in found):
            found.append(Finding(phrase, situation, instead))
    return found
