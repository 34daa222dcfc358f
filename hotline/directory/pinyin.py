"""Fast, phrase-aware pinyin for directory keys and recogniser output, and the "fuzzy"
syllables that make near-homophones equal.

pypinyin's own converter costs ~70 µs a name, too slow for a million-entry directory, so this
module keeps its dictionaries and does the same thing in a few dict lookups: each character's
first reading, corrected for heteronyms (行 hang/xing, 重 chong/zhong) from the two-character
phrases of pypinyin's phrase dictionary.

Fuzzy syllables fold the confusions of southwestern and other regional Mandarin (and of a
recogniser): n/l, z/zh, c/ch, s/sh, f/h, an/ang, en/eng, in/ing. Each fuzzy syllable is then
one character of a private alphabet, so rapidfuzz compares syllables, not letters.
"""

from __future__ import annotations

import functools
import hashlib
import unicodedata
import zlib

from pypinyin.constants import PHRASES_DICT, PINYIN_DICT

_INITIALS = ("zh", "ch", "sh", "b", "p", "m", "f", "d", "t", "n", "l", "g", "k", "h", "j", "q",
             "x", "r", "z", "c", "s", "y", "w")
_FUZZY_INITIAL = {"zh": "z", "ch": "c", "sh": "s", "n": "l", "f": "h"}
_FUZZY_FINAL = {"ang": "an", "eng": "en", "ing": "in", "iang": "ian", "uang": "uan"}
_DIGITS = dict(zip("0123456789", ["ling", "yi", "er", "san", "si", "wu", "liu", "qi", "ba",
                                  "jiu"], strict=True))
_ALPHABET_BASE = 0xE000  # a private-use block: one character per fuzzy syllable
_ALPHABET_END = 0xF900


def _plain(syllable: str) -> str:
    """Drop tone marks: 'háng' -> 'hang', 'lǜ' -> 'lv'."""
    out: list[str] = []
    for ch in unicodedata.normalize("NFD", syllable):
        if ch == "\u0308":  # the diaeresis of ü
            out[-1] = "v"
        elif not unicodedata.combining(ch):
            out.append(ch)
    return "".join(out)


@functools.cache
def _tables() -> tuple[dict[str, str], dict[str, str]]:
    readings: dict[str, str] = {}
    heteronyms: set[str] = set()
    for code, value in PINYIN_DICT.items():
        parts = value.split(",")
        readings[chr(code)] = _plain(parts[0])
        if len({_plain(p) for p in parts}) > 1:
            heteronyms.add(chr(code))
    pairs: dict[str, str] = {}  # "两字" + position -> reading of the heteronym at position
    for phrase, sounds in PHRASES_DICT.items():
        if len(phrase) != len(sounds):
            continue
        for i, ch in enumerate(phrase):
            if ch not in heteronyms:
                continue
            reading = _plain(sounds[i][0])
            if reading == readings.get(ch):
                continue
            if i > 0:
                pairs.setdefault(phrase[i - 1:i + 1] + "1", reading)
            if i + 1 < len(phrase):
                pairs.setdefault(phrase[i:i + 2] + "0", reading)
    return readings, pairs


def syllables(text: str) -> list[str]:
    """Tone-less pinyin, one syllable per Chinese character or digit; runs of Latin letters
    are kept as lower-case tokens; anything else is dropped."""
    readings, pairs = _tables()
    out: list[str] = []
    latin = ""
    for i, ch in enumerate(text):
        if ch.isascii() and ch.isalpha():
            latin += ch.lower()
            continue
        if latin:
            out.append(latin)
            latin = ""
        if ch in _DIGITS:
            out.append(_DIGITS[ch])
            continue
        reading = readings.get(ch)
        if reading is None:
            continue
        if i + 1 < len(text):
            reading = pairs.get(text[i:i + 2] + "0", reading)
        if i > 0:
            reading = pairs.get(text[i - 1:i + 1] + "1", reading)
        out.append(reading)
    if latin:
        out.append(latin)
    return out


@functools.cache
def fuzzy(syllable: str) -> str:
    """The syllable with regional confusions folded: 'zhang' -> 'zan', 'niu' -> 'liu'."""
    initial = next((i for i in _INITIALS if syllable.startswith(i)), "")
    final = syllable[len(initial):]
    return _FUZZY_INITIAL.get(initial, initial) + _FUZZY_FINAL.get(final, final)


@functools.cache
def _alphabet() -> dict[str, str]:
    """Every fuzzy syllable of the dictionary (and of the digits), sorted, one character each:
    the same in every process, so that a saved index keeps meaning what it meant."""
    sounds = {fuzzy(_plain(p)) for value in PINYIN_DICT.values() for p in value.split(",")}
    sounds |= {fuzzy(d) for d in _DIGITS.values()}
    return {s: chr(_ALPHABET_BASE + i) for i, s in enumerate(sorted(sounds))}


def code_of(syllable: str) -> str:
    """One private-alphabet character for a fuzzy syllable. A Latin token outside the
    dictionary gets a character chosen by a stable hash of it, in the rest of the block (two
    rare tokens may share one: they then sound alike to the index)."""
    table = _alphabet()
    c = table.get(syllable)
    if c is None:
        spare = _ALPHABET_END - _ALPHABET_BASE - len(table)
        c = chr(_ALPHABET_BASE + len(table) + zlib.crc32(syllable.encode()) % spare)
    return c


def fuzzy_code(text: str) -> str:
    """The string of fuzzy-syllable characters for a piece of Chinese text."""
    return "".join(code_of(fuzzy(s)) for s in syllables(text))


def fuzzy_code_variants(text: str) -> set[str]:
    """The fuzzy codes of a short name read as a phrase and character by character: 长寿
    is chang-shou, but heard as zhang-shou once the recogniser garbles the 寿 that told
    which 长 it was."""
    return {fuzzy_code(text), "".join(fuzzy_code(ch) for ch in text)}


def initials(text: str) -> str:
    """The first letter of each syllable: 工商银行 -> 'gsyh' (what operators type)."""
    return "".join(s[0] for s in syllables(text))


@functools.cache
def readings_of(ch: str) -> frozenset[str]:
    """Every tone-less reading of one character (着: zhe, zhao, zhuo, zhu); a digit reads as
    its number; anything without a reading: the empty set."""
    if ch in _DIGITS:
        return frozenset({_DIGITS[ch]})
    value = PINYIN_DICT.get(ord(ch))
    if value is None:
        return frozenset()
    return frozenset(_plain(p) for p in value.split(","))


def alphabet_digest() -> str:
    """Names the syllable alphabet: an index saved under another one means nothing here."""
    table = _alphabet()
    joined = "".join(f"{s}={ord(c)};" for s, c in sorted(table.items()))
    return hashlib.blake2b(f"{_ALPHABET_END}:{joined}".encode(), digest_size=8).hexdigest()
