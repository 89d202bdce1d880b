"""No input stalls a run: the time to make a note's cards grows linearly with the note.

Each row is one hostile pattern, made at a size and at its double; the whole path a note takes
(read, find cards, render, sanitize, lint) runs on both, and the double may take at most three
times as long (twice is linear, four times is quadratic). Process time, best of a few runs,
so other work on the machine does not count. The rewritten patterns and rules are also checked
to give what the ones they replace gave.
"""

from __future__ import annotations

import re
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path

import pytest
from helpers import write_vault
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from markdown_it import MarkdownIt
from markdown_it.rules_block import StateBlock

from memo2anki.cards.make import NoteConverter, _visible
from memo2anki.cards.markdown.parser import ATX_HEADING, make_markdown
from memo2anki.cards.obsidian import math as obsidian_math
from memo2anki.changes.notes import CLOZE_MODEL_NAME, TargetNote
from memo2anki.model import Options
from memo2anki.notes.reader import _link_label, tag_labels, tags_section
from memo2anki.notes.tags import normalize_tag
from memo2anki.targets.package import _card_ords

SECTION = "# 공부 메모장\n## CKA\n"


def _back(body: str) -> str:
    return f"{SECTION}**Card**\n{body}\n"


def _backticks(n: int) -> str:
    return "".join("`" * (i % 40 + 1) + "a" for i in range(n // 21))


# name -> (note of about n characters, n). Each size takes well under a second.
ROWS: dict[str, tuple[Callable[[int], str], int]] = {
    # Found quadratic, now linear:
    "heading padded with spaces": (lambda n: f"{SECTION}### a{' ' * n}b\n가\n", 40_000),
    "heading padded with tabs": (lambda n: f"{SECTION}### a{chr(9) * n}#b\n가\n", 40_000),
    "tags item of spaces": (lambda n: f"# Tags\n-{' ' * n}\n{_back('b')}", 40_000),
    "tags item of [[": (lambda n: f"# Tags\n- {'[[' * (n // 2)}\n{_back('b')}", 40_000),
    "tags item of #": (lambda n: f"# Tags\n- {'#a ' * (n // 3)}\n{_back('b')}", 40_000),
    "<!-- never closed before # Tags": (
        lambda n: f"{'<!-- ' * (n // 5)}\n# Tags\n- a\n{_back('b')}",
        40_000,
    ),
    "comments and code spans before # Tags": (
        lambda n: f"%% {_backticks(n)} <!-- {_backticks(n)}\n# Tags\n- a\n{_back('b')}",
        40_000,
    ),
    "lines of comments before # Tags": (
        lambda n: "%% a %% <!-- b -->\n" * (n // 19) + f"# Tags\n- a\n{_back('b')}",
        40_000,
    ),
    "a comment of many lines before # Tags": (
        lambda n: "%%\n" + "a\n" * (n // 2) + f"%%\n# Tags\n- a\n{_back('b')}",
        40_000,
    ),
    "fences before # Tags": (
        lambda n: "```\n# Tags\n```\n" * (n // 14) + f"# Tags\n- a\n{_back('b')}",
        40_000,
    ),
    "unclosed <img in HTML": (lambda n: _back("<div>\n" + "<img " * (n // 5)), 100_000),
    "< and spaces in HTML": (lambda n: _back("<div>\n<" + " " * n + "1"), 100_000),
    "cards with footnotes": (
        lambda n: (
            SECTION
            + "".join(f"**C{i}**\nsee[^{i}]\n\n" for i in range(n // 30))
            + "".join(f"[^{i}]: note {i}\n" for i in range(n // 30))
        ),
        6_000,
    ),
    "$$ lines never closed": (lambda n: _back("\n".join("$$x" for _ in range(n // 4))), 6_000),
    "embeds of a part of the note": (
        lambda n: (
            SECTION
            + "".join(f"**C{i}**\n![[#참고]]\n\n" for i in range(n // 20))
            + "# 참고\n짧은 설명\n"
        ),
        6_000,
    ),
    "embeds of different parts of the note": (
        lambda n: (
            SECTION
            + "".join(f"**C{i}**\n![[#참고 {i}]]\n\n" for i in range(n // 40))
            + "".join(f"# 참고 {i}\n설명 {i}\n" for i in range(n // 40))
        ),
        6_000,
    ),
    # Linear already; kept so they stay so:
    "runs of [": (lambda n: _back("[" * n), 3_000),
    "[a](": (lambda n: _back("[a](" * (n // 4)), 6_000),
    "unclosed [[": (lambda n: _back("[[" * (n // 2)), 3_000),
    "unclosed ![[": (lambda n: _back("![[" * (n // 3)), 3_000),
    "runs of *a": (lambda n: _back("*a" * (n // 2)), 8_000),
    "*_ mixed": (lambda n: _back("*_" * (n // 2)), 5_000),
    "==a": (lambda n: _back("==a" * (n // 3)), 8_000),
    "~~a": (lambda n: _back("~~a" * (n // 3)), 8_000),
    "backtick runs of every length": (lambda n: _back(_backticks(n)), 40_000),
    "%% with backtick runs": (lambda n: _back("%% " + _backticks(n)), 40_000),
    "%% lines": (lambda n: _back("\n".join("%%x" for _ in range(n // 4))), 8_000),
    "%% in a bold line": (lambda n: _back("**b** " + "%%x%% " * (n // 6) + "%%\n%%"), 20_000),
    "%% spanning paragraphs": (lambda n: _back("a %% b\n\n`c` d %% e\n\n" * (n // 24)), 8_000),
    "%% opened after text, many lines": (
        lambda n: _back("start %%\n" + "x\n" * (n // 2) + "%% end"),
        8_000,
    ),
    "$a": (lambda n: _back("$a " * (n // 3)), 20_000),
    "$$a and $ before %% spanning lines": (
        lambda n: _back("$$a $ \\$ " * (n // 10) + "%% a\nb %%"),
        8_000,
    ),
    "runs of <": (lambda n: _back("<" * n), 8_000),
    "<a ": (lambda n: _back("<a " * (n // 3)), 20_000),
    "^[ inline footnotes": (lambda n: _back("^[" * (n // 2)), 3_000),
    "[^ references": (lambda n: _back("[^" * (n // 2)), 3_000),
    "table of many columns": (
        lambda n: _back("|" + "a|" * (n // 4) + "\n|" + "-|" * (n // 4)),
        6_000,
    ),
    "table rows": (lambda n: _back("|a|b|\n|-|-|\n" + "|x|y|\n" * (n // 6)), 5_000),
    "quote lines": (lambda n: _back("> a\n" * (n // 4)), 8_000),
    "callout lines": (lambda n: _back("> [!note]\n" * (n // 10)), 8_000),
    "list items": (lambda n: _back("- a\n" * (n // 4)), 4_000),
    "bold-heading cards": (
        lambda n: SECTION + "".join(f"**C{i}**\nb\n\n" for i in range(n // 12)),
        4_000,
    ),
    "heading cards": (
        lambda n: SECTION + "".join(f"### C{i}\nb\n" for i in range(n // 12)),
        4_000,
    ),
    "unclosed fences in list items": (lambda n: _back("- ```\n  a\n" * (n // 10)), 8_000),
    "frontmatter never closed": (lambda n: "---\n" + "a: b\n" * (n // 5) + _back("b"), 20_000),
}


def _seconds(converter: NoteConverter, path: Path, text: str, runs: int = 3) -> float:
    path.write_text(text, encoding="utf-8")
    best = float("inf")
    for _ in range(runs):
        start = time.process_time()
        converter.convert(path)
        best = min(best, time.process_time() - start)
    return best


@pytest.mark.parametrize("name", ROWS)
def test_twice_the_input_takes_about_twice_the_time(tmp_path: Path, name: str) -> None:
    make, size = ROWS[name]
    vault = write_vault(tmp_path / "v", {})
    converter = NoteConverter(vault, Options())
    note = vault / "note.md"
    converter.convert(write_vault(vault, {"note.md": make(size // 4)}) / "note.md")  # warm up
    ratio = 0.0
    for _ in range(2):  # a second try, if the first was disturbed
        small = _seconds(converter, note, make(size))
        double = _seconds(converter, note, make(2 * size))
        ratio = double / max(small, 1e-4)
        if ratio < 3:
            break
    assert ratio < 3, f"{name}: {small:.3f}s at {size}, {double:.3f}s at {2 * size}"


def test_each_back_parses_only_the_footnotes_it_refers_to(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Counted, not timed: the characters given to the inline parser for the whole note.
    def parsed(cards: int) -> tuple[int, list[str]]:
        vault = write_vault(
            tmp_path / f"v{cards}",
            {
                "note.md": SECTION
                + "".join(f"**C{i}**\nsee[^n{i}]\n\n" for i in range(cards))
                + "# 참고\n"
                + "".join(f"[^n{i}]: note {i} #fn{i}\n" for i in range(cards))
            },
        )
        converter = NoteConverter(vault, Options())
        count = 0
        real = converter.renderer.md.inline.parse

        def counting(src: str, *args: object) -> None:
            nonlocal count
            count += len(src)
            real(src, *args)  # type: ignore[arg-type]

        monkeypatch.setattr(converter.renderer.md.inline, "parse", counting)
        result = converter.convert(vault / "note.md")
        return count, [c.back_html for c in result.cards]

    small, backs = parsed(100)
    double, _ = parsed(200)
    assert double < 2.2 * small
    assert "note 7 " in backs[7] and "note 8 " not in backs[7]
    assert all("footnote-item" in back for back in backs)


def test_a_footnote_that_refers_to_another_shows_both(tmp_path: Path) -> None:
    note = _back("a[^a] and b[^b]") + "\n[^a]: first, see[^c]\n[^b]: second\n[^c]: third\n"
    vault = write_vault(tmp_path / "v", {"note.md": note})
    (card,) = NoteConverter(vault, Options()).convert(vault / "note.md").cards
    assert all(text in card.back_html for text in ("first", "second", "third"))
    assert card.back_html.count('class="footnote-item"') == 3


def test_a_tag_in_a_footnote_tags_only_the_card_that_refers_to_it(tmp_path: Path) -> None:
    note = SECTION + "**A**\na[^x]\n\n**B**\nb\n# 참고\n[^x]: #raft 합의\n"
    vault = write_vault(tmp_path / "v", {"note.md": note})
    a, b = NoteConverter(vault, Options()).convert(vault / "note.md").cards
    assert "raft" in a.tags and "raft" not in b.tags


# The patterns replaced, as they were, to check the new ones against.
_OLD_ATX = re.compile(r"^ {0,3}#{1,6}[ \t]+(.*?)(?:[ \t]+#+)?[ \t]*$")
_OLD_LIST_ITEM = re.compile(r"^\s*(?:[-*+]|\d+[.)])\s+(?:\[.\]\s+)?(.*\S)\s*$")


@settings(max_examples=400, deadline=None)
@given(st.text(" \t#a\\x\u3000", max_size=14), st.sampled_from(["", "#", "###", "   #", "#######"]))
def test_the_heading_pattern_reads_headings_as_before(text: str, opener: str) -> None:
    old, new = _OLD_ATX.match(opener + text), ATX_HEADING.match(opener + text)
    assert (old and old.group(1)) == (new and new.group(1))


def _old_tags_section(text: str) -> list[str]:
    """reader.tags_section as it was, with the patterns it had (an item's labels as now:
    ``- #a #b`` is two tags)."""
    tags: list[str] = []
    inside = False
    for line in text.split("\n"):
        heading = _OLD_ATX.match(line)
        if heading:
            inside = heading.group(1).strip().lower() == "tags"
            continue
        if not inside:
            continue
        if re.match(r"^ {0,3}([-*_])(\s*\1){2,}\s*$", line):
            inside = False
            continue
        item = _OLD_LIST_ITEM.match(line)
        if not item:
            continue
        content = item.group(1)
        links = re.findall(r"\[\[([^\]]+)\]\]", content)
        labels = [_link_label(link) for link in links] if links else tag_labels(content)
        tags.extend(t for t in (normalize_tag(label) for label in labels) if t)
    return tags


@settings(max_examples=400, deadline=None)
@given(st.lists(st.text(" \t-*+1.)[]xa|#_", max_size=12), max_size=5))
def test_tags_section_reads_items_as_before(items: list[str]) -> None:
    # Changed on purpose: `[[a [[b]]` now names `b`, as the wikilink rule reads it.
    assume(all(item.count("[[") < 2 for item in items))
    text = "# Tags\n" + "\n".join(items)
    assert tags_section(text) == _old_tags_section(text)


def _dollarmath_as_it_was(md: MarkdownIt) -> MarkdownIt:
    """``md`` with the `$$` block rule as it was: dollarmath's own, tried in full each time."""
    block = obsidian_math._BLOCK

    def as_it_was(state: StateBlock, start_line: int, end_line: int, silent: bool) -> bool:
        if not state.src.startswith("$$", state.bMarks[start_line] + state.tShift[start_line]):
            return False
        if not silent:
            return block(state, start_line, end_line, False)
        tokens, line = len(state.tokens), state.line
        found = block(state, start_line, end_line, False)
        del state.tokens[tokens:]
        state.line = line
        return found

    md.block.ruler.at(
        "math_block", as_it_was, {"alt": ["paragraph", "reference", "blockquote", "list"]}
    )
    return md


_OLD_MATH = _dollarmath_as_it_was(make_markdown())
_NEW_MATH = make_markdown()


@settings(max_examples=400, deadline=None)
@given(
    st.lists(
        st.sampled_from(["$$", "$$x", "x$$", "$$ x $$", "x", "", "> ", "- ", "  "]), max_size=12
    )
)
def test_math_blocks_are_found_as_before(lines: list[str]) -> None:
    text = "\n".join(lines)
    assert _NEW_MATH.render(text) == _OLD_MATH.render(text)


def _memo_of(mib: float) -> str:
    card = (
        "**Card {i}**\n컨테이너 네트워크는 `iptables`로 **포트포워딩**을 한다 [[CNI]] #cka\n"
        "- Host: 호스트의 네트워크 네임스페이스\n- Bridge: 격리된 네임스페이스\n"
        + "노드마다 kubelet이 Pod spec을 보고 컨테이너를 실행한다. " * 6
        + "\n\n"
    )
    parts, size, i = [SECTION], 0, 0
    while size < mib * 1024 * 1024:
        parts.append(card.format(i=i))
        size += len(parts[-1].encode())
        i += 1
    return "".join(parts)


def test_memory_stays_a_small_multiple_of_the_note(tmp_path: Path) -> None:
    # Measured 16 times the note's size here; holding every card's tokens until the note
    # was done took 28.
    vault = write_vault(tmp_path / "v", {"small.md": _memo_of(0.01), "big.md": _memo_of(1)})
    converter = NoteConverter(vault, Options())
    converter.convert(vault / "small.md")  # parser and lexers made before measuring
    size = (vault / "big.md").stat().st_size
    tracemalloc.start()
    try:
        result = converter.convert(vault / "big.md")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert len(result.cards) > 1500
    assert peak < 22 * size, f"peak {peak / size:.1f} times the note"


def test_cloze_numbers_are_counted_in_linear_time() -> None:
    def seconds(n: int) -> float:
        note = TargetNote("g", CLOZE_MODEL_NAME, "d", ("{{c1::a}} " + "{{c1::" * n, ""), (), 0, 0)
        best = float("inf")
        for _ in range(3):
            start = time.process_time()
            assert _card_ords(note) == [0]
            best = min(best, time.process_time() - start)
        return best

    small, double = seconds(20_000), seconds(40_000)
    assert double < 3 * max(small, 1e-4)


def test_an_embedded_note_edited_between_two_runs_shows_its_new_text(tmp_path: Path) -> None:
    vault = write_vault(
        tmp_path / "v",
        {"a.md": _back("![[b#part]]\n![[b#part]]"), "b.md": "# part\nold text\n"},
    )
    converter = NoteConverter(vault, Options())
    (first,) = converter.convert(vault / "a.md").cards
    (vault / "b.md").write_text("# part\nthe new text\n", encoding="utf-8")
    (second,) = converter.convert(vault / "a.md").cards
    assert first.back_html.count("old text") == 2
    assert second.back_html.count("the new text") == 2 and "old text" not in second.back_html


# (Long enough that a run takes a millisecond or more: at 40,000 a tenth of one, which a busy
# machine's noise tripled once.)
@pytest.mark.parametrize(
    ("html", "shows"), [("<p></p>" + "<" * 400_000, True), ("<" * 400_000 + "<p></p>", False)]
)
def test_telling_whether_a_back_shows_anything_is_linear(html: str, shows: bool) -> None:
    def seconds(text: str) -> float:
        best = float("inf")
        for _ in range(5):
            start = time.process_time()
            assert _visible(text) is shows
            best = min(best, time.process_time() - start)
        return best

    doubled = html.replace("<" * 400_000, "<" * 800_000)
    assert seconds(doubled) < 3 * max(seconds(html), 1e-4)
