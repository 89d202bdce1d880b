"""A card's identity in Anki: its note's GUID (from the card's identity, never from its
back), and the digests that tell whether its content changed."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

import genanki

from memo2anki.model import Card


def card_guid(card: Card, kind: str = "memo2anki") -> str:
    """The note's GUID, from the card's identity and never from its back."""
    return str(genanki.guid_for(kind, *card.identity))


def content_digest(front_html: str, back_html: str, tags: Sequence[str]) -> str:
    """A short digest of a card's front, back and tags: any change changes it."""
    text = "\x1f".join((front_html, back_html, " ".join(tags)))
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:20]


def row_key(card: Card) -> str:
    """A short digest of all that the ledger's plan compares of a card with its row: its
    identity (note file name, subject, front, ordinal), note, line, date, tags and
    :func:`content_digest` (so ``card.digest`` must be worked out first)."""
    date = card.date.isoformat() if card.date else ""
    parts = (*map(str, card.identity), card.note, str(card.line), date)
    text = "\x1f".join((*parts, " ".join(card.tags), card.digest))
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:20]


def cloze_guid(guid: str) -> str:
    """A cloze note's GUID, from its card's (so the cloze note of a renamed card follows it)."""
    return str(genanki.guid_for("memo2anki cloze", guid))
