"""The search tokens of an item and of a question, the same for SQLite FTS5 and PostgreSQL:
jieba's words (the exact characters), fuzzy-pinyin syllable bigrams (what a caller says,
homophones and a recogniser's slips included: 居住正 for 居住证), and for typed pinyin the
full pinyin and the initials of the title's words (juzhuzheng, jzz).

Every token is one space-free string, so FTS5's unicode61 tokenizer and PostgreSQL's
array_to_tsvector keep it whole."""

from __future__ import annotations

import functools
import itertools
import logging
import re
from dataclasses import dataclass

import jieba

from hotline.directory.pinyin import fuzzy, syllables

# what callers say around the question, never what it is about
STOP_WORDS = frozenset((  # noqa: SIM905 (a line of words reads better than 97 strings)
    "我 你 您 他 她 想 要 问 问问 一下 下 请问 你好 您好 喂 那个 这个 "
    "就是 然后 的 了 吗 呢 啊 呀 吧 嘛 哦 嗯 呃 什么 怎么 怎么样 怎样 "
    "如何 哪些 哪里 哪儿 哪个 多少 多久 几天 需要 要求 准备 带 拿 东西 "
    "材料 手续 资料 办 办理 能 能不能 可以 可不可以 是 不是 有 没有 还 "
    "都 去 到 在 给 把 跟 和 现在 这边 那边 请 帮 帮我 一个 个 些 "
    "谢谢 知道 告诉 咨询 一样 呗 得 着 过 么 我们 咱们 说 问下 麻烦 "
    "自己 家里 孩子 "
).split())
_RUN = re.compile(r"[\u4e00-\u9fff0-9]+|[A-Za-z]+")
_ASCII = re.compile(r"^[A-Za-z\s]+$")


@functools.cache
def _jieba() -> jieba.Tokenizer:
    jieba.setLogLevel(logging.WARNING)
    t = jieba.Tokenizer()
    t.initialize()
    return t


def words(text: str) -> list[str]:
    """jieba's search-mode words, without the stop words and punctuation."""
    out: list[str] = []
    for run in _RUN.findall(text):
        out += [w for w in _jieba().cut_for_search(run) if w not in STOP_WORDS]
    return out


def _content_runs(text: str) -> list[str]:
    """The text cut at punctuation and at stop words: the runs a question is about."""
    runs: list[str] = []
    for run in _RUN.findall(text):
        cur = ""
        for w in _jieba().cut(run):
            if w in STOP_WORDS:
                if cur:
                    runs.append(cur)
                cur = ""
            else:
                cur += w
        if cur:
            runs.append(cur)
    return runs


def sound_bigrams(text: str) -> list[str]:
    """Fuzzy-pinyin syllable bigrams within each content run: 'juzu', 'zuzen'."""
    out: list[str] = []
    for run in _content_runs(text):
        s = [fuzzy(x) for x in syllables(run)]
        if len(s) == 1:
            out.append("s" + s[0])
        out += [a + b for a, b in itertools.pairwise(s)]
    return out


def typed_forms(title: str) -> list[str]:
    """What an operator types for a title: each word's full pinyin and initials, and the
    whole title's initials."""
    out: list[str] = []
    all_initials = ""
    for w in _jieba().cut(title):
        s = syllables(w)
        if not s:
            continue
        all_initials += "".join(x[0] for x in s)
        if len(s) >= 2:
            out += ["".join(s), "".join(x[0] for x in s)]
    if len(all_initials) >= 2:
        out.append(all_initials)
    return out


def _unique(tokens: list[str]) -> list[str]:
    return list(dict.fromkeys(t.lower() for t in tokens if t and len(t) <= 100))


@dataclass(frozen=True)
class DocTokens:
    head: str  # title, keywords, unit: weighted high
    body: str  # basis, procedure, materials, …


def item_tokens(title: str, keywords: tuple[str, ...], unit: str, body: str) -> DocTokens:
    head_text = " ".join((title, *keywords, unit))
    head = words(head_text) + sound_bigrams(title) + typed_forms(title)
    for k in keywords:
        head += sound_bigrams(k)
    head += sound_bigrams(unit) + typed_forms(unit)
    return DocTokens(" ".join(_unique(head)),
                     " ".join(_unique(words(body) + sound_bigrams(body))))


@dataclass(frozen=True)
class QueryTokens:
    tokens: tuple[str, ...]
    prefix: bool  # typed pinyin: match the start of a token
    bigrams: frozenset[str]  # the question's sounds, for the reranking


def query_tokens(question: str) -> QueryTokens:
    q = question.strip()
    if _ASCII.match(q):
        parts = q.lower().split()
        joined = "".join(parts)
        return QueryTokens(tuple(_unique([joined, *parts])), True, frozenset())
    grams = sound_bigrams(q)
    return QueryTokens(tuple(_unique(words(q) + grams)), False, frozenset(grams))
