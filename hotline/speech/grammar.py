"""Phrase lists that restrict a recogniser to what callers of this hotline say.

A model with a lookahead graph takes a grammar: any sequence of the listed phrases (and
"[unk]" for anything else). Restricting a small model to the directory's names, the districts
and industries, and the answers the dialogue expects makes it far more accurate and about
ten times cheaper than open vocabulary. Words the model does not know are skipped by Vosk, so
Chinese names are listed whole and character by character.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from hotline.directory.records import Entry
from hotline.errors import SpeechModelError

# What callers say around a name, and the dialogue's expected answers (004 篇10).
_ANSWER_LINES = (
    "是 对 对的 是的 好 好的 嗯 可以 要 需要 转 不是 不对 不用 不要 没有 错了 谢谢",
    "帮我 查 一下 查询 电话 号码 电话号码 是多少 多少 我想 找 我要 你好 喂 的 请问",
    "人工 转人工 投诉 留言 一 二 三 四 五 六 七 八 九 十 零 幺",
)
ANSWERS = tuple(word for line in _ANSWER_LINES for word in line.split())


def directory_phrases(entries: Iterable[Entry]) -> list[str]:
    phrases: dict[str, None] = dict.fromkeys(ANSWERS)
    for e in entries:
        for name in (e.name, *e.aliases, e.district, e.industry):
            name = name.strip()
            if not name:
                continue
            phrases[name] = None
            if not name.isascii():
                phrases[" ".join(name)] = None
    return list(phrases)


def read_grammar(path: str | Path) -> list[str]:
    """One phrase per line; blank lines and # comments skipped."""
    p = Path(path)
    try:
        lines = p.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise SpeechModelError(f"{p}: cannot read the grammar: {exc}") from exc
    phrases = [line.strip() for line in lines if line.strip() and not line.lstrip().startswith("#")]
    if not phrases:
        raise SpeechModelError(f"{p}: the grammar lists no phrases")
    if "[unk]" not in phrases:
        phrases.append("[unk]")
    return phrases
