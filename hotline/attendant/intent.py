"""What the caller wants (004 篇10; 000 与110、120的联动): a pure function from an utterance, as a
recogniser gives it, to the matter. Keyword rules over the normalised text, plus the pinyin of
the utterance for the recogniser's homophones (就命啊 for 救命啊, 着伙了 for 着火了).

Emergencies come first and must not be missed. A homophone is only trusted where it cannot
be an everyday word: a two-syllable emergency word heard by sound must end the utterance or
be followed by an exclamation (失火了, never the shi-huo of 是火车站); longer ones (煤气泄漏)
are matched by their fuzzy sound anywhere.

An answer to another step's question (``answering``: a name, the unit a complaint is about)
is stricter still: a bare name can sound like an emergency word (刘大杰 like 打劫, 李九明 like
救命), so there a two-syllable word heard only by its sound counts only before an
exclamation (打劫啦, 就命啊).

Anything with content that no rule claims is a lookup: on a 12345/114 line a bare name
(工行, 雾都宾馆) asks for the unit's number. Only words with nothing in them (fillers, a
greeting, "我想问一下") are unclear, and only whole utterances that cannot be a matter
(laughing, a test call, chit-chat with the attendant) are unrelated.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Sequence
from dataclasses import dataclass

from hotline.directory.pinyin import fuzzy, readings_of
from hotline.speech.normalise import normalise


class Intent(enum.StrEnum):
    LOOKUP = "lookup"
    MESSAGE = "message"
    COMPLAINT = "complaint"
    EMERGENCY = "emergency"
    PERSON = "person"
    OUT_OF_SCOPE = "out_of_scope"
    UNCLEAR = "unclear"
    # remarks within a conversation (004 篇10 5、10、): not matters of their own
    THANKS = "thanks"
    ASK_NAME = "ask_name"
    DISSATISFIED = "dissatisfied"
    ABUSE = "abuse"
    UNRELATED = "unrelated"  # laughing, a test call, chit-chat (004 篇10 9、: nuisance)


class Line(enum.StrEnum):
    """The emergency lines (000: 与110、120的联动)."""

    POLICE = "110"
    FIRE = "119"
    AMBULANCE = "120"
    TRAFFIC = "122"


@dataclass(frozen=True)
class Reading:
    intent: Intent
    line: Line | None = None
    cue: str = ""  # the words that decided it (on the record)
    text: str = ""  # the utterance as the rules saw it (normalised, fillers dropped)


# Per line: the words written (regular expressions over the normalised text) and the words
# trusted by sound. The order is the order of priority when several lines are named: fire
# and life first (着火了有人受伤: 119), a traffic accident before the police.
_EMERGENCY: tuple[tuple[Line, str, tuple[str, ...]], ...] = (
    (Line.FIRE,
     r"着火|著火|失火|起火|火灾|火警|冒烟|冒黑烟|烧起来|烧着了|烧了起来|火烧|大火(?!锅)|爆炸"
     r"|(煤气|燃气|天然气|液化气)(泄漏|泄露|漏了|漏气|味)|困在|被困(?!扰)|关在电梯",
     ("着火", "失火", "起火", "火灾", "煤气泄漏", "燃气泄漏", "天然气泄漏")),
    (Line.AMBULANCE,
     r"受伤|受了伤|伤得|伤了|晕倒|晕到|昏倒|昏到|晕过去|昏过去|昏迷|不省人事|心脏病|心梗"
     r"|中风|脑溢血|抽搐|抽风|喘不上气|喘不过气|没气了|没有气了|没呼吸|没有呼吸|没心跳"
     r"|流血|出血|吐血|(好|很)多血|流了.{0,3}血|急救|救护车|中毒|摔伤|摔倒|骨折|难产|要生了|快不行了|休克"
     r"|割腕|安眠药|烫伤|烧伤|触电|被狗咬|咬伤|噎住|卡住喉咙|发高烧|高烧不退|倒地",
     ("救护车", "不省人事", "心脏病", "有人受伤", "有人晕倒")),
    (Line.TRAFFIC,
     r"车祸|撞车|交通事故|被车撞|撞人|撞了人|追尾|翻车|车撞|车翻了|肇事|车子撞|撞到人"
     r"|撞了(一个|个)?(人|车)",
     ("车祸", "撞车", "交通事故")),
    (Line.POLICE,
     r"救命|抢劫|打劫|抢东西|抢钱|抢包|打架|打人(?!社)|被打(?!扰|折|印|针|电话)|打我(?!电话|手机|的电话)"
     r"|杀人|砍人|持刀|拿刀|拿着刀|动刀|捅人|捅了|小偷|偷东西|被偷|偷了|进贼|有贼|绑架"
     r"|报警|警察|劫持|跳楼(?!价)|跳河|落水|掉水里|掉河里|掉进河|溺水|淹水里|家暴|非礼"
     r"|强奸|性侵|闹事|斗殴|开枪|有枪|持枪|拐卖|拐走|被骗了|诈骗|跟踪我|威胁我|快来人",
     ("救命", "抢劫", "打劫", "报警", "杀人", "绑架")),
)
_EXCLAIM = "了啊呀啦哪拉喽吧哇唉呐"

_ABUSE = re.compile(r"傻逼|傻b|sb|煞笔|操你|草你|日你|他妈|你妈|妈的|滚蛋|滚开|^滚|去死"
                    r"|王八|混蛋|神经病|白痴|废物|蠢猪|智障|脑残|狗东西|贱人|犯贱")
_PERSON = re.compile(r"人工|接线员|话务员|真人|客服|活人|找个人|跟人说|值班员")
_COMPLAINT = re.compile(r"投诉|举报|检举|反映(一下|个|下)?(问题|情况)|反映一下|我要反映"
                        r"|想反映|不满意|告他们|告你们|曝光")
_COMPLAINT_SOUNDS = ("投诉", "举报")
_DISSATISFIED = re.compile(r"(服务|态度)(太|很|真|好|非常)?(差|烂|不好|恶劣)|太慢了|慢死"
                           r"|什么破|破热线|垃圾|没用|不耐烦|不专业|不如|比不上|效率太低"
                           r"|打了(好|很)?(几|多)(次|遍)|老是打不通|一直打不通")
_MESSAGE = re.compile(r"留言|留个言|留个话|留句话|(留|带|捎)(个|句)?口信|转告|带个话|带句话|捎个话"
                      r"|捎句话|传个话|传句话|(帮|替)我告诉|(帮|替)我转达|转达")
_MESSAGE_SOUNDS = ("留言",)  # by sound only at the end: 流言 (not 刘燕的电话)
_ASK_NAME = re.compile(r"你(叫|是)?(什么|啥)名字|你叫什么|你叫啥|你的名字|你是谁|贵姓"
                       r"|怎么称呼你|你姓什么|你姓啥|叫什么名字|你哪位")
_THANKS = re.compile(r"(好的?|嗯|哦|行)?(谢谢|多谢|感谢|谢了|麻烦)(你|您|了|啊|呀|你了|您了"
                     r"|你们|啦)*(非常|太)?(感谢|谢谢)?(了|啊|呀)?")
_THANKS_FULL = re.compile(r"(非常|太|真是|真的)?(感谢|谢谢)(你|您|你们)?(了|啊|呀)?")
# Words that say nothing of the matter: fillers, greetings, preambles, bare yes and no.
_EMPTY = re.compile(r"嗯+|啊+|呃+|额+|哦+|噢+|诶+|哎+|唉+|喂+|嘿|那个|这个|就是|然后|是这样的?"
                    r"|你好|您好|请问|麻烦(你|您)?|我想|我要|想要|我问(一下|问)?|问(一下|问)"
                    r"|我有个事|有个事|有件事|我有个问题|我有问题|咨询(一下)?|帮(我|忙)|一下|好的?"
                    r"|对的?|是的?|行|可以|听得见吗|听到吗|在吗|有人吗")
# Whole utterances that say nothing of any matter of the hotline's (004 篇10 9、 骚扰): laughing,
# a test call, chit-chat with the attendant. Only ever the whole utterance (after a greeting,
# before particles): any other words with content are a lookup (测试中心, 机器人公司).
_UNRELATED = re.compile(
    r"(?:(哈|呵|嘿|嘻|嘎|咯){2,}|笑死(我)?"
    r"|(我|这是)?(在)?(测试|测试一下|试试|试一下|试下|试试看|随便打打|随便打的|打着玩|闹着玩"
    r"|测试电话)"
    r"|(你)?吃(饭|了|过)(了)?(吗|没|没有)|你在干(嘛|什么|啥)|(你)?干(嘛|啥)呢"
    r"|你(今年)?多大(了)?|你几岁|你(结婚|有对象|有男朋友|有女朋友)(了)?(吗|没有?)"
    r"|(你)?(是|是不是)机器人|你是(男的|女的)(还是(男的|女的))?"
    r"|(陪我|跟我|和我)(聊|说|唠)(聊|说|会儿|一会儿|天|话)*|(我)?(好|太)?无聊|聊(聊)?天"
    r"|(给我|你)?(讲|说)(个|一个)笑话|(给我|你)?唱(首|个|一首)歌|我(喜欢|爱)你"
    r"|你(的)?(声音)?(真|好|很)?(好听|甜|可爱|漂亮|好看|帅))[了啊呀吧呢嘛哦吗的]*")
_GREETING = re.compile(r"^(你好|您好|喂|哎|嗨)+")
_LEADING = re.compile(r"^(嗯+|啊+|呃+|额+|哦+|噢+|诶+|哎+|喂+|那个|这个|就是)+")
_TRAILING = re.compile(r"(嗯+|啊+|呃+|额+)$")


def _sound(text: str) -> list[frozenset[str]]:
    return [r for r in (readings_of(ch) for ch in text) if r]


def _sounds_like(text: str, word: str, *, at_end: bool, exclaimed: bool = False) -> bool:
    """Whether the syllables of ``word`` occur in ``text`` (any reading of each character;
    fuzzy for words of three syllables or more). ``at_end``: only at the end of the
    utterance or before an exclamation (了, 啊…); ``exclaimed``: only before an
    exclamation."""
    voiced = "".join(ch for ch in text if readings_of(ch))
    heard = _sound(voiced)
    want = _sound(word)
    fold = len(want) >= 3
    if fold:
        want = [frozenset(fuzzy(s) for s in w) for w in want]
        heard = [frozenset(fuzzy(s) for s in h) for h in heard]
    n = len(want)
    for i in range(len(heard) - n + 1):
        if not all(want[j] & heard[i + j] for j in range(n)):
            continue
        ends = i + n == len(heard)
        if not (at_end or exclaimed) or (ends and not exclaimed) or \
                (not ends and voiced[i + n] in _EXCLAIM):
            return True
    return False


def _emergency(text: str, answering: bool) -> Reading | None:
    hits: list[tuple[Line, str]] = []
    for line, written, sounds in _EMERGENCY:
        m = re.search(written, text)
        if m:
            hits.append((line, m.group()))
            continue
        for word in sounds:
            short = len(word) < 3
            if _sounds_like(text, word, at_end=short, exclaimed=short and answering):
                hits.append((line, f"~{word}"))
                break
    if not hits:
        return None
    line, cue = hits[0]
    return Reading(Intent.EMERGENCY, line, cue, text)


def clean(text: str, *, keep_end: bool = False) -> str:
    """The utterance normalised (simplified, no punctuation or spaces), fillers dropped
    (``keep_end``: not the one at the end, which may be an exclamation: 就命啊)."""
    t = _LEADING.sub("", normalise(text).replace(" ", ""))
    return t if keep_end else _TRAILING.sub("", t)


# In order: (the matter, its words, the words matched by sound, only at the utterance's end)
_RULES: tuple[tuple[Intent, re.Pattern[str], Sequence[str], bool], ...] = (
    (Intent.ABUSE, _ABUSE, (), False),
    (Intent.PERSON, _PERSON, (), False),
    (Intent.COMPLAINT, _COMPLAINT, _COMPLAINT_SOUNDS, False),
    (Intent.DISSATISFIED, _DISSATISFIED, (), False),
    (Intent.MESSAGE, _MESSAGE, _MESSAGE_SOUNDS, True),
)


def classify(text: str, out_of_scope: Sequence[str] = (), *,
             answering: bool = False) -> Reading:
    """The matter of one utterance. ``out_of_scope``: the configured words of matters that
    are not this hotline's (commercial sales, another city's matters). ``answering``: the
    utterance answers another step's question (see above: homophones are stricter)."""
    t = clean(text)
    if not t:
        return Reading(Intent.UNCLEAR, text=t)
    found = _emergency(clean(text, keep_end=True) if answering else t, answering)
    if found is not None:
        return found
    for intent, words, sounds, at_end in _RULES:
        if m := words.search(t):
            return Reading(intent, cue=m.group(), text=t)
        for word in sounds:
            if _sounds_like(t, word, at_end=at_end):
                return Reading(intent, cue=f"~{word}", text=t)
    for word in out_of_scope:
        w = normalise(word).replace(" ", "")
        if w and w in t:
            return Reading(Intent.OUT_OF_SCOPE, cue=w, text=t)
    if m := _ASK_NAME.search(t):
        return Reading(Intent.ASK_NAME, cue=m.group(), text=t)
    if _THANKS.fullmatch(t) or _THANKS_FULL.fullmatch(t):
        return Reading(Intent.THANKS, cue=t, text=t)
    if _UNRELATED.fullmatch(_GREETING.sub("", t) or t):
        return Reading(Intent.UNRELATED, cue=t, text=t)
    if not _EMPTY.sub("", t):
        return Reading(Intent.UNCLEAR, text=t)
    return Reading(Intent.LOOKUP, text=t)
