"""Hostile notes, through real Anki: whatever a note, its file name, its headings or its tags
hold, the imported fields hold nothing that runs or fetches when a card is shown, one bad
character never sinks the package, and what the person wrote shows as written."""

from __future__ import annotations

import html
import json
import re
from collections.abc import Callable
from html.parser import HTMLParser
from pathlib import Path

import pytest
from anki.lang import set_lang
from anki.utils import strip_html
from helpers import Anki, AnkiNote, memo, png, run, write_vault
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from memo2anki import Layout, Ledger, Scope, plan_changes, write_plan
from memo2anki.cards.checks.inert import inert
from memo2anki.cards.checks.sanitize import sanitize
from memo2anki.cards.convert import convert
from memo2anki.cards.obsidian.comments import comments
from memo2anki.model import Options

set_lang("en")

# --- What "nothing active" means, checked on the HTML Anki holds ----------------------------

_SRC_ATTRIBUTES = {"src", "srcset", "poster", "background", "data", "href", "xlink:href", "action"}
_ACTIVE_TAGS = {
    "script", "style", "link", "meta", "base", "iframe", "frame", "object", "embed", "svg",
    "image", "video", "audio", "source", "picture", "form", "math", "template", "use",
}  # fmt: skip
# MathJax commands that link, style, set classes/ids/attributes or load (see the README).
_ACTIVE_TEX = re.compile(
    r"\\(?:style|class|cssId|data|unicode|require|mmlToken)(?![A-Za-z])"
    r"|\\href\s*\{(?!\s*https?://)|\\bbox\s*\[[^\]]*:"
)
_ANKI_TAG = re.compile(r"\[(?:latex\]|\$\$?\]|sound:|anki:tts)", re.IGNORECASE)
_MEDIA_NAME = re.compile(r"m2a-[0-9a-f]{20}\.[a-z0-9]+")


class _Active(HTMLParser):
    """Collects everything in a piece of HTML that would run or fetch when shown."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found: list[str] = []
        self.skipped = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _ACTIVE_TAGS:
            self.found.append(f"<{tag}>")
        if tag in {"code", "pre"}:
            self.skipped += 1
        for name, value in attrs:
            value = (value or "").strip()
            if name.startswith("on"):
                self.found.append(f"{tag} {name}")
            if name == "style" and re.search(r"url|image|\\|@import|expression", value, re.I):
                self.found.append(f"{tag} style {value}")
            if name in _SRC_ATTRIBUTES:
                if re.match(r"\s*(javascript|vbscript|data|file):", value, re.I):
                    self.found.append(f"{tag} {name}={value}")
                # A link goes nowhere until tapped; everything else names what is fetched.
                if not (tag == "a" and name == "href") and not (
                    tag == "img" and name == "src" and _MEDIA_NAME.fullmatch(value)
                ):
                    self.found.append(f"{tag} {name}={value}")

    def handle_endtag(self, tag: str) -> None:
        if tag in {"code", "pre"}:
            self.skipped = max(0, self.skipped - 1)

    def handle_data(self, data: str) -> None:
        # MathJax reads math from an opener on, in one text node.
        opener = re.search(r"\\[(\[]|\\begin", data)
        if not self.skipped and opener and (match := _ACTIVE_TEX.search(data, opener.start())):
            self.found.append(match.group(0))
        if match := _ANKI_TAG.search(data):
            self.found.append(match.group(0))


def active(field_html: str) -> list[str]:
    """What in ``field_html`` would run, fetch or act when Anki shows it."""
    parser = _Active()
    parser.feed(field_html)
    parser.close()
    return parser.found


def build(tmp_path: Path, files: dict[str, str | bytes], *options: str) -> tuple[list[str], Anki]:
    """Build the vault's deck with the CLI, import it into a fresh Anki; the warnings too."""
    vault = write_vault(tmp_path / "vault", files)
    out = tmp_path / "deck.apkg"
    result = run(vault, "-o", out, *options)
    assert result.exit_code == 0, result.output
    anki = Anki(tmp_path / "anki")
    log = anki.import_package(out)
    assert not log.conflicting
    # (The warnings: not the run's own lines, its summary and where it looked for pictures,
    # which can name a folder above the test's, /tmp, when a file there has a picture's name.)
    lines = result.stderr.splitlines()
    return [line for line in lines if not line.startswith("memo2anki: ")], anki


def assert_inert(notes: list[AnkiNote]) -> None:
    for note in notes:
        for name, value in note.fields.items():
            assert active(value) == [], (note.fields["Front"], name, value)


def test_the_checker_sees_what_is_active() -> None:
    # The checker is a test's own: it must find what it is there to find.
    assert active('<img src="x" onerror="alert(1)">') == ["img src=x", "img onerror"]
    assert active('<img src="https://e.example/p.png">') == ["img src=https://e.example/p.png"]
    assert active('<p style="background:url(https://e/x)">x</p>') != []
    assert active('<a href="javascript:alert(1)">x</a>') != []
    assert active(r"\(\href{javascript:alert(1)}{x}\)") != []
    assert active(r"\(\style{color:red}{x}\)") != []
    assert active("[latex]x[/latex]") != []
    assert active('<a href="https://e.example">x</a><img src="m2a-0123456789abcdef0123.png">') == []
    assert active(r"<code>\(\style{a}{b}\)</code> \(\href{https://e.example}{x}\)") == []


# --- Fields other than the back -------------------------------------------------------------

# (as written in the heading, as a person reads it)
SUBJECTS = [
    ("`<img src=x onerror=alert(1)>`", "<img src=x onerror=alert(1)>"),
    (r"\<b onmouseover=alert(1)\>", "<b onmouseover=alert(1)>"),
    ("&lt;svg onload=alert(1)&gt;", "<svg onload=alert(1)>"),
    ("<script>alert(1)</script>", "alert(1)"),
    ('A "quoted" & <b>bold</b>', 'A "quoted" & bold'),
    (r"\\(\href{javascript:alert(1)}{x}\\)", r"\(\href{javascript:alert(1)}{x}\)"),
]


@pytest.mark.parametrize(("heading", "shown"), SUBJECTS, ids=[s for s, _ in SUBJECTS])
def test_a_subject_is_text(tmp_path: Path, heading: str, shown: str) -> None:
    note = memo("**A**\n가", subject=heading)
    _, anki = build(tmp_path, {"2025-04-04.md": note})
    (card,) = anki.notes()
    assert_inert([card])
    # Shown as written, and the deck and tag are plain text too (Anki shows them as text).
    assert html.unescape(card.fields["Subject"].replace("\u2060", "")) == shown
    assert card.deck == f"공부 메모장::{shown}"
    assert all("<" not in tag and ">" not in tag and '"' not in tag for tag in card.tags)


HOSTILE_NAMES = [
    "2025-04-04 <img src=x onerror=alert(1)>.md",
    "2025-04-04 &lt;b onmouseover=alert(1)&gt;.md",
    '2025-04-04 "><svg onload=alert(1)>.md',
    r"2025-04-04 \(\href{javascript:alert(1)}{x}\).md",
]


@pytest.mark.parametrize("name", HOSTILE_NAMES)
def test_a_file_name_is_text(tmp_path: Path, name: str) -> None:
    _, anki = build(tmp_path, {f"daily/{name}": memo("**A**\n가")})
    (card,) = anki.notes()
    assert_inert([card])
    assert html.unescape(card.fields["Source"].replace("\u2060", "")) == f"daily/{name}"
    assert card.fields["Link"].startswith("obsidian://open?vault=vault&file=daily%2F2025-04-04%20")
    assert re.fullmatch(r"[A-Za-z0-9:/?=&%._~-]+", card.fields["Link"])


def test_tags_are_plain_text(tmp_path: Path) -> None:
    note = (
        '---\ntags: ["<img src=x onerror=alert(1)>", "a\\"b", "x\\u001fy", "v\\u0001w"]\n---\n'
        + memo("**A**\n가 #ok")
        + "\n# Tags\n- <svg/onload=alert(1)>\n"
    )
    warnings, anki = build(tmp_path, {"2025-04-04.md": note})
    (card,) = anki.notes()
    assert card.tags == sorted(
        ["CKA", "ab", "img_src=x_onerror=alert(1)", "ok", "svg::onload=alert(1)", "vw", "x_y"]
    )
    assert warnings == [
        "2025-04-04.md:1: a tag holds U+0001, which Anki's format reserves; left out of the card"
    ]


# --- Things a shown card would fetch or run -------------------------------------------------

# Raw HTML in a back, each a way to name something remote or to run something.
REMOTE = [
    '<image src="https://e.example/p.png">',
    '<img src="//e.example/p.png">',
    '<img src="pic.png" srcset="https://e.example/p.png 2x">',
    '<img src="https://e.example/p.png">',
    '<video poster="https://e.example/p.png"></video>',
    '<table background="https://e.example/p.png"><tr><td>c</td></tr></table>',
    '<div style="background-image: url(https://e.example/p.png)">x</div>',
    '<p style="border: 1px url(https://e.example/p.png)">x</p>',
    '<p style="border: 1px u\\72l(https://e.example/p.png)">x</p>',
    "<style>@import url(https://e.example/s.css); p { color: red }</style>",
    '<link rel="stylesheet" href="https://e.example/s.css">',
    '<svg><image href="https://e.example/p.png"/></svg>',
    '<svg><use xlink:href="https://e.example/s.svg#a"/></svg>',
    '<input type="image" src="https://e.example/p.png">',
    '<object data="https://e.example/p.swf"></object>',
    '<iframe src="https://e.example/"></iframe>',
    '<img src="data:image/svg+xml,<svg onload=alert(1)>">',
    '<img src="x" onerror="alert(1)">',
    '<a href="javascript:alert(1)">x</a>',
    '<details open ontoggle="alert(1)"><summary>s</summary>d</details>',
    '<math><maction actiontype="statusline" xlink:href="javascript:alert(1)">x</maction></math>',
    '<picture><source srcset="https://e.example/p.png"><img src="pic.png"></picture>',
    '<body background="https://e.example/p.png">x</body>',
    '<meta http-equiv="refresh" content="0;url=https://e.example/">',
    '<base href="https://e.example/">',
    "<script>fetch('https://e.example/')</script>",
]


def test_nothing_in_a_back_is_fetched_or_run(tmp_path: Path) -> None:
    cards = [f"**R{i}**\n가 {snippet} 나" for i, snippet in enumerate(REMOTE)]
    warnings, anki = build(tmp_path, {"2025-04-04.md": memo(*cards), "pic.png": png(seed=3)})
    notes = anki.notes()
    assert [n.fields["Front"] for n in notes] == [f"R{i}" for i in range(len(REMOTE))]
    assert_inert(notes)
    backs = {n.fields["Front"]: n.fields["Back"] for n in notes}
    # Web pictures stay links; the local picture is still embedded.
    for i in (0, 3):
        assert '<a class="m2a-remote" href="https://e.example/p.png"' in backs[f"R{i}"]
    for i in (2, 21):
        (name,) = anki.media_in(backs[f"R{i}"])
        assert (Path(anki.col.media.dir()) / name).read_bytes() == png(seed=3)
    assert all("가" in back and "나" in back for back in backs.values())
    assert "2025-04-04.md:11: '//e.example/p.png' is outside the vault; not embedded" in warnings


# (math as written in a back, what MathJax would make of it, or None: left as it is)
MATH = [
    (r"$\href{javascript:alert(1)}{x}$", r"\href"),
    (r"$\href{ JavaScript:alert(1)}{x}$", r"\href"),
    (r"$\href{data:text/html,x}{x}$", r"\href"),
    (r"$\style{background-image:url(https://e.example/x)}{y}$", r"\style"),
    (r"$\class{cloze}{x}$", r"\class"),
    (r"$\cssId{answer}{x}$", r"\cssId"),
    (r"$\data{a=b}{x}$", r"\data"),
    (r"$\unicode[Arial]{x41}$", r"\unicode"),
    (r"$\require{action}$", r"\require"),
    (r'$\mmlToken{mi}[href="javascript:alert(1)"]{x}$', r"\mmlToken"),
    (r"$\bbox[background:url(https://e.example/x)]{x}$", r"\bbox"),
    (r"$\def\x{\style{color:red}}\x{y}$", r"\style"),
    (r"$$\style{color:red}{x}$$", r"\style"),
    (r"plain \\(\href{javascript:alert(1)}{x}\\) text", r"\href"),
    (r"plain \\[\class{a}{x}\\] text", r"\class"),
    (r"[latex]\input{/etc/passwd}[/latex]", "[latex]"),
    (r"[\$]x^2[/\$]", "[$]"),
    ("`[$$]x[/$$]` in code", "[$$]"),
    ("[sound:voice.mp3]", "[sound:"),
    (r"$\href{https://example.com/a}{x}$", None),
    (r"$\bbox[yellow,5px]{x}$", None),
    (r"`\(\style{a}{b}\)` in code", None),
    (r"C:\data\style\file, no math", None),
    (r"$\frac{a}{b}$", None),
]


def test_math_that_would_link_style_or_load_is_shown_as_text(tmp_path: Path) -> None:
    cards = [f"**M{i}**\n가\n{tex}" for i, (tex, _) in enumerate(MATH)]
    warnings, anki = build(tmp_path, {"n.md": memo(*cards)})
    notes = anki.notes()
    assert len(notes) == len(MATH)
    assert_inert(notes)
    expected = []
    for i, (tex, command) in enumerate(MATH):
        back = notes[i].fields["Back"]
        if command is None:
            assert "\u2060" not in back, tex
        else:
            assert "\u2060" in back, tex
            expected.append(f"n.md:{9 + 4 * i}: the card holds {command} (")
    assert len(warnings) == len(expected)
    for warning, start in zip(warnings, expected, strict=True):
        assert warning.startswith(start) and warning.endswith("; shown as text"), warning


_SVG = '<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink">{}</svg>'
# (what the SVG holds, the warning's reason, or None: a drawing, embedded)
SVGS = [
    ('<rect width="4" height="4" fill="url(#g)"/><a href="#r"><circle r="1"/></a>', None),
    ('<image href="data:image/png;base64,iVBORw0KGgo="/>', None),
    ("<script>alert(1)</script>", "SVG holds <script>"),
    ('<rect onclick="alert(1)"/>', "SVG holds an event handler (onclick)"),
    ('<foreignObject><div xmlns="http://www.w3.org/1999/xhtml">x</div></foreignObject>',
     "SVG holds <foreignobject>"),
    ('<image href="https://e.example/p.png"/>', "SVG refers to another file (href="),
    ('<use xlink:href="other.svg#a"/>', "SVG refers to another file (href="),
    ('<image href="data:image/svg+xml,&lt;svg/&gt;"/>', "SVG refers to another file (href="),
    ('<rect style="fill: url(https://e.example/x)"/>', "SVG refers to another file (style)"),
    ('<rect fill="url(//e.example/x#g)"/>', "SVG refers to another file (fill)"),
    ("<style>@import url(https://e.example/s.css);</style>", "SVG holds a style that fetches"),
    ('<set attributeName="href" to="javascript:alert(1)"/>', "SVG animates href"),
    ('<animate attributeName="xlink:href" values="javascript:alert(1)"/>',
     "SVG animates xlink:href"),
    ('<html:iframe xmlns:html="http://www.w3.org/1999/xhtml"/>', "SVG holds <iframe>"),
]  # fmt: skip
DOCTYPES = [
    ('<?xml version="1.0"?><!DOCTYPE svg [<!ENTITY a "aaaa"><!ENTITY b "&a;&a;&a;">]>'
     '<svg xmlns="http://www.w3.org/2000/svg"><text>&b;</text></svg>',
     "SVG holds a DTD or entity declarations"),
    ('<?xml-stylesheet href="https://e.example/s.css"?><svg xmlns="http://www.w3.org/2000/svg"/>',
     "SVG holds an xml-stylesheet reference"),
    ("<svg><rect></svg>", "not a well-formed SVG"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("content", "reason"),
    [(_SVG.format(inner), reason) for inner, reason in SVGS] + DOCTYPES,
    ids=[inner[:40] for inner, _ in SVGS + DOCTYPES],
)
def test_an_svg_is_a_drawing_or_refused(tmp_path: Path, content: str, reason: str | None) -> None:
    files: dict[str, str | bytes] = {"n.md": memo("**A**\n가\n![[pic.svg]]"), "pic.svg": content}
    warnings, anki = build(tmp_path, files)
    (card,) = anki.notes()
    stored = anki.media_in(card.fields["Back"])
    if reason is None:
        assert warnings == []
        (name,) = stored
        assert (Path(anki.col.media.dir()) / name).read_text() == content
    else:
        assert stored == []
        assert len(warnings) == 1 and warnings[0].startswith(f"n.md:9: {reason}"), warnings
        assert warnings[0].endswith("; not embedded: pic.svg")
        assert "[missing image: pic.svg]" in card.fields["Back"]


def test_a_cloze_back_shows_braces_as_written(tmp_path: Path) -> None:
    back = "가 ==hi}== and {{c2::secret}} and `{{c3::code}}` and ==a::b==\n```\n{{c4::x}}\n```"
    _, anki = build(tmp_path, {"n.md": memo(f"**A**\n{back}")}, "--cloze")
    cloze = next(n for n in anki.notes() if n.note_type == "memo2anki cloze")
    # Two deletions (the highlights), however many braces the back holds.
    assert len(cloze.card_ids) == 2
    first = anki.col.get_card(cloze.card_ids[0])
    shown = html.unescape(strip_html(first.question()))
    assert "{{c2::secret}}" in shown and "{{c3::code}}" in shown and "{{c4::x}}" in shown
    answer = html.unescape(strip_html(first.answer()))
    assert "hi}" in answer and "a::b" in answer


# --- One character that sinks the whole package ---------------------------------------------


def reserves(where: str, what: str, names: str) -> str:
    return f"{where}: {what} holds {names}, which Anki's format reserves; left out of the card"


# (file name, note text, the warning, what Anki holds: (field, text) or (tag, text))
RESERVED_PLACES = [
    ("n.md", memo("**A**\n가\x1f나"), reserves("n.md:8", "the line", "U+001F"), ("Back", "가나")),
    ("n.md", memo("**A**\n가\x7f나\x01다"), reserves("n.md:8", "the line", "U+007F, U+0001"),
     ("Back", "가나다")),
    ("n.md", memo("### A\x1fB\n가"), reserves("n.md:7", "the card", "U+001F"), ("Front", "AB")),
    ("n.md", memo("**A**\n가", subject="S\x01T"),
     reserves("n.md:7", "the subject 'ST'", "U+0001"), ("Subject", "ST")),
    ("a\x1fb.md", memo("**A**\n가"), reserves("a\\x1fb.md", "the file name", "U+001F"),
     ("Source", "ab.md")),
    ("n.md", memo("**A**\n가\n\n<div>나&#31;다</div>"), reserves("n.md:7", "the card", "U+001F"),
     ("Back", "나다")),
    ("n.md", '---\ntags: ["a\\0b", "c\\x01d"]\n---\n' + memo("**A**\n가"),
     reserves("n.md:1", "a tag", "U+0000, U+0001"), ("tags", ["CKA", "ab", "cd"])),
    ("n.md", memo("**A**\n가") + "\n# Tags\n- x\x01y\n", reserves("n.md:1", "a tag", "U+0001"),
     ("tags", ["CKA", "xy"])),
]  # fmt: skip


@pytest.mark.parametrize(
    ("name", "text", "warning", "held"),
    RESERVED_PLACES,
    ids=["back", "back DEL", "front", "subject", "file name", "reference", "yaml", "tags"],
)
def test_a_reserved_character_is_left_out(
    tmp_path: Path, name: str, text: str, warning: str, held: tuple[str, object]
) -> None:
    # A good note beside it: one bad character must not cost any other card either.
    files: dict[str, str | bytes] = {name: text, "good.md": memo("**G**\n좋다")}
    warnings, anki = build(tmp_path, files)
    assert warnings == [warning]
    notes = anki.notes()
    assert sorted(n.fields["Front"] for n in notes) == sorted(
        ["G", held[1] if held[0] == "Front" else "A"]
    )
    (note,) = (n for n in notes if n.fields["Front"] != "G")
    assert len(note.fields) == 6
    if held[0] == "tags":
        assert note.tags == held[1]
    else:
        assert isinstance(held[1], str) and held[1] in strip_html(note.fields[held[0]])


# Pieces that Anki's format, HTML, MathJax, Anki's tags or markdown read in their own way.
SPECIAL = [
    "\x1f", "\x00", "\x01", "\x7f", "\x0b", "\x0c", "\x1c", "\u3000", "\u2028", "\ufeff",
    "\ufffe", "\u2060", " ", "\t", "\n", "\r", "{{c1::", "}}", "::", "<", ">", "&", '"', "'",
    "&#31;", "&#0;", "\\(", "\\)", "\\href{javascript:x}{y}", "\\style{a}{b}", "[latex]",
    "[sound:x]", "#", "**", "==", "$", "`", "%%", "[[", "]]", "|", "<img src=x onerror=y>",
    "<b>", "\\<", "&lt;", "- ",
]  # fmt: skip
TEXT = st.lists(
    st.one_of(
        st.sampled_from(SPECIAL), st.text(st.characters(exclude_categories=("Cs",)), max_size=4)
    ),
    max_size=10,
).map("".join)
LINE = TEXT.map(lambda t: t.replace("\n", " ").replace("\r", " "))
# A file name's bytes that are not UTF-8 come to Python as lone surrogates.
NAME = st.tuples(LINE, st.sampled_from(["", "\udcb0", "\udcff\udc80"])).map(
    lambda parts: parts[0].replace("/", "").replace("\x00", "")[:40] + parts[1]
)
HOSTILE_PROPERTY = settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)


@HOSTILE_PROPERTY
@given(name=NAME, tags=st.lists(TEXT, max_size=3), title=TEXT, subject=LINE, front=LINE,
       back=TEXT, listed=LINE)  # fmt: skip
# A comment from the front to the list below hides the second card too.
@example(name="", tags=[], title="", subject="", front="%%", back="", listed="%%")
# A line of '=' under the back's first line: a level-1 heading, the section's end.
@example(name="", tags=[], title="", subject="", front="", back="\n==", listed="")
def test_any_text_anywhere_gives_a_deck_anki_imports(
    tmp_path_factory: pytest.TempPathFactory,
    name: str,
    tags: list[str],
    title: str,
    subject: str,
    front: str,
    back: str,
    listed: str,
) -> None:
    root = tmp_path_factory.mktemp("any")
    frontmatter = f"tags: [{', '.join(json.dumps(t, ensure_ascii=False) for t in tags)}]\n"
    frontmatter += f"title: {json.dumps(title, ensure_ascii=False)}\n"
    text = (
        f"---\n{frontmatter}---\n# 공부 메모장\n## S{subject}\n### F{front}\n가 {back}\n\n"
        f"**둘째**\n나\n\n# Tags\n- {listed}\n"
    )
    vault = write_vault(root / "vault", {})
    (vault / f"2025-04-04 {name}.md").write_text(text.replace("\x00", ""), encoding="utf-8")
    result = convert([vault], Options(skip_on_bug=False))
    out = root / "deck.apkg"
    plan = plan_changes(result.cards, Ledger(), Scope(), 1, Layout("공부 메모장", "vault"))
    info = write_plan(plan, result.media, out)
    anki = Anki(root / "anki")
    try:
        log = anki.import_package(out)
        notes = anki.notes()
    finally:
        anki.close()
    assert len(log.new) == info.notes == len(result.cards) == len(notes)
    # The second card at least, unless a comment hides it: one opened in the front (`%%`)
    # and closed in the list below it hides all between, as in Obsidian.
    body = text[text.index("# 공부 메모장") :]
    second = body.index("**둘째**")
    hidden = any(opening < second < closing for opening, closing in comments(body))
    # Nor when a line of '=' under the back's text makes it a level-1 heading (setext), which
    # ends the memo section before the second card.
    ended = re.search(r"(?m)^ {0,3}=+[ \t]*$", body[:second]) is not None
    if not (hidden or ended):
        assert result.cards, result.diagnostics
    for note in notes:
        assert len(note.fields) == 6
        for nested in (note.deck, *note.tags):  # no level empty: Anki would name it "blank"
            assert all(level and level != "blank" for level in nested.split("::")), nested
    assert_inert(notes)


DECKS = [
    ("<img src=x onerror=alert(1)>", "<img src=x onerror=alert(1)>"),
    ("Top::Sub", "Top::Sub"),  # nesting asked for on purpose stays
]


@pytest.mark.parametrize("deck", ["A\x1fB", "A\nB", "A\tB", "A\rB"])
def test_a_deck_name_with_a_control_character_is_bad_usage(tmp_path: Path, deck: str) -> None:
    vault = write_vault(tmp_path / "vault", {"n.md": memo("**A**\n가")})
    result = run(vault, "-o", tmp_path / "deck.apkg", "--deck", deck)
    assert result.exit_code == 2
    assert "the deck name holds a control character" in result.stderr
    assert not (tmp_path / "deck.apkg").exists()


@pytest.mark.parametrize(("deck", "shown"), DECKS, ids=["markup", "nested"])
def test_a_deck_name_is_plain_text(tmp_path: Path, deck: str, shown: str) -> None:
    _, anki = build(tmp_path, {"n.md": memo("**A**\n가", subject="S::T")}, "--deck", deck)
    (card,) = anki.notes()
    # A subject's `::` does not nest a deck further; Anki shows deck names as text.
    assert card.deck == f"{shown}::S:T"


def test_subjects_that_differ_only_in_case_are_one_deck_in_anki(tmp_path: Path) -> None:
    files = {"a.md": memo("**A**\n가", subject="CKA"), "b.md": memo("**B**\n나", subject="cka")}
    _, anki = build(tmp_path, files)
    decks = {n.fields["Front"]: n.deck for n in anki.notes()}
    assert decks == {"A": "공부 메모장::CKA", "B": "공부 메모장::CKA"}
    assert not [d for d in anki.col.decks.all_names_and_ids() if d.name.endswith("_")]
    # The dry run names the decks the build writes.
    dry = run(tmp_path / "vault", "--dry-run", "--json", "--no-cache")
    assert {c["front"]: c["deck"] for c in json.loads(dry.stdout)["cards"]} == decks
    lines = run(tmp_path / "vault", "--dry-run", "--no-cache").stdout.splitlines()
    assert [line.split("\t")[0] for line in lines] == ["공부 메모장::CKA"] * 2


def test_no_level_of_a_deck_or_tag_is_left_empty(tmp_path: Path) -> None:
    # Anki nests at "::" and names an empty level "blank": a run of colons is one level here.
    text = '---\ntags: ["a::::b", "::y", "z::", "::"]\n---\n' + memo("**A**\n가", subject=":::x")
    _, anki = build(tmp_path, {"n.md": text}, "--deck", "Top:::Sub")
    (note,) = anki.notes()
    assert note.deck.split("::")[:2] == ["Top", "Sub"]
    assert all(level and level != "blank" for level in note.deck.split("::")), note.deck
    assert sorted(note.tags) == ["a::b", "x", "y", "z"]


# --- Making text inert is linear in its size -------------------------------------------------

# Inputs that would make a careless pattern rescan the rest of the text at each command.
INERT_INPUTS = {
    "unclosed hrefs": r"\(" + r"\href{https://e.example/" * 5000,
    "unclosed bbox options": r"\(" + r"\bbox[red " * 5000,
    "tags between commands": r"\(" + r"<b>\style{a}{b}</b>" * 5000,
    "unclosed Anki tags": "[latex]" * 5000 + "[sound:" * 5000,
    "openers": r"\(\[" * 50000,
}


def _best_times(*texts: str) -> list[float]:
    """The quickest of several runs of inert() on each text, taken in turns so that a busy
    spell of the machine slows each alike."""
    import time

    best = [float("inf")] * len(texts)
    for _ in range(7):
        for i, text in enumerate(texts):
            start = time.perf_counter()
            inert(text)
            best[i] = min(best[i], time.perf_counter() - start)
    return best


@pytest.mark.parametrize("text", INERT_INPUTS.values(), ids=INERT_INPUTS.keys())
def test_making_text_inert_grows_linearly(text: str) -> None:
    # Four times the text takes about four times as long; quadratic work would take 16 times.
    # (Two doublings, not one: a ratio that wide stays clear of a busy machine's noise.)
    single, quadruple = _best_times(text, text * 4)
    assert quadruple / single < 8, (single, quadruple)


# HTML nested far deeper than a browser builds (512), each kind the parser checks the depth of.
DEEP_HTML = {
    "blocks": lambda n: "<div>" * n + "x" + "</div>" * n,
    "lists": lambda n: "<ul><li>" * n + "x",
    "blocks with end tags of nothing open": lambda n: "<div></b>" * n + "x",
    "blocks with '<' in an attribute": lambda n: '<div title="<">' * n + "x",
}


@pytest.mark.parametrize("make", DEEP_HTML.values(), ids=DEEP_HTML.keys())
def test_sanitizing_deep_html_grows_linearly(make: Callable[[int], str]) -> None:
    import time

    def best(text: str) -> float:
        runs = []
        for _ in range(5):
            start = time.perf_counter()
            sanitize(text)
            runs.append(time.perf_counter() - start)
        return min(runs)

    single, quadruple = best(make(4000)), best(make(16000))
    assert quadruple / single < 8, (single, quadruple)
    assert "<" not in sanitize(make(4000)) and "x" in sanitize(make(4000))


def test_a_card_nested_too_deep_is_shown_as_text_and_the_rest_kept(tmp_path: Path) -> None:
    deep = "<div>" * 600 + "<b>안쪽</b>" + "</div>" * 600
    text = memo("**Deep**\n" + deep, "**Fine**\n<b>굵게</b>")
    warnings, anki = build(tmp_path, {"n.md": text})
    assert warnings == [
        "n.md:8: HTML nested deeper than 512 elements: shown as text",
    ]
    backs = {n.fields["Front"]: n.fields["Back"] for n in anki.notes()}
    assert backs == {"Deep": "안쪽", "Fine": "<p><b>굵게</b></p>"}


FRONTS = [
    "**A <img src=x onerror=alert(1)> B**",
    '**A <image src="https://e.example/p.png"> B**',
    "### A <svg onload=alert(1)> B",
    r"### A $\href{javascript:alert(1)}{x}$ B",
    "**A `<b onmouseover=alert(1)>` B**",
]


def test_fronts_and_embedded_notes_hold_nothing_active(tmp_path: Path) -> None:
    cards = [f"{front}\n가" for front in FRONTS] + ["**Embeds**\n가\n![[other]]"]
    other = '<image src="https://e.example/p.png">\n\n가\x1f나 $\\style{color:red}{x}$\n'
    warnings, anki = build(tmp_path, {"n.md": memo(*cards), "other.md": other})
    notes = anki.notes()
    assert len(notes) == len(FRONTS) + 1
    assert_inert(notes)
    assert [strip_html(n.fields["Front"]).replace("\u2060", "") for n in notes] == [
        "A [missing image: x] B",
        "A https://e.example/p.png B",
        "A  B",
        r"A \(\href{javascript:alert(1)}{x}\) B",
        "A <b onmouseover=alert(1)> B",
        "Embeds",
    ]
    # What came from the embedded note is warned about at the line that embeds it.
    assert [w.split(" (")[0].split(", which")[0] for w in warnings] == [
        "n.md:7: image not found: x",
        "n.md:16: the card holds \\href",
        "n.md:22: the card holds \\style",
        "n.md:22: the card holds U+001F",
    ]
