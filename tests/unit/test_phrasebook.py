from pathlib import Path

import pytest

from hotline.errors import PhrasebookError
from hotline.paths import project_dir
from hotline.phrasebook.model import REQUIRED, load_phrasebook, parse_phrasebook
from hotline.prompts.speech_text import phone_words, to_pinyin

GOOD = (project_dir("scripts") / "phrasebook.yaml").read_text(encoding="utf-8")


def line_of(text: str) -> int:
    return GOOD.splitlines().index(text) + 1


def test_the_shipped_phrasebook_covers_every_situation() -> None:
    pb = load_phrasebook(project_dir("scripts") / "phrasebook.yaml")
    assert pb.phrases.keys() >= REQUIRED
    assert "{job_number}" in pb["opening"].text and "{unit}" in pb["opening"].text
    assert pb["opening_after_wait"].text.startswith("很抱歉")
    assert pb["opening"].fill(unit="12345热线", job_number="9000").startswith("您好，12345热线")


@pytest.mark.parametrize(("mutate", "line", "problem"), [
    (lambda t: t.replace("id: low_volume\n", "id: opening\n", 1), line_of("  - id: low_volume"),
     "duplicate id"),
    (lambda t: t.replace("是{organisation}，对吗", "是{orgname}，对吗"),
     line_of("    text: 您好，您要查询的是{organisation}，对吗？"), "unknown placeholders"),
    (lambda t: t.replace("    panel: true\n", "    panel: maybe\n", 1),
     GOOD.splitlines().index("    panel: true") + 1, "panel is true or false"),
    (lambda t: t.replace("  - id: goodbye", "  - id: Goodbye", 1), None, "bad or missing id"),
    (lambda t: t + "  - id: extra\n    situation: x\n    text: [1, 2]\n", None, "must be text"),
    (lambda t: t.replace("phrases:", "phrases: [", 1), None, "not valid YAML"),
    (lambda t: t.replace("  - id: goodbye\n", "  - id: bye\n", 1), None, "missing phrases"),
])
def test_bad_files_name_the_line_and_problem(mutate, line, problem) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(PhrasebookError) as err:
        parse_phrasebook(mutate(GOOD), "pb.yaml")
    assert problem in str(err.value)
    if line is not None:
        assert err.value.line == line
    if problem != "missing phrases":
        assert err.value.line is not None and f"pb.yaml:{err.value.line}" in str(err.value)


def test_unreadable_file(tmp_path: Path) -> None:
    bad = tmp_path / "pb.yaml"
    bad.write_bytes(b"\xff\xfe phrases")
    with pytest.raises(PhrasebookError, match="not UTF-8"):
        load_phrasebook(bad)


def test_numbers_are_read_digit_by_digit_with_yao() -> None:
    assert phone_words("12345") == "幺二三四五"
    assert phone_words("023-58221111") == "零二三,五八二二幺幺幺幺"
    assert to_pinyin("电话是87654321") == "dian4 hua4 shi4 ba1 qi1 liu4 wu3 si4 san1 er4 yao1"
