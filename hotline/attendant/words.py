"""Reading the caller's short answers, and saying times in words. Pure functions."""

from __future__ import annotations

import re
from datetime import datetime

_SPACE = re.compile(r"[\s,，。.!！?？、~]+")
_NO = re.compile(r"不是|不对|不用|不要|没有|没了|错了|不需要|算了|^不$|^否|^没$")
_YES = re.compile(r"是|对|嗯|好|行|可以|没错|要|需要|转")
_ADD = r"要?补充(一下|一点|几句)?"  # 还有补充吗？ - 还有补充 / 我要补充
_MORE = re.compile(rf"(嗯|是的?|对)?我?(有|还有|有的|有啊|还有一个|有一个|还要|还想|还有问题"
                   rf"|{_ADD})(的|啊|呀)?({_ADD})?(的|啊|呀)?")
_AGAIN = re.compile(r"^(还有|还要|还想|另外|那再|再)(一个|一家|帮我|给我)?"
                    r"(查一下|问一下|查查|查|问)?")
_PERSON = re.compile(r"人工|接线员|话务员|真人|转人|客服")


def squeeze(text: str) -> str:
    return _SPACE.sub("", text)


def yes_no(text: str) -> bool | None:
    """是/对/对的/好的… -> True; 不是/不对/不用… -> False; anything else -> None."""
    t = squeeze(text)
    if not t:
        return None
    if _NO.search(t):
        return False
    return True if _YES.search(t) else None


def more_matters(text: str) -> bool | None:
    """The answer to "还有其它问题吗？": False for no, True for yes, None when it is neither
    (then it is likely a new request in its own right)."""
    t = squeeze(text)
    if not t:
        return False
    if _NO.search(t) or t in ("谢谢", "谢谢你", "好的谢谢", "再见"):
        return False
    if _MORE.fullmatch(t):
        return True
    return None


def new_request(text: str) -> str:
    """"还有 建行" / "再查一下农行": the request itself, without the words that say it is
    another one."""
    return _AGAIN.sub("", squeeze(text)) or text


def asks_for_person(text: str) -> bool:
    return bool(_PERSON.search(squeeze(text)))


def spoken_time(at: datetime) -> str:
    """12月3日下午5点半: the due time as the caller hears it (local time of ``at``)."""
    hour, minute = at.hour, at.minute
    part = "凌晨" if hour < 6 else "上午" if hour < 12 else "中午" if hour < 13 else \
        "下午" if hour < 18 else "晚上"
    h12 = hour if hour <= 12 else hour - 12
    tail = "" if minute == 0 else "半" if minute == 30 else f"{minute}分"
    return f"{at.month}月{at.day}日{part}{h12}点{tail}"
