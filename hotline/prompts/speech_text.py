"""Turn hotline text into what the synthesiser should say: phone numbers digit by digit with
1 read as 幺 (the telephone convention), then pinyin with tone numbers for espeak-ng."""

from __future__ import annotations

import re

from pypinyin import Style, lazy_pinyin

_PHONE_DIGITS = "零幺二三四五六七八九"
_PHONE_RE = re.compile(r"\d[\d\-\s]{2,}\d")


def phone_words(number: str) -> str:
    """'87654321' -> '八七六五四三二幺'; separators become short pauses."""
    out = []
    for ch in number:
        if ch.isdigit():
            out.append(_PHONE_DIGITS[int(ch)])
        elif ch in "- ":
            out.append(",")
    return "".join(out)


def spoken_text(text: str) -> str:
    """Replace every digit run of 4+ characters (numbers, job numbers) by phone reading."""
    return _PHONE_RE.sub(lambda m: phone_words(m.group(0)), text)


def _keep(chars: str) -> str:
    return chars


def to_pinyin(text: str) -> str:
    """Pinyin with tone numbers (pypinyin TONE3), the input espeak-ng's cmn-latn-pinyin reads."""
    syllables = lazy_pinyin(spoken_text(text), style=Style.TONE3, neutral_tone_with_five=True,
                            errors=_keep)
    words = []
    for syl in syllables:
        s = syl.strip()
        if not s:
            continue
        s = s.translate(str.maketrans("，。！？；：、（）", ",.!?;:,  "))
        words.append(s)
    return " ".join(words).replace(" ,", ",").replace(" .", ".")
