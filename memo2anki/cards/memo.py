"""Find the memo cards of a note, from markdown-it's token stream.

A memo section opens at a heading whose text is a section title and runs to the next heading
of the same or a higher level. Inside it, headings one level down name the subject, deeper
headings are card fronts, and so is any line of a top-level paragraph that is a single bold
span (a single newline is a line break in Obsidian, so such a line shows as a heading). A
card's back is the source between its heading and the next card start, thematic break or
section end; it is kept as markdown and rendered later.
"""

from __future__ import annotations

import html
import re
import unicodedata
from collections import Counter
from collections.abc import Sequence
from copy import copy
from dataclasses import dataclass, field, replace

from markdown_it import MarkdownIt
from markdown_it.token import Token

from memo2anki.cards.markdown.footnotes import definitions_by_label
from memo2anki.cards.markdown.parser import ATX_HEADING, MAX_NESTING, inline_children, parse_blocks
from memo2anki.cards.obsidian.comments import after_comments, comments, shown_lines
from memo2anki.model import DEFAULT_SECTIONS, Card, Diagnostic, Note
from memo2anki.notes.tags import normalize_tag

# Lines that may open a block running past the next heading, or define what a card refers to.
_MAY_REACH_ON = re.compile(r"^\s*(```|~~~|\$\$|<|\[)")
# Characters that show nothing (zero-width spaces and joiners, direction marks, the word
# joiner, a stray BOM): around a bold line they leave it the bold line Obsidian shows.
_INVISIBLE = "\u200b\u200c\u200d\u200e\u200f\u2060\ufeff"
# White space and invisible characters at a text's edges (see _bare).
_EDGE = re.compile(f"[\\s{_INVISIBLE}]*")
# A line that is one bold span as written: the markers and what they hold.
_BOLD_MARKS = re.compile(r"(\*\*|__)(.*)\1", re.DOTALL)
# A paragraph line that may be a bold heading: most paragraphs have none.
_MAY_BE_BOLD_LINE = re.compile(f"(?:^|\\n)[ \\t{_INVISIBLE}]*(?:\\*\\*|__)")


def plain_text(children: Sequence[Token] | None) -> str:
    """The text a reader sees in inline tokens, without markup."""
    parts: list[str] = []
    for tok in children or ():
        if tok.type in {"softbreak", "hardbreak"}:
            parts.append(" ")
        elif tok.type == "image":
            parts.append(plain_text(tok.children))
        elif tok.type in {"html_inline", "obsidian_comment"}:
            continue
        elif "label" in tok.meta:
            parts.append(str(tok.meta["label"]))
        else:
            parts.append(tok.content)
    return " ".join("".join(parts).split())


def _key(title: str) -> str:
    return unicodedata.normalize("NFC", " ".join(title.split())).casefold()


@dataclass
class Found:
    """The cards of one note, the warnings met, how many memo sections it has, and each card's
    back as block tokens and front as inline tokens (aligned with ``cards``), ready for the
    renderer."""

    cards: list[Card]
    diagnostics: list[Diagnostic]
    sections: int
    tokens: list[list[Token]]
    fronts: list[list[Token]] = field(default_factory=list)
    # The note's footnote definitions by label.
    footnotes: dict[str, list[Token]] = field(default_factory=dict)


@dataclass
class _Open:
    """A card whose back is still being collected."""

    front: str
    front_tokens: list[Token]  # inline; rendered with the back, as they may embed images
    line: int  # 0-based line of the heading
    back_start: int  # 0-based first line of the back
    first_token: int  # index of the back's first block token
    lead: list[Token] = field(default_factory=list)  # the heading paragraph's other lines


def _shows_no_text(line: str) -> bool:
    """Whether a line is a bold span holding only comments (``**%% later %%**``, which
    markdown-it reads as the text ``****``): a heading that shows no text, as ``### %%...%%``
    is, which makes no card and a warning."""
    match = _BOLD_MARKS.fullmatch(line)
    if match is None or "%%" not in match.group(2):
        return False
    inside, shown, done = match.group(2), [], 0
    for opening, closing in comments(inside):
        shown.append(inside[done:opening])
        done = closing + len("%%")
    return not "".join([*shown, inside[done:]]).strip()


def bold_heading(line: list[Token]) -> list[Token] | None:
    """The bold span's children if a paragraph's line (its inline tokens) is one bold span
    and nothing else."""
    # markdown-it leaves empty text tokens around delimiters, and a comment spanning lines
    # a token of its own; they are not content.
    children = [t for t in line if (t.type != "text" or t.content) and t.type != "obsidian_comment"]
    if not children or children[0].type != "strong_open":
        return None
    depth, close = 0, 0
    for i, tok in enumerate(children):
        if tok.type == "strong_open":
            depth += 1
        elif tok.type == "strong_close":
            depth -= 1
            if depth == 0:
                close = i
                break
        elif tok.type in {"softbreak", "hardbreak"}:
            return None  # the bold span does not close on the first line
    if not close:
        return None
    for tok in children[close + 1 :]:
        if tok.type in {"softbreak", "hardbreak"}:
            break
        if tok.type != "text" or tok.content.strip():
            return None
    inner = children[1:close]
    return inner if _bare(plain_text(inner)) else None


def _bare(text: str) -> str:
    """``text`` without white space and invisible characters at its edges. Each edge is
    matched from its own end (the one at the end, in the text reversed): a pattern anchored
    at the end (``[...]+$``) is tried at every place of a long run of such characters that
    does not reach the end, which takes time growing with the square of the run (a comment
    spanning many lines leaves one)."""
    start = _EDGE.match(text).end()  # type: ignore[union-attr]
    end = len(text) - _EDGE.match(text[::-1]).end()  # type: ignore[union-attr]
    return text[start:end] if start < end else ""


class CardFinder:
    """Finds cards in notes; build once and reuse (the markdown parser is costly to make)."""

    def __init__(self, md: MarkdownIt, sections: Sequence[str] = DEFAULT_SECTIONS) -> None:
        self.md = md
        self.sections = {_key(s) for s in sections}

    def find(self, note: Note) -> Found:
        """The note's cards in note order, with each back's block tokens, and warnings."""
        lines = note.text.split("\n")
        tokens = parse_blocks(self.md, self._from_first_section(lines), {})
        found = Found([], [], 0, [], footnotes=definitions_by_label(tokens))
        if (deepest := _too_deep(tokens)) is not None:
            found.diagnostics.append(too_deep(note.relpath, deepest))
        section_level: int | None = None
        subject = ""
        current: _Open | None = None

        def close(end: int, end_index: int, tail: Sequence[Token] = ()) -> None:
            # tail: the lines of a paragraph above a bold line in it, the back's last part
            nonlocal current
            if current is None:
                return
            back = "\n".join(lines[current.back_start : end]).rstrip()
            if back.strip():
                found.cards.append(self._card(note, subject, current, back))
                found.tokens.append(
                    [*current.lead, *tokens[current.first_token : end_index], *tail]
                )
                found.fronts.append(current.front_tokens)
            elif not current.front and all(t.type == "text" for t in current.front_tokens):
                # `### %%...%%`, `**%%...%%**`: not `''` has nothing under it
                found.diagnostics.append(empty_front(note.relpath, current.line + 1))
            else:
                found.diagnostics.append(empty_back(note.relpath, current.line + 1, current.front))
            current = None

        for i, tok in enumerate(tokens):
            if tok.level != 0 or tok.map is None:
                continue
            start, end = tok.map
            if tok.type == "heading_open":
                level = int(tok.tag[1:])
                children = inline_children(self.md, tokens[i + 1].content)
                title = plain_text(children)
                close(start, i)
                if section_level is None or level <= section_level:
                    section_level = level if _key(title) in self.sections else None
                    found.sections += section_level is not None
                    subject = ""
                elif level == section_level + 1:
                    subject = title
                else:
                    current = _Open(title, children, start, end, i + 3)
            elif tok.type == "fence" and _unclosed(tok, lines):
                # It swallows the rest of the note: say so if cards or a section vanish in it.
                swallowed = lines[start + 1 : end]
                if section_level is not None or any(map(self._opens_section, swallowed)):
                    found.diagnostics.append(unclosed_fence(note.relpath, start + 1, tok.markup))
            elif section_level is None:
                continue
            elif tok.type == "hr":
                close(start, i)
            elif tok.type == "paragraph_open":
                content = tokens[i + 1].content
                if not _MAY_BE_BOLD_LINE.search(content) and "%%" not in content:
                    continue  # cheap test first: most paragraphs are plain text
                # Every line that is one bold span starts a card; the lines between go
                # to the card above them.
                para = tokens[i : i + 3]
                para_lines = content.split("\n")
                given = 0  # the paragraph's lines before this one belong to a card already
                # A line as shown may be several, joined by a comment that spans them.
                for k, last in shown_lines(content):
                    shown = "\n".join(para_lines[k : last + 1])
                    rest = after_comments(shown)  # the comments a line starts with show nothing
                    bare = _bare(rest)
                    if not bare.startswith(("**", "__")):
                        continue
                    inner = bold_heading(inline_children(self.md, bare))
                    if inner is None:
                        if not _shows_no_text(bare):
                            continue
                        inner = []  # a heading all the same, which makes no card (warned)
                    above = "\n".join(para_lines[given:k])
                    close(start + k, i, _paragraph(para, above, start + given, start + k))
                    at = start + k + shown.count("\n", 0, len(shown) - len(rest))
                    current = _Open(plain_text(inner), inner, at, start + last + 1, i + 3)
                    given = last + 1
                if current is not None and given and given < len(para_lines):
                    below = "\n".join(para_lines[given:])
                    current.lead = _paragraph(para, below, start + given, end)
        close(len(lines), len(tokens))
        found.cards[:] = _number_equal_fronts(found.cards)
        return found

    def _from_first_section(self, lines: list[str]) -> str:
        """The note's text, with the lines before its first memo-section heading blanked when
        nothing there can reach into the section (a fence, comment, math or HTML block, a
        link or footnote definition): they hold no card, and a daily note's first half is
        mostly such lines. Blank lines keep every line number; anything unusual is parsed."""
        for i, line in enumerate(lines):
            if line.startswith("#") and self._opens_section(line):
                return "\n" * i + "\n".join(lines[i:])
            if _MAY_REACH_ON.match(line) or "%%" in line:
                break
        return "\n".join(lines)

    def _opens_section(self, line: str) -> bool:
        """Whether a line is an ATX heading titled as a memo section."""
        heading = ATX_HEADING.match(line)
        return heading is not None and _key(heading.group(1)) in self.sections

    def _card(self, note: Note, subject: str, open_: _Open, back: str) -> Card:
        subject_tag = normalize_tag(subject)
        tags = (subject_tag, *note.tags) if subject_tag else note.tags
        return Card(
            note=note.relpath,
            subject=subject,
            front=open_.front,
            front_html=html.escape(open_.front),  # plain; the renderer formats it
            back_markdown=back,
            line=open_.line + 1,
            back_line=open_.back_start + 1,
            date=note.date,
            tags=tuple(dict.fromkeys(tags)),
            mtime=note.mtime,
            permalink=note.permalink,
        )


def empty_back(relpath: str, line: int, front: str) -> Diagnostic:
    """The warning for a heading that has nothing under it."""
    return Diagnostic(relpath, line, f"'{front}' has nothing under it; no card made")


def unclosed_fence(relpath: str, line: int, markup: str) -> Diagnostic:
    """The warning for a code block that is never closed."""
    message = f"code block ({markup}) never closed: the rest of the note is code, no cards in it"
    return Diagnostic(relpath, line, message)


def too_deep(relpath: str, line: int) -> Diagnostic:
    """The warning for nesting past the parser's limit, where it stops reading."""
    message = "lists or quotes nested too deep: text after this line may not be read"
    return Diagnostic(relpath, line, message)


def _too_deep(tokens: list[Token]) -> int | None:
    """The 1-based line where nesting reaches the parser's limit (markdown-it then skips
    the rest of the list or quote, which for a list is the rest of the note), if it does."""
    limit = MAX_NESTING - 1
    deepest = next((t for t in tokens if t.level >= limit and t.map is not None), None)
    return deepest.map[0] + 1 if deepest is not None and deepest.map is not None else None


def _unclosed(fence: Token, lines: list[str]) -> bool:
    """Whether a fenced code block runs to the end of the note for want of a closing fence."""
    start, end = fence.map or (0, 0)
    last = lines[end - 1].strip() if end - 1 > start else ""
    return not (last.startswith(fence.markup) and not last.strip(fence.markup[0]))


def shows_nothing(relpath: str, line: int, front: str) -> Diagnostic:
    """The warning for a back whose markdown renders to nothing a card can show."""
    message = (
        f"'{front}' shows nothing under it (only comments, or HTML a card may not hold); "
        "no card made"
    )
    return Diagnostic(relpath, line, message)


def empty_front(relpath: str, line: int) -> Diagnostic:
    """The warning for a heading that shows nothing (only markup, such as a comment)."""
    return Diagnostic(relpath, line, "the heading shows no text; no card made")


def _paragraph(opening: list[Token], content: str, line: int, end: int) -> list[Token]:
    """Some lines of a paragraph (source lines ``line`` to ``end``), as a paragraph of their
    own; none if there are none."""
    if not content:
        return []
    para_open, inline, para_close = (copy(t) for t in opening)
    para_open.map = inline.map = [line, end]
    inline.content = content
    inline.children = None
    return [para_open, inline, para_close]


def _number_equal_fronts(cards: list[Card]) -> list[Card]:
    """Give repeated fronts of one subject their order, so each keeps its own identity."""
    seen: Counter[tuple[str, str]] = Counter()
    numbered = []
    for card in cards:
        key = (card.subject, card.front)
        numbered.append(replace(card, ordinal=seen[key]) if seen[key] else card)
        seen[key] += 1
    return numbered
