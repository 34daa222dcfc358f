"""The attendant's other matters as whole text-channel dialogues (issue 17): messages,
complaints, emergencies, out of scope and nuisance callers, each said in several ways (fillers,
spaces, homophones, traditional characters). Run by ``python -m bench.dialogue``, which
prints these after the lookup dialogues and their baseline. Success per scenario:

- message / complaint: the ticket of that kind was opened with the caller's words and its
  number told; disposition message / complaint;
- emergency: emergency_transfer said with the right line, disposition emergency; nothing
  is dialled on the text channel (outcome ``no_line_here``), so the figure is the time from
  the caller's words to that phrase (the dial, where there is one, starts before it),
  goal <= 1 s;
- out of scope: out_of_scope said, disposition out_of_scope;
- nuisance: nuisance_prompt said, disposition nuisance.
"""

from __future__ import annotations

import json
import random
import statistics
import time
from dataclasses import dataclass

from hotline.calls.text_session import TextDeps, run_text_call

FILLERS = ("", "嗯 ", "那个 ", "喂 ", "呃 就是 ")
SCENARIOS: dict[str, list[str]] = {
    "message": ["我要留言", "我想 留个言", "帮我 转告 一下 王主任", "给 社区 带个话",
                "我要流言", "能帮我捎个话吗"],
    "complaint": ["我要投诉", "我要举报 有人 乱倒垃圾", "我想 反映 一个 问题",
                  "我对处理结果不满意", "我要投訴。", "我要頭訴"],
    "emergency": ["着火了", "救命啊", "就命啊", "有人受伤了", "出车祸了", "我爸 晕倒了",
                  "有人 抢劫", "家里着伙了", "著火了！快來人", "煤气 泄漏 了"],
    "out_of_scope": ["我是 推销 保险 的", "你们 能 办 贷款 吗", "彩票 中奖 号码 是多少"],
    "nuisance": ["傻逼", "神经病", "你妈的", "滚"],
}
LINES = {"着火了": "119", "救命啊": "110", "就命啊": "110", "有人受伤了": "120",
         "出车祸了": "122", "我爸 晕倒了": "120", "有人 抢劫": "110", "家里着伙了": "119",
         "著火了！快來人": "119", "煤气 泄漏 了": "119"}
ANSWERS = {"ask_caller_name": "我姓张 张先生", "ask_own_number": "是的",
           "message_recipient": "给王主任", "message_take": "明天的会改到下午三点",
           "message_readback": "对 没有了", "complaint_about": "万州区人社局窗口",
           "complaint_take": "办事态度恶劣", "complaint_confidential": "不用",
           "not_heard": "你妈的"}


@dataclass
class MatterCaller:
    first: str
    last: str = ""
    said: list[str] | None = None
    texts: list[str] | None = None
    spoke_at: float = 0.0
    transfer_at: float = 0.0

    def write(self, line: str) -> None:
        out = json.loads(line)
        if "say" in out:
            self.last = out["say"]
            (self.said if self.said is not None else []).append(out["say"])
            (self.texts if self.texts is not None else []).append(out["text"])
            if out["say"] == "emergency_transfer" and not self.transfer_at:
                self.transfer_at = time.perf_counter()

    async def read(self) -> str | None:
        if self.last == "opening":
            self.spoke_at = time.perf_counter()
            return json.dumps({"text": self.first}, ensure_ascii=False)
        if self.last == "rating_request":
            return json.dumps({"digit": "5"})
        answer = ANSWERS.get(self.last)
        return json.dumps({"text": answer} if answer else {"silence": True},
                          ensure_ascii=False)


async def run_matters(deps: TextDeps, per_scenario: int, seed: int = 17
                      ) -> dict[str, dict[str, float]]:
    rng = random.Random(seed)
    out: dict[str, dict[str, float]] = {}
    for scenario, phrasings in SCENARIOS.items():
        ok = 0
        dial_ms: list[float] = []
        for n in range(per_scenario):
            base = phrasings[n % len(phrasings)]
            caller = MatterCaller(rng.choice(FILLERS) + base, said=[], texts=[])
            ended = await run_text_call(deps, caller, "13900000001", lambda m: None)
            said = caller.said or []
            if scenario in ("message", "complaint"):
                ok += ended.disposition == scenario and len(ended.tickets) == 1 and \
                    f"{scenario}_ticket" in said
            elif scenario == "emergency":
                text = (caller.texts or [""])[said.index("emergency_transfer")] \
                    if "emergency_transfer" in said else ""
                ok += ended.disposition == "emergency" and LINES[base] in text
                if caller.transfer_at:
                    dial_ms.append((caller.transfer_at - caller.spoke_at) * 1000)
            elif scenario == "out_of_scope":
                ok += ended.disposition == "out_of_scope" and "out_of_scope" in said
            else:
                ok += ended.disposition == "nuisance" and "nuisance_prompt" in said
        out[scenario] = {"success": ok / per_scenario, "n": per_scenario}
        if dial_ms:
            out[scenario]["dial_p50_ms"] = statistics.median(dial_ms)
            out[scenario]["dial_max_ms"] = max(dial_ms)
    return out
