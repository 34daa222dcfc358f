"""What a caller (or a recogniser) says, reduced to what to look up: the word spacing, the
punctuation, the greetings and the sentence frames (帮我查一下…的电话, …电话是多少) go."""

from __future__ import annotations

import re

_INTERJECTION = re.compile(r"[啊呃嗯]")  # hesitations, anywhere; never part of a name
_SPACE = re.compile(r"[\s\u3000,，。.!！?？、;；:：\"'“”‘’()（）\[\]【】<>《》~～-]+")
_PREFIX = re.compile(
    r"^(?:喂+|哎|嗯+|呃+|啊+|那个|这个|你好|您好|请问|麻烦(?:你|您)?|劳驾|谢谢|"
    r"(?:我|俺)?(?:想|要|需要)?(?:帮我|给我|帮忙)?(?:查|找|问|打|联系|要)(?:一下|下|一查|查|找)?|"
    r"帮(?:我|忙)?|给我|我(?:想|要|需要)(?:知道|问问?)?|能不能|可以|告诉我)")
_SUFFIX = re.compile(
    r"(?:的?(?:电话号码|电话|号码|联系电话|联系方式|座机|热线)(?:是多少|多少|是什么|是)?|"
    r"(?:是多少|多少|怎么(?:打|联系|走)|在哪(?:里|儿)?|吗|呢|啊|呀|吧|谢谢|好吗|行吗|一下|的)"
    r")$")


def clean_query(text: str) -> str:
    """'喂 你好 帮我 查一下 工行 的 电话' -> '工行'."""
    q = _INTERJECTION.sub("", _SPACE.sub("", text))
    for _ in range(8):
        stripped = _SUFFIX.sub("", _PREFIX.sub("", q))
        if stripped == q or not stripped:
            break
        q = stripped
    return q


def is_initials(text: str) -> bool:
    """Pinyin initials typed by an operator: 'gsyh'."""
    t = text.strip()
    return 2 <= len(t) <= 16 and t.isascii() and t.isalpha()
