"""What ``memo2anki check`` reports beyond a build's warnings: memo syntax that Anki cannot
show the way Obsidian does, and the same front twice in one subject.

The cards are still made; these are the places where a card will look different from the
note: plugin blocks that Obsidian turns into a result but a card shows as source text, and
raw HTML that the sanitizer takes out of a shared deck.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from memo2anki.cards.checks.sanitize import removed_tags
from memo2anki.model import Card, Diagnostic

if TYPE_CHECKING:
    from markdown_it.token import Token

# Fenced blocks that an Obsidian plugin (or Obsidian itself) replaces with their output.
PLUGIN_BLOCKS = {
    "dataview": "Dataview query",
    "dataviewjs": "DataviewJS script",
    "tasks": "Tasks query",
    "query": "search query",
    "mermaid": "Mermaid diagram",
}
# Dataview's inline queries: `= this.file.name`, `$= dv.current().file.name`.
_INLINE_QUERY = ("= ", "$= ")
# The only token types that can hold such syntax (a card has thousands of others).
_CHECKED = frozenset({"fence", "code_inline", "html_block", "html_inline"})


def unsupported_syntax(tokens: Sequence[Token], relpath: str) -> list[Diagnostic]:
    """One problem per place in a card's back that Anki shows unlike Obsidian, from the back's
    tokens as rendered (their maps count the note's lines): found while the card is made, so
    ``check`` parses nothing again, and a card from the cache keeps its problems."""
    problems: list[Diagnostic] = []
    line = 1
    for tok in tokens:
        if tok.map is not None:
            line = tok.map[0] + 1
        # Inline tokens stand on their paragraph's line.
        for each in (tok, *tok.children) if tok.children else (tok,):
            if each.type in _CHECKED and (message := _problem(each)) is not None:
                problems.append(Diagnostic(relpath, line, message))
    return list(dict.fromkeys(problems))  # `<iframe>` and `</iframe>` are one problem


def duplicate_fronts(cards: Sequence[Card]) -> list[Diagnostic]:
    """A problem for each card whose subject and front an earlier card already has: in Anki
    the two are hard to tell apart, and usually one memo was meant to extend the other."""
    first: dict[tuple[str, str], str] = {}
    problems = []
    for card in cards:
        where = first.setdefault((card.subject, card.front), f"{card.note}:{card.line}")
        if where != f"{card.note}:{card.line}":
            problems.append(
                Diagnostic(card.note, card.line, f"'{card.front}' is also a card at {where}")
            )
    return problems


def _problem(tok: Token) -> str | None:
    if tok.type == "fence":
        lang = tok.info.strip().split(maxsplit=1)[0].lower() if tok.info.strip() else ""
        if lang in PLUGIN_BLOCKS:
            return f"{PLUGIN_BLOCKS[lang]} (```{lang}) shows as its source text, not its result"
    elif tok.type == "code_inline" and tok.content.startswith(_INLINE_QUERY):
        return f"inline Dataview query `{tok.content.strip()}` shows as its source text"
    elif tok.type in {"html_block", "html_inline"}:
        removed = removed_tags(tok.content)
        if removed:
            tags = ", ".join(f"<{name}>" for name in removed)
            return f"HTML {tags} is taken out of the card (a shared deck runs and loads nothing)"
    return None
