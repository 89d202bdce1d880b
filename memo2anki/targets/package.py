"""Build the package: cards to genanki notes in subject decks, written atomically."""

from __future__ import annotations

import hashlib
import itertools
import json
import os
import sqlite3
import tempfile
import time
import zipfile
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO

import genanki
from genanki.apkg_col import APKG_COL
from genanki.apkg_schema import APKG_SCHEMA

from memo2anki.cards.pictures.media import MAX_PICTURE_BYTES, open_media
from memo2anki.changes.notes import (
    CLOZE_FIELDS,
    CLOZE_MODEL_ID,
    CLOZE_MODEL_NAME,
    FIELDS,
    MODEL_ID,
    MODEL_NAME,
    HeldNoteType,
    TargetNote,
    cloze_ords,
)
from memo2anki.common.files import no_folder, replacing
from memo2anki.common.gcpause import cycle_collection_paused
from memo2anki.model import Media, Memo2AnkiError

if TYPE_CHECKING:
    from memo2anki.changes.plan import Plan


DEFAULT_DECK = "공부 메모장"


def _template(name: str) -> str:
    # Beside this file (not importlib.resources, whose import costs every run 10 ms).
    return Path(__file__).with_name("templates").joinpath(name).read_text(encoding="utf-8")


def _note_type(
    model_id: int, name: str, fields: Sequence[str], card: str, kind: int
) -> genanki.Model:
    """A note type from its frozen id and fields and its current templates and stylesheet
    (``templates/{card}_front.html``, ``{card}_back.html``, and the shared ``card.css``)."""
    return genanki.Model(
        model_id,
        name,
        fields=[{"name": field_name} for field_name in fields],
        templates=[
            {
                "name": card.capitalize(),
                "qfmt": _template(f"{card}_front.html"),
                "afmt": _template(f"{card}_back.html"),
            }
        ],
        css=_template("card.css"),
        model_type=kind,
    )


def card_model() -> genanki.Model:
    """The memo2anki note type (id and fields frozen; templates and CSS may change)."""
    return _note_type(MODEL_ID, MODEL_NAME, FIELDS, "memo", genanki.Model.FRONT_BACK)


def cloze_model() -> genanki.Model:
    """The cloze note type: each ``==highlight==`` of a back becomes a deletion."""
    return _note_type(CLOZE_MODEL_ID, CLOZE_MODEL_NAME, CLOZE_FIELDS, "cloze", genanki.Model.CLOZE)


def stable_id(text: str) -> int:
    """A positive 62-bit id from a name, the same on every run and machine."""
    return int.from_bytes(hashlib.sha256(text.encode("utf-8")).digest()[:8], "big") >> 2


@dataclass(frozen=True)
class PackageInfo:
    """What was written."""

    path: Path
    notes: int
    media: int
    # Pictures found while the cards were made but gone when the deck was written (moved or
    # deleted during the run): left out of the deck, which is written all the same.
    missing: tuple[Media, ...] = ()


def write_plan(plan: Plan, media: Iterable[Media], out: Path) -> PackageInfo:
    """Write the .apkg of a plan: every note the plan says the deck holds (its GUID, fields,
    tags, deck and stamp as planned). Written atomically: to a temporary file beside ``out``,
    then renamed over it, so a failed run leaves any previous file intact and never half a
    deck. (A deck with no ledger is the plan against an empty one: ``Ledger()``.)"""
    return write_notes(plan.notes(), media, out)


def write_notes(
    notes: Iterable[TargetNote],
    media: Iterable[Media],
    out: Path,
    held: Mapping[int, HeldNoteType] | None = None,
) -> PackageInfo:
    """Write these notes and media as an .apkg atomically (see :func:`write_plan`). A note type
    of ``held`` (by id: as the collection the package is for holds it) goes in as it is held,
    and as old as can be, so that importing the package adds its notes to it and changes
    nothing of it; any other, memo2anki's own, stamped now (an import takes its look)."""
    media = list({m.name: m for m in media}.values())
    folder = out.parent
    if out.is_dir():
        raise Memo2AnkiError(f"{out}: is a folder; give a file name such as {out / 'deck.apkg'}")
    if not folder.is_dir():
        raise Memo2AnkiError(f"{out}: {no_folder(folder)}")
    try:
        with replacing(out) as tmp, tempfile.TemporaryDirectory(prefix="memo2anki-") as work:
            db_path = Path(work, "collection.anki2")
            with cycle_collection_paused():
                written = _write_collection(notes, db_path, held or {})
            missing = _write_zip(tmp, db_path, media)
    # sqlite3.Error: the collection is built in the temporary folder, which can fill up too.
    except (OSError, sqlite3.Error) as err:
        reason = err.strerror if isinstance(err, OSError) and err.strerror else err
        raise Memo2AnkiError(f"{out}: cannot write: {reason}") from err
    return PackageInfo(out, written, len(media) - len(missing), tuple(missing))


def _write_collection(
    notes: Iterable[TargetNote], db_path: Path, held: Mapping[int, HeldNoteType]
) -> int:
    """genanki's collection schema, note types (those ``held`` as held) and decks, with the
    notes and cards inserted in bulk (genanki's per-note path costs more than all the rest of
    a cached re-export), one note at a time from ``notes``. Returns how many notes were
    written."""
    timestamp = time.time()
    ids = itertools.count(int(timestamp * 1000))
    deck_ids: dict[str, int] = {}
    types = {MODEL_NAME: card_model(), CLOZE_MODEL_NAME: cloze_model()}
    models: dict[int, genanki.Model] = {}
    card_rows: list[tuple[object, ...]] = []
    written = 0

    def note_rows() -> Iterator[tuple[object, ...]]:
        # Each note's joined fields live only until inserted.
        nonlocal written
        for note in notes:
            deck_id = deck_ids.get(note.deck) or deck_ids.setdefault(
                note.deck, stable_id(note.deck)
            )
            model = types[note.note_type]
            models.setdefault(model.model_id, model)
            note_id = next(ids)
            written += 1
            mod = note.mtime or int(timestamp)
            tags = f" {' '.join(note.tags)} "
            flds = "\x1f".join(note.fields)
            yield (note_id, note.guid, model.model_id, mod, -1, tags, flds, note.fields[0])
            for ord_ in _card_ords(note):
                card_rows.append((next(ids), note_id, deck_id, ord_, mod, note.due))

    conn = sqlite3.connect(db_path)
    try:
        # A scratch file, zipped once complete: no rollback journal, no syncing to disk; and
        # pages of 16 KiB, whose fewer splits write a deck's notes an eighth quicker (measured).
        conn.execute("PRAGMA page_size = 16384")
        conn.execute("PRAGMA journal_mode = OFF")
        conn.execute("PRAGMA synchronous = OFF")
        conn.executescript(_TABLES)
        conn.executescript(APKG_COL)
        conn.executemany("INSERT INTO notes VALUES (?, ?, ?, ?, ?, ?, ?, ?, 0, 0, '')", note_rows())
        # New cards, not yet scheduled, coming up in study order (their due position).
        conn.executemany(
            "INSERT INTO cards VALUES (?, ?, ?, ?, ?, -1, 0, 0, ?, 0, 0, 0, 0, 0, 0, 0, 0, '')",
            card_rows,
        )
        conn.executescript(_INDEXES)  # built once over all rows: faster than row by row
        (decks_json, models_json) = conn.execute("SELECT decks, models FROM col").fetchone()
        decks, all_models = json.loads(decks_json), json.loads(models_json)
        for name, deck_id in deck_ids.items():
            decks[str(deck_id)] = genanki.Deck(deck_id, name).to_json()
        last_deck = next(reversed(deck_ids.values()), 1)
        for model_id, model in models.items():
            as_json = model.to_json(timestamp, last_deck)
            if model_id in held:
                as_json = _as_held(as_json, held[model_id])
            all_models[str(model_id)] = as_json
        conn.execute(
            "UPDATE col SET decks = ?, models = ?", (json.dumps(decks), json.dumps(all_models))
        )
        conn.commit()
    finally:
        conn.close()
    return written


def _as_held(model: dict[str, Any], held: HeldNoteType) -> dict[str, Any]:
    """A note type's package form (genanki's ``to_json``) with the name, templates and
    stylesheet a collection holds it with, stamped as old as can be. Anki's import matches a
    package's note type to the collection's by id, fields and card types (their number and
    names): so it adds the notes to that note type rather than to a copy (``NAME+``), and never
    takes the package's version over the person's, not being newer (identical, besides)."""
    first = model["tmpls"][0]
    templates = [
        {**first, "name": name, "qfmt": front, "afmt": back, "ord": ord_}
        for ord_, (name, front, back) in enumerate(held.templates)
    ]
    return {**model, "name": held.name, "tmpls": templates, "css": held.css, "mod": 0}


def _split_schema(schema: str) -> tuple[str, str]:
    """genanki's schema as (tables, indexes), so the indexes can be built after the rows."""
    statements = [f"{s.strip()};" for s in schema.split(";") if s.strip()]
    indexes = [s for s in statements if s.upper().startswith("CREATE INDEX")]
    tables = [s for s in statements if s not in indexes]
    return "\n".join(tables), "\n".join(indexes)


_TABLES, _INDEXES = _split_schema(APKG_SCHEMA)


def _card_ords(note: TargetNote) -> list[int]:
    """The cards a note has: one for a Q/A note, one per cloze number for a cloze note."""
    if note.note_type != CLOZE_MODEL_NAME:
        return [0]
    return cloze_ords(note.fields[0])


def _write_zip(path: Path, db_path: Path, media: Sequence[Media]) -> list[Media]:
    """Returns the media whose file could not be opened (gone since it was found, or no longer
    a regular file or a picture Anki takes)."""
    # Media are streamed from their source files under their package names, so nothing is
    # copied or held in memory, and the names in the package are always plain names.
    # Stored, not compressed, as genanki stores it: compressing the collection (mostly text)
    # made it a quarter of its size and took a tenth of a re-export (zlib at its fastest).
    missing: list[Media] = []
    names: dict[str, str] = {}
    with zipfile.ZipFile(path, "w") as zf:
        with db_path.open("rb") as collection:  # (zipfile's own copy goes 8 KiB at a time)
            _copy_into(zf, "collection.anki2", collection, db_path, "the deck's collection", None)
        for i, item in enumerate(media):
            try:
                source = open_media(item)
            except OSError:
                missing.append(item)
                continue
            with source:
                _copy_into(zf, str(i), source, item.path)
            names[str(i)] = item.name
        # After the files: it names only those the package holds.
        zf.writestr("media", json.dumps(names))
    return missing


def _copy_into(
    zf: zipfile.ZipFile,
    name: str,
    source: BinaryIO,
    path: Path,
    what: str = "image",
    limit: int | None = MAX_PICTURE_BYTES,
) -> None:
    """One open file stored in the zip, a MiB at a time; a failure to read it names the file
    (``what`` it is), not the zip. No more of it than there was, nor of a picture more than
    ``limit``: one growing meanwhile (checked when opened) goes in as it was."""
    stat = os.fstat(source.fileno())
    left = stat.st_size if limit is None else min(stat.st_size, limit)
    # A zip cannot date a file before 1980.
    info = zipfile.ZipInfo(name, max(time.localtime(stat.st_mtime)[:6], (1980, 1, 1, 0, 0, 0)))
    info.compress_type = zipfile.ZIP_STORED
    info.file_size = left
    with zf.open(info, "w") as dest:
        while True:
            try:
                chunk = source.read(min(left, 1 << 20))
            except OSError as err:
                raise Memo2AnkiError(f"{path}: cannot read {what}: {err.strerror or err}") from err
            if not chunk:
                break
            dest.write(chunk)
            left -= len(chunk)
