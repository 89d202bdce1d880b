"""The collection way: a plan carried into a profile's ``collection.anki2`` with Anki's own
library (the optional extra ``memo2anki[anki]``), while Anki is closed.

Safety first: the collection is open only while the sync works; a backup is made the way Anki
makes one before the first change; every change is one transaction (a sync killed at any
point leaves the collection as it was before or after); and the schema mark is checked before
the commit, so nothing forces a one-way full sync with AnkiWeb.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from memo2anki.changes.notes import NOTE_TYPES, TargetNote
from memo2anki.changes.plan import GONE_TAG, Plan
from memo2anki.model import Media, Memo2AnkiError
from memo2anki.targets.ankiconnect import ADDON_CODE
from memo2anki.targets.package_notes import notes_package
from memo2anki.targets.sync_steps import (
    Held,
    HeldCard,
    Steps,
    fields_changed,
    media_to_add,
    sync_steps,
)

INSTALL_ANKI = 'the collection way needs Anki\'s library: pip install "memo2anki[anki]"'


def _anki() -> Any:
    try:
        import anki.collection
    except ImportError as err:
        raise Memo2AnkiError(INSTALL_ANKI) from err
    return anki.collection


@contextmanager
def open_collection(path: Path) -> Iterator[Any]:
    """The collection at ``path``, open only inside the ``with`` block. A collection Anki
    holds (it locks it while a profile is loaded) is one clear error."""
    collection = _anki()
    import anki.errors

    if not path.is_file():
        raise Memo2AnkiError(f"{path}: no such collection")
    try:
        col = collection.Collection(str(path))
    except anki.errors.DBError as err:
        raise Memo2AnkiError(locked_message(path)) from err
    except Exception as err:  # a file that is not a collection, or a newer schema
        raise Memo2AnkiError(f"{path}: Anki's library cannot open it: {err}") from err
    try:
        yield col
    finally:
        col.close()


def locked_message(path: Path) -> str:
    return (
        f"{path}: Anki has this collection open; close Anki and run again, or install the "
        f"AnkiConnect add-on (code {ADDON_CODE}) so memo2anki can sync while Anki runs"
    )


def schema_mark(col: Any) -> int:
    """The collection's schema time (``scm``): moved past the last sync, AnkiWeb would ask
    for a one-way full sync."""
    return int(col.db.scalar("select scm from col"))


def backup(col: Any, folder: Path) -> Path | None:
    """A backup made the way Anki makes one, into the profile's ``backups`` folder; the newest
    backup there (None: none) once it is written."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
        col.create_backup(backup_folder=str(folder), force=True, wait_for_completion=True)
    except Exception as err:
        reason = err.strerror if isinstance(err, OSError) and err.strerror else err
        raise Memo2AnkiError(
            f"{folder}: cannot back up the collection ({reason}); nothing changed"
        ) from err
    found = sorted(folder.glob("*.colpkg"), key=lambda p: p.stat().st_mtime)
    return found[-1] if found else None


def held_notes(col: Any) -> dict[str, Held]:
    """memo2anki's notes in the collection, by GUID (notes of other note types never)."""
    types = {mid: name for name, (mid, _fields) in NOTE_TYPES.items() if col.models.get(mid)}
    if not types:
        return {}
    mids = ",".join(map(str, types))
    notes: dict[int, tuple[str, tuple[str, ...], tuple[str, ...], int, str]] = {}
    for nid, guid, flds, tags, mod, mid in col.db.execute(
        f"select id, guid, flds, tags, mod, mid from notes where mid in ({mids}) order by id"
    ):
        notes[nid] = (guid, tuple(flds.split("\x1f")), tuple(tags.split()), mod, types[mid])
    names = {d.id: d.name for d in col.decks.all_names_and_ids()}
    cards: dict[int, list[HeldCard]] = {}
    for cid, nid, did, odid, queue in col.db.execute(
        f"select c.id, c.nid, c.did, c.odid, c.queue from cards c join notes n on n.id = c.nid "
        f"where n.mid in ({mids}) order by c.ord"
    ):
        home = odid or did
        cards.setdefault(nid, []).append(HeldCard(cid, names.get(home, ""), queue == -1))
    return {
        guid: Held(nid, flds, tags, tuple(cards.get(nid, ())), mod, note_type)
        for nid, (guid, flds, tags, mod, note_type) in notes.items()
    }


@dataclass(frozen=True)
class Applied:
    """What a sync did."""

    steps: Steps
    backup: Path | None
    media_added: int


def apply_plan(
    col: Any,
    plan: Plan,
    media: Iterable[Media],
    delete_gone: bool = False,
    backup_folder: Path | None = None,
) -> Applied:
    """Carry ``plan`` into the open collection: a backup (unless ``backup_folder`` is None),
    then every step in one transaction, rolled back whole if anything fails."""
    _check_note_types(col)
    steps = sync_steps(plan, held_notes(col), delete_gone)
    if steps.empty:
        return Applied(steps, None, 0)
    saved = backup(col, backup_folder) if backup_folder is not None else None
    by_name = {m.name: m for m in media}
    before = schema_mark(col)
    added_media = 0

    def work() -> None:
        nonlocal added_media
        if steps.add:
            added_media += _import_new(col, steps.add, by_name)
        if steps.update:
            for item in media_to_add([u.note for u in steps.update], by_name, col.media.have):
                col.media.write_data(item.name, item.path.read_bytes())
                added_media += 1
            _update(col, steps)
        _move(col, steps)
        if steps.tag_gone:
            col.tags.bulk_add(list(steps.tag_gone), GONE_TAG)
        if steps.suspend:
            col.sched.suspend_cards(list(steps.suspend))
        if steps.unsuspend:
            col.sched.unsuspend_cards(list(steps.unsuspend))
        if steps.delete:
            col.remove_notes(list(steps.delete))
        if schema_mark(col) != before:
            raise Memo2AnkiError(
                "this sync would force a one-way full sync with AnkiWeb; nothing was changed"
            )

    col.db.transact(work)
    return Applied(steps, saved, added_media)


def _check_note_types(col: Any) -> None:
    """memo2anki's note types, where the collection has them, with memo2anki's own fields: one
    whose fields were changed in Anki is left to the person, and nothing is synced."""
    for model_id, names in NOTE_TYPES.values():
        have = col.models.get(model_id)
        if have is None:
            continue
        fields = [f["name"] for f in have["flds"]]
        wanted = list(names)
        if fields != wanted:
            raise fields_changed(have["name"], fields, wanted)


def _import_new(col: Any, notes: Iterable[TargetNote], media: Mapping[str, Media]) -> int:
    """Add notes by importing a package of them, as File > Import would: their GUIDs, and
    note types with memo2anki's own ids (created when missing), and only media Anki lacks
    (how many: returned)."""
    collection = _anki()
    from anki.import_export_pb2 import ImportAnkiPackageUpdateCondition as Condition

    notes = list(notes)
    missing = media_to_add(notes, media, col.media.have)
    with notes_package(notes, missing) as package:
        options = collection.ImportAnkiPackageOptions(
            update_notes=Condition.IMPORT_ANKI_PACKAGE_UPDATE_CONDITION_NEVER,
            update_notetypes=Condition.IMPORT_ANKI_PACKAGE_UPDATE_CONDITION_IF_NEWER,
            merge_notetypes=False,
            with_scheduling=False,
            with_deck_configs=False,
        )
        request = collection.ImportAnkiPackageRequest(package_path=str(package), options=options)
        col.import_anki_package(request)
    return len(missing)


def _update(col: Any, steps: Steps) -> None:
    notes = []
    for update in steps.update:
        note = col.get_note(update.note_id)
        target = update.note
        note.fields[:] = list(target.fields)
        note.tags = list(target.tags)
        notes.append(note)
    if notes:
        col.update_notes(notes)


def _move(col: Any, steps: Steps) -> None:
    for deck, card_ids in steps.move:
        deck_id = col.decks.id(deck, create=True)
        col.set_deck(list(card_ids), deck_id)
