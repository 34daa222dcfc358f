"""The words each step of the dialogue expects, as a recogniser's bias.

Whisper takes them as its prompt (the text it believes came before), which makes it write the
directory's names as the directory spells them; Vosk takes them as its grammar. For a free
lookup: the most-asked names (the entries marked ``hot`` and the most looked up on record,
then the others while there is room), then the districts and industries, capped to fit
Whisper's prompt (224 tokens; a Chinese character is one or two). For yes/no, digits and
so on, the short answers callers give.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass, field

from hotline.attendant.port import Expect

MAX_HINT_CHARS = 190  # Whisper keeps the last 223 tokens of a longer prompt
# The matters a first utterance may be beside a lookup (a check on espeak-ng Mandarin: with
# them in the prompt "救命啊有人晕倒了" and "我要投诉" came out exact, without them not)
MATTERS_HINT = "我要留言。我要投诉。着火了，救命啊，有人晕倒了，出车祸了，快报警。转人工。"
YES_NO = ("是的", "对", "对的", "不是", "不对", "好的", "可以", "不用了", "没有了", "要", "不要")
DIGITS_HINT = "一三九一二三四五六七八"  # numbers spoken digit by digit, as written by Whisper


def _capped(words: Iterable[str], limit: int, sep: str = "、") -> str:
    out: list[str] = []
    used = 0
    for word in dict.fromkeys(w.strip() for w in words if w.strip()):
        if used + len(word) + len(sep) > limit:
            break
        out.append(word)
        used += len(word) + len(sep)
    return sep.join(out)


@dataclass(frozen=True)
class Vocabulary:
    names: Sequence[str] = ()  # most asked first
    districts: Sequence[str] = ()
    industries: Sequence[str] = ()
    max_chars: int = MAX_HINT_CHARS
    _hints: dict[Expect, str] = field(default_factory=dict, compare=False, repr=False)

    def hint(self, expect: Expect) -> str:
        """Whisper's prompt for a step ('' for a message: the caller's own words)."""
        if expect not in self._hints:
            self._hints[expect] = self._build(expect)
        return self._hints[expect]

    def _build(self, expect: Expect) -> str:
        if expect is Expect.YES_NO:
            return "。".join(YES_NO) + "。"
        if expect is Expect.DIGITS:
            return DIGITS_HINT
        if expect is Expect.DISTRICT:
            return _capped(self.districts, self.max_chars)
        if expect is Expect.INDUSTRY:
            return _capped(self.industries, self.max_chars)
        if expect is Expect.FREE:
            lead = "帮我查一下电话。" + MATTERS_HINT
            room = self.max_chars - len(lead)
            names = _capped(self.names, room * 3 // 4)
            rest = _capped([*self.districts, *self.industries], room - len(names) - 1)
            return lead + "。".join(p for p in (names, rest) if p)
        return ""

    def words(self, expect: Expect) -> list[str]:
        """The same lists as phrases (a grammar)."""
        if expect is Expect.YES_NO:
            return list(YES_NO)
        if expect is Expect.DISTRICT:
            return list(self.districts)
        if expect is Expect.INDUSTRY:
            return list(self.industries)
        if expect is Expect.FREE:
            return [*self.names, *self.districts, *self.industries]
        return []


def vocabulary_of(entries: Iterable[object], asked: Sequence[str] = ()) -> Vocabulary:
    """From the directory's entries (``name``, ``aliases``, ``district``, ``industry``,
    optional ``hot``) and the names most asked on record, most asked first."""
    hot: list[str] = []
    rest: list[str] = []
    districts: dict[str, int] = {}
    industries: dict[str, int] = {}
    for e in entries:
        aliases = list(getattr(e, "aliases", ()))
        said = aliases[0] if aliases else str(getattr(e, "name", ""))
        (hot if getattr(e, "hot", False) else rest).append(said)
        for key, counts in (("district", districts), ("industry", industries)):
            value = str(getattr(e, key, "") or "").strip()
            if value:
                counts[value] = counts.get(value, 0) + 1
    return Vocabulary(names=tuple(dict.fromkeys([*hot, *asked, *rest])),  # capped in hint()
                      districts=_by_count(districts), industries=_by_count(industries))


def _by_count(counts: dict[str, int]) -> tuple[str, ...]:
    return tuple(sorted(counts, key=lambda k: -counts[k]))


class Vocabularies:
    """The current vocabulary (one per process), remade when the directory changes and, as
    lookups accumulate, every ``asked_every_s``."""

    def __init__(self, current: Vocabulary | None = None) -> None:
        self.current = current or Vocabulary()

    async def remake(self, entries: Sequence[object],
                     asked: Callable[[], Awaitable[Sequence[str]]]) -> Vocabulary:
        """From the entries and the most-asked names (off the loop: a large directory)."""
        names = await asked()
        self.current = await asyncio.to_thread(vocabulary_of, entries, names)
        return self.current

    async def keep_fresh(self, entries: Callable[[], tuple[object, Sequence[object]]],
                         asked: Callable[[], Awaitable[Sequence[str]]],
                         every_s: float = 30, asked_every_s: float = 600) -> None:
        """``entries()`` gives (version, entries) of the directory in use."""
        version: object = None
        since_asked = 0.0
        while True:
            now_version, now_entries = entries()
            if now_version != version or since_asked >= asked_every_s:
                await self.remake(now_entries, asked)
                version, since_asked = now_version, 0.0
            await asyncio.sleep(every_s)
            since_asked += every_s
