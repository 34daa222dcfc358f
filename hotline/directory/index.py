"""The in-memory directory index: pinyin-aware fuzzy lookup that tolerates homophones,
regional near-homophones, dropped or extra characters, aliases, initials, and district and
industry words.

Every entry has keys: its name, its aliases, and its core name (the name without the city
and district in front or the company suffix behind), each as a string of fuzzy-syllable
codes. An inverted index over syllable bigrams (CSR arrays in numpy),
weighted by rarity, picks a few hundred candidates; rapidfuzz scores them, and district,
industry and home-district bonuses rank them. Typed initials (gsyh) use a second index
over initial trigrams.
"""

from __future__ import annotations

import itertools
import re
from array import array
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np
from rapidfuzz import fuzz

from hotline.directory.pinyin import fuzzy_code, fuzzy_code_variants, initials
from hotline.directory.query import clean_query, is_initials
from hotline.directory.records import Entry

_CITY = re.compile(r"^(?:[\u4e00-\u9fff]{2,3}?(?:省|市|自治区)|北京|天津|上海|重庆)+")
_COMPANY = re.compile(r"(?:股份)?有限(?:责任)?公司$|公司$")
_ADMIN_SUFFIX = re.compile(r"(?:区|县|市|镇|乡|街道|新区|自治县)$")
_FILLER_CHARS = frozenset("的地得里在有个那这些家")
_IN_PASSING = re.compile(r"的|了|那个|这个|那")
_FILLER_CODES = frozenset(fuzzy_code("".join(_FILLER_CHARS)))
CONFIDENT_SCORE = 84.0
CONFIDENT_MARGIN = 4.0
MAX_CANDIDATES = 300
DISTRICT_HINT = 1.5  # a syllable of the entry's district among the query's leftovers
DISTRICT_PREFERENCE = 2.0  # candidate weight for an entry of the district the query names


@dataclass(frozen=True)
class Hit:
    entry: Entry
    score: float


@dataclass(frozen=True)
class SearchResult:
    query: str
    cleaned: str
    confident: bool
    hits: list[Hit]
    district: str | None = None
    industry: str | None = None
    category: bool = False  # the query named only an industry and/or a district


def result_json(r: SearchResult, elapsed_ms: float) -> dict[str, Any]:
    """The JSON of one lookup, as `directory search --json` and /api/directory give it."""
    return {"query": r.query, "confident": r.confident, "elapsed_ms": round(elapsed_ms, 3),
            "results": [{"id": h.entry.id, "name": h.entry.name, "phone": h.entry.phone,
                         "industry": h.entry.industry, "district": h.entry.district,
                         "hot": h.entry.hot, "score": h.score} for h in r.hits]}



@dataclass(frozen=True)
class _Place:
    """The district a query names: which, the syllables it was heard as, and what is left."""
    district: str
    form: str
    rests: tuple[str, ...]


class _Csr:
    """Postings: for each bigram id, the entries that contain it."""

    def __init__(self, keys: array[int], values: array[int]) -> None:
        k = np.frombuffer(keys, dtype=np.int64)
        v = np.frombuffer(values, dtype=np.int32)
        order = np.argsort(k, kind="stable")
        k, self.values = k[order], v[order]
        self.ids, starts = np.unique(k, return_index=True)
        self.starts = np.append(starts, len(k)).astype(np.int64)

    def get(self, key: int) -> np.ndarray:
        i = int(np.searchsorted(self.ids, key))
        if i < len(self.ids) and self.ids[i] == key:
            return self.values[self.starts[i]:self.starts[i + 1]]
        return self.values[:0]

    @property
    def nbytes(self) -> int:
        return int(self.values.nbytes + self.ids.nbytes + self.starts.nbytes)


def _bigrams(code: str) -> set[int]:
    """Syllable bigrams. (Skip-bigrams were tried: +0.6 points top-1 at 1M for 4x the build
    memory and a third more latency; not worth it.)"""
    return {(ord(a) << 20) | ord(b) for a, b in itertools.pairwise(code)}


def _trigrams(text: str) -> set[int]:
    return {hash(text[i:i + 3]) & 0x7FFFFFFFFFFF for i in range(len(text) - 2)} or \
        ({hash(text) & 0x7FFFFFFFFFFF} if text else set())


def core_name(name: str, districts: Iterable[str] = ()) -> str:
    core = _CITY.sub("", name)
    for d in districts:
        if core.startswith(d) and len(core) > len(d) + 1:
            core = core[len(d):]
            break
    return _COMPANY.sub("", core) or core


class DirectoryIndex:
    def __init__(self, entries: list[Entry], home_district: str = "") -> None:
        self.entries = entries
        self.home_district = home_district
        self.districts = sorted({e.district for e in entries if e.district})
        self.industries = sorted({e.industry for e in entries if e.industry})
        district_forms = sorted({f for d in self.districts for f in (d, _short(d))},
                                key=len, reverse=True)
        self._district_codes = [(c, d) for d in self.districts for f in {d, _short(d)}
                                for c in fuzzy_code_variants(f) if len(c) >= 2]
        self._district_codes.sort(key=lambda x: len(x[0]), reverse=True)
        self._industry_codes = sorted(((fuzzy_code(i), i) for i in self.industries
                                       if len(fuzzy_code(i)) >= 2), key=lambda x: -len(x[0]))
        self.keys: list[tuple[str, ...]] = []
        self.inits: list[tuple[str, ...]] = []
        grams_k, grams_v = array("q"), array("i")
        tri_k, tri_v = array("q"), array("i")
        for n, e in enumerate(entries):
            names = {e.name, core_name(e.name, district_forms), *e.aliases}
            codes = tuple({c for c in (fuzzy_code(x) for x in names) if c})
            inits = tuple({i for i in (initials(x) for x in names) if len(i) >= 2})
            self.keys.append(codes)
            self.inits.append(inits)
            grams = set().union(*(_bigrams(c) for c in codes)) if codes else set()
            grams_k.extend(grams)
            grams_v.extend([n] * len(grams))
            tris = set().union(*(_trigrams(i) for i in inits)) if inits else set()
            tri_k.extend(tris)
            tri_v.extend([n] * len(tris))
        self._grams = _Csr(grams_k, grams_v)
        self._tris = _Csr(tri_k, tri_v)
        self._district_slot = {d: i for i, d in enumerate(self.districts)}
        # a district said in passing, garbled or in part ("合思飞教育" for 合川's 思飞教育)
        self._district_sylls = {d: frozenset(fuzzy_code(_short(d))) for d in self.districts}
        self._short_len = {d: len(fuzzy_code(_short(d))) for d in self.districts}
        self._industry_slot = {d: i for i, d in enumerate(self.industries)}
        self._district = np.array([self._district_slot.get(e.district, -1) for e in entries],
                                  dtype=np.int16)
        self._industry = np.array([self._industry_slot.get(e.industry, -1) for e in entries],
                                  dtype=np.int16)

    def __len__(self) -> int:
        return len(self.entries)

    @property
    def postings_bytes(self) -> int:
        return self._grams.nbytes + self._tris.nbytes

    # -- lookup -------------------------------------------------------------------------------
    def search(self, query: str, limit: int = 5) -> SearchResult:
        if is_initials(query):
            return self._search_initials(query.strip().lower(), limit)
        cleaned = clean_query(query)
        code = fuzzy_code(cleaned)
        place = self._district_in(code)
        district = place.district if place else None
        rest = place.rests[0] if place else code
        industry, bare = self._find(rest, self._industry_codes)
        named = district is not None or industry is not None
        # 万州的银行: a category, when what is left is only filler words (by character:
        # by sound alone 这利游 would be 这里有)
        if named and all(c in _FILLER_CODES for c in bare) and \
                sum(ch in _FILLER_CHARS for ch in cleaned) >= len(bare):
            return self._category(query, cleaned, district, industry, limit)
        # a word said in passing inside the name (重那庆, 服了务) is tried without
        said = _IN_PASSING.sub("", cleaned)
        alt = fuzzy_code(said) if said != cleaned and len(said) >= 2 else ""
        candidates = self._candidates(code, place)
        scored: list[tuple[float, int]] = []
        for n in candidates:
            scored.append((self._score(n, code, place, industry, cleaned, alt), int(n)))
        scored.sort(reverse=True)
        hits = [Hit(self.entries[n], round(s, 1)) for s, n in scored[:limit]]
        return SearchResult(query, cleaned, self._confident(hits), hits, district, industry)

    def _district_in(self, code: str) -> _Place | None:
        """The district the query names: the one said first (黔江景博… is 黔江, though 江景
        sounds like 江津), the longest form at that place. Both what is left without the
        full form and without the short one are kept: 北碚区数 may be 北碚's 区数教育."""
        found = [(at, -len(form), form, d) for form, d in self._district_codes
                 if (at := code.find(form)) >= 0]
        if not found:
            return None
        at, _, form, district = min(found)
        rests = [code[:at] + code[at + len(form):]]
        short = self._short_len[district]
        if short < len(form):
            rests.append(code[:at] + code[at + short:])
        return _Place(district, form, tuple(rests))

    def _find(self, code: str, vocab: list[tuple[str, str]]) -> tuple[str | None, str]:
        for form, value in vocab:
            at = code.find(form)
            if at >= 0:
                return value, code[:at] + code[at + len(form):]
        return None, code

    def _candidates(self, code: str, place: _Place | None = None) -> np.ndarray:
        """The entries sharing the most (IDF-weighted) syllable bigrams with the query:
        a rare bigram says more about which entry is meant than a common one. Entries of
        the district the query names come first among equals."""
        grams = _bigrams(code)
        if not grams:
            return np.zeros(0, dtype=np.int32)
        lists = sorted((p for p in (self._grams.get(g) for g in grams) if len(p)), key=len)
        common = max(2000, len(self.entries) // 20)
        kept = [p for p in lists if len(p) <= common] or lists[:1]
        if not kept:
            return np.zeros(0, dtype=np.int32)
        merged = np.concatenate(kept)
        total = len(self.entries) + 1
        weights = np.repeat(np.array([np.log(total / len(p)) for p in kept], dtype=np.float32),
                            [len(p) for p in kept])
        if len(merged) > 50_000:
            sums = np.bincount(merged, weights=weights, minlength=len(self.entries))
            ids = np.flatnonzero(sums)
            c = sums[ids]
        else:
            ids, inverse = np.unique(merged, return_inverse=True)
            c = np.bincount(inverse, weights=weights)
        if place is not None:
            local = self._district[ids] == self._district_slot[place.district]
            c = c + DISTRICT_PREFERENCE * local
        if len(ids) <= MAX_CANDIDATES:
            return ids
        top = np.argpartition(-c, MAX_CANDIDATES)[:MAX_CANDIDATES]
        return ids[top]

    def _score(self, n: int, code: str, place: _Place | None, industry: str | None,
               cleaned: str, alt: str = "") -> float:
        keys = self.keys[n]
        e = self.entries[n]
        # the district's syllables may be part of the name itself (禾创区电子 sounds like 合川)
        own = place is not None and e.district != place.district and \
            any(place.form in k for k in keys)
        best = 0.0
        for key in keys:
            best = max(best, _similarity(code, key))
            if alt:
                best = max(best, _similarity(alt, key))
            if place is not None and not own:
                for rest in place.rests:
                    if rest:
                        best = max(best, _similarity(rest, key))
        if place is not None and not own:
            best += 4.0 if e.district == place.district else -8.0
        else:
            if self.home_district and e.district == self.home_district:
                best += 1.5
            spare = set(code).difference(*keys)  # said, but not part of the name
            if spare & self._district_sylls.get(e.district, frozenset()):
                best += DISTRICT_HINT
        if industry is not None and e.industry == industry:
            best += 2.0
        best += 2.0 * fuzz.ratio(cleaned, e.name) / 100  # the very characters, as tie-break
        return best

    def _confident(self, hits: list[Hit]) -> bool:
        if not hits or hits[0].score < CONFIDENT_SCORE:
            return False
        if len(hits) > 1 and hits[1].entry.phone != hits[0].entry.phone:
            return hits[0].score - hits[1].score >= CONFIDENT_MARGIN
        return True

    def _category(self, query: str, cleaned: str, district: str | None,
                  industry: str | None, limit: int) -> SearchResult:
        mask = np.ones(len(self.entries), dtype=bool)
        if district is not None:
            mask &= self._district == self._district_slot[district]
        if industry is not None:
            mask &= self._industry == self._industry_slot[industry]
        found = np.flatnonzero(mask)[:limit]
        hits = [Hit(self.entries[int(n)], 0.0) for n in found]
        return SearchResult(query, cleaned, False, hits, district, industry, category=True)

    def related(self, entry: Entry, limit: int = 3) -> list[Entry]:
        """Other units of the same industry in the same district (for "not found")."""
        mask = (self._industry == self._industry_slot.get(entry.industry, -1)) & \
            (self._district == self._district_slot.get(entry.district, -1))
        return [self.entries[int(n)] for n in np.flatnonzero(mask)[:limit + 1]
                if self.entries[int(n)].id != entry.id][:limit]

    def _search_initials(self, letters: str, limit: int) -> SearchResult:
        lists = [self._tris.get(t) for t in _trigrams(letters)]
        merged = np.concatenate(lists) if lists else np.zeros(0, dtype=np.int32)
        ids, c = np.unique(merged, return_counts=True)
        if len(ids) > MAX_CANDIDATES * 3:
            ids = ids[np.argpartition(-c, MAX_CANDIDATES * 3)[:MAX_CANDIDATES * 3]]
        home = self.home_district
        scored = sorted(((max(fuzz.ratio(letters, i) for i in self.inits[int(n)])
                          + (1.5 if home and self.entries[int(n)].district == home else 0.0),
                          int(n)) for n in ids if self.inits[int(n)]), reverse=True)
        hits = [Hit(self.entries[n], float(s)) for s, n in scored[:limit]]
        return SearchResult(letters, letters, self._confident(hits), hits)


def _similarity(q: str, key: str) -> float:
    r = fuzz.ratio(q, key)
    if len(q) < len(key) and len(q) >= 2:
        r = max(r, fuzz.partial_ratio(q, key) * (0.7 + 0.3 * len(q) / len(key)))
    return float(r)


def _short(district: str) -> str:
    short = _ADMIN_SUFFIX.sub("", district)
    return short if len(short) >= 2 else district
