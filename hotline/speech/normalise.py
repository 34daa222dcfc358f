"""What a recogniser says, made fit for the lookup and the intent rules: one function.

Whisper (and to a lesser degree Vosk) gives text the directory does not expect: traditional
characters, punctuation, full-width letters and digits, numbers spoken as characters, and,
on silence or noise, the subtitle credits it learnt from video ("谢谢观看", "字幕由…提供").
``normalise`` folds all of that; the step's expectation decides how numbers are read.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Callable

# Whisper's known inventions on silence, music and noise (seen in Chinese output), removed
# wherever they appear. Compared after folding: simplified, lower case, no punctuation, a
# space only between words of other scripts.
FILLERS = (
    "请不吝点赞订阅转发打赏支持明镜与点点栏目", "明镜与点点栏目", "明镜需要您的支持",
    "字幕由amara org社区提供", "amara org", "中文字幕志愿者", "字幕志愿者", "字幕制作",
    "优优独播剧场yoyo television series exclusive", "yoyo television series exclusive",
    "谢谢观看", "感谢观看", "感谢收看", "谢谢收看", "谢谢大家观看", "欢迎订阅", "请订阅",
    "点赞订阅", "订阅我的频道", "这次的影片请按赞订阅按赞分享", "请按赞订阅分享",
    "我们下期再见", "下期再见", "本期视频就到这里",
)
_CREDIT = re.compile(r"(字幕|翻译|校对|时间轴)[由:：]?.{0,20}?(提供|制作)")
_DIGIT_WORDS = {"零": "0", "〇": "0", "○": "0", "洞": "0", "幺": "1", "一": "1", "壹": "1",
                "二": "2", "两": "2", "贰": "2", "三": "3", "叁": "3", "四": "4", "肆": "4",
                "五": "5", "伍": "5", "六": "6", "陆": "6", "七": "7", "柒": "7", "拐": "7",
                "八": "8", "捌": "8", "九": "9", "玖": "9", "勾": "9"}
_SPOKEN_RUN = re.compile(f"[{''.join(_DIGIT_WORDS)}]{{4,}}")  # 4+: a number, not a name
# what callers say around a number they give ("嗯 稍等 我的手机号码是…")
_NUMBER_TALK = re.compile("我的|手机|电话|号码|号|是|嗯|啊|呃|额|哦|好的|好|稍等|等等|等|"
                          "我看看|我看|我找|一下|那个")
_DROP = re.compile(r"[\s\W_]+", re.UNICODE)  # punctuation, spaces, symbols
_HAN = "\u3400-\u9fff\uf900-\ufaff0-9"
_JOINED = re.compile(f"(?<=[{_HAN}]) | (?=[{_HAN}])")  # no space beside a Han character or digit


@functools.lru_cache(maxsize=1)
def _to_simplified() -> Callable[[str], str]:
    try:
        import opencc
    except ImportError:  # without OpenCC only the folding below applies
        return lambda text: text
    return opencc.OpenCC("t2s").convert


def digits_of(text: str) -> str:
    """Every digit the text speaks or writes, in order (for an expected number)."""
    folded = unicodedata.normalize("NFKC", text)
    return "".join(_DIGIT_WORDS.get(ch, ch) for ch in folded
                   if ch.isdigit() or ch in _DIGIT_WORDS)


def number_said(text: str) -> str | None:
    """The digits of words that say nothing but (part of) a number and the talk around one:
    "我的电话是幺三八" -> "138", "稍等一下" -> ""; None for words that say more (三楼着火了)."""
    rest = _NUMBER_TALK.sub("", unicodedata.normalize("NFKC", text))
    if all(ch.isdigit() or ch in _DIGIT_WORDS or ch.isspace() for ch in rest):
        return digits_of(rest)
    return None


def normalise(text: str, *, digits: bool = False) -> str:
    """Simplified, folded, unpunctuated text without fillers; ``digits``: the step expects
    a number, so every spoken digit becomes one (otherwise only runs of four or more, since
    names such as 第一中学 or 三峡银行 hold digit characters)."""
    text = unicodedata.normalize("NFKC", text)  # full-width letters, digits and spaces
    text = _to_simplified()(text).lower()
    text = _CREDIT.sub("", text)
    text = _JOINED.sub("", _DROP.sub(" ", text).strip())
    for filler in FILLERS:
        text = text.replace(filler, "")
    text = text.strip()
    if digits:
        return digits_of(text) or text
    return _SPOKEN_RUN.sub(lambda m: "".join(_DIGIT_WORDS[c] for c in m.group()), text)
