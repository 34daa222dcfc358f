"""The directory index: pinyin-aware fuzzy lookup that tolerates homophones,
regional near-homophones, dropped or extra characters, aliases, initials, and district and
industry words.

Every entry has keys: its name, its aliases, and its core name (the name without the city
and district in front or the company suffix behind), each as a string of fuzzy-syllable
codes. An inverted index over syllable bigrams (CSR arrays in numpy),
weighted by rarity, picks a few hundred candidates; rapidfuzz scores them, and district,
industry and home-district bonuses rank them. Typed initials (gsyh) use a second index
over initial trigrams. The arrays (hotline/directory/build.py) are built in memory or
memory-mapped from the saved file (indexfile.py); an entry is decoded only when scored or shown.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from rapidfuzz import fuzz

from hotline.directory.build import (
    FIELDS,
    IndexData,
    bigrams,
    build_data,
    id_hash,
    short_district,
    trigrams,
)
from hotline.directory.pinyin import fuzzy_code, fuzzy_code_variants
from hotline.directory.query import clean_query, is_initials
from hotline.directory.records import Entry

_FILLER_CHARS = frozenset("的地得里在有个那这些家")
_IN_PASSING = re.compile(r"的|了|那个|这个|那")
_FILLER_CODES = frozenset(fuzzy_code("".join(_FILLER_CHARS)))
CONFIDENT_SCORE = 84.0
CONFIDENT_MARGIN = 4.0
MAX_CANDIDATES = 300
DISTRICT_HINT = 1.5  # a syllable of the entry's district among the query's leftovers
DISTRICT_PREFERENCE = 2.0  # candidate weight for an entry of the district the query names


def top_k(weights: np.ndarray, k: int) -> np.ndarray:
    """The positions of the ``k`` largest weights, ties at the cut going to the lowest
    positions: the same on every machine (``argpartition`` alone breaks ties by the CPU's
    sorting kernel, so two processors picked different candidates for one query)."""
    if len(weights) <= k:
        return np.arange(len(weights))
    cut = np.partition(weights, len(weights) - k)[len(weights) - k]
    above = np.flatnonzero(weights > cut)
    tied = np.flatnonzero(weights == cut)[:k - len(above)]
    return np.sort(np.concatenate([above, tied]))


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
    """Postings: for each bigram id, the entries that contain it (three arrays)."""

    def __init__(self, arrays: dict[str, np.ndarray], prefix: str) -> None:
        self.ids = arrays[f"{prefix}_ids"]
        self.starts = arrays[f"{prefix}_starts"]
        self.values = arrays[f"{prefix}_values"]

    def get(self, key: int) -> np.ndarray:
        i = int(np.searchsorted(self.ids, key))
        if i < len(self.ids) and self.ids[i] == key:
            return self.values[int(self.starts[i]):int(self.starts[i + 1])]
        return self.values[:0]

    @property
    def nbytes(self) -> int:
        return int(self.values.nbytes + self.ids.nbytes + self.starts.nbytes)


class DirectoryIndex:
    """Built from entries (``DirectoryIndex(entries)``) or over saved arrays
    (``DirectoryIndex.over(data)``, memory-mapped from the index file): the same lookups,
    entries decoded only for what is shown."""

    def __init__(self, entries: Sequence[Entry], home_district: str = "",
                 districts: Iterable[str] = (), industries: Iterable[str] = ()) -> None:
        self._attach(build_data(entries, districts, industries), home_district)

    @classmethod
    def over(cls, data: IndexData, home_district: str = "") -> DirectoryIndex:
        index = cls.__new__(cls)
        index._attach(data, home_district)
        return index

    def _attach(self, data: IndexData, home_district: str) -> None:
        self.data = data
        a = data.arrays
        self.home_district = home_district
        self._count = int(data.meta["count"])
        self.districts: list[str] = list(data.meta["districts"])
        self.industries: list[str] = list(data.meta["industries"])
        # memoryviews: a slice or an offset read from them costs no numpy scalar
        self._text, self._text_at = _bytes(a["text"]), _ints(a["text_at"])
        self._keys, self._keys_at = _bytes(a["keys"]), _ints(a["keys_at"])
        self._inits, self._inits_at = _bytes(a["inits"]), _ints(a["inits_at"])
        self._hot, self._id_hash, self._id_order = a["hot"], a["id_hash"], a["id_order"]
        self._district_codes = [(c, d) for d in self.districts
                                for f in {d, short_district(d)}
                                for c in fuzzy_code_variants(f) if len(c) >= 2]
        self._district_codes.sort(key=lambda x: len(x[0]), reverse=True)
        self._industry_codes = sorted(((fuzzy_code(i), i) for i in self.industries
                                       if len(fuzzy_code(i)) >= 2), key=lambda x: -len(x[0]))
        self._grams = _Csr(a, "grams")
        self._tris = _Csr(a, "tris")
        self._district_slot = {d: i for i, d in enumerate(self.districts)}
        # a district said in passing, garbled or in part ("合思飞教育" for 合川's 思飞教育)
        self._district_sylls = {d: frozenset(fuzzy_code(short_district(d)))
                                for d in self.districts}
        self._short_len = {d: len(fuzzy_code(short_district(d))) for d in self.districts}
        self._industry_slot = {d: i for i, d in enumerate(self.industries)}
        self._district = a["district"]
        self._industry = a["industry"]

    def __len__(self) -> int:
        return self._count

    @property
    def postings_bytes(self) -> int:
        return self._grams.nbytes + self._tris.nbytes

    # -- the entries, decoded when asked for ---------------------------------------------------
    def _field(self, n: int, f: int) -> str:
        at = n * len(FIELDS) + f
        return str(self._text[self._text_at[at]:self._text_at[at + 1]], "utf-8")

    def name(self, n: int) -> str:
        return self._field(n, 1)

    def district_of(self, n: int) -> str:
        slot = int(self._district[n])
        return self.districts[slot] if slot >= 0 else ""

    def entry(self, n: int) -> Entry:
        at = n * len(FIELDS)
        cuts = self._text_at[at:at + len(FIELDS) + 1].tolist()
        v = [str(self._text[cuts[i]:cuts[i + 1]], "utf-8") for i in range(len(FIELDS))]
        return Entry(v[0], v[1], tuple(x for x in v[2].split("|") if x), v[3], v[4], v[5],
                     v[6], v[7], bool(self._hot[n]))

    def keys_of(self, n: int) -> list[str]:
        lo, hi = self._keys_at[n], self._keys_at[n + 1]
        return str(self._keys[2 * lo:2 * hi], "utf-16-le").split("\0") if hi > lo else []

    def inits_of(self, n: int) -> list[str]:
        lo, hi = self._inits_at[n], self._inits_at[n + 1]
        return str(self._inits[lo:hi], "ascii").split("\0") if hi > lo else []

    def find(self, entry_id: str) -> int | None:
        """The row of the entry with this id, or None."""
        h = id_hash(entry_id)
        i = int(np.searchsorted(self._id_hash, h))
        while i < len(self._id_hash) and self._id_hash[i] == h:
            n = int(self._id_order[i])
            if self._field(n, 0) == entry_id:
                return n
            i += 1
        return None

    def entries(self, rows: Iterable[int] | None = None) -> Iterator[Entry]:
        """The entries (all of them, in order, when no rows are given), one at a time."""
        for n in range(self._count) if rows is None else rows:
            yield self.entry(int(n))

    def hot_rows(self) -> np.ndarray:
        return np.flatnonzero(self._hot)

    # -- lookup -------------------------------------------------------------------------------
    def search(self, query: str, limit: int = 5, dead: np.ndarray | None = None) -> SearchResult:
        """The best ``limit`` entries for what was said; rows marked in ``dead`` (a bool per
        row: removed or edited since the index was built) are never offered."""
        if is_initials(query):
            return self._search_initials(query.strip().lower(), limit, dead)
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
            return self._category(query, cleaned, district, industry, limit, dead)
        # a word said in passing inside the name (重那庆, 服了务) is tried without
        said = _IN_PASSING.sub("", cleaned)
        alt = fuzzy_code(said) if said != cleaned and len(said) >= 2 else ""
        candidates = self._candidates(code, place, dead)
        scored: list[tuple[float, int]] = []
        for n in candidates:
            scored.append((self._score(int(n), code, place, industry, cleaned, alt), int(n)))
        scored.sort(reverse=True)
        hits = [Hit(self.entry(n), round(s, 1)) for s, n in scored[:limit]]
        return SearchResult(query, cleaned, confident(hits), hits, district, industry)

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

    def _candidates(self, code: str, place: _Place | None = None,
                    dead: np.ndarray | None = None) -> np.ndarray:
        """The entries sharing the most (IDF-weighted) syllable bigrams with the query:
        a rare bigram says more about which entry is meant than a common one. Entries of
        the district the query names come first among equals."""
        grams = bigrams(code)
        if not grams:
            return np.zeros(0, dtype=np.int32)
        lists = sorted((p for p in (self._grams.get(g) for g in sorted(grams)) if len(p)),
                       key=len)
        common = max(2000, self._count // 20)
        kept = [p for p in lists if len(p) <= common] or lists[:1]
        if not kept:
            return np.zeros(0, dtype=np.int32)
        merged = np.concatenate(kept)
        total = self._count + 1
        weights = np.repeat(np.array([np.log(total / len(p)) for p in kept], dtype=np.float32),
                            [len(p) for p in kept])
        if len(merged) > 50_000:
            sums = np.bincount(merged, weights=weights, minlength=self._count)
            ids = np.flatnonzero(sums)
            c = sums[ids]
        else:
            ids, inverse = np.unique(merged, return_inverse=True)
            c = np.bincount(inverse, weights=weights)
        if dead is not None:
            alive = ~dead[ids]
            ids, c = ids[alive], c[alive]
        if place is not None:
            local = self._district[ids] == self._district_slot[place.district]
            c = c + DISTRICT_PREFERENCE * local
        if len(ids) <= MAX_CANDIDATES:
            return ids
        best: np.ndarray = ids[top_k(c, MAX_CANDIDATES)]
        return best

    def _score(self, n: int, code: str, place: _Place | None, industry: str | None,
               cleaned: str, alt: str = "") -> float:
        keys = self.keys_of(n)
        district = self.district_of(n)
        # the district's syllables may be part of the name itself (禾创区电子 sounds like 合川)
        own = place is not None and district != place.district and \
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
            best += 4.0 if district == place.district else -8.0
        else:
            if self.home_district and district == self.home_district:
                best += 1.5
            spare = set(code).difference(*keys)  # said, but not part of the name
            if spare & self._district_sylls.get(district, frozenset()):
                best += DISTRICT_HINT
        if industry is not None and int(self._industry[n]) == self._industry_slot[industry]:
            best += 2.0
        best += 2.0 * fuzz.ratio(cleaned, self.name(n)) / 100  # the very characters, as tie-break
        return best

    def category_rows(self, district: str | None, industry: str | None,
                      dead: np.ndarray | None = None) -> np.ndarray:
        mask = np.ones(self._count, dtype=bool) if dead is None else ~dead
        if district is not None:
            mask &= self._district == self._district_slot.get(district, -2)
        if industry is not None:
            mask &= self._industry == self._industry_slot.get(industry, -2)
        return np.flatnonzero(mask)

    def _category(self, query: str, cleaned: str, district: str | None,
                  industry: str | None, limit: int, dead: np.ndarray | None) -> SearchResult:
        found = self.category_rows(district, industry, dead)[:limit]
        hits = [Hit(self.entry(int(n)), 0.0) for n in found]
        return SearchResult(query, cleaned, False, hits, district, industry, category=True)

    def related(self, entry: Entry, limit: int = 3,
                dead: np.ndarray | None = None) -> list[Entry]:
        """Other units of the same industry in the same district (for "not found")."""
        mask = (self._industry == self._industry_slot.get(entry.industry, -1)) & \
            (self._district == self._district_slot.get(entry.district, -1))
        if dead is not None:
            mask &= ~dead
        found = (self.entry(int(n)) for n in np.flatnonzero(mask)[:limit + 1])
        return [e for e in found if e.id != entry.id][:limit]

    def _search_initials(self, letters: str, limit: int,
                         dead: np.ndarray | None = None) -> SearchResult:
        lists = [self._tris.get(t) for t in sorted(trigrams(letters))]
        merged = np.concatenate(lists) if lists else np.zeros(0, dtype=np.int32)
        ids, c = np.unique(merged, return_counts=True)
        if dead is not None:
            alive = ~dead[ids]
            ids, c = ids[alive], c[alive]
        if len(ids) > MAX_CANDIDATES * 3:
            ids = ids[top_k(c, MAX_CANDIDATES * 3)]
        home = self.home_district
        scored = sorted(((max(fuzz.ratio(letters, i) for i in inits)
                          + (1.5 if home and self.district_of(int(n)) == home else 0.0),
                          int(n)) for n in ids if (inits := self.inits_of(int(n)))),
                        reverse=True)
        hits = [Hit(self.entry(n), float(s)) for s, n in scored[:limit]]
        return SearchResult(letters, letters, confident(hits), hits)


def _bytes(arr: np.ndarray) -> memoryview:
    return memoryview(np.ascontiguousarray(arr).reshape(-1).view(np.uint8).data)


def _ints(arr: np.ndarray) -> memoryview:
    return memoryview(np.ascontiguousarray(arr, dtype=np.int64).data).cast("B").cast("q")


def confident(hits: list[Hit]) -> bool:
    if not hits or hits[0].score < CONFIDENT_SCORE:
        return False
    if len(hits) > 1 and hits[1].entry.phone != hits[0].entry.phone:
        return hits[0].score - hits[1].score >= CONFIDENT_MARGIN
    return True


def _similarity(q: str, key: str) -> float:
    r = fuzz.ratio(q, key)
    if len(q) < len(key) and len(q) >= 2:
        r = max(r, fuzz.partial_ratio(q, key) * (0.7 + 0.3 * len(q) / len(key)))
    return float(r)
