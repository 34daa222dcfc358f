"""Who is calling and how to call them back (004 篇10 短信留言用语): the name ("请先告诉我您
的名字好吗？"), the form of address as the caller gives it (先生/女士, or none), and the number
("您的电话是本机号码吗？"; if not, keyed or spoken digits)."""

from __future__ import annotations

import re
from dataclasses import dataclass

from hotline.attendant.answers import hear
from hotline.attendant.call import AttendantCall
from hotline.attendant.port import Expect
from hotline.attendant.words import squeeze, yes_no
from hotline.domain.caller_id import can_call_back
from hotline.speech.normalise import digits_of

_PREAMBLE = re.compile(r"^(我的名字(是|叫)|我叫|我是|我姓|叫我|姓)")
_TITLE = re.compile(r"(先生|女士|小姐|阿姨)$")


@dataclass(frozen=True)
class Contact:
    name: str  # as given ("张三", "李女士"), or ""
    title: str  # the form of address: "张先生", "李女士", or "" (none given)
    number: str  # the callback number


def name_and_title(text: str) -> tuple[str, str]:
    """"我叫张三" -> ("张三", ""); "我姓李 李女士" -> ("李女士", "李女士"); "王先生" ->
    ("王先生", "王先生"). The form of address only when the caller gave it."""
    t = _PREAMBLE.sub("", squeeze(text)).rstrip("了啊呀吧")
    if len(t) > 2 and t[0] == t[1]:  # 我姓张 张先生
        t = t[1:]
    m = _TITLE.search(t)
    if m is None:
        return t[:20], ""
    word = "女士" if m.group() in ("女士", "小姐", "阿姨") else "先生"
    surname = t[:m.start()][-1:] if m.start() else ""
    return t[:20], f"{surname}{word}" if surname else ""


def address(contact: Contact) -> str:
    """How the caller is addressed in a phrase that starts with it ({title}，…)."""
    return contact.title or "您好"


async def ask_contact(c: AttendantCall) -> Contact:
    await c.d.say("ask_caller_name")
    name, title = name_and_title((await hear(c, Expect.FREE)).text)
    number, own = c.caller, False
    if can_call_back(c.caller):  # a withheld number is not offered as "this phone"
        await c.d.say("ask_own_number")
        own = yes_no((await hear(c, Expect.YES_NO)).text) is True
    if not own:
        await c.d.say("ask_callback_number")
        keyed = await c.d.digit(c.settings.digits_wait_s, max_digits=15, or_words=True)
        if not keyed:  # said instead (or nothing): heard like any answer, an emergency too
            keyed = digits_of((await hear(c, Expect.DIGITS)).text)
        number = keyed or c.caller
    await c.record.note("contact", {"name": name, "title": title,
                                    "own_number": number == c.caller})
    return Contact(name, title, number)
