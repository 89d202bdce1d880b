"""Reading a note: text, frontmatter, date and tags."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from memo2anki.model import Memo2AnkiError, Note
from memo2anki.notes.reader import read_note


def _read(tmp_path: Path, name: str, content: str | bytes) -> tuple[Note, list[str]]:
    path = tmp_path / name
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(content, str):
        content = content.encode("utf-8")
    path.write_bytes(content)
    note, warnings = read_note(path, tmp_path)
    return note, [str(w) for w in warnings]


def test_json_frontmatter_and_tags_section(tmp_path: Path) -> None:
    note, warnings = _read(
        tmp_path,
        "daily/2025-04-04.md",
        '---\n{"dg-publish":true,"permalink":"/06-full-notes/2025-04-04/"}\n---\n\n'
        "# Tags\n- [[03 - Tags/2025-04\\|2025-04]]\n"
        "- [[03 - Tags/2025-03-6week - 2025-04-1week\\|2025-03-6week - 2025-04-1week]]\n"
        "- [[03 - Tags/복습]]\n\n---\n# 공부 메모장\n",
    )
    assert warnings == []
    assert note.metadata == {"dg-publish": True, "permalink": "/06-full-notes/2025-04-04/"}
    assert note.tags == ("2025-04", "2025-03-6week_-_2025-04-1week", "복습")
    assert note.date == dt.date(2025, 4, 4)
    assert note.relpath == "daily/2025-04-04.md"
    # Frontmatter lines are blanked, so line numbers still match the file.
    assert note.text.split("\n")[4] == "# Tags"


def test_yaml_frontmatter_tags_and_date(tmp_path: Path) -> None:
    note, _ = _read(
        tmp_path, "메모.md", "---\ntags: [복습, 시험 대비]\ndate: 2025-03-01\n---\n본문\n"
    )
    assert note.tags == ("복습", "시험_대비")
    assert note.date == dt.date(2025, 3, 1)


@pytest.mark.parametrize(
    ("frontmatter", "message"),
    [
        ("tags: [a, b\n", "2025-04-04.md:3: broken frontmatter ignored"),
        ("- just\n- a list\n", "2025-04-04.md:1: frontmatter ignored: it is not a mapping"),
    ],
)
def test_bad_frontmatter_warns_and_note_is_still_read(
    tmp_path: Path, frontmatter: str, message: str
) -> None:
    note, warnings = _read(tmp_path, "2025-04-04.md", f"---\n{frontmatter}---\n# 공부 메모장\n")
    assert len(warnings) == 1 and warnings[0].startswith(message)
    assert note.metadata == {}
    assert "# 공부 메모장" in note.text


def test_bom_and_crlf(tmp_path: Path) -> None:
    note, warnings = _read(tmp_path, "n.md", "\ufeff# 공부 메모장\r\n**A**\r\n가\r\n")
    assert warnings == []
    assert note.text == "# 공부 메모장\n**A**\n가\n"


def test_cp949_is_decoded_with_a_warning(tmp_path: Path) -> None:
    text = (
        "# 공부 메모장\n## 네트워크\n**서브넷 마스크**\n네트워크 부분과 호스트 부분을 나눈다.\n" * 3
    )
    note, warnings = _read(tmp_path, "n.md", text.encode("cp949"))
    assert note.text == text
    assert warnings == ["n.md: not UTF-8; read as CP949"]


def test_binary_file_is_refused(tmp_path: Path) -> None:
    with pytest.raises(Memo2AnkiError, match=r"n.md: skipped, not a text file"):
        _read(tmp_path, "n.md", b"\x89PNG\r\n\x1a\n\x00\x00\x00")


_KOREAN_LINES = [
    "# 공부 메모장",
    "## 네트워크",
    "**서브넷 마스크**",
    "네트워크 부분과 호스트 부분을 나눈다.",
]
_KOREAN = "\n".join(_KOREAN_LINES * 3) + "\n"


def _broken_at(line: int, bad: bytes, newline: bytes = b"\n") -> bytes:
    """The Korean note in UTF-8 with ``bad`` bytes put at the start of 1-based ``line``."""
    lines = _KOREAN.encode("utf-8").split(b"\n")
    lines[line - 1] = bad + lines[line - 1]
    return newline.join(lines)


def _shown_at(line: int, marks: int = 1) -> str:
    """The Korean note as read with ``marks`` replacement characters starting ``line``."""
    lines = _KOREAN.split("\n")
    lines[line - 1] = "\ufffd" * marks + lines[line - 1]
    return "\n".join(lines)


@pytest.mark.parametrize(
    ("raw", "text", "warnings"),
    [
        (
            _broken_at(4, b"\xff"),
            _shown_at(4),
            ["n.md:4: not valid UTF-8 in 1 place, shown as \ufffd (as Obsidian shows them)"],
        ),
        (
            _broken_at(7, b"\xed\x95", b"\r\n"),  # a character cut short, in a CRLF note
            _shown_at(7),
            ["n.md:7: not valid UTF-8 in 1 place, shown as \ufffd (as Obsidian shows them)"],
        ),
        (
            _broken_at(2, b"\x80").replace("나눈다".encode(), b"\xc0\xaf", 1),
            _shown_at(2).replace("나눈다", "\ufffd\ufffd", 1),
            ["n.md:2: not valid UTF-8 in 3 places, shown as \ufffd (as Obsidian shows them)"],
        ),
        (_KOREAN.encode("cp949"), _KOREAN, ["n.md: not UTF-8; read as CP949"]),
    ],
    ids=["one bad byte", "a cut character, CRLF", "three bad sequences", "cp949 still detected"],
)
def test_a_few_bad_bytes_in_utf8_are_replaced_as_obsidian_does(
    tmp_path: Path, raw: bytes, text: str, warnings: list[str]
) -> None:
    note, got = _read(tmp_path, "n.md", raw)
    assert (note.text, got) == (text, warnings)
