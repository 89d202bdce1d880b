"""Properties over generated input (hypothesis): any text or bytes gives cards or warnings and
never an exception; no memo card in any vault is lost or made twice; no link, however it is
built, resolves outside the vault."""

from __future__ import annotations

import codecs
import datetime as dt
import os
import shutil
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from helpers import png, write_vault
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from markdown_it.rules_core import StateCore

from memo2anki.cards.convert import convert
from memo2anki.cards.make import NoteConverter
from memo2anki.cards.markdown.parser import make_markdown
from memo2anki.cards.obsidian.comments import _comment_spans
from memo2anki.cards.pictures.media import MediaResolver, MediaStore
from memo2anki.cards.render import CardRenderer
from memo2anki.model import NoteResult, Options

# Each example touches the disk: keep the counts modest and the whole file in seconds.
QUICK = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
MD = make_markdown()
VAULTS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@pytest.fixture(scope="module")
def vault(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A vault with a picture inside, and next to it a picture and a folder outside, reached
    by symlinks from inside."""
    root = tmp_path_factory.mktemp("properties")
    (root / "outside.png").write_bytes(png(seed=99))
    (root / "secret").mkdir()
    (root / "secret" / "outside.png").write_bytes(png(seed=98))
    vault = write_vault(root / "vault", {"image/inside.png": png(seed=1), "daily/.keep": ""})
    (vault / "link.png").symlink_to(root / "outside.png")
    (vault / "linkdir").symlink_to(root / "secret")
    return vault


@pytest.fixture(scope="module")
def converter(vault: Path) -> NoteConverter:
    return NoteConverter(vault, Options())


def convert_bytes(converter: NoteConverter, vault: Path, raw: bytes) -> NoteResult:
    note = vault / "daily" / "2025-04-04.md"
    note.write_bytes(raw)
    return converter.convert(note)


# Pieces of markdown, Obsidian syntax and frontmatter that interact in odd ways.
FRAGMENTS = [
    "# 공부 메모장\n",
    "## CKA\n",
    "### ",
    "#### ",
    "**",
    "__",
    "*",
    "_",
    "\n",
    "\n\n",
    "---\n",
    "===\n",
    "```",
    "```bash\n",
    "~~~",
    "> ",
    "> [!tip] ",
    "- ",
    "1. ",
    "- [ ] ",
    "    ",
    "\t",
    "[[",
    "]]",
    "![[",
    "|",
    "|300",
    "![",
    "](",
    ")",
    "<",
    ">",
    "<img src=",
    '"',
    "'",
    "<div>",
    "</div>",
    "<script>",
    "<!--",
    "-->",
    "%%",
    "$$",
    "$",
    "==",
    "~~",
    "`",
    "``",
    "#tag ",
    "^[",
    "]",
    "[",
    "&#",
    "&amp;",
    "\\",
    "\r",
    "\r\n",
    "\ufeff",
    "\u200b",
    "\u0301",
    "\u2028",
    "a.png",
    "../",
    "%2e%2e/",
    "%00",
    "C:\\",
    "\\\\",
    "http://x/a.png",
    "tags: ",
    "{",
    "}",
    ": ",
    "&a ",
    "*a",
    "!!python/object ",
    "2025-13-45",
    "가나다",
    "**Docker Network**\n",
]
markdownish = st.lists(st.one_of(st.sampled_from(FRAGMENTS), st.text(max_size=8)), max_size=60).map(
    "".join
)


@QUICK
@given(text=st.one_of(st.text(), markdownish, markdownish.map(lambda t: f"---\n{t}")))
def test_any_text_gives_cards_or_warnings(converter: NoteConverter, vault: Path, text: str) -> None:
    result = convert_bytes(converter, vault, text.encode("utf-8"))
    lines = text.count("\n") + text.count("\r") + 1
    for card in result.cards:
        assert card.front_html and card.back_html
        assert 1 <= card.line <= lines
    for diagnostic in result.diagnostics:
        assert diagnostic.path == "daily/2025-04-04.md"
        str(diagnostic).encode("utf-8")  # printable


@QUICK
@given(text=st.lists(st.sampled_from(["%%", "%%", "\n", "\n\n", "a", "**B**", "### H", "- i",
                                      "> q", "```", "`", "\\", "---", "===", "    c", "$$"]),
                     max_size=30).map("".join))  # fmt: skip
def test_comments_across_lines_keep_every_line_in_place(text: str) -> None:
    # What is hidden is rewritten before the block parse, never a line taken out or added:
    # every card and warning after it names its own line.
    state = StateCore(text, MD, {})
    _comment_spans(state)
    assert state.src.count("\n") == text.count("\n")
    MD.render(text)


BOMS = [b"", codecs.BOM_UTF8, codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE, codecs.BOM_UTF32_LE]


@QUICK
@given(bom=st.sampled_from(BOMS), data=st.binary(max_size=400))
def test_any_bytes_give_cards_or_warnings(
    converter: NoteConverter, vault: Path, bom: bytes, data: bytes
) -> None:
    result = convert_bytes(converter, vault, bom + data)
    assert isinstance(result, NoteResult)
    for diagnostic in result.diagnostics:
        str(diagnostic).encode("utf-8")


# --- No card lost -------------------------------------------------------------------------

# Words that cannot form markdown syntax, and cannot spell a section title.
WORD = st.text(
    alphabet="abcxyzABCXYZ0123456789가나다라한국어공부쿠버네티스", min_size=1, max_size=8
)
FRONT = st.lists(WORD, min_size=1, max_size=4).map(" ".join)
TEXT_LINE = st.lists(WORD, min_size=1, max_size=6).map(" ".join)


@st.composite
def back_block(draw: st.DrawFn) -> str:
    """One block of a back: text, a list, a quote, closed code (holding look-alikes of card
    starts), a table, a missing picture, a callout."""
    line = draw(TEXT_LINE)
    kind = draw(st.sampled_from(["text", "list", "quote", "code", "table", "image", "callout"]))
    if kind == "list":
        items = draw(st.lists(TEXT_LINE, min_size=1, max_size=3))
        return "\n".join(f"{draw(st.sampled_from(['-', '*', '1.']))} {i}" for i in items)
    if kind == "quote":
        return f"> {line}"
    if kind == "code":
        return f"```\n**{line}**\n# {line}\n---\n```"
    if kind == "table":
        return f"| {line} | x |\n| - | - |\n| 1 | 2 |"
    if kind == "image":
        return f"{line} ![[missing {line}.png]]"
    if kind == "callout":
        return f"> [!tip] {line}\n> {line}"
    return f"{line} %%hidden%% `code`"


@dataclass
class MemoCard:
    front: str
    style: str  # "**", "__" or "heading"
    back: list[str]  # blocks; empty: the card has nothing under it


memo_card = st.builds(
    MemoCard,
    front=FRONT,
    style=st.sampled_from(["**", "__", "heading"]),
    back=st.one_of(st.just([]), st.lists(back_block(), min_size=1, max_size=3)),
)
subject = st.tuples(WORD, st.lists(memo_card, max_size=4))
note = st.tuples(
    st.integers(1, 2),  # the memo section's heading level
    st.lists(subject, min_size=1, max_size=3),
    st.sampled_from(["\n", "\r\n", "\r"]),
    st.booleans(),  # a BOM
    st.sampled_from(["NFC", "NFD"]),  # how the file name is written
    st.sampled_from(["", "---\ntags: [복습, 2025]\n---\n", "---\ntags: [broken\n---\n"]),
)


def note_text(level: int, subjects: list[tuple[str, list[MemoCard]]]) -> str:
    """A daily note: noise, then the memo section, then more noise."""
    parts = ["# 오전\n- [x] 공부\n\n**Not a card**\n밖의 글\n\n---\n"]
    parts.append(f"{'#' * level} 공부 메모장\n")
    for name, cards in subjects:
        parts.append(f"{'#' * (level + 1)} {name}\n")
        for card in cards:
            if card.style == "heading":
                parts.append(f"{'#' * (level + 2)} {card.front}\n")
            else:
                parts.append(f"{card.style}{card.front}{card.style}\n")
            parts.append("\n\n".join(card.back))
            parts.append("\n\n")
    parts.append("# 내일 할 일\n**Also not a card**\n밖\n")
    return "".join(parts)


def expected_cards(name: str, subjects: list[tuple[str, list[MemoCard]]]) -> Iterator[tuple]:
    for subject_name, cards in subjects:
        for card in cards:
            if card.back:
                yield (name, subject_name, card.front)


@VAULTS
@given(notes=st.lists(note, min_size=1, max_size=4))
def test_every_bold_heading_with_a_back_is_exactly_one_card(
    tmp_path_factory: pytest.TempPathFactory, notes: list[tuple]
) -> None:
    root = tmp_path_factory.mktemp("vault")
    try:
        vault = write_vault(root, {})
        expected: list[tuple] = []
        for day, (level, subjects, newline, bom, form, frontmatter) in enumerate(notes, 1):
            name = f"daily/{dt.date(2025, 4, day).isoformat()} 메모.md"
            text = (frontmatter + note_text(level, subjects)).replace("\n", newline)
            path = vault / unicodedata.normalize(form, name)
            path.parent.mkdir(exist_ok=True)
            path.write_bytes((codecs.BOM_UTF8 if bom else b"") + text.encode("utf-8"))
            expected += expected_cards(name, subjects)
        result = convert([vault])
        assert [(c.note, c.subject, c.front) for c in result.cards] == expected
    finally:
        shutil.rmtree(root)


# --- Links never leave the vault ----------------------------------------------------------

PIECES = [
    "..",
    ".",
    "",
    "%2e%2e",
    "%2E%2e",
    "..%2f..",
    "..%5c..",
    "%252e%252e",
    "\\",
    "/",
    "//",
    "C:",
    "c:\\",
    "\\\\server",
    "file:",
    "file://",
    "/img/user",
    "~",
    "outside.png",
    "secret",
    "link.png",
    "linkdir",
    "image",
    "inside.png",
    "%00",
    "?",
    "#",
    " ",
    "한글",
    "한글.png",
    unicodedata.normalize("NFD", "한글"),
    "%2F",
    "%5C",
    "<",
    ">",
    "|300",
]
hostile = st.tuples(
    st.lists(st.sampled_from(PIECES), min_size=1, max_size=8), st.sampled_from(["/", "\\", ""])
).map(lambda t: t[1].join(t[0]))


@settings(max_examples=400, deadline=None)
@given(ref=hostile, where=st.sampled_from(["", "daily", "image"]))
def test_no_reference_resolves_outside_the_vault(vault: Path, ref: str, where: str) -> None:
    resolver = MediaResolver(vault)
    lookup = resolver.resolve(ref, vault / where)
    if lookup.path is not None:
        real = Path(os.path.realpath(lookup.path))
        assert real.is_relative_to(vault.resolve())
        assert real.read_bytes() != png(seed=99) and real.read_bytes() != png(seed=98)


@settings(max_examples=150, deadline=None)
@given(ref=hostile)
def test_no_image_syntax_embeds_anything_outside_the_vault(vault: Path, ref: str) -> None:
    renderer = CardRenderer(MediaResolver(vault), MediaStore())
    markdown = f'![x](<{ref}>) ![x]({ref}) <img src="{ref}"> ![[{ref}]]'
    rendered = renderer.render(markdown, vault / "daily" / "n.md", "daily/n.md", 1)
    for media in rendered.media:
        assert Path(os.path.realpath(media.path)).is_relative_to(vault.resolve())
    assert "<img" not in rendered.html or all(
        f'src="{m.name}"' in rendered.html for m in rendered.media
    )
