"""What ``--dry-run`` shows: each card a build would write, in the deck it would go to, as lines
for a person or as one JSON object for a program."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from memo2anki.cards.fields import deck_name
from memo2anki.cards.identity import card_guid
from memo2anki.changes.notes import cloze_ords, cloze_text
from memo2anki.model import Result, one_line, plural, printable
from memo2anki.notes.discover import garden_of


def card_lines(
    result: Result, deck: str, cloze: bool, decks: Sequence[str] | None = None
) -> Iterator[str]:
    """One line per card, ``deck<TAB>front<TAB>note:line``, with its images; with ``cloze``,
    a marked line after each card that also gets a cloze note. ``decks``: each card's deck
    as planned (else its subject's)."""
    for i, card in enumerate(result.cards):
        # Each column one clean line: a tab or escape in a name must not forge a column.
        in_deck = decks[i] if decks is not None else deck_name(deck, card.subject)
        columns = (in_deck, card.front, f"{card.note}:{card.line}")
        where = "\t".join(map(one_line, columns))
        images = f"  [{plural(len(card.media), 'image')}]" if card.media else ""
        yield f"{where}{images}"
        text = cloze_text(card.back_html) if cloze else None
        if text is not None:
            yield f"{where}  [cloze note, {plural(len(cloze_ords(text)), 'card')}]"


def dry_run_object(
    result: Result,
    deck: str,
    cloze: bool,
    guids: Sequence[str] | None = None,
    decks: Sequence[str] | None = None,
) -> dict[str, Any]:
    """The dry run as one JSON-ready object: ``cards`` (each with its deck, subject, front,
    back HTML, tags, GUID, note, line, date, images, and its cloze text with ``cloze``),
    ``media`` (each picture's name in the backs to its file, relative to ``vault``) and
    ``warnings`` (each ``path``, ``line``, ``message``; paths relative to ``vault``).
    ``guids``, ``decks``: each card's GUID and deck as planned (a renamed card keeps its old
    GUID; subjects that differ only in case share a deck). Images are
    named as the vault does (in a Digital Garden, below its pictures folder)."""
    garden = garden_of(result.vault)
    pictures = garden.pictures if garden is not None else result.vault
    return {
        "vault": printable(str(result.vault)),
        "cards": [
            {
                "deck": decks[i] if decks is not None else deck_name(deck, card.subject),
                "subject": card.subject,
                "front": card.front,
                "back": card.back_html,
                "tags": list(card.tags),
                "guid": guids[i] if guids is not None else card_guid(card),
                "note": card.note,
                "line": card.line,
                "date": card.date.isoformat() if card.date else None,
                "images": [
                    printable(_relative(m.path, pictures, result.vault)) for m in card.media
                ],
                "cloze": cloze_text(card.back_html) if cloze else None,
            }
            for i, card in enumerate(result.cards)
        ],
        # A back shows its pictures by their names in the package (m2a-....png), as Anki
        # will; each such name to its file, relative to the vault.
        "media": {
            m.name: printable(m.path.relative_to(result.vault).as_posix()) for m in result.media
        },
        "warnings": [
            {"path": d.path, "line": d.line, "message": printable(d.message)}
            for d in result.diagnostics
        ],
    }


def _relative(path: Path, *roots: Path) -> str:
    """``path`` relative to the first of ``roots`` that holds it."""
    for root in roots:
        if path.is_relative_to(root):
            return path.relative_to(root).as_posix()
    return path.as_posix()
