"""The text channel: the attendant's Dialogue port over lines of text, so the same scripts
serve a caller in a terminal (or a program speaking the JSON Lines protocol) as on the phone.

JSON Lines, one object a line:
  out  {"say": PHRASE_ID, "text": "…"}     what the attendant says
  out  {"listen": "free"|"yes_no"|...}      it waits for the caller: exactly one line in
  in   {"text": "…"} | {"digit": "4"} | {"silence": true} | {"hangup": true}
A malformed line is reported (``on_error``) and taken as silence; the end of input is a
hang-up. Time is virtual here: silence is said, never waited for. Words with no digit in
them, given where digits are awaited, were said instead of keyed: the step's next hear gets
them (spoken digits, or an emergency), without another listen.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any, Protocol

from hotline.attendant.port import Expect, Heard, Words
from hotline.errors import CallerGone
from hotline.phrasebook.model import Phrasebook


class Lines(Protocol):
    async def read(self) -> str | None:
        """The next line, or None at the end of input."""
        ...
    def write(self, line: str) -> None: ...


class Said(Protocol):
    async def __call__(self, phrase_id: str) -> None:
        """Keep what was said on the record."""
        ...


class TextDialogue:
    channel = "text"
    understands = True

    def __init__(self, lines: Lines, phrasebook: Phrasebook, unit: str, job_number: str,
                 on_said: Said, on_error: Callable[[str], None], jsonl: bool = True) -> None:
        self.lines = lines
        self.phrasebook = phrasebook
        self.defaults = {"unit": unit, "job_number": job_number}
        self.on_said = on_said
        self.on_error = on_error
        self.jsonl = jsonl
        self.gone = False
        self.line_came: float | None = None  # perf_counter when the caller's last line came
        self.spoken = ""  # words said when digits were awaited, for the next hear

    def _check(self) -> None:
        if self.gone:
            raise CallerGone("text")

    async def say(self, phrase_id: str, *, interruptible: bool = False, **values: str) -> bool:
        self._check()
        text = self.phrasebook[phrase_id].fill(**{**self.defaults, **values})
        await self.on_said(phrase_id)
        self.lines.write(json.dumps({"say": phrase_id, "text": text}, ensure_ascii=False)
                         if self.jsonl else f"[{self.defaults['job_number']}] {text}")
        return False

    async def _answer(self, expect: str) -> dict[str, Any]:
        """One line from the caller; a hang-up (or the end of input) raises CallerGone."""
        self._check()
        self.lines.write(json.dumps({"listen": expect}) if self.jsonl else f"({expect}) >")
        line = await self.lines.read()
        self.line_came = time.perf_counter()
        if line is None:
            self.gone = True
            raise CallerGone("text")
        got = parse_answer(line, self.jsonl, self.on_error)
        if got.get("hangup"):
            self.gone = True
            raise CallerGone("text")
        return got

    async def hear(self, expect: Expect) -> Heard:
        if self.spoken:
            self._check()
            text, self.spoken = self.spoken, ""
            return Heard(text, spoke=True)
        got = await self._answer(expect.value)
        text = str(got.get("text", "") or got.get("digit", "")).strip()
        return Heard(text, spoke=bool(text))

    def since_words_ms(self) -> float | None:
        return None if self.line_came is None else (time.perf_counter() - self.line_came) * 1000

    async def digit(self, timeout_s: float, max_digits: int = 1, *,
                    or_words: bool = False) -> str:
        # one line answers either way (``or_words`` or not): words with no digit go to the
        # step's next hear
        got = await self._answer(Expect.DIGITS.value)
        said = str(got.get("digit", "") or got.get("text", ""))
        digits = "".join(ch for ch in said if ch.isdigit() or ch in "*#")
        if not digits and "text" in got:
            self.spoken = said.strip()
        return digits.split("#", 1)[0][:max_digits]

    async def take_down(self, max_s: float) -> Words:
        got = await self._answer(Expect.MESSAGE.value)
        return Words(text=str(got.get("text", "")).strip())

    async def pause(self, seconds: float) -> None:
        self._check()

    async def wait_gone(self, timeout_s: float) -> bool:
        return self.gone

    async def hang_up(self) -> None:
        self.gone = True


def parse_answer(line: str, jsonl: bool, on_error: Callable[[str], None]) -> dict[str, Any]:
    """A caller's line as a dict; anything malformed is reported and taken as silence."""
    if not jsonl:
        text = line.strip()
        if text == "/hangup":
            return {"hangup": True}
        return {"text": text} if text else {"silence": True}
    try:
        got = json.loads(line)
    except ValueError as exc:
        on_error(f"not JSON ({exc.args[0]}): {line.strip()[:80]!r}; taken as silence")
        return {"silence": True}
    if not isinstance(got, dict) or not (got.keys() & {"text", "digit", "silence", "hangup"}):
        on_error('expected {"text": …}, {"digit": …}, {"silence": true} or {"hangup": true}'
                 f", not {line.strip()[:80]!r}; taken as silence")
        return {"silence": True}
    for key in ("text", "digit"):
        if key in got and not isinstance(got[key], str):
            on_error(f"{key!r} must be a string, not {got[key]!r}; taken as silence")
            return {"silence": True}
    return got
