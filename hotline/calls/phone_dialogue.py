"""The attendant's Dialogue port over the phone: phrases are played to the caller's channel,
words are heard by the recogniser (or, without one, only noticed by talk detection), digits
come as DTMF, and words taken down are recorded by Asterisk after a tone.

Where the caller may say the digits instead of keying them (``or_words``), the recogniser
listens while the keys are awaited: words other than a number (an emergency above all) end
the wait at once; a number said in groups ends at its pause. What was said goes to the
step's next hear, so the script checks it like any answer (attendant/answers.py).
"""

from __future__ import annotations

import asyncio
import time

from hotline.attendant.port import Expect, Heard, Words
from hotline.calls.context import FlowSettings
from hotline.ports import CallLeg, CallStore, Prompts, Recognizer
from hotline.speech.normalise import normalise, number_said
from hotline.speech.vocabulary import Vocabulary

POLL_S = 0.05  # how often a listen looks whether the caller's words are still decoding


class PhoneDialogue:
    channel = "phone"

    def __init__(self, leg: CallLeg, record_id: int, store: CallStore, prompts: Prompts,
                 recognizer: Recognizer | None, settings: FlowSettings,
                 vocabulary: Vocabulary | None = None) -> None:
        self.leg = leg
        self.record_id = record_id
        self.store = store
        self.prompts = prompts
        self.recognizer = recognizer
        self.s = settings
        self.vocabulary = vocabulary or Vocabulary()
        self.hearing = False  # set once the recogniser is attached to the caller
        self._takes = 0
        self._said = ""  # words said while keys were awaited, for the step's next hear

    @property
    def understands(self) -> bool:
        return self.hearing and self.recognizer is not None

    async def say(self, phrase_id: str, *, interruptible: bool = False, **values: str) -> bool:
        media = await self.prompts.media(phrase_id, **values)
        await self.store.add_event(self.record_id, "said", {"phrase": phrase_id})
        interrupted = await self.leg.play([media], interruptible=interruptible)
        if interrupted:
            await self.store.add_event(self.record_id, "barge_in", {"phrase": phrase_id})
        return interrupted

    async def hear(self, expect: Expect) -> Heard:
        if self._said:  # said instead of keyed: already heard, answered at once
            text, self._said = self._said, ""
            return Heard(text, spoke=True)
        window = self.s.silence_prompt_s if expect is Expect.FREE else self.s.listen_s
        if not self.understands:
            return Heard(spoke=await self.leg.wait_speech(window))
        # the words as said, even where digits are expected: the script takes the digits
        # (contact.py), and the emergency check sees 三楼着火了, not the 3 in it
        text = normalise(await self._listen(window, self.vocabulary.hint(expect)))
        if text:
            return Heard(text, spoke=True)
        assert self.recognizer is not None
        if self.recognizer.faint(self.leg):  # a voice, too quiet to make out (004 声音小)
            await self.store.add_event(self.record_id, "faint_voice", {"expect": expect.value})
            return Heard(spoke=True)
        return Heard(spoke=await self.leg.wait_speech(0))

    def since_words_ms(self) -> float | None:
        if not self.understands:
            return None
        assert self.recognizer is not None
        ended = self.recognizer.words_ended(self.leg)
        return None if ended is None else (time.perf_counter() - ended) * 1000

    async def _listen(self, window: float, hint: str) -> str:
        """The recogniser's answer. When the caller's words have been waiting
        ``keep_alive_s`` for their text (every worker busy), the caller hears the keep-alive
        phrase; it stops the moment the text is back, so nothing (an emergency least of
        all) waits for the phrase to end."""
        assert self.recognizer is not None
        listening = asyncio.ensure_future(self.recognizer.listen(self.leg, window, hint))
        keeping: asyncio.Future[bool] | None = None
        decoding_since = waited_from = 0.0
        try:
            while not (await asyncio.wait({listening}, timeout=POLL_S))[0]:
                if keeping is not None:
                    continue
                if not self.recognizer.decoding(self.leg):
                    decoding_since = 0.0
                    continue
                now = time.perf_counter()
                decoding_since = decoding_since or now
                if now - decoding_since >= self.s.keep_alive_s:
                    waited_from = now
                    keeping = asyncio.ensure_future(self.say("keep_alive"))
            text = listening.result()
        finally:
            if not listening.done():
                listening.cancel()
            if keeping is not None and not keeping.done():
                keeping.cancel()  # the words are back: stop the phrase, answer now
                await asyncio.gather(keeping, return_exceptions=True)
        if waited_from:
            await self.store.add_event(self.record_id, "asr_wait", {
                "after_keep_alive_ms": round((time.perf_counter() - waited_from) * 1000),
                "keep_alive_cut": keeping is not None and keeping.cancelled()})
        return text

    async def digit(self, timeout_s: float, max_digits: int = 1, *,
                    or_words: bool = False) -> str:
        if not (or_words and self.understands):
            return await self.leg.collect_dtmf(timeout_s, max_digits)
        keys = asyncio.ensure_future(self.leg.collect_dtmf(timeout_s, max_digits))
        try:
            said = await self._said_instead(keys, timeout_s)
        finally:
            if not keys.done():
                keys.cancel()
            await asyncio.gather(keys, return_exceptions=True)
        if said is None:
            return keys.result()  # the keys (or CallerGone)
        self._said = said
        return ""

    async def _said_instead(self, keys: asyncio.Future[str], timeout_s: float) -> str | None:
        """The caller's words while ``keys`` are awaited: at once when they say more than a
        number (着火了), the number's digits at the pause after it; None when keys came first
        or the wait ended with no number said."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout_s
        hint = self.vocabulary.hint(Expect.DIGITS)
        pieces: list[str] = []
        digits = ""  # of a number being said: its pause ends the wait, not the keys'
        while True:
            if keys.done() and (keys.exception() or keys.result()):
                return None  # keyed (or the caller is gone)
            if keys.done() and not digits:
                return None  # # or the wait's end: nothing but talk around a number
            window = self.s.digits_pause_s if digits else deadline - loop.time()
            if window <= 0:  # the wait is over: the keys end it in a moment
                await asyncio.wait({keys})
                continue
            listening = asyncio.ensure_future(self._listen(window, hint))
            waiting: set[asyncio.Future[str]] = {listening} if keys.done() else {keys, listening}
            try:
                await asyncio.wait(waiting, return_when=asyncio.FIRST_COMPLETED)
            finally:
                if not listening.done():
                    listening.cancel()
                    await asyncio.gather(listening, return_exceptions=True)
            if listening.cancelled():
                continue  # the keys ended: keyed, or empty (# or the wait's end)
            text = normalise(listening.result())
            said = number_said(text)
            if said is None:  # more than a number: the step hears it now
                return normalise(" ".join([*pieces, text]))
            if text:
                pieces.append(text)
                digits += said
            elif digits:  # the pause after the number
                return digits

    async def take_down(self, max_s: float) -> Words:
        self._takes += 1
        name = f"words-{self.record_id}-{self._takes}"
        await self.leg.play([await self.prompts.tone()])
        seconds, left = await self.leg.record_message(name, max_s,
                                                      self.s.message_silence_s)
        text = ""
        if self.understands and not left:
            assert self.recognizer is not None
            text = normalise(await self.recognizer.listen(self.leg, 0.5))
        await self.store.add_event(self.record_id, "words_taken", {
            "recording": name, "seconds": seconds, "caller_left": left})
        return Words(recording=name if seconds > 0 else "", seconds=seconds, text=text,
                     caller_left=left)

    async def pause(self, seconds: float) -> None:
        await self.leg.pause(seconds)

    async def wait_gone(self, timeout_s: float) -> bool:
        return await self.leg.wait_gone(timeout_s)

    async def hang_up(self) -> None:
        await self.leg.hangup()
