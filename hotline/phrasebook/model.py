"""Load and validate scripts/phrasebook.yaml. Domain code: imports no I/O library beyond
reading the file it is given. Errors name the line and the problem."""

from __future__ import annotations

import re
import string
from dataclasses import dataclass
from pathlib import Path

import yaml

from hotline.errors import PhrasebookError

PLACEHOLDERS = {"unit", "job_number", "organisation", "phone", "industry", "district",
                "address", "title", "choices", "content", "ticket", "due", "line", "name"}
REQUIRED = {
    "opening", "opening_after_wait", "recording_notice", "silent_1", "silent_2",
    "silent_goodbye", "low_volume", "low_volume_goodbye", "not_heard", "please_hold",
    "thanks_for_waiting", "keep_alive",
    "lookup_confirm", "lookup_found", "lookup_not_registered", "lookup_offer_related",
    "lookup_related", "lookup_which_industry", "lookup_which_district", "transfer",
    "transfer_not_registered", "transfer_offer", "transfer_brief", "transfer_failed",
    "operator_handover", "callback_take", "callback_ticket", "message_take",
    "message_readback", "complaint_ack",
    "out_of_scope", "seat_fault_transfer", "seat_fault_goodbye", "anything_else",
    "rating_request", "rating_thanks", "goodbye", "nuisance_prompt", "ask_again",
}
_ID = re.compile(r"^[a-z][a-z0-9_]*$")


@dataclass(frozen=True)
class Phrase:
    id: str
    situation: str
    text: str
    placeholders: frozenset[str]
    line: int
    panel: bool = False  # read out by operators from the desk's panel, not by a script

    def fill(self, **values: str) -> str:
        missing = self.placeholders - values.keys()
        if missing:
            raise KeyError(f"phrase {self.id} needs {sorted(missing)}")
        return self.text.format(**{k: values[k] for k in self.placeholders})


@dataclass(frozen=True)
class Phrasebook:
    phrases: dict[str, Phrase]
    source: str

    def __getitem__(self, phrase_id: str) -> Phrase:
        return self.phrases[phrase_id]

    def __iter__(self):  # type: ignore[no-untyped-def]
        return iter(self.phrases.values())


def _fields(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name is not None}


def parse_phrasebook(text: str, source: str = "phrasebook.yaml") -> Phrasebook:
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        problem = getattr(exc, "problem", None) or exc
        raise PhrasebookError(source, line, f"not valid YAML: {problem}") from None
    if not isinstance(root, yaml.MappingNode):
        raise PhrasebookError(source, 1, "the file must be a mapping with a 'phrases' list")
    phrases_node = None
    for key, value in root.value:
        if key.value == "phrases":
            phrases_node = value
    if not isinstance(phrases_node, yaml.SequenceNode):
        raise PhrasebookError(source, 1, "missing 'phrases:' list")
    phrases: dict[str, Phrase] = {}
    for item in phrases_node.value:
        line = item.start_mark.line + 1
        if not isinstance(item, yaml.MappingNode):
            raise PhrasebookError(source, line, "each phrase must be a mapping")
        entry: dict[str, str] = {}
        lines: dict[str, int] = {}
        for key, value in item.value:
            lines[str(key.value)] = value.start_mark.line + 1
            if not isinstance(value, yaml.ScalarNode):
                raise PhrasebookError(source, value.start_mark.line + 1,
                                      f"'{key.value}' must be text")
            entry[str(key.value)] = str(value.value)
        unknown = set(entry) - {"id", "situation", "text", "source", "panel"}
        if unknown:
            raise PhrasebookError(source, line, f"unknown keys {sorted(unknown)}")
        pid = entry.get("id", "")
        if not _ID.match(pid):
            raise PhrasebookError(source, line, f"bad or missing id {pid!r}")
        if pid in phrases:
            raise PhrasebookError(source, line, f"duplicate id {pid!r} "
                                  f"(first at line {phrases[pid].line})")
        for key in ("situation", "text"):
            if not entry.get(key, "").strip():
                raise PhrasebookError(source, line, f"phrase {pid!r} has no {key}")
        try:
            names = _fields(entry["text"])
        except ValueError as exc:
            raise PhrasebookError(source, lines["text"],
                                  f"phrase {pid!r}: bad placeholder: {exc}") from None
        bad = names - PLACEHOLDERS
        if bad:
            raise PhrasebookError(source, lines["text"], f"phrase {pid!r}: unknown placeholders "
                                  f"{sorted(bad)}; allowed {sorted(PLACEHOLDERS)}")
        panel = entry.get("panel", "false").strip().lower()
        if panel not in ("true", "false"):
            raise PhrasebookError(source, lines["panel"],
                                  f"phrase {pid!r}: panel is true or false, not {panel!r}")
        phrases[pid] = Phrase(pid, entry["situation"].strip(), entry["text"].strip(),
                              frozenset(names), line, panel == "true")
    missing = REQUIRED - phrases.keys()
    if missing:
        raise PhrasebookError(source, None, f"missing phrases for {sorted(missing)}")
    return Phrasebook(phrases, source)


def load_phrasebook(path: Path) -> Phrasebook:
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise PhrasebookError(str(path), None, f"not UTF-8: {exc}") from None
    except OSError as exc:
        raise PhrasebookError(str(path), None, f"cannot read: {exc.strerror}") from None
    return parse_phrasebook(text, str(path))
