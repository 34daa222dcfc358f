"""Building the directory index's arrays from entries: every entry's keys (its name, aliases
and core name as fuzzy-syllable codes, and their initials), the postings of syllable bigrams
and initial trigrams (CSR), and the entries' own fields, all as flat numpy arrays with no
Python object per entry, so that the index can be saved in one file and memory-mapped.

Strings are kept in blobs with offsets: the entries' fields as UTF-8 (``text``, ``text_at``:
``FIELDS`` offsets per entry), the keys as UTF-16 codes separated by NUL (``keys``,
``keys_at``), the initials as ASCII separated by NUL (``inits``, ``inits_at``).
"""

from __future__ import annotations

import hashlib
import itertools
import re
from array import array
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from hotline.directory.pinyin import fuzzy_code, initials
from hotline.directory.records import Entry

FIELDS = ("id", "name", "aliases", "industry", "district", "address", "phone", "transfer_to")
_CITY = re.compile(r"^(?:[\u4e00-\u9fff]{2,3}?(?:省|市|自治区)|北京|天津|上海|重庆)+")
_COMPANY = re.compile(r"(?:股份)?有限(?:责任)?公司$|公司$")
_ADMIN_SUFFIX = re.compile(r"(?:区|县|市|镇|乡|街道|新区|自治县)$")


@dataclass
class IndexData:
    """What an index is made of: named arrays and a little JSON-able metadata (the district
    and industry vocabularies, and whatever the caller adds, such as the directory version
    it was built from)."""

    arrays: dict[str, np.ndarray]
    meta: dict[str, Any] = field(default_factory=dict)


def short_district(district: str) -> str:
    short = _ADMIN_SUFFIX.sub("", district)
    return short if len(short) >= 2 else district


def core_name(name: str, districts: Iterable[str] = ()) -> str:
    core = _CITY.sub("", name)
    for d in districts:
        if core.startswith(d) and len(core) > len(d) + 1:
            core = core[len(d):]
            break
    return _COMPANY.sub("", core) or core


def bigrams(code: str) -> set[int]:
    """Syllable bigrams. (Skip-bigrams were tried: +0.6 points top-1 at 1M for 4x the build
    memory and a third more latency; not worth it.)"""
    return {(ord(a) << 20) | ord(b) for a, b in itertools.pairwise(code)}


def trigrams(text: str) -> set[int]:
    """Trigrams of typed initials (ASCII letters), packed into an int: the same in every
    process (Python's str hash is not)."""
    def pack(t: str) -> int:
        return int.from_bytes(t.encode("ascii", "replace"), "big")
    return {pack(text[i:i + 3]) for i in range(len(text) - 2)} or ({pack(text)} if text else set())


def id_hash(entry_id: str) -> int:
    return int.from_bytes(hashlib.blake2b(entry_id.encode(), digest_size=8).digest(),
                          "little", signed=True)


def _csr(keys: array[int], values: array[int], prefix: str) -> dict[str, np.ndarray]:
    k = np.frombuffer(keys, dtype=np.int64)
    v = np.frombuffer(values, dtype=np.int32)
    order = np.argsort(k, kind="stable")
    k, vals = k[order], v[order]
    ids, starts = np.unique(k, return_index=True)
    return {f"{prefix}_ids": ids.astype(np.int64),
            f"{prefix}_starts": np.append(starts, len(k)).astype(np.int64),
            f"{prefix}_values": vals.astype(np.int32)}


def _offsets(lengths: array[int]) -> np.ndarray:
    out = np.zeros(len(lengths) + 1, dtype=np.int64)
    np.cumsum(np.frombuffer(lengths, dtype=np.int64), out=out[1:])
    return out


class Builder:
    """The arrays built one entry at a time (a rebuild streams the rows from the database:
    no list of a million entries), once the district and industry vocabularies are known."""

    def __init__(self, districts: Iterable[str], industries: Iterable[str]) -> None:
        self.districts = sorted(set(districts))
        self.industries = sorted(set(industries))
        self._forms = sorted({f for d in self.districts for f in (d, short_district(d))},
                             key=len, reverse=True)
        self._d_slot = {d: i for i, d in enumerate(self.districts)}
        self._i_slot = {d: i for i, d in enumerate(self.industries)}
        self.count = 0
        self._grams_k, self._grams_v = array("q"), array("i")
        self._tri_k, self._tri_v = array("q"), array("i")
        self._text, self._keys, self._inits = bytearray(), bytearray(), bytearray()
        self._text_len, self._keys_len = array("q"), array("q")
        self._inits_len, self._hashes = array("q"), array("q")
        self._hot, self._district, self._industry = array("b"), array("h"), array("h")

    def add(self, e: Entry) -> None:
        n = self.count
        self.count += 1
        names = {e.name, core_name(e.name, self._forms), *e.aliases}
        codes = sorted({c for c in (fuzzy_code(x) for x in names) if c})
        inits = sorted({i for i in (initials(x) for x in names) if len(i) >= 2})
        joined = "\0".join(codes)
        self._keys += joined.encode("utf-16-le")
        self._keys_len.append(len(joined))
        ini = "\0".join(inits).encode("ascii", "replace")
        self._inits += ini
        self._inits_len.append(len(ini))
        grams = set().union(*(bigrams(c) for c in codes)) if codes else set()
        self._grams_k.extend(grams)
        self._grams_v.extend([n] * len(grams))
        tris = set().union(*(trigrams(i) for i in inits)) if inits else set()
        self._tri_k.extend(tris)
        self._tri_v.extend([n] * len(tris))
        for value in (e.id, e.name, "|".join(e.aliases), e.industry, e.district, e.address,
                      e.phone, e.transfer_to):
            b = value.encode()
            self._text += b
            self._text_len.append(len(b))
        self._hashes.append(id_hash(e.id))
        self._hot.append(e.hot)
        self._district.append(self._d_slot.get(e.district, -1))
        self._industry.append(self._i_slot.get(e.industry, -1))

    def finish(self) -> IndexData:
        hashes = np.frombuffer(self._hashes, dtype=np.int64)
        order = np.argsort(hashes, kind="stable").astype(np.int32)
        arrays: dict[str, np.ndarray] = {
            "text": np.frombuffer(self._text, dtype=np.uint8),
            "text_at": _offsets(self._text_len),
            "keys": np.frombuffer(self._keys, dtype=np.uint16),
            "keys_at": _offsets(self._keys_len),
            "inits": np.frombuffer(self._inits, dtype=np.uint8),
            "inits_at": _offsets(self._inits_len),
            "hot": np.frombuffer(self._hot, dtype=np.int8).astype(np.bool_),
            "district": np.frombuffer(self._district, dtype=np.int16),
            "industry": np.frombuffer(self._industry, dtype=np.int16),
            "id_hash": hashes[order], "id_order": order,
            **_csr(self._grams_k, self._grams_v, "grams"),
            **_csr(self._tri_k, self._tri_v, "tris")}
        return IndexData(arrays, {"count": self.count, "districts": self.districts,
                                  "industries": self.industries})


def build_data(entries: Sequence[Entry], districts: Iterable[str] = (),
               industries: Iterable[str] = ()) -> IndexData:
    """The arrays of an index over ``entries``; ``districts`` and ``industries`` are added to
    the entries' own (an overlay of a few changed entries speaks the whole directory's)."""
    builder = Builder({*districts, *(e.district for e in entries if e.district)},
                      {*industries, *(e.industry for e in entries if e.industry)})
    for e in entries:
        builder.add(e)
    return builder.finish()
