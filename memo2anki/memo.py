"""Find the memo cards of a note, from markdown-it's token stream.

A memo section opens at a heading whose text is a section title and runs to the next heading
of the same or a higher level. Inside it, headings one level down name the subject, deeper
headings are card fronts, and so is a top-level paragraph whose first line is a single bold
span. A card's back is the source between its heading and the next card start, thematic
break or section end; it is kept as markdown and rendered later.
"""

from __future__ import annotations

import unicodedata
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import cast

from markdown_it import MarkdownIt
from markdown_it.renderer import RendererHTML
from markdown_it.token import Token

from .model import Card, Diagnostic, Note
from .tags import normalize_tag

DEFAULT_SECTIONS = ("공부 메모장",)


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


@dataclass(frozen=True)
class Found:
    """The cards of one note, the warnings met, and how many memo sections it has."""

    cards: list[Card]
    diagnostics: list[Diagnostic]
    sections: int


@dataclass
class _Open:
    """A card whose back is still being collected."""

    front: str
    front_html: str
    line: int  # 0-based line of the heading
    back_start: int  # 0-based first line of the back


def bold_heading(inline: Token) -> list[Token] | None:
    """The bold span's children if the paragraph's first line is one bold span only."""
    # markdown-it leaves empty text tokens around delimiters; they are not content.
    children = [t for t in inline.children or [] if t.type != "text" or t.content]
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
    return inner if plain_text(inner) else None


class CardFinder:
    """Finds cards in notes; build once and reuse (the markdown parser is costly to make)."""

    def __init__(self, md: MarkdownIt, sections: Sequence[str] = DEFAULT_SECTIONS) -> None:
        self.md = md
        self.renderer = cast(RendererHTML, md.renderer)
        self.sections = {_key(s) for s in sections}

    def find(self, note: Note) -> Found:
        """The note's cards in note order, and warnings (empty backs)."""
        lines = note.text.split("\n")
        tokens = self.md.parse(note.text, {})
        cards: list[Card] = []
        warnings: list[Diagnostic] = []
        section_level: int | None = None
        sections = 0
        subject = ""
        current: _Open | None = None

        def close(end: int) -> None:
            nonlocal current
            if current is None:
                return
            back = "\n".join(lines[current.back_start : end]).rstrip()
            if back.strip():
                cards.append(self._card(note, subject, current, back))
            else:
                warnings.append(empty_back(note.relpath, current.line + 1, current.front))
            current = None

        for i, tok in enumerate(tokens):
            if tok.level != 0 or tok.map is None:
                continue
            start, end = tok.map
            if tok.type == "heading_open":
                level = int(tok.tag[1:])
                inline = tokens[i + 1]
                title = plain_text(inline.children)
                if section_level is None or level <= section_level:
                    close(start)
                    section_level = level if _key(title) in self.sections else None
                    sections += section_level is not None
                    subject = ""
                elif level == section_level + 1:
                    close(start)
                    subject = title
                else:
                    close(start)
                    current = _Open(title, self._inline_html(inline), start, end)
            elif section_level is None:
                continue
            elif tok.type == "hr":
                close(start)
            elif tok.type == "paragraph_open":
                inner = bold_heading(tokens[i + 1])
                if inner is not None:
                    close(start)
                    front = plain_text(inner)
                    html = self.renderer.renderInline(inner, self.md.options, {})
                    current = _Open(front, html, start, start + 1)
        close(len(lines))
        return Found(_number_equal_fronts(cards), warnings, sections)

    def _inline_html(self, inline: Token) -> str:
        return self.renderer.renderInline(inline.children or [], self.md.options, {})

    def _card(self, note: Note, subject: str, open_: _Open, back: str) -> Card:
        subject_tag = normalize_tag(subject)
        tags = (subject_tag, *note.tags) if subject_tag else note.tags
        return Card(
            note=note.relpath,
            subject=subject,
            front=open_.front,
            front_html=open_.front_html,
            back_markdown=back,
            line=open_.line + 1,
            back_line=open_.back_start + 1,
            date=note.date,
            tags=tuple(dict.fromkeys(tags)),
            mtime=note.mtime,
        )


def empty_back(relpath: str, line: int, front: str) -> Diagnostic:
    """The warning for a heading that has nothing under it."""
    return Diagnostic(relpath, line, f"'{front}' has nothing under it; no card made")


def _number_equal_fronts(cards: list[Card]) -> list[Card]:
    """Give repeated fronts of one subject their order, so each keeps its own identity."""
    seen: Counter[tuple[str, str]] = Counter()
    numbered = []
    for card in cards:
        key = (card.subject, card.front)
        numbered.append(replace(card, ordinal=seen[key]) if seen[key] else card)
        seen[key] += 1
    return numbered
