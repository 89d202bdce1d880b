"""Reading a note: text, frontmatter, date and tags."""

from __future__ import annotations

import codecs
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


MEMO = "# 공부 메모장\n## CKA\n**A**\n"
# (id, note, its tags: frontmatter's, then the `# Tags` list's)
TAGS_SECTION_CASES: list[tuple[str, str, tuple[str, ...]]] = [
    (
        "# tags in a fence in a card's back is code",
        MEMO + "```yaml\nmetadata:\n  labels:\n# tags\n- frontend\n- prod\n```\n",
        (),
    ),
    ("in a ~~~ fence", "~~~\n# Tags\n- x\n~~~\n# Tags\n- a\n", ("a",)),
    (
        "in a fence of four backticks holding three",
        "````md\n```\n# Tags\n- x\n```\n- y\n````\n# Tags\n- a\n",
        ("a",),
    ),
    ("in a fence of a list item", "- ```\n  # Tags\n  - x\n  ```\n# Tags\n- a\n", ("a",)),
    ("in a fence never closed", "# Tags\n- a\n```\n# Tags\n- x\n", ("a",)),
    ("in an HTML comment", "<!--\n# Tags\n- x\n-->\n# Tags\n- a\n", ("a",)),
    ("in a %% comment", "%%\n# Tags\n- x\n%%\n# Tags\n- a\n", ("a",)),
    ("in a %% comment opened in a line", "메모 %% 옛 목록\n# Tags\n- x\n%%\n", ()),
    (
        "items in a fence or comment under # Tags are none",
        "# Tags\n- a\n```\n- x\n# Other\n```\n- b\n%%\n- y\n%%\n- c <!-- - z -->\n",
        ("a", "b", "c"),
    ),
    (
        "a comment in an item is left out",
        "# Tags\n- a %%old%%\n- b <!-- x -->\n- c %%\n- x\n%% - y\n- d\n",
        ("a", "b", "c", "d"),
    ),
    ("# Tags after a fence", "```\n# Tags\n```\n# Tags\n- a\n", ("a",)),
    ("%% in code spans is text", "`%%` 메모\n# Tags\n- a\n`%%`\n", ("a",)),
    ("a %% never closed is text", "%% 메모\n# Tags\n- a\n", ("a",)),
    ("an <!-- never closed is text", "<!-- 메모\n# Tags\n- a\n", ("a",)),
    ("inline code of three backticks is no fence", "```a``` 메모\n# Tags\n- a\n", ("a",)),
    # Each `#tag` of an item is a tag, as in Obsidian; other items are taken as written.
    ("an item of two tags", "# Tags\n- #two #tags\n", ("two", "tags")),
    ("an item of nested tags", "# Tags\n- #k8s/pod, #aws\n", ("k8s::pod", "aws")),
    ("an item of a tag and text", "# Tags\n- #aws 관련\n", ("aws",)),
    (
        "links and plain items as before",
        "# Tags\n- [[03 - Tags/2025-04\\|2025-04]]\n- 시험 대비\n- C# 기초\n- #2025\n",
        ("2025-04", "시험_대비", "C#_기초", "2025"),
    ),
]


@pytest.mark.parametrize(
    ("text", "tags"),
    [c[1:] for c in TAGS_SECTION_CASES],
    ids=[c[0] for c in TAGS_SECTION_CASES],
)
def test_tags_section(tmp_path: Path, text: str, tags: tuple[str, ...]) -> None:
    note, warnings = _read(tmp_path, "2025-04-04.md", text)
    assert warnings == []
    assert note.tags == tags


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
            _shown_at(2).replace("나눈다", "\ufffd\ufffd", 1),  # (one overlong sequence: 2 marks)
            ["n.md:2: not valid UTF-8 in 2 places, shown as \ufffd (as Obsidian shows them)"],
        ),
        (_KOREAN.encode("cp949"), _KOREAN, ["n.md: not UTF-8; read as CP949"]),
    ],
    ids=["one bad byte", "a cut character, CRLF", "two bad places", "cp949 still detected"],
)
def test_a_few_bad_bytes_in_utf8_are_replaced_as_obsidian_does(
    tmp_path: Path, raw: bytes, text: str, warnings: list[str]
) -> None:
    note, got = _read(tmp_path, "n.md", raw)
    assert (note.text, got) == (text, warnings)


# -- one note's bad bytes never cost its good cards ------------------------------------------

_CESU_8_EMOJI = b"\xed\xa0\xbd\xed\xb8\x80"  # U+1F600 as two surrogates, each in UTF-8's form
_SHORT = "# 공부 메모장\n## CKA\n**Pod**\n가장 작은 배포 단위\n\n**Svc**\n파드를 묶는다\n"


def _damaged(*spots: tuple[str, bytes]) -> bytes:
    """``_SHORT`` in UTF-8 with bad bytes put before each given word."""
    raw = _SHORT.encode()
    for word, bad in spots:
        raw = raw.replace(word.encode(), bad + word.encode(), 1)
    return raw


@pytest.mark.parametrize(
    ("raw", "warning"),
    [
        (_damaged(("작은", "가".encode()[:2])), "n.md:4: not valid UTF-8 in 1 place"),
        (_damaged(("묶는다", _CESU_8_EMOJI)), "n.md:7: not valid UTF-8 in 1 place"),
        (_damaged(("배포", b"\x80")), "n.md:4: not valid UTF-8 in 1 place"),
        (
            _damaged(("작은", "가".encode()[:2]), ("묶는다", _CESU_8_EMOJI), ("배포", b"\xff")),
            "n.md:4: not valid UTF-8 in 3 places",
        ),
        (_damaged(("묶는다", b"\xc0\xaf"), ("단위", b"\xf8\x88\x80\x80\x80")), "n.md:4: not valid"),
        (_SHORT.encode()[:-2], "n.md:7: not valid UTF-8 in 1 place"),  # cut at the end
        (b"\xef\xbb\xbf" + _damaged(("파드", b"\xfe")), "n.md:7: not valid UTF-8 in 1 place"),
    ],
    ids=[
        "a cut character",
        "a CESU-8 surrogate pair",
        "a stray byte",
        "all three",
        "overlong and too long sequences",
        "cut at the end",
        "with a BOM",
    ],
)
def test_a_utf8_note_with_bad_bytes_keeps_every_card(
    tmp_path: Path, raw: bytes, warning: str
) -> None:
    note, warnings = _read(tmp_path, "n.md", raw)
    (got,) = warnings
    assert got.startswith(warning) and got.endswith("shown as \ufffd (as Obsidian shows them)")
    assert "\ufffd" in note.text
    # Every character that was not damaged is read as it was written.
    assert note.text.replace("\ufffd", "") == raw.decode("utf-8-sig", "ignore").replace(
        "\ufffd", ""
    )
    from memo2anki.cards.convert import convert

    assert [c.front for c in convert([tmp_path]).cards] == ["Pod", "Svc"]


@pytest.mark.parametrize(
    ("text", "encoding"),
    [
        (_SHORT, "cp949"),
        ("**가**\n나\n", "cp949"),  # too short for a detector: the syllables say it
        ("# 공부 메모장\n**똠**\n똠방각하\n", "cp949"),  # beyond EUC-KR
        (_SHORT, "euc-kr"),
    ],
    ids=["cp949", "a tiny cp949 note", "cp949 beyond euc-kr", "euc-kr"],
)
def test_a_note_in_a_korean_legacy_encoding_is_read_as_cp949(
    tmp_path: Path, text: str, encoding: str
) -> None:
    note, warnings = _read(tmp_path, "n.md", text.encode(encoding))
    assert (note.text, warnings) == (text, ["n.md: not UTF-8; read as CP949"])


def _database() -> bytes:
    """An SQLite database's bytes (an export someone named .md): text amid runs of zeros."""
    import sqlite3
    import tempfile

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder, "d.db")
        db = sqlite3.connect(path)
        db.execute("create table notes (front text, back text)")
        db.execute("insert into notes values ('Pod', '가장 작은 배포 단위')")
        db.commit()
        db.close()
        return path.read_bytes()


@pytest.mark.parametrize(
    "raw",
    [
        b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)) * 4,
        b"\x89PNG\r\n\x1a\n\x00\x00\x00",
        b"PK\x03\x04\x14\x00\x00\x00\x08\x00" + bytes(range(255, -1, -1)) * 4,
        bytes((i * 7919) % 251 + 3 for i in range(4000)),
        bytes((i * 7919) % 256 for i in range(4000)),
        _database(),
        "\n".join(["**Pod**"] * 50).encode("utf-32-le"),
    ],
    ids=["png", "a png's first bytes", "zip", "noise", "noise with NUL bytes", "a database",
         "utf-32 without a BOM"],
)  # fmt: skip
def test_a_binary_file_named_md_is_skipped(tmp_path: Path, raw: bytes) -> None:
    with pytest.raises(Memo2AnkiError, match=r"^n\.md: skipped, not a text file"):
        _read(tmp_path, "n.md", raw)


_NUL_WARNING = "NUL bytes (not text) in {}, shown as \ufffd"


@pytest.mark.parametrize(
    ("raw", "warnings"),
    [
        (_damaged(("배포", b"\x00")), [f"n.md:4: {_NUL_WARNING.format('1 place')}"]),
        (_SHORT.encode() + b"\x00" * 4096, [f"n.md:8: {_NUL_WARNING.format('1 place')}"]),
        (_SHORT.encode() + b"\x00\x00\x00\x01", [f"n.md:8: {_NUL_WARNING.format('1 place')}"]),
        (
            _damaged(("작은", b"\x00" * 512), ("묶는다", b"\x00")),
            [f"n.md:4: {_NUL_WARNING.format('2 places')}"],
        ),
        (
            _damaged(("작은", "가".encode()[:2]), ("묶는다", b"\x00")),
            ["n.md:4: not valid UTF-8 in 1 place, shown as \ufffd (as Obsidian shows them)",
             f"n.md:7: {_NUL_WARNING.format('1 place')}"],
        ),
        (
            _SHORT.encode("cp949") + b"\x00" * 64,
            ["n.md: not UTF-8; read as CP949", f"n.md:8: {_NUL_WARNING.format('1 place')}"],
        ),
        (
            _SHORT.encode("utf-16") + "\x00".encode("utf-16-le"),
            ["n.md: not UTF-8; read as UTF-16", f"n.md:8: {_NUL_WARNING.format('1 place')}"],
        ),
    ],
    ids=["a stray NUL", "a crash's block of zeros at the end", "zeros and a control byte",
         "two runs", "beside a cut character", "in a CP949 note", "in a UTF-16 note"],
)  # fmt: skip
def test_a_notes_nul_bytes_cost_only_those_bytes(
    tmp_path: Path, raw: bytes, warnings: list[str]
) -> None:
    # Each run of NUL bytes is a bad place, shown as U+FFFD: the note was skipped, "not a
    # text file", losing every card.
    note, got = _read(tmp_path, "n.md", raw)
    assert got == warnings
    assert "\x00" not in note.text and "\ufffd" in note.text
    from memo2anki.cards.convert import convert

    assert [c.front for c in convert([tmp_path]).cards] == ["Pod", "Svc"]


@pytest.mark.parametrize(
    ("text", "encoding", "read_as"),
    [
        ("# Study\n## 网络\n**子网掩码**\n用来划分网络部分和主机部分。\n", "gb2312", "GB18030"),
        ("# Study\n**地址**\n根据目的地址转发数据包\n", "gb2312", "GB18030"),
        ("# Study\n## 日本語\n**東京**\n日本の首都です。人口は多い。\n", "shift_jis", "CP932"),
        (
            "# Study\n## にほんご\n**ひらがな**\nこれはひらがなのぶんしょうです。\n"
            "**カタカナ**\nコンピューターとインターネット。\n",
            "shift_jis",
            "CP932",
        ),
        ("# Study\n## 網路\n**子網路遮罩**\n用來劃分網路部分和主機部分。\n", "big5", "BIG5"),
        ("# Study\n**山**\n메 산\n", "cp949", "CP949"),
        ("# Study\n**學校**\n학교\n", "cp949", "CP949"),
        ("# Study\n**民法**\n사적 자치의 원칙\n", "cp949", "CP949"),
    ],
    ids=["gb2312", "gb2312 that reads as cp949 without a bad place", "shift-jis",
         "shift-jis kana", "big5", "a korean hanja note", "a korean hanja word",
         "korean with hanja"],
)  # fmt: skip
def test_a_note_in_another_cjk_code_page_is_not_read_as_korean(
    tmp_path: Path, text: str, encoding: str, read_as: str
) -> None:
    # Chinese and Japanese notes were read as CP949: wrong cards (a subject '貢쭹', a front
    # '綾貢拿쯤'), with a warning of bad places that were not there.
    note, warnings = _read(tmp_path, "n.md", text.encode(encoding))
    assert (note.text, warnings) == (text, [f"n.md: not UTF-8; read as {read_as}"])


@pytest.mark.parametrize(
    ("raw", "warning"),
    [
        (_SHORT.encode("utf-16") + b"\x00", "n.md:8: read as UTF-16, not valid in 1 place"),
        (
            _SHORT.encode("utf-16").replace("배포".encode("utf-16-le"), b"\x00\xd8", 1),
            "n.md:4: read as UTF-16, not valid in 1 place",
        ),
    ],
    ids=["an odd byte at the end", "a lone surrogate"],
)
def test_a_utf16_note_with_a_bad_place_keeps_every_card(
    tmp_path: Path, raw: bytes, warning: str
) -> None:
    _, warnings = _read(tmp_path, "n.md", raw)
    assert warnings == [f"{warning}, shown as \ufffd"]
    from memo2anki.cards.convert import convert

    assert [c.front for c in convert([tmp_path]).cards] == ["Pod", "Svc"]


# Notes with little Korean in them, or in another encoding, damaged the same way: whatever the
# encoding, a few bad places are shown as U+FFFD and every card is made.
_ENGLISH = "# 공부 메모장\n## CKA\n**Pod**\nsmallest deployable unit\n\n**Svc**\ngroups pods\n"
_CP949 = _SHORT.encode("cp949")
_MARK = "\ufffd"


def _before(raw: bytes, word: str, bad: bytes, encoding: str = "utf-8") -> bytes:
    return raw.replace(word.encode(encoding), bad + word.encode(encoding), 1)


@pytest.mark.parametrize(
    ("raw", "warning"),
    [
        (
            _before(_before(_ENGLISH.encode(), "unit", b"\xff"), "pods", b"\xfe"),
            f"n.md:4: not valid UTF-8 in 2 places, shown as {_MARK} (as Obsidian shows them)",
        ),
        (
            _before(_ENGLISH.encode(), "unit", "가".encode()[:2]),
            f"n.md:4: not valid UTF-8 in 1 place, shown as {_MARK} (as Obsidian shows them)",
        ),
        (
            _before(_ENGLISH.encode(), "pods", _CESU_8_EMOJI),
            f"n.md:7: not valid UTF-8 in 1 place, shown as {_MARK} (as Obsidian shows them)",
        ),
        (
            _ENGLISH.encode() + ("**가".encode() + b"\xff") * 30,
            f"n.md:8: not valid UTF-8 in 30 places, shown as {_MARK} (as Obsidian shows them)",
        ),
        (
            _before(_CP949, "묶는다", b"\xff", "cp949"),
            f"n.md:7: read as CP949, not valid in 1 place, shown as {_MARK}",
        ),
        (
            _before(_CP949, "작은", b"\x80", "cp949"),
            f"n.md:4: read as CP949, not valid in 1 place, shown as {_MARK}",
        ),
        (_CP949 + "가".encode("cp949")[:1], "n.md:8: read as CP949, not valid in 1 place"),
        (codecs.BOM_UTF8 + _CP949, "n.md: not UTF-8; read as CP949"),
        (_SHORT.encode("utf-16-le"), "n.md: not UTF-8; read as UTF-16-LE"),
        (_SHORT.encode("utf-16-be"), "n.md: not UTF-8; read as UTF-16-BE"),
        (
            _SHORT.replace("\n", "\r")
            .encode("utf-16")
            .replace("묶는다".encode("utf-16-le"), b"\x00\xd8" + "묶는다".encode("utf-16-le"), 1),
            f"n.md:7: read as UTF-16, not valid in 1 place, shown as {_MARK}",
        ),
    ],
    ids=[
        "two stray bytes in English",
        "a cut character in English",
        "a CESU-8 surrogate pair in English",
        "more bad places than Korean",
        "cp949 with a stray 0xff",
        "cp949 with a stray 0x80",
        "cp949 cut at the end",
        "cp949 after a UTF-8 BOM",
        "utf-16-le without a BOM",
        "utf-16-be without a BOM",
        "utf-16 with CR line ends and a lone surrogate",
    ],
)
def test_any_note_with_a_few_bad_places_keeps_every_card(
    tmp_path: Path, raw: bytes, warning: str
) -> None:
    from memo2anki.cards.convert import convert

    _, warnings = _read(tmp_path, "n.md", raw)
    assert len(warnings) == 1 and warnings[0].startswith(warning), warnings
    assert [c.front for c in convert([tmp_path]).cards] == ["Pod", "Svc"]
