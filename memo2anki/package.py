"""Build the package: cards to genanki notes in subject decks, written atomically."""

from __future__ import annotations

import hashlib
import itertools
import json
import os
import re
import sqlite3
import tempfile
import time
import zipfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import genanki

from .model import Card, Media, Memo2AnkiError

# Frozen with the first release: changing these ids or the fields breaks every user's
# re-import (Anki then sees a different note type and duplicates the cards).
MODEL_ID = 1743760801
MODEL_NAME = "memo2anki"
FIELDS = ("Front", "Back", "Subject", "Source", "Date", "Link")
# The optional cloze note type (--cloze), frozen the same way.
CLOZE_MODEL_ID = 1743760802
CLOZE_MODEL_NAME = "memo2anki cloze"
CLOZE_FIELDS = ("Text", "Front", "Subject", "Source", "Date", "Link")

DEFAULT_DECK = "공부 메모장"


def _template(name: str) -> str:
    return resources.files("memo2anki").joinpath("templates", name).read_text(encoding="utf-8")


def card_model() -> genanki.Model:
    """The memo2anki note type (id and fields frozen; templates and CSS may change)."""
    return genanki.Model(
        MODEL_ID,
        MODEL_NAME,
        fields=[{"name": name} for name in FIELDS],
        templates=[
            {
                "name": "Memo",
                "qfmt": _template("front.html"),
                "afmt": _template("back.html"),
            }
        ],
        css=_template("card.css"),
    )


def cloze_model() -> genanki.Model:
    """The cloze note type: each ``==highlight==`` of a back becomes a deletion."""
    return genanki.Model(
        CLOZE_MODEL_ID,
        CLOZE_MODEL_NAME,
        fields=[{"name": name} for name in CLOZE_FIELDS],
        templates=[
            {
                "name": "Cloze",
                "qfmt": _template("cloze_front.html"),
                "afmt": _template("cloze_back.html"),
            }
        ],
        css=_template("card.css"),
        model_type=genanki.Model.CLOZE,
    )


_MARK = re.compile(r"<mark>(.*?)</mark>", re.DOTALL)


def cloze_text(back_html: str) -> str | None:
    """The back with each highlight as its own cloze (c1, c2, ...); None without highlights."""
    counter = itertools.count(1)

    def deletion(match: re.Match[str]) -> str:
        # "::" and "}}" would end the cloze early; as character references they look the same.
        inner = match.group(1).replace("::", ":&#58;").replace("}}", "}&#125;")
        return f"{{{{c{next(counter)}::{inner}}}}}"

    text, count = _MARK.subn(deletion, back_html)
    return text if count else None


def stable_id(text: str) -> int:
    """A positive 62-bit id from a name, the same on every run and machine."""
    return int.from_bytes(hashlib.sha256(text.encode("utf-8")).digest()[:8], "big") >> 2


def deck_name(deck: str, subject: str) -> str:
    """``Deck::Subject``, or the deck itself for cards without a subject."""
    subject = subject.replace("::", ":")
    return f"{deck}::{subject}" if subject else deck


def card_guid(card: Card, kind: str = "memo2anki") -> str:
    """The note's GUID, from the card's identity and never from its back."""
    return str(genanki.guid_for(kind, *card.identity))


class _Note(genanki.Note):  # type: ignore[misc]
    """A genanki note stamped with its source file's modification time, so Anki's
    "update if newer" picks up edited memos and leaves untouched ones alone."""

    def __init__(self, mtime: int, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.mtime = mtime

    def write_to_db(self, cursor: Any, timestamp: float, deck_id: int, id_gen: Any) -> None:
        super().write_to_db(cursor, self.mtime or timestamp, deck_id, id_gen)


@dataclass(frozen=True)
class PackageInfo:
    """What was written."""

    path: Path
    notes: int
    media: int


def obsidian_link(vault_name: str, relpath: str) -> str:
    """A link that opens the note in Obsidian."""
    from urllib.parse import quote

    file = relpath[:-3] if relpath.lower().endswith(".md") else relpath
    return f"obsidian://open?vault={quote(vault_name, safe='')}&file={quote(file, safe='')}"


def build_decks(
    cards: Sequence[Card], deck: str, vault_name: str, cloze: bool = False
) -> list[genanki.Deck]:
    """One deck per subject, cards in the order given (their study order); with ``cloze``,
    a cloze note beside each card whose back has highlights."""
    model = card_model()
    cloze_type = cloze_model() if cloze else None
    decks: dict[str, genanki.Deck] = {}
    for position, card in enumerate(cards):
        name = deck_name(deck, card.subject)
        if name not in decks:
            decks[name] = genanki.Deck(stable_id(name), name)
        about = [
            card.subject,
            card.note,
            card.date.isoformat() if card.date else "",
            obsidian_link(vault_name, card.note),
        ]
        notes = [(model, [card.front_html, card.back_html, *about], card_guid(card))]
        text = cloze_text(card.back_html) if cloze_type else None
        if cloze_type and text:
            notes.append((cloze_type, [text, card.front_html, *about], card_guid(card, "cloze")))
        for note_type, fields, guid in notes:
            decks[name].add_note(
                _Note(
                    mtime=card.mtime,
                    model=note_type,
                    fields=fields,
                    tags=list(card.tags),
                    guid=guid,
                    due=position,
                )
            )
    return list(decks.values())


def write_package(
    cards: Sequence[Card],
    media: Iterable[Media],
    out: Path,
    deck: str,
    vault_name: str,
    cloze: bool = False,
) -> PackageInfo:
    """Write the .apkg atomically: to a temporary file beside ``out``, then renamed over it,
    so a failed run leaves any previous file intact and never half a deck."""
    decks = build_decks(cards, deck, vault_name, cloze)
    media = list({m.name: m for m in media}.values())
    folder = out.parent
    if out.is_dir():
        raise Memo2AnkiError(f"{out}: is a folder; give a file name such as {out / 'deck.apkg'}")
    if not folder.is_dir():
        raise Memo2AnkiError(f"{out}: folder {folder} does not exist")
    try:
        fd, tmp_name = tempfile.mkstemp(prefix=f".{out.name}.", suffix=".tmp", dir=folder)
    except OSError as err:
        raise Memo2AnkiError(f"{out}: cannot write: {err.strerror or err}") from err
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        with tempfile.TemporaryDirectory(prefix="memo2anki-") as work:
            db_path = Path(work, "collection.anki2")
            _write_collection(decks, db_path)
            _write_zip(tmp, db_path, media)
        os.chmod(tmp, 0o644)
        os.replace(tmp, out)
    except OSError as err:
        tmp.unlink(missing_ok=True)
        raise Memo2AnkiError(f"{out}: cannot write: {err.strerror or err}") from err
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return PackageInfo(path=out, notes=sum(len(d.notes) for d in decks), media=len(media))


def _write_collection(decks: list[genanki.Deck], db_path: Path) -> None:
    timestamp = time.time()
    conn = sqlite3.connect(db_path)
    try:
        cursor = conn.cursor()
        package = genanki.Package(decks)
        package.write_to_db(cursor, timestamp, itertools.count(int(timestamp * 1000)))
        conn.commit()
    finally:
        conn.close()


def _write_zip(path: Path, db_path: Path, media: Sequence[Media]) -> None:
    # Media are streamed from their source files under their package names, so nothing is
    # copied or held in memory, and the names in the package are always plain names.
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        zf.write(db_path, "collection.anki2")
        zf.writestr("media", json.dumps({str(i): m.name for i, m in enumerate(media)}))
        for i, item in enumerate(media):
            zf.write(item.path, str(i), compress_type=zipfile.ZIP_STORED)
