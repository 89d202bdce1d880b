"""Real, messy vaults through the command line: every odd file, text or frontmatter gives its
warning (``path:line: message``) and the right exit status, and every card that can be made
is still made."""

from __future__ import annotations

import codecs
import json
import os
import stat
import unicodedata
import zipfile
from collections import Counter
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from unittest.mock import ANY

import pytest
from helpers import Anki, memo, png, run, write_vault
from sandbox import run_cli

from memo2anki.cards.convert import convert
from memo2anki.cards.pictures.media import MAX_PICTURE_BYTES
from memo2anki.cli import check as cli_check
from memo2anki.cli import options as cli_options
from memo2anki.model import Media
from memo2anki.targets import package

GOOD = {"daily/2025-04-01.md": memo("**Pod**\n가장 작은 배포 단위")}
POD = ("daily/2025-04-01.md:7", "Pod")  # the card GOOD makes, as (note:line, front)


def dry_run(vault: Path, *args: str) -> tuple[int, list[str], list[tuple[str, str]]]:
    """Exit status, warnings and cards (``note:line``, front) of ``--dry-run --json``."""
    result = run(vault, "--dry-run", "--json", *args)
    return result.exit_code, result.stderr.splitlines(), _cards(result.stdout)


def _cards(stdout: str) -> list[tuple[str, str]]:
    cards = json.loads(stdout)["cards"] if stdout else []
    return [(f"{c['note']}:{c['line']}", c["front"]) for c in cards]


def json_cards(vault: Path, warnings: tuple[str, ...] = ()) -> list[dict[str, Any]]:
    """The cards of ``--dry-run --json``, after checking its exit status and warnings."""
    result = run(vault, "--dry-run", "--json")
    assert (result.exit_code, result.stderr.splitlines()) == (0, list(warnings))
    cards: list[dict[str, Any]] = json.loads(result.stdout)["cards"]
    return cards


# --- Text ---------------------------------------------------------------------------------

# Long enough for the detector to be sure; 똠 is in CP949 but not in EUC-KR.
KOREAN = (
    "# 공부 메모장\n## 네트워크\n**서브넷 마스크**\n"
    + "네트워크 부분과 호스트 부분을 나눈다. 똠방각하도 안다.\n" * 4
)
EUC_KR = KOREAN.replace("똠", "돈")


@pytest.mark.parametrize(
    ("text", "encoded", "warnings"),
    [
        (KOREAN, KOREAN.encode("utf-8"), []),
        (KOREAN, codecs.BOM_UTF8 + KOREAN.encode("utf-8"), []),
        (KOREAN, KOREAN.encode("utf-16"), ["n.md: not UTF-8; read as UTF-16"]),
        (
            KOREAN,
            codecs.BOM_UTF16_BE + KOREAN.encode("utf-16-be"),
            ["n.md: not UTF-8; read as UTF-16"],
        ),
        (KOREAN, KOREAN.encode("cp949"), ["n.md: not UTF-8; read as CP949"]),
        (EUC_KR, EUC_KR.encode("euc-kr"), ["n.md: not UTF-8; read as CP949"]),
    ],
    ids=["utf-8", "utf-8 BOM", "utf-16 LE BOM", "utf-16 BE BOM", "cp949", "euc-kr"],
)
def test_encodings(tmp_path: Path, text: str, encoded: bytes, warnings: list[str]) -> None:
    vault = write_vault(tmp_path / "v", {"n.md": encoded})
    status, stderr, cards = dry_run(vault)
    assert (status, stderr, cards) == (0, warnings, [("n.md:3", "서브넷 마스크")])
    (card,) = convert([vault]).cards
    assert card.back_markdown == text.split("\n", 3)[3].rstrip()  # never garbled


@pytest.mark.parametrize("newline", ["\r\n", "\r"], ids=["CRLF", "CR"])
def test_line_endings_make_the_same_cards(tmp_path: Path, newline: str) -> None:
    text = memo("**Pod**\n가\n나", "**Service**\n다")
    lf = write_vault(tmp_path / "lf", {"n.md": text})
    other = write_vault(tmp_path / "other", {"n.md": text.replace("\n", newline).encode()})
    assert dry_run(other) == dry_run(lf) == (0, [], [("n.md:7", "Pod"), ("n.md:11", "Service")])
    backs = [card.back_html for card in convert([other]).cards]
    assert backs == [card.back_html for card in convert([lf]).cards]
    assert backs[0] == "<p>가<br>\n나</p>"


def test_a_decomposed_note_name_is_the_same_note(tmp_path: Path) -> None:
    """macOS writes Korean names in NFD: the cards keep their identity (and Anki GUID)."""
    name = "daily/2025-04-01 네트워크.md"
    composed = write_vault(tmp_path / "nfc", {name: memo("**서브넷**\n나눈다")})
    decomposed = write_vault(
        tmp_path / "nfd", {unicodedata.normalize("NFD", name): memo("**서브넷**\n나눈다")}
    )
    assert dry_run(decomposed) == dry_run(composed) == (0, [], [(f"{name}:7", "서브넷")])
    (a,), (b,) = convert([composed]).cards, convert([decomposed]).cards
    assert a.identity == b.identity


@pytest.mark.parametrize(("on_disk", "in_link"), [("NFD", "NFC"), ("NFC", "NFD")])
def test_image_names_match_in_either_normalization(
    tmp_path: Path, on_disk: str, in_link: str
) -> None:
    picture = "image/구성도/네트워크.png"
    vault = write_vault(
        tmp_path / "v",
        {
            unicodedata.normalize(on_disk, picture): png(seed=1),
            # Same name, nearer the note: what a lookup by name alone would pick instead.
            "daily/네트워크.png": png(seed=2),
            "daily/2025-04-01.md": memo(
                f"**구성**\n![](<{unicodedata.normalize(in_link, picture)}>)"
            ),
        },
    )
    result = convert([vault])
    assert result.diagnostics == ()
    (card,) = result.cards
    assert [m.path.read_bytes() for m in card.media] == [png(seed=1)]


def test_mixed_case_extensions(tmp_path: Path) -> None:
    vault = write_vault(
        tmp_path / "v",
        {
            "daily/2025-04-01.MD": memo("**Pod**\n![[POD.Png]]"),
            "daily/2025-04-02.Markdown": memo("**EC2**\n가상 서버"),
            "daily/2025-04-03.txt": memo("**Not a note**\n무시"),
            "image/POD.Png": png(),
        },
    )
    cards = json_cards(vault)
    assert [(c["note"], c["front"], c["images"]) for c in cards] == [
        ("daily/2025-04-01.MD", "Pod", ["image/POD.Png"]),
        ("daily/2025-04-02.Markdown", "EC2", []),
    ]


# --- Files --------------------------------------------------------------------------------


def test_empty_and_blank_notes(tmp_path: Path) -> None:
    vault = write_vault(
        tmp_path / "v",
        {
            **GOOD,
            "empty.md": "",
            "blank.md": "\n \n\t\n",
            "only-frontmatter.md": "---\na: 1\n---\n",
        },
    )
    assert dry_run(vault) == (0, [], [POD])


def test_enormous_note_is_skipped_with_a_warning(tmp_path: Path) -> None:
    vault = write_vault(tmp_path / "v", GOOD)
    with (vault / "huge.md").open("wb") as f:
        f.truncate(9 * 1024 * 1024)  # sparse: costs nothing to make
    assert dry_run(vault) == (0, ["huge.md: skipped, larger than 8 MiB"], [POD])


def test_binary_file_named_md(tmp_path: Path) -> None:
    vault = write_vault(tmp_path / "v", {**GOOD, "pasted.md": png()})
    assert dry_run(vault) == (0, ["pasted.md: skipped, not a text file"], [POD])


def test_pipe_named_md_does_not_block(tmp_path: Path) -> None:
    # In a child process with a timeout: were the pipe opened, the run would wait forever.
    vault = write_vault(tmp_path / "v", GOOD)
    os.mkfifo(vault / "pipe.md")
    proc = run_cli(vault, "--dry-run", "--json")
    assert proc.returncode == 0
    assert proc.stderr.splitlines() == ["pipe.md: skipped, not a regular file"]
    assert _cards(proc.stdout) == [POD]


def _device(path: Path) -> None:
    try:
        os.mknod(path, 0o600 | stat.S_IFCHR, os.makedev(1, 3))  # /dev/null's numbers
    except PermissionError:
        pytest.skip("no devices made here")


NOT_REGULAR_FILES = {"a FIFO": os.mkfifo, "a folder": os.mkdir, "a device": _device}


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs here")
@pytest.mark.parametrize("kind", NOT_REGULAR_FILES)
@pytest.mark.parametrize(
    ("link", "name", "said"),
    [
        (
            "![[odd.png]]",
            "odd.png",
            "n.md:9: 'odd.png' is {kind}, not a regular file; not embedded",
        ),
        (
            "![](odd.png)",
            "odd.png",
            "n.md:9: 'odd.png' is {kind}, not a regular file; not embedded",
        ),
        (
            "![[odd]]",
            "odd.md",
            "n.md:9: embedded note 'odd.md' is {kind}, not a regular file; not embedded",
        ),
    ],
    ids=["picture", "markdown picture", "embedded note"],
)
def test_a_picture_or_embedded_note_that_is_not_a_regular_file_is_named_never_opened(
    tmp_path: Path, anki: Anki, kind: str, link: str, name: str, said: str
) -> None:
    """In a child process with a timeout: a FIFO opened would be waited on for ever."""
    vault = write_vault(tmp_path / "v", {"n.md": memo(f"**A**\n가\n{link}", "**B**\n나")})
    NOT_REGULAR_FILES[kind](vault / name)
    out = tmp_path / "deck.apkg"
    proc = run_cli(vault, "-o", out, "--no-cache")
    assert proc.returncode == 0, proc.stderr
    assert said.format(kind=kind) in proc.stderr.splitlines(), proc.stderr
    anki.import_package(out)
    backs = {n.fields["Front"]: n.fields["Back"] for n in anki.notes()}
    assert sorted(backs) == ["A", "B"] and not anki.media_files()


@pytest.mark.parametrize(
    ("size", "said"),
    [
        (3 << 30, "3.0 GiB"),
        (MAX_PICTURE_BYTES + (1 << 20), "101.0 MiB"),
        (MAX_PICTURE_BYTES + 1, "104,857,601 bytes"),  # (not "100.0 MiB": no larger, it seems)
    ],
)
def test_a_picture_larger_than_anki_syncs_is_left_out_and_named_with_its_size(
    tmp_path: Path, anki: Anki, size: int, said: str
) -> None:
    vault = write_vault(
        tmp_path / "v",
        {
            "n.md": memo("**A**\n가\n![[big.png]]", "**B**\n나\n![[small.png]]"),
            "small.png": png(seed=1),
        },
    )
    with (vault / "big.png").open("wb") as f:
        f.write(png(seed=2))
        f.truncate(size)  # sparse: no disk taken
    out = tmp_path / "deck.apkg"
    result = run(vault, "-o", out, "--no-cache")
    assert result.exit_code == 0, result.output
    assert result.stderr.splitlines()[0] == (
        f"n.md:9: image larger than 100 MiB ({said}), which Anki cannot sync; left out: big.png"
    )
    assert out.stat().st_size < 1 << 20
    anki.import_package(out)
    backs = {n.fields["Front"]: n.fields["Back"] for n in anki.notes()}
    assert '<span class="m2a-missing">[missing image: big.png]</span>' in backs["A"]
    assert len(anki.media_in(backs["B"])) == 1 and len(anki.media_files()) == 1


def test_a_picture_that_grows_once_opened_goes_in_as_large_as_it_was(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A picture of Anki's limit exactly goes in; one growing past it between its opening
    and its copy into the package went in whole, past the limit checked at the opening."""
    vault = write_vault(tmp_path / "v", {"n.md": memo("**A**\n가\n![[big.png]]")})
    with (vault / "big.png").open("wb") as f:
        f.write(png(seed=2))
        f.truncate(MAX_PICTURE_BYTES)  # sparse: no disk taken
    real = package.open_media

    def growing(media: Media) -> Any:
        opened = real(media)
        with media.path.open("r+b") as f:
            f.truncate(MAX_PICTURE_BYTES + 1)
        return opened

    monkeypatch.setattr(package, "open_media", growing)
    out = tmp_path / "deck.apkg"
    result = run(vault, "-o", out, "--no-cache")
    assert result.exit_code == 0, result.output
    assert "warning" not in result.output.replace("0 warnings", ""), result.output
    with zipfile.ZipFile(out) as zf:
        sizes = {i.filename: i.file_size for i in zf.infolist()}
        assert json.loads(zf.read("media")) == {"0": ANY}
        assert zf.testzip() is None
    assert sizes["0"] == MAX_PICTURE_BYTES


def test_unreadable_note_and_folder(tmp_path: Path) -> None:
    # Root reads anything: the CLI runs in a child that gave up that power (see sandbox).
    vault = write_vault(
        tmp_path / "v",
        {**GOOD, "secret.md": memo("**Hidden**\n가"), "locked/2025-04-02.md": memo("**L**\n나")},
    )
    (vault / "secret.md").chmod(0)
    (vault / "locked").chmod(0)
    try:
        proc = run_cli(vault, "--dry-run", "--json", honour_permissions=True)
    finally:
        (vault / "locked").chmod(0o755)
    assert proc.returncode == 0
    assert proc.stderr.splitlines() == [
        "locked: cannot read folder: Permission denied",
        "secret.md: cannot read: Permission denied",
    ]
    assert _cards(proc.stdout) == [POD]


def test_names_that_are_not_utf8(tmp_path: Path, anki: Anki) -> None:
    """A note and a folder named in CP949 bytes (an old Windows zip): read, and shown with
    their odd bytes escaped, in messages, the listing and the deck."""
    vault = write_vault(tmp_path / "v", GOOD)
    note = os.fsdecode("공부".encode("cp949") + b".md")
    folder = os.fsdecode(b"\xff\xfe")
    (vault / note).write_text(memo("**Odd**\n![[pic.png]]\n![](gone.png)"))
    (vault / folder).mkdir()
    (vault / folder / "pic.png").write_bytes(png())
    shown = r"\xb0\xf8\xba\xce.md"
    cards = json_cards(vault, warnings=(f"{shown}:9: image not found: gone.png",))
    assert [(c["note"], c["front"], c["images"]) for c in cards] == [
        ("daily/2025-04-01.md", "Pod", []),
        (shown, "Odd", [r"\xff\xfe/pic.png"]),
    ]
    out = tmp_path / "deck.apkg"
    result = run(vault, "-o", out)
    assert result.exit_code == 0
    assert result.stderr.splitlines()[0] == f"{shown}:9: image not found: gone.png"
    anki.import_package(out)
    assert sorted(n.fields["Source"] for n in anki.notes()) == [shown, "daily/2025-04-01.md"]


def test_symlinks_never_lead_out_of_the_vault(tmp_path: Path) -> None:
    outside = write_vault(
        tmp_path / "outside",
        {"secret.md": memo("**Secret**\n비밀"), "folder/2025-04-09.md": memo("**Far**\n멀리")},
    )
    vault = write_vault(tmp_path / "v", GOOD)
    links = {
        "loop.md": "loop.md",
        "a.md": "b.md",
        "b.md": "a.md",
        "broken.md": "nowhere.md",
        "escape.md": str(outside / "secret.md"),
        "escape-folder": str(outside / "folder"),
        "alias.md": "daily/2025-04-01.md",
    }
    for name, target in links.items():
        (vault / name).symlink_to(target)
    nowhere = "symbolic link that leads nowhere (missing or a loop); not read"
    assert dry_run(vault) == (
        0,
        [
            f"a.md: {nowhere}",
            f"b.md: {nowhere}",
            f"broken.md: {nowhere}",
            "escape.md: symbolic link to a file outside the vault; not read",
            f"loop.md: {nowhere}",
        ],
        [POD],  # read once, through the link inside the vault
    )


def test_tens_of_thousands_of_other_files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    files: dict[str, str | bytes] = {
        f"attachments/{i // 500}/file-{i}.pdf": b"" for i in range(20_000)
    }
    files["attachments/39/diagram.png"] = png()
    files |= {
        f"daily/2025-04-{day:02}.md": memo(f"**D{day}**\n![[diagram.png]]") for day in range(1, 31)
    }
    vault = write_vault(tmp_path / "v", files)
    listed: Counter[str] = Counter()
    real_scandir = os.scandir

    def counting_scandir(path: Any = ".") -> Any:
        if Path(path).is_relative_to(vault):
            listed[os.path.relpath(path, vault)] += 1
        return real_scandir(path)

    monkeypatch.setattr(os, "scandir", counting_scandir)
    cards = json_cards(vault)
    assert [c["front"] for c in cards] == [f"D{day}" for day in range(1, 31)]
    assert all(c["images"] == ["attachments/39/diagram.png"] for c in cards)
    # Each folder is listed once to find the notes and once to index file names, however
    # many images the notes look up.
    assert len(listed) == 1 + 1 + 40 + 1  # the vault, attachments/, its 40 folders, daily/
    assert set(listed.values()) == {2}


# --- Frontmatter --------------------------------------------------------------------------

BOMB = "".join(
    f"{name}: &{name} [{', '.join([f'*{prev}' if prev else 'x'] * 9)}]\n"
    for prev, name in zip(["", *"abcdefgh"], "abcdefghi", strict=True)
)


@pytest.mark.parametrize(
    ("frontmatter", "warnings", "tags"),
    [
        (
            "tags: [a, b\n",
            ["n.md:3: broken frontmatter ignored: did not find expected ',' or ']'"],
            ["CKA"],
        ),
        (
            "- a list\n- of things\n",
            ["n.md:1: frontmatter ignored: it is not a mapping of keys"],
            ["CKA"],
        ),
        ("just text\n", ["n.md:1: frontmatter ignored: it is not a mapping of keys"], ["CKA"]),
        (
            "tags: [복습]\ndate: 2025-13-45\n",
            ["n.md:1: broken frontmatter ignored: month must be in 1..12"],
            ["CKA"],
        ),
        (
            "x: !!python/object/apply:os.system [echo hi]\n",
            [
                "n.md:2: broken frontmatter ignored: could not determine a constructor for the "
                "tag 'tag:yaml.org,2002:python/object/apply:os.system'"
            ],
            ["CKA"],
        ),
        (
            "tags: {복습: true}\n",
            ["n.md:1: frontmatter tags: a mapping or nested list is not a tag; left out"],
            ["CKA"],
        ),
        (
            "tags: [복습, [nested], {a: 1}, 2025]\n",
            ["n.md:1: frontmatter tags: a mapping or nested list is not a tag; left out"],
            ["CKA", "복습", "2025"],
        ),
        (
            BOMB + "tags: *i\n",
            ["n.md:1: frontmatter tags: a mapping or nested list is not a tag; left out"],
            ["CKA"],
        ),
        (
            "tags: [2025, 1.5, 2025-04-04, 시험 대비, null, '#복습']\n",
            [],
            ["CKA", "2025", "1.5", "2025-04-04", "시험_대비", "복습"],
        ),
        ("tags: 2025\n", [], ["CKA", "2025"]),
        ("tags:\n", [], ["CKA"]),
    ],
    ids=[
        "broken YAML",
        "a list",
        "plain text",
        "impossible date",
        "python object",
        "tags as a mapping",
        "tags with nested values",
        "alias bomb",
        "numbers and dates as tags",
        "a number as tags",
        "empty tags",
    ],
)
def test_frontmatter(
    tmp_path: Path, frontmatter: str, warnings: list[str], tags: list[str]
) -> None:
    vault = write_vault(tmp_path / "v", {"n.md": f"---\n{frontmatter}---\n" + memo("**A**\n가")})
    result = run(vault, "--dry-run", "--json")
    assert result.exit_code == 0
    assert result.stderr.splitlines() == warnings
    (card,) = json.loads(result.stdout)["cards"]
    assert card["front"] == "A"
    assert card["tags"] == tags


@pytest.mark.parametrize(
    ("frontmatter", "date"),
    [
        ("date: 2025-04-04\n", "2025-04-04"),
        ("created: 2025-04-04T09:30:00+09:00\n", "2025-04-04"),
        ("date: '2025년 4월 4일 (2025-04-04)'\n", "2025-04-04"),
        ("date: 1712345678\n", None),
        ("date: [2025-04-04]\n", None),
    ],
    ids=["date", "datetime", "text", "number", "list"],
)
def test_frontmatter_dates(tmp_path: Path, frontmatter: str, date: str | None) -> None:
    vault = write_vault(tmp_path / "v", {"n.md": f"---\n{frontmatter}---\n" + memo("**A**\n가")})
    (card,) = json_cards(vault)
    assert card["date"] == date


# --- Markdown -----------------------------------------------------------------------------


def test_unclosed_code_fence(tmp_path: Path) -> None:
    vault = write_vault(
        tmp_path / "v",
        {
            **GOOD,
            "daily/2025-04-02.md": memo("**A**\n```bash\nkubectl get po\n\n**B**\n안 보임"),
            # Before the memo section, it hides the whole section.
            "daily/2025-04-03.md": "# 오전\n```\n# 공부 메모장\n## CKA\n**C**\n다\n",
        },
    )
    never_closed = "code block (```) never closed: the rest of the note is code, no cards in it"
    assert dry_run(vault) == (
        0,
        [f"daily/2025-04-02.md:8: {never_closed}", f"daily/2025-04-03.md:2: {never_closed}"],
        [POD, ("daily/2025-04-02.md:7", "A")],
    )


def test_deep_nesting(tmp_path: Path) -> None:
    outline = "".join("  " * depth + "- 항목\n" for depth in range(40))
    quote = "> " * 80 + "인용"
    vault = write_vault(
        tmp_path / "v",
        {"n.md": memo(f"**Outline**\n{outline}", f"**Quote**\n{quote}", "**After**\n끝")},
    )
    status, warnings, cards = dry_run(vault)
    assert (status, warnings) == (0, [])
    assert [front for _, front in cards] == ["Outline", "Quote", "After"]


def test_absurd_nesting_is_named(tmp_path: Path) -> None:
    # Past the parser's limit the rest of the list is not read: the warning says where.
    absurd = "".join("  " * depth + "- 항목\n" for depth in range(1000))
    vault = write_vault(
        tmp_path / "v", {**GOOD, "n.md": memo(f"**Absurd**\n{absurd}", "**Lost**\n끝")}
    )
    assert dry_run(vault) == (
        0,
        ["n.md:56: lists or quotes nested too deep: text after this line may not be read"],
        [POD, ("n.md:7", "Absurd")],
    )


def test_very_long_lines(tmp_path: Path) -> None:
    long_line = "가나다라 " * 250_000  # one line of about 2.5 MB
    brackets = "[" * 50_000  # what makes a link parser backtrack
    vault = write_vault(
        tmp_path / "v", {"n.md": memo(f"**Long**\n{long_line}", f"**Brackets**\n{brackets}")}
    )
    assert dry_run(vault) == (0, [], [("n.md:7", "Long"), ("n.md:10", "Brackets")])


def test_html_blocks(tmp_path: Path) -> None:
    # An HTML block runs to the next blank line; the bold line after it starts a card.
    vault = write_vault(
        tmp_path / "v",
        {
            "n.md": memo(
                "**A**\n<div class='note'>\n가\n\n**B**\n나\n</div>",
                "**C**\n<details><summary>답</summary>\n\n다\n\n</details>",
                "**D**\n<!-- only a comment -->",
            )
        },
    )
    assert dry_run(vault) == (
        0,
        [
            "n.md:22: 'D' shows nothing under it (only comments, or HTML a card may not hold); "
            "no card made"
        ],
        [("n.md:7", "A"), ("n.md:11", "B"), ("n.md:15", "C")],
    )


def test_memo_section_with_nothing_in_it(tmp_path: Path) -> None:
    vault = write_vault(
        tmp_path / "v",
        {**GOOD, "daily/2025-04-02.md": "# 공부 메모장\n\n# 내일 할 일\n- [ ] 복습\n"},
    )
    assert dry_run(vault) == (0, [], [POD])
    only_empty = write_vault(tmp_path / "empty", {"n.md": "# 공부 메모장\n## CKA\n"})
    status, stderr, cards = dry_run(only_empty)
    assert (status, cards) == (1, [])
    assert stderr[-1].startswith("memo2anki: error: 1 memo section found but no cards")


def test_headings_made_only_of_markup(tmp_path: Path) -> None:
    vault = write_vault(
        tmp_path / "v",
        {
            "image/pod.png": png(),
            "n.md": memo(
                "### %%숨김%%\n본문 1",
                "### <span></span>\n본문 2",
                "### ![[pod.png]]\n본문 3",
                "**`kubectl`**\n본문 4",
                "### **\n본문 5",
                "****\n본문 6",
            ),
        },
    )
    no_text = "the heading shows no text; no card made"
    result = run(vault, "--dry-run", "--json")
    assert result.exit_code == 0
    assert result.stderr.splitlines() == [f"n.md:7: {no_text}", f"n.md:10: {no_text}"]
    cards = json.loads(result.stdout)["cards"]
    assert [(c["line"], c["front"], c["images"]) for c in cards] == [
        (13, "pod.png", ["image/pod.png"]),  # the picture is the front
        (16, "kubectl", []),
        (19, "**", []),  # shown as written, as Obsidian does
    ]


# --- Safety -------------------------------------------------------------------------------

OUTSIDE = "'{}' is outside the vault; not embedded"
# (reference, the warning): `{outside}` is the absolute path of a picture beside the vault.
HOSTILE = [
    ("../../outside.png", OUTSIDE.format("../../outside.png")),
    ("%2e%2e/%2e%2e/outside.png", OUTSIDE.format("../../outside.png")),
    ("%2E%2E%2F%2E%2E%2Foutside.png", OUTSIDE.format("../../outside.png")),
    ("..%5C..%5Coutside.png", OUTSIDE.format("../../outside.png")),
    ("{outside}", "image not found: {outside}"),  # read as vault-absolute: not there
    ("/../outside.png", OUTSIDE.format("/../outside.png")),
    ("/img/user/../../outside.png", OUTSIDE.format("/img/user/../../outside.png")),
    ("C:\\Users\\me\\outside.png", OUTSIDE.format("C:\\Users\\me\\outside.png")),
    ("C:/outside.png", OUTSIDE.format("C:/outside.png")),
    ("\\\\server\\share\\outside.png", OUTSIDE.format("\\\\server\\share\\outside.png")),
    ("//server/share/outside.png", OUTSIDE.format("//server/share/outside.png")),
    ("%5C%5Cserver%5Cshare%5Coutside.png", OUTSIDE.format("\\\\server\\share\\outside.png")),
    ("file://{outside}", OUTSIDE.format("file://{outside}")),
    ("link.png", OUTSIDE.format("link.png")),  # a symlink to the picture
    ("image/escape/outside.png", OUTSIDE.format("image/escape/outside.png")),  # symlinked folder
]


@pytest.mark.parametrize(("ref", "message"), HOSTILE, ids=[ref for ref, _ in HOSTILE])
@pytest.mark.parametrize("syntax", ["html", "wikilink"])
def test_nothing_outside_the_vault_is_embedded(
    tmp_path: Path, ref: str, message: str, syntax: str
) -> None:
    outside = tmp_path / "outside.png"
    outside.write_bytes(png(seed=9))
    vault = write_vault(tmp_path / "v", {})
    (vault / "link.png").symlink_to(outside)
    (vault / "image").mkdir()
    (vault / "image" / "escape").symlink_to(tmp_path)
    ref, message = ref.format(outside=outside), message.format(outside=outside)
    image = f'<img src="{ref}">' if syntax == "html" else f"![[{ref}]]"
    (vault / "n.md").write_text(memo(f"**A**\n가\n{image}"))
    out = tmp_path / "deck.apkg"
    result = run(vault, "-o", out)
    assert result.exit_code == 0
    assert result.stderr.splitlines() == [
        f"n.md:9: {message}",
        f"memo2anki: 1 card (CKA 1) from 1 note, 0 images, 1 warning; 1 new; wrote {out}",
    ]


def test_markdown_image_links_out_of_the_vault(tmp_path: Path) -> None:
    """``![](...)`` too, for every hostile reference (markdown rules differ from HTML's:
    backslashes are escapes, ``file:`` links are not links at all)."""
    outside = tmp_path / "outside.png"
    outside.write_bytes(png(seed=9))
    vault = write_vault(tmp_path / "v", {})
    (vault / "link.png").symlink_to(outside)
    refs = [ref.format(outside=outside) for ref, _ in HOSTILE if "escape" not in ref]
    (vault / "n.md").write_text(memo(*(f"**{i}**\n![x](<{ref}>)" for i, ref in enumerate(refs))))
    result = convert([vault])
    assert len(result.cards) == len(refs)  # every card is made
    assert result.media == ()


class _Active(HTMLParser):
    """Collects what in HTML could run code or fetch something."""

    TAGS = frozenset({"script", "iframe", "object", "embed", "svg", "form", "style", "meta"})
    TAGS |= {"link", "base", "frame", "frameset", "applet", "math", "template", "video"}

    def __init__(self) -> None:
        super().__init__()
        self.found: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self.TAGS:
            self.found.append(f"<{tag}>")
        for name, value in attrs:
            text = "".join((value or "").split()).lower()
            if name.startswith("on"):
                self.found.append(f"{tag} {name}=")
            elif name in {"href", "src"} and not text.startswith(("http:", "https:", "m2a-")):
                if ":" in text.split("/", 1)[0]:
                    self.found.append(f"{tag} {name}={text[:30]}")
            elif name == "style" and ("url(" in text or "expression(" in text):
                self.found.append(f"{tag} style=url()")


def active_content(html: str) -> list[str]:
    """Tags, handlers and URLs in ``html`` that would run or fetch (empty when safe)."""
    parser = _Active()
    parser.feed(html)
    parser.close()
    return parser.found


def test_html_in_memos_cannot_run(tmp_path: Path, anki: Anki) -> None:
    attacks = [
        "<script>alert(1)</script>",
        '<img src="pod.png" onerror="alert(1)">',
        '<a href="javascript:alert(1)">링크</a>',
        "[링크](javascript:alert(1))",
        '<iframe src="https://example.com"></iframe>',
        '<object data="x.swf"></object><embed src="x.swf">',
        '<svg onload="alert(1)"><circle r="1"/></svg>',
        '<a href="data:text/html,<script>alert(1)</script>">data</a>',
        '<form action="https://example.com"><input type="submit"></form>',
        "<style>body { background: url(https://example.com/track) }</style>",
        '<meta http-equiv="refresh" content="0;url=https://example.com">',
        '<b style="background:url(https://example.com/t)" onmouseover="alert(1)">굵게</b>',
    ]
    vault = write_vault(
        tmp_path / "v",
        {
            "pod.png": png(),
            "n.md": memo(
                *(f"**공격 {i}**\n{attack}\n남는 글" for i, attack in enumerate(attacks)),
                '**<b onclick="alert(1)">앞면</b>**\n뒷면',
                '### <img src=x onerror="alert(1)">제목\n뒷면',
            ),
        },
    )
    out = tmp_path / "deck.apkg"
    assert run(vault, "-o", out).exit_code == 0
    anki.import_package(out)
    notes = anki.notes()
    assert len(notes) == len(attacks) + 2
    for note in notes:
        for value in note.fields.values():
            assert active_content(value) == [], value
    backs = [note.fields["Back"] for note in notes]
    assert all("남는 글" in back for back in backs[: len(attacks)])
    assert "굵게</b>" in backs[-3]
    assert [note.fields["Front"] for note in notes[-2:]] == [
        "<b>앞면</b>",
        '<span class="m2a-missing">[missing image: x]</span>제목',
    ]


def test_media_names_in_the_package_are_plain(tmp_path: Path, anki: Anki) -> None:
    names = [
        "image/a b.png",
        "image/따옴표 \"와' 홑.png",
        unicodedata.normalize("NFD", "image/네트워크 구성도.png"),
        "image/deep/er/UPPER.PNG",
        "image/dots.v1.2.png",
    ]
    vault = write_vault(
        tmp_path / "v",
        {
            **{name: png(seed=i) for i, name in enumerate(names)},
            "n.md": memo(
                "**Pictures**\n"
                + "\n".join(f"![[{Path(name).name}]]" for name in names)
                + '\n<img src="image/../image/a%20b.png">'
            ),
        },
    )
    out = tmp_path / "deck.apkg"
    assert run(vault, "-o", out).exit_code == 0
    anki.import_package(out)
    (note,) = anki.notes()
    shown = anki.media_in(note.fields["Back"])
    assert len(shown) == len(names) + 1 and len(set(shown)) == len(names)
    assert all(name.startswith("m2a-") and name.isascii() and "/" not in name for name in shown)
    assert set(shown) <= anki.media_files()


def test_non_image_files_are_never_embedded(tmp_path: Path) -> None:
    vault = write_vault(
        tmp_path / "v",
        {
            ".obsidian/plugins/sync/data.json": '{"token": "secret"}',
            "notes.pdf": b"%PDF-1.7",
            "n.md": memo('**A**\n가\n![](.obsidian/plugins/sync/data.json)\n<img src="notes.pdf">'),
        },
    )
    result = convert([vault])
    assert [str(d) for d in result.diagnostics] == [
        "n.md:9: not an image; not embedded: .obsidian/plugins/sync/data.json",
        "n.md:10: not an image; not embedded: notes.pdf",
    ]
    assert len(result.cards) == 1 and result.media == ()


# --- check and errors ---------------------------------------------------------------------


def test_check_reports_every_kind_of_problem(tmp_path: Path) -> None:
    vault = write_vault(
        tmp_path / "v",
        {
            **GOOD,
            "daily/2025-04-02.md": memo(
                "**Missing**\n![[gone.png]]",
                "**Empty**",
                "**Pod**\n또 있다",
                "**Query**\n```dataview\nLIST FROM #cka\n```",
                "**Diagram**\n```mermaid\ngraph LR; A-->B\n```",
                "**Inline**\n오늘: `= date(today)`",
                '**Video**\n강의 <iframe src="https://youtube.com/embed/x"></iframe>',
                "**Slides**\n![[lecture.pdf]]",
            ),
        },
    )
    result = run("check", vault)
    assert result.exit_code == 1
    assert result.stderr.splitlines() == [
        "daily/2025-04-02.md:8: image not found: gone.png",
        "daily/2025-04-02.md:10: 'Empty' has nothing under it; no card made",
        "daily/2025-04-02.md:12: 'Pod' is also a card at daily/2025-04-01.md:7",
        "daily/2025-04-02.md:16: Dataview query (```dataview) shows as its source text, "
        "not its result",
        "daily/2025-04-02.md:21: Mermaid diagram (```mermaid) shows as its source text, "
        "not its result",
        "daily/2025-04-02.md:26: inline Dataview query `= date(today)` shows as its source text",
        "daily/2025-04-02.md:29: HTML <iframe> is taken out of the card "
        "(a shared deck runs and loads nothing)",
        "daily/2025-04-02.md:32: embedded file not shown: ![[lecture.pdf]]",
        "memo2anki: error: 8 problems in 2 notes",
    ]


def test_check_of_a_clean_vault(tmp_path: Path) -> None:
    result = run("check", write_vault(tmp_path / "v", GOOD))
    assert result.exit_code == 0
    assert result.stderr.splitlines() == [
        "memo2anki: 1 card (CKA 1) from 1 note, 0 images, 0 warnings; no problems"
    ]


@pytest.mark.parametrize("command", [[], ["check"]], ids=["build", "check"])
def test_an_unexpected_error_is_one_line_and_debug_shows_where(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, command: list[str]
) -> None:
    def broken(*_args: Any, **_kwargs: Any) -> None:
        raise RuntimeError("boom\n  on a second line")

    monkeypatch.setattr(cli_check, "convert", broken)
    monkeypatch.setattr(cli_options, "convert", broken)
    vault = write_vault(tmp_path / "v", GOOD)
    result = run(*command, vault, *([] if command else ["--dry-run"]))
    assert result.exit_code == 1
    assert result.stderr.splitlines() == [
        "memo2anki: unexpected error: RuntimeError: boom on a second line "
        "(run again with --debug to see where)"
    ]
    result = run(*command, vault, *([] if command else ["--dry-run"]), "--debug")
    assert result.exit_code == 1
    assert result.stderr.startswith("Traceback (most recent call last):")
    assert "in broken" in result.stderr
    assert result.stderr.splitlines()[-2:] == ["RuntimeError: boom", "  on a second line"]


def test_a_bug_in_one_note_skips_only_that_note(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from memo2anki.cards.memo import CardFinder

    real_find = CardFinder.find

    def find(self: CardFinder, note: Any) -> Any:
        if note.relpath == "bad.md":
            raise ValueError("a bug\nover two lines")
        return real_find(self, note)

    monkeypatch.setattr(CardFinder, "find", find)
    vault = write_vault(tmp_path / "v", {"bad.md": memo("**A**\n가"), "good.md": memo("**B**\n나")})
    result = run(vault, "--dry-run", "-j", "1")
    assert result.exit_code == 0
    assert [line.split("\t")[1] for line in result.stdout.splitlines()] == ["B"]
    assert result.stderr.splitlines()[0] == (
        "bad.md: skipped after an unexpected error (ValueError: a bug over two lines); "
        "run again with --debug to see where"
    )
    debug = run(vault, "--dry-run", "-j", "1", "--debug")
    assert debug.exit_code == 1
    assert "Traceback (most recent call last):" in debug.stderr
    assert debug.stderr.splitlines()[-2:] == ["ValueError: a bug", "over two lines"]


# --- The files memo2anki writes -------------------------------------------------------------


@pytest.mark.parametrize("length", [251, 255], ids=["251 bytes", "255 bytes"])
def test_an_output_name_as_long_as_the_file_system_allows(
    tmp_path: Path, anki: Anki, length: int
) -> None:
    # 3 bytes a Hangul syllable: the name, with .apkg, is just within the 255-byte limit; the
    # temporary file beside it must not be named longer.
    name = "가" * ((length - 5) // 3) + "a" * ((length - 5) % 3) + ".apkg"
    assert len(name.encode()) == length
    vault = write_vault(tmp_path / "v", GOOD)
    out = tmp_path / "out" / name
    out.parent.mkdir()
    result = run(vault, "-o", out)
    assert result.exit_code == 0, result.output
    assert os.listdir(out.parent) == [name]
    anki.import_package(out)
    assert [n.fields["Front"] for n in anki.notes()] == ["Pod"]


_TOO_LONG = "가" * 85  # 255 bytes: a name a file system takes, but not with a suffix added


@pytest.mark.parametrize(
    ("args", "said"),
    [
        (["-o", f"{_TOO_LONG}.apkg"], "is 260 bytes long; a file system takes 255"),
        (["-o", _TOO_LONG], "with .apkg added, the name"),
        (["-o", f"{_TOO_LONG}{_TOO_LONG}/deck.apkg"], "is 510 bytes long"),
        (["preview", "-o", f"{_TOO_LONG}.html"], "is 260 bytes long"),
        (["preview", "-o", "가" * 83 + "a.html"], "for the page's picture folder, the name"),
        (["sync", "--collection", f"{_TOO_LONG}.anki2"], "is 261 bytes long"),
    ],
    ids=["-o", "-o with .apkg added", "-o in a folder", "preview -o", "preview's folder",
         "sync --collection"],
)  # fmt: skip
def test_a_name_longer_than_a_file_system_takes_is_bad_usage(
    tmp_path: Path, args: list[str], said: str
) -> None:
    vault = write_vault(tmp_path / "v", GOOD)
    command = [args[0]] if args[0] in {"preview", "sync"} else []
    options = args[len(command) :]
    result = run(*command, vault, *options[:1], tmp_path / options[1], "--no-cache")
    assert result.exit_code == 2, result.output
    assert said in result.stderr
    assert "Traceback" not in result.output and "unexpected" not in result.output
    assert os.listdir(tmp_path) == ["v"] or sorted(os.listdir(tmp_path)) == [
        "memo2anki-cache",
        "v",
    ]


@pytest.mark.parametrize(
    ("args", "said"),
    [
        (["-o", ""], "Invalid value for '-o' / '--output': empty; give a file name"),
        (["preview", "-o", ""], "Invalid value for '-o' / '--output': empty; give a file name"),
        (["sync", "--collection", ""], "Invalid value for '--collection': empty; give a file"),
        (["exam", "--last", "3", "--collection", ""], "for '--collection': empty; give a file"),
        (["check", "--subject", ""], "Invalid value for '--subject': empty; give a subject's"),
        (["-o", "x.apkg", "--subject", " "], "Invalid value for '--subject': empty; give a"),
        (["sync", "--profile", ""], "Invalid value for '--profile': empty; give a profile's"),
        (["exam", "--last", "3", "--profile", "\t"], "Invalid value for '--profile': empty;"),
    ],
    ids=["build -o", "preview -o", "sync --collection", "exam --collection", "--subject",
         "--subject of spaces", "sync --profile", "exam --profile of a tab"],
)  # fmt: skip
def test_an_empty_name_is_bad_usage(tmp_path: Path, args: list[str], said: str) -> None:
    # An empty --collection was ".: not a regular file" (exit 1), an empty --subject "no cards
    # of subject  in 1 note" (exit 1), an empty --profile "no Anki profile named ''" (exit 1).
    vault = write_vault(tmp_path / "v", GOOD)
    command = [args[0]] if args[0] in {"preview", "sync", "exam", "check"} else []
    result = run(*command, vault, *args[len(command) :], "--no-cache")
    assert result.exit_code == 2, result.output
    assert said in result.stderr.splitlines()[-1]


def test_a_read_only_cache_costs_time_only(tmp_path: Path, anki: Anki) -> None:
    from fs_faults import read_only

    note = "daily/2025-04-01.md"
    vault = write_vault(tmp_path / "v", GOOD)
    cache = tmp_path / "memo2anki-cache"
    out = tmp_path / "o.apkg"
    assert run(vault, "-o", out).exit_code == 0
    cards = ["**Pod**\n가장 작은 배포 단위"]
    for edit in ("**Svc**\n서비스", "**Node**\n노드"):
        cards.append(edit)
        (vault / note).write_text(memo(*cards), encoding="utf-8")
        os.utime(vault / note, (1, os.stat(vault / note).st_mtime + 10))
        with read_only(cache):
            result = run(vault, "-o", out)
        assert result.exit_code == 0, result.output
        unchanged = len(cards) - 1
        assert result.stderr.endswith(f"; 1 new, {unchanged} unchanged; wrote {out}\n")
    anki.import_package(out)
    assert [n.fields["Front"] for n in anki.notes()] == ["Pod", "Svc", "Node"]
