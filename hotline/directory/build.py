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


def build_data(entries: Sequence[Entry], districts: Iterable[str] = (),
               industries: Iterable[str] = ()) -> IndexData:
    """The arrays of an index over ``entries``; ``districts`` and ``industries`` are added to
    the entries' own (an overlay of a few changed entries speaks the whole directory's)."""
    all_districts = sorted({*districts, *(e.district for e in entries if e.district)})
    all_industries = sorted({*industries, *(e.industry for e in entries if e.industry)})
    district_forms = sorted({f for d in all_districts for f in (d, short_district(d))},
                            key=len, reverse=True)
    d_slot = {d: i for i, d in enumerate(all_districts)}
    i_slot = {d: i for i, d in enumerate(all_industries)}
    grams_k, grams_v = array("q"), array("i")
    tri_k, tri_v = array("q"), array("i")
    text = bytearray()  # one blob, not a bytes object per field
    text_len, keys_len, inits_len = array("q"), array("q"), array("q")
    keys: list[str] = []
    inits_out: list[bytes] = []
    for n, e in enumerate(entries):
        names = {e.name, core_name(e.name, district_forms), *e.aliases}
        codes = sorted({c for c in (fuzzy_code(x) for x in names) if c})
        inits = sorted({i for i in (initials(x) for x in names) if len(i) >= 2})
        joined = "\0".join(codes)
        keys.append(joined)
        keys_len.append(len(joined))
        ini = "\0".join(inits).encode("ascii", "replace")
        inits_out.append(ini)
        inits_len.append(len(ini))
        grams = set().union(*(bigrams(c) for c in codes)) if codes else set()
        grams_k.extend(grams)
        grams_v.extend([n] * len(grams))
        tris = set().union(*(trigrams(i) for i in inits)) if inits else set()
        tri_k.extend(tris)
        tri_v.extend([n] * len(tris))
        for value in (e.id, e.name, "|".join(e.aliases), e.industry, e.district, e.address,
                      e.phone, e.transfer_to):
            b = value.encode()
            text += b
            text_len.append(len(b))
    hashes = np.array([id_hash(e.id) for e in entries], dtype=np.int64)
    order = np.argsort(hashes, kind="stable").astype(np.int32)
    arrays: dict[str, np.ndarray] = {
        "text": np.frombuffer(text, dtype=np.uint8),
        "text_at": _offsets(text_len),
        "keys": np.frombuffer("".join(keys).encode("utf-16-le"), dtype=np.uint16),
        "keys_at": _offsets(keys_len),
        "inits": np.frombuffer(b"".join(inits_out), dtype=np.uint8),
        "inits_at": _offsets(inits_len),
        "hot": np.array([e.hot for e in entries], dtype=np.bool_),
        "district": np.array([d_slot.get(e.district, -1) for e in entries], dtype=np.int16),
        "industry": np.array([i_slot.get(e.industry, -1) for e in entries], dtype=np.int16),
        "id_hash": hashes[order], "id_order": order,
        **_csr(grams_k, grams_v, "grams"), **_csr(tri_k, tri_v, "tris")}
    return IndexData(arrays, {"count": len(entries), "districts": all_districts,
                              "industries": all_industries})
