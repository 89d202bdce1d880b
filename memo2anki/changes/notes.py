"""What Anki is given: memo2anki's note types (ids, names and fields, frozen), a note as
every writer writes it (:class:`TargetNote`), and what a note is made of besides the card:
the cloze text of a back, the link back to the note, the pictures a back shows."""

from __future__ import annotations

import itertools
import re
from functools import lru_cache
from typing import NamedTuple
from urllib.parse import quote, unquote

# Frozen with the first release: changing these ids or the fields breaks every user's
# re-import (Anki then sees a different note type and duplicates the cards).
MODEL_ID = 1743760801


MODEL_NAME = "memo2anki"


FIELDS = ("Front", "Back", "Subject", "Source", "Date", "Link")


# The optional cloze note type (--cloze), frozen the same way.
CLOZE_MODEL_ID = 1743760802


CLOZE_MODEL_NAME = "memo2anki cloze"


CLOZE_FIELDS = ("Text", "Front", "Subject", "Source", "Date", "Link")


# Each note type's id and fields, by name: what a collection must hold for memo2anki's notes.
NOTE_TYPES = {MODEL_NAME: (MODEL_ID, FIELDS), CLOZE_MODEL_NAME: (CLOZE_MODEL_ID, CLOZE_FIELDS)}


class HeldNoteType(NamedTuple):
    """One of memo2anki's note types as a collection holds it: the person may have renamed it,
    changed its stylesheet and templates, added or renamed card types (its id and fields are
    memo2anki's, checked before). A sync's package carries it so, and Anki's import then adds
    the notes to it and leaves it as it is."""

    model_id: int
    name: str
    templates: tuple[tuple[str, str, str], ...]  # (name, front, back), in Anki's order
    css: str


# An image of a card's HTML (as the renderer writes it), its file's name the group.
IMG = re.compile(r"<img\b[^>]*?\bsrc=\"([^\"]*)\"[^>]*>", re.IGNORECASE)


_MARK = re.compile(r"<mark>(.*?)</mark>", re.DOTALL)


# Anki reads cloze markers in the field's text: a `{{c2::...}}` the person wrote (in code too)
# would become a deletion. As character references the braces look the same and mean nothing.
_BRACES = re.compile(r"\{(?=\{)")


def cloze_text(back_html: str) -> str | None:
    """The back with each highlight as its own cloze (c1, c2, ...); None without highlights.
    Any ``{{`` of the back's own shows as written."""
    counter = itertools.count(1)

    def deletion(match: re.Match[str]) -> str:
        # "::" and "}" would end the cloze early; as character references they look the same.
        inner = match.group(1).replace("::", ":&#58;").replace("}", "&#125;")
        return f"{{{{c{next(counter)}::{inner}}}}}"

    if "<mark>" not in back_html:
        return None
    text, count = _MARK.subn(deletion, _BRACES.sub("&#123;", back_html))
    return text if count else None


def card_link(site_url: str, vault_name: str, relpath: str, permalink: str) -> str:
    """Where a card's Link goes: its note's published page when it has one and the site's
    address is known; else the note in Obsidian, when the vault's name is known; else
    nowhere ("")."""
    if site_url and permalink:
        return page_url(site_url, permalink)
    return obsidian_link(vault_name, relpath) if vault_name else ""


def page_url(site_url: str, permalink: str) -> str:
    """A published page's address: the site's (``https://`` added when it names none, as the
    Digital Garden template does) and the permalink, empty path segments dropped (the site
    serves ``/02-notes//`` at ``/02-notes/``), non-ASCII percent-encoded."""
    base = site_url.strip().rstrip("/")
    if not base.lower().startswith(("http://", "https://")):
        base = f"https://{base}"
    parts = [part for part in unquote(permalink).split("/") if part]
    path = quote("/".join(parts), safe="/")
    return f"{base}/{path}/" if path else f"{base}/"


@lru_cache(maxsize=4096)
def obsidian_link(vault_name: str, relpath: str) -> str:
    """A link that opens the note in Obsidian."""
    file = relpath[:-3] if relpath.lower().endswith(".md") else relpath
    return f"obsidian://open?vault={quote(vault_name, safe='')}&file={quote(file, safe='')}"


class TargetNote(NamedTuple):
    """One Anki note as the target must hold it (a named tuple: a big deck makes many)."""

    guid: str
    note_type: str  # MODEL_NAME or CLOZE_MODEL_NAME
    deck: str
    fields: tuple[str, ...]
    tags: tuple[str, ...]
    mtime: int  # when its content last changed: Anki applies it only when newer
    due: int  # position in study order: new cards come up in this order


_CLOZE_NUMBER = re.compile(r"{{c(\d+)::.+?}}", re.DOTALL)


def cloze_ords(text: str) -> list[int]:
    """The cards Anki makes of a cloze note's text: one per cloze number (0-based), at least
    one."""
    # No match can end past the last `}}`: cut there, or each unclosed `{{c1::` in a back is
    # searched to its end, time growing with the square of their number.
    text = text[: text.rfind("}}") + 2]
    numbers = {int(n) - 1 for n in _CLOZE_NUMBER.findall(text) if int(n) > 0}
    return sorted(numbers) or [0]
