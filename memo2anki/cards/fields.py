"""Every field, deck name and tag memo2anki writes, built in one place.

A field is one of two kinds, said where it is built below:

- *sanitized HTML*: a card's Front and Back (and the cloze note's Text) are made by the
  renderer from the note's markdown; text is escaped there and any raw HTML from the note
  goes through :func:`memo2anki.cards.checks.sanitize.sanitize`;
- *escaped text*: the Subject, Source (the note's path) and Date are plain text, shown as
  written: ``&``, ``<``, ``>`` and quotes become character references, so no markup in a
  heading or a file name can reach a card as HTML. The Link is a URL made of
  percent-encoded parts, which holds none of them.

Every field is then made *inert* (:mod:`memo2anki.cards.checks.inert`: no MathJax link, style or
loading command, no Anki ``[latex]`` or ``[sound:]``), and every field, deck name and tag loses the
characters Anki's format reserves (:data:`RESERVED`). The front and back are made so once,
when the card is made (:func:`memo2anki.cards.checks.guard.safe_card`, which also warns), and are
cached so; the other fields here, as the package is written. Deck names and tags are plain text
(Anki shows them as text).
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable
from urllib.parse import quote

from memo2anki.cards.checks.inert import inert
from memo2anki.model import Card

# What Anki's format cannot hold: U+001F separates a note's fields (one in a field gives the
# note a field too many, and Anki refuses the whole package); NUL and the other C0 controls
# but tab and line ends, and DEL, are not text (SQLite, HTML and Anki's tag and deck rules
# treat them each their own way); a lone surrogate cannot be written as UTF-8 at all.
RESERVED = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff]")
_SURROGATE = re.compile("[\ud800-\udfff]")
# What escaping, inert() or scrub() could change in plain text.
_PLAIN = re.compile("[&<>\"'\\\\\\[" + RESERVED.pattern[1:])
_SPACES = re.compile(r"\s+")
_URL_TEXT = re.compile(r"[A-Za-z0-9:/?=&%._~-]*")
# Not in a tag: a tag is text to Anki, but a note type that shows {{Tags}} puts it in HTML.
_TAG_MARKUP = re.compile(r'[<>"]')
# Where Anki nests a deck or a tag: at ``::``; a run of more colons is read as one here, so no
# level is left empty (Anki names an empty one ``blank``: ``a::::b`` is ``a::blank::b``).
_LEVELS = re.compile(r":{2,}")
_LINE_ENDS = re.compile("[\t\n\r]")


def reserved_names(text: str) -> list[str]:
    """The reserved characters in ``text`` as ``U+001F``, each once, in order."""
    return list(dict.fromkeys(f"U+{ord(c):04X}" for c in RESERVED.findall(text)))


def scrub(text: str) -> str:
    """``text`` without reserved characters: a lone surrogate becomes U+FFFD (as a decoder
    shows a bad byte), every other one is removed."""
    if RESERVED.search(text) is None:  # nearly always
        return text
    return RESERVED.sub("", _SURROGATE.sub("\ufffd", text))


def text_field(text: str) -> str:
    """A field of escaped text (Subject, Source, Date), inert and scrubbed."""
    if _PLAIN.search(text) is None:  # nearly always: nothing to escape, neutralise or remove
        return text
    return scrub(inert(html.escape(text, quote=True))[0])


def link_field(url: str) -> str:
    """The Link field, a URL: ``obsidian://open?vault=V&file=F`` with V and F percent-encoded
    (:func:`memo2anki.changes.notes.obsidian_link`), so it holds no ``<``, ``>``, quote or space
    and stands in its ``href`` as it is; any other character is percent-encoded here too."""
    return url if _URL_TEXT.fullmatch(url) else quote(scrub(url), safe=":/?=&%._~-")


def deck_name(deck: str, subject: str) -> str:
    """``Deck::Subject``, or the deck itself for cards without a subject; plain text.
    A ``::`` (or more colons) in a subject would nest a deck more: it becomes ``:``."""
    deck = nested(_deck_text(deck))
    subject = _LEVELS.sub(":", _deck_text(subject)).strip()
    return f"{deck}::{subject}" if subject else deck


def _deck_text(name: str) -> str:
    """A deck name's text: no reserved character, nor a tab or line end (which Anki drops
    from a deck name, so the deck memo2anki names would not be the one Anki has)."""
    return _LINE_ENDS.sub("", scrub(name))


def nested(name: str) -> str:
    """A deck name or tag with each ``::`` level trimmed and none empty."""
    return "::".join(part for part in map(str.strip, _LEVELS.split(name)) if part)


def tags(labels: Iterable[str]) -> tuple[str, ...]:
    """Anki tags, plain text: no reserved characters, no space (Anki's separator) and no
    ``<``, ``>`` or ``"``."""
    cleaned = (_SPACES.sub("_", _TAG_MARKUP.sub("", scrub(label))).strip("_") for label in labels)
    return tuple(dict.fromkeys(tag for tag in map(nested, cleaned) if tag))


def stored_html(text: str) -> str:
    """A Front or Back kept outside memo2anki since it was made (the ledger's last fields, a
    file anyone can edit): sanitized as raw HTML from a note is, made inert and scrubbed, as
    a card's are when it is made (scrubbed first too: the sanitizer cannot read a lone
    surrogate)."""
    from memo2anki.cards.checks.sanitize import sanitize  # (nh3: only a gone card needs it)

    return scrub(inert(sanitize(scrub(text)))[0])


def stored_deck(name: str, fallback: str) -> str:
    """A deck name kept outside memo2anki (the ledger's): plain text, without reserved
    characters, each ``::`` part trimmed and none empty; ``fallback`` when nothing is left."""
    return nested(_deck_text(name)) or fallback


def about_fields(subject: str, note: str, date: str, link: str) -> tuple[str, str, str, str]:
    """Subject, Source, Date (escaped text) and Link, the same for a note's cards."""
    return text_field(subject), text_field(note), text_field(date), link_field(link)


def card_fields(card: Card, about: tuple[str, ...]) -> tuple[str, ...]:
    """The memo2anki note's fields: Front and Back (sanitized HTML, made inert and scrubbed
    when the card was made), then ``about``."""
    return (card.front_html, card.back_html, *about)


def cloze_fields(text: str, card: Card, about: tuple[str, ...]) -> tuple[str, ...]:
    """The cloze note's fields: Text (the back with its deletions, see
    :func:`memo2anki.changes.notes.cloze_text`), Front, then ``about``."""
    return (text, card.front_html, *about)
