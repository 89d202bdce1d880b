"""The collection way: a plan carried into a profile's ``collection.anki2`` with Anki's own
library (the optional extra ``memo2anki[anki]``), while Anki is closed.

Safety first: the collection is open only while the sync works; a backup is made the way Anki
makes one before the first change; every change is one transaction (a sync killed at any
point leaves the collection as it was before or after); and the schema mark is checked before
the commit, so nothing forces a one-way full sync with AnkiWeb.
"""

from __future__ import annotations

import contextlib
import importlib.metadata
import os
import re
import shutil
import stat
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from memo2anki.cards.pictures.media import read_media
from memo2anki.changes.notes import NOTE_TYPES, HeldNoteType, TargetNote
from memo2anki.changes.plan import GONE_TAG, Plan
from memo2anki.common.files import odd_sqlite_file
from memo2anki.common.signals import stops_held
from memo2anki.model import Media, Memo2AnkiError
from memo2anki.targets.ankiconnect import ADDON_CODE
from memo2anki.targets.package_notes import notes_package
from memo2anki.targets.sync_steps import (
    Held,
    HeldCard,
    Steps,
    check_no_filtered_deck,
    held_note_type,
    media_to_add,
    pictures_lacking,
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
    """The collection at ``path``, open only inside the ``with`` block. What keeps it from
    being opened is one clear error saying what it is (Anki holds it open, a file that is
    not a collection, a damaged one, one of a newer Anki, a read-only or full disk); each
    leaves the collection as it was."""
    collection = _anki()
    import anki.errors

    if not path.is_file():
        if path.exists():  # a pipe, a device: never opened (it could wait for ever)
            raise Memo2AnkiError(f"{path}: not a regular file, not a collection; {UNTOUCHED}")
        if path.is_symlink():  # (a loop, or a link to nothing: "no such" would mislead)
            raise Memo2AnkiError(
                f"{path}: a symbolic link that leads nowhere (missing, or a loop), not a "
                f"collection; {UNTOUCHED}"
            )
        raise Memo2AnkiError(f"{path}: no such collection")
    if (odd := odd_file(path)) is not None:
        raise Memo2AnkiError(odd)
    # Before Anki's library sees it: it would make an empty file a new collection, and
    # upgrade an older Anki's for good as it opens it.
    problem = _not_a_collection(path) or _older_format(path)
    if problem is not None:
        raise Memo2AnkiError(f"{path}: {problem}")
    media = media_database(path)
    # (The library opens them at the first picture, after the backup; a pipe, it would wait
    # for ever.)
    if (kind := _not_a(media, "file")) is not None:
        raise Memo2AnkiError(media_damaged(media, f"{kind}, not a file"))
    if _not_sqlite(media):
        raise Memo2AnkiError(media_damaged(media, "not an SQLite database"))
    folder = path.with_suffix(".media")
    if (kind := _not_a(folder, "folder")) is not None:
        raise Memo2AnkiError(
            f"{folder}: {kind}, not a folder, where Anki keeps the collection's pictures; the "
            f"collection is {UNTOUCHED}: move it away and sync again"
        )
    try:
        col = collection.Collection(str(path))
    except Exception as err:  # what the library says: anki.errors.DBError, mostly
        raise Memo2AnkiError(collection_fault(path, err, opening=True)) from err
    try:
        if _v1_scheduler(col):  # (opening it changed nothing: its file is as it was)
            raise Memo2AnkiError(f"{path}: {V1_SCHEDULER}")
        yield col
    except anki.errors.BackendError as err:  # a write the disk refused, in the transaction
        fault = _media_fault(media, err, col) or collection_fault(path, err, opening=False)
        raise Memo2AnkiError(fault) from err
    finally:
        col.close()


UNTOUCHED = "left as it was"
GIVE = "give a profile's collection.anki2"
SQLITE_HEADER = b"SQLite format 3\x00"


def _not_a_collection(path: Path) -> str | None:
    """What ``path`` is instead of a collection, from its first bytes (None: an SQLite
    database, which may be one)."""
    try:
        with open(path, "rb") as f:
            head = f.read(len(SQLITE_HEADER))
    except OSError as err:
        return f"cannot read it ({err.strerror or err}); {UNTOUCHED}"
    if head == SQLITE_HEADER:
        return (
            None
            if _has_col_table(path) is not False
            else (f"an SQLite database, but not an Anki collection; {UNTOUCHED}: {GIVE}")
        )
    if not head:
        return f"an empty file, not an Anki collection; {UNTOUCHED}: {GIVE}"
    if head.startswith(b"PK\x03\x04"):
        return (
            f"a zip archive (an exported .colpkg or .apkg?), not a collection; {UNTOUCHED}: "
            f"import it in Anki, or {GIVE}"
        )
    return f"not an Anki collection (not an SQLite database); {UNTOUCHED}: {GIVE}"


def odd_file(path: Path) -> str | None:
    """The line for a file SQLite opens beside the collection at ``path`` or beside its media
    database (its journal, write-ahead log, shared memory) that is there but not a regular
    file (None: there is none). Never opened: a FIFO there kept the sync waiting for ever,
    deaf to Ctrl-C and SIGTERM (in C), and a device, folder or link failed in SQLite's words
    naming the collection."""
    odd = odd_sqlite_file(path) or odd_sqlite_file(media_database(path))
    if odd is None:
        return None
    return (
        f"{odd}: not a regular file (Anki's library opens it with the collection); "
        f"{UNTOUCHED}: move it away"
    )


def media_database(path: Path) -> Path:
    """The media database Anki keeps beside the collection at ``path`` (``collection.media.db2``
    beside ``collection.anki2``): its list of the media folder's files."""
    return path.with_suffix(".media.db2")


def media_damaged(media: Path, why: str) -> str:
    """The line for a damaged media database: Anki makes it again from the media folder."""
    folder = media.with_suffix("").name  # collection.media
    return (
        f"{media}: the collection's media database is damaged ({why}); the collection is "
        f"{UNTOUCHED}: delete {media.name} and sync again (Anki makes it again from the "
        f"{folder} folder; your pictures stay)"
    )


def _not_a(path: Path, wanted: str) -> str | None:
    """What ``path`` is when it is there but not a ``wanted`` ("file": a regular one, or
    "folder"), never opened (None: it is one, or nothing is there)."""
    try:
        mode = path.lstat().st_mode
    except OSError:
        return None
    if stat.S_ISLNK(mode):
        try:
            mode = path.stat().st_mode
        except OSError:
            return "a symbolic link to nothing"
    if stat.S_ISDIR(mode):
        return None if wanted == "folder" else "a folder"
    if stat.S_ISREG(mode):
        return None if wanted == "file" else "a file"
    return "a pipe" if stat.S_ISFIFO(mode) else "a device or socket"


def _not_sqlite(path: Path) -> bool:
    """Whether ``path`` is a file with bytes that are not an SQLite database's (an empty file
    SQLite takes for a new database)."""
    try:
        with open(path, "rb") as f:
            head = f.read(len(SQLITE_HEADER))
    except OSError:
        return False  # none there (Anki's library makes it), or one it will say it cannot read
    return bool(head) and head != SQLITE_HEADER


def _media_fault(media: Path, err: BaseException, col: Any) -> str | None:
    """The line for a fault of the media database (None: not one), which Anki's library
    reports as it reports one of the collection ("NotADatabase", "malformed"), without
    saying which database: it is the media database's when that is not an SQLite database,
    or when the collection itself reads sound."""
    text = str(err)
    if not any(kind in text for kind in ("NotADatabase", "DatabaseCorrupt", "malformed")):
        return None
    if not media.is_file():
        return None
    if _not_sqlite(media):
        return media_damaged(media, "not an SQLite database")
    return media_damaged(media, _sqlite_reason(text)) if _sound(col) else None


def _has_col_table(path: Path) -> bool | None:
    """Whether the SQLite database at ``path`` has a collection's ``col`` table (None: it
    cannot be told, read-only, here; Anki's library will say why). Anki's library would
    make any other SQLite database a collection, adding its tables to the person's file."""
    row = _read_col(
        path, "select count(*) from sqlite_master where type = 'table' and name = 'col'"
    )
    if row is None:
        return None
    if row[0]:
        return True
    # Its tables may be in its write-ahead log still (Anki has it open, or was killed before
    # a checkpoint): what the file alone holds cannot tell.
    wal = path.with_name(path.name + "-wal")
    return None if wal.is_file() and wal.stat().st_size > 0 else False


# The collection format (Anki's schema version, ``ver`` in the ``col`` table) Anki's library
# writes: 18 since Anki 2.1.50 (2022), in every library memo2anki takes (anki>=25.2). An older
# file (11 to 17: saved by an Anki before 2.1.50, or "downgraded" for one) it upgrades to 18 as
# it opens it, and such an Anki cannot open it again; older than 11 it refuses by itself.
LIBRARY_SCHEMA = 18
OLDEST_SCHEMA = 11

V1_SCHEDULER = (
    "the collection still uses Anki's v1 scheduler, under which Anki's library changes no "
    f"cards; {UNTOUCHED}: open it in a current Anki, which upgrades it to the v3 scheduler "
    "(it asks), and sync again"
)


def schema_version(path: Path) -> int | None:
    """The collection format of the file at ``path`` (``ver`` in its ``col`` table), read
    with SQLite alone, read-only (None: it cannot be told so)."""
    found = _read_col(path, "select ver from col")
    return int(found[0]) if found and isinstance(found[0], int) else None


def older_format(path: Path) -> bool:
    """Whether Anki's library would upgrade the collection at ``path`` as it opens it."""
    return _older_version(path) is not None


def _older_version(path: Path) -> int | None:
    """The format of the collection at ``path`` when Anki's library would upgrade it as it
    opens it (None: it would not, or it cannot be told)."""
    version = schema_version(path)
    return version if version is not None and OLDEST_SCHEMA <= version < LIBRARY_SCHEMA else None


def _older_format(path: Path) -> str | None:
    """What keeps an older Anki's collection from being opened (None: its format is the
    library's): Anki's library would upgrade it for good, before any change, even for a sync
    that changes nothing."""
    version = _older_version(path)
    if version is None:
        return None
    scheduler = " and its v1 scheduler (it asks)" if _v1_in_conf(path) else ""
    return (
        f"saved by an Anki older than 2.1.50 (collection format {version}); Anki's library "
        f"would upgrade it to the current format, which such an Anki cannot open; {UNTOUCHED}: "
        f"open it once in a current Anki, which upgrades it{scheduler}, and sync again (or, "
        "keeping your Anki, import a package: memo2anki build)"
    )


def _v1_in_conf(path: Path) -> bool:
    """Whether an older Anki's collection at ``path`` is on the v1 scheduler: its
    ``schedVer`` (1 when not said) in the ``col`` table's ``conf`` (format 11), or in its
    ``config`` table (formats 14 to 17, whose ``conf`` is empty)."""
    import json

    def value(query: str) -> Any:
        found = _read_col(path, query)
        try:
            return json.loads(found[0]) if found else None
        except (TypeError, ValueError):
            return None

    conf = value("select conf from col")
    if isinstance(conf, dict) and conf:
        return bool(conf.get("schedVer", 1) == 1)
    return bool(value("select val from config where key = 'schedVer'") == 1)


def _v1_scheduler(col: Any) -> bool:
    """Whether the open collection is on Anki's v1 scheduler, under which the library
    refuses to change cards (with a text meant for Anki's own window)."""
    try:
        return bool(col.sched_ver() == 1)
    except Exception:  # a version the library does not know: it says so where it matters
        return False


def _read_col(path: Path, query: str) -> tuple[Any, ...] | None:
    """The first row of ``query`` in the database at ``path``, read-only and leaving nothing
    beside it (None: it cannot be read so)."""
    import sqlite3

    try:
        uri = f"{path.resolve().as_uri()}?mode=ro&immutable=1"
        with contextlib.closing(sqlite3.connect(uri, uri=True, timeout=0)) as db:
            row = db.execute(query).fetchone()
    except (sqlite3.Error, ValueError, OSError):
        return None
    return tuple(row) if row is not None else None


def collection_fault(path: Path, err: BaseException, opening: bool) -> str:
    """What Anki's library's error ``err`` about the collection at ``path`` means, in one
    line, with where it leaves the collection. (Its errors are one class, DBError, told
    apart by the SQLite error they carry.)"""
    text = str(err)
    folder = path.parent
    if "Anki already open" in text or "DatabaseBusy" in text or "locked" in text:
        return locked_message(path)
    if "FileTooNew" in text:
        return (
            f"{path}: made by a newer Anki than this Anki library ({_library_version()}) "
            f'reads; update it (pip install -U "memo2anki[anki]"); {UNTOUCHED}'
        )
    if "DatabaseCorrupt" in text or "malformed" in text:
        return damaged(path)
    if "NotADatabase" in text:
        return f"{path}: not an Anki collection (not an SQLite database); {UNTOUCHED}: {GIVE}"
    # SQLite may say only "disk I/O error" when a write to its log finds no room, and a
    # transaction it rolled back for it fails the library's own rollback.
    full = "DiskFull" in text or "StorageFull" in text or "No space left" in text
    if full or _room_under(folder, 1 << 20):  # (next to none left)
        return f"{path}: the disk is full ({_free(folder)}); {UNTOUCHED}"
    if "FileTooOld" in text:
        return (
            f"{path}: made by an Anki older than this Anki library reads, or damaged; "
            f"{UNTOUCHED}: open it in Anki (which upgrades it), or restore a backup"
        )
    if any(kind in text for kind in ("SqlInputError", "QueryReturnedNoRows", "InvalidColumn")):
        return (
            f"{path}: the collection is damaged (its tables are not as Anki makes them); "
            f"{UNTOUCHED}: let Anki repair it (Tools > Check Database) or restore a backup"
        )
    if _read_only_disk(folder):
        return f"{path}: it is on a read-only disk; {UNTOUCHED}"
    if not os.access(path, os.W_OK):
        return f"{path}: the collection file is read-only; {UNTOUCHED}"
    if not os.access(folder, os.W_OK):
        return (
            f"{path}: its folder is read-only (Anki writes its journal beside the "
            f"collection); {UNTOUCHED}"
        )
    doing = "open" if opening else "write"
    return f"{path}: Anki's library cannot {doing} it ({_sqlite_reason(text)}); {UNTOUCHED}"


def damaged(path: Path) -> str:
    """The line for a collection whose database is damaged."""
    return (
        f"{path}: the collection is damaged (database disk image is malformed); "
        f"{UNTOUCHED}: let Anki repair it (Tools > Check Database) or restore a backup"
    )


def _sqlite_reason(text: str) -> str:
    """The SQLite message in Anki's error text (``Some("disk I/O error")``), else the text
    (cut to a line)."""
    found = re.search(r'Some\(\\?"(.*?)\\?"\)', text)
    reason = found.group(1) if found else " ".join(text.split())
    return reason if len(reason) <= 200 else f"{reason[:200]}…"


def _room_under(folder: Path, size: int) -> bool:
    """Whether the disk ``folder`` is on has less room left than ``size`` bytes."""
    try:
        return shutil.disk_usage(folder).free < size
    except OSError:
        return False


def _short_of_space(folder: Path, collection: Path) -> bool:
    """Whether ``folder``'s disk has less room than the collection's size (a backup is
    about as big)."""
    try:
        return _room_under(folder, collection.stat().st_size)
    except OSError:
        return False


def _free(folder: Path) -> str:
    try:
        return f"{shutil.disk_usage(folder).free // 1024} KB free"
    except OSError:
        return "no space left"


def _read_only_disk(folder: Path) -> bool:
    try:
        return bool(os.statvfs(folder).f_flag & os.ST_RDONLY)
    except (OSError, AttributeError):  # (no statvfs on Windows)
        return False


def _library_version() -> str:
    try:
        return importlib.metadata.version("anki")
    except importlib.metadata.PackageNotFoundError:
        return "unknown version"


def locked_message(path: Path) -> str:
    return (
        f"{path}: Anki (or another program, another sync say) has this collection open; "
        "close Anki and run again, or install the "
        f"AnkiConnect add-on (code {ADDON_CODE}) so memo2anki can sync while Anki runs"
    )


def schema_mark(col: Any) -> int:
    """The collection's schema time (``scm``): moved past the last sync, AnkiWeb would ask
    for a one-way full sync."""
    return int(col.db.scalar("select scm from col"))


def backup(col: Any, folder: Path) -> Path | None:
    """A backup made the way Anki makes one, into the profile's ``backups`` folder; the newest
    backup there (None: none) once it is written."""
    if (kind := _not_a(folder, "folder")) is not None:
        raise Memo2AnkiError(
            f"{folder}: {kind}, not a folder; cannot back up the collection there; nothing "
            "changed: move it away and sync again"
        )
    there: set[str] = set()
    try:
        folder.mkdir(parents=True, exist_ok=True)
        there = set(os.listdir(folder))
        with _own_stderr_kept_quiet():
            col.create_backup(backup_folder=str(folder), force=True, wait_for_completion=True)
    except Exception as err:
        _remove_new(folder, there)  # a backup cut short is no backup: it only takes space
        reason = err.strerror if isinstance(err, OSError) and err.strerror else err
        if _short_of_space(folder, Path(col.path)):
            reason = f"the disk is full: {_free(folder)}"
        raise Memo2AnkiError(
            f"{folder}: cannot back up the collection ({reason}); nothing changed"
        ) from err
    found = sorted(folder.glob("*.colpkg"), key=lambda p: p.stat().st_mtime)
    return found[-1] if found else None


def _sound(col: Any) -> bool:
    """Whether SQLite finds the open collection's database sound (``quick_check``: every page
    read once, no index checked against its table; a fraction of a backup's time)."""
    try:
        return bool(col.db.scalar("pragma quick_check") == "ok")
    except Exception:  # what the library says of a database too damaged to check
        return False


def _remove_new(folder: Path, there: set[str]) -> None:
    """Remove the files in ``folder`` that were not ``there`` (what a failed backup left)."""
    with contextlib.suppress(OSError):
        for name in set(os.listdir(folder)) - there:
            with contextlib.suppress(OSError):
                (folder / name).unlink()


@contextmanager
def _own_stderr_kept_quiet() -> Iterator[None]:
    """Anki's library (its Rust part) writes to the process's stderr when a backup fails
    ("ZipWriter drop failed: ...", with no line break), before it raises the error reported
    here: that line goes nowhere."""
    try:
        saved, sink = os.dup(2), os.open(os.devnull, os.O_WRONLY)
    except OSError:
        yield
        return
    try:
        os.dup2(sink, 2)
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(sink)


def held_notes(col: Any) -> dict[str, Held]:
    """memo2anki's notes in the collection, by GUID (notes of other note types never)."""
    types = {mid: name for name, (mid, _fields) in NOTE_TYPES.items() if col.models.get(mid)}
    if not types:
        return {}
    mids = ",".join(map(str, types))
    named = {mid: str(col.models.get(mid)["name"]) for mid in types}
    notes: dict[int, tuple[str, tuple[str, ...], tuple[str, ...], int, int]] = {}
    for nid, guid, flds, tags, mod, mid in col.db.execute(
        f"select id, guid, flds, tags, mod, mid from notes where mid in ({mids}) order by id"
    ):
        notes[nid] = (guid, tuple(flds.split("\x1f")), tuple(tags.split()), mod, mid)
    names = {d.id: d.name for d in col.decks.all_names_and_ids()}
    cards: dict[int, list[HeldCard]] = {}
    for cid, nid, did, odid, queue in col.db.execute(
        f"select c.id, c.nid, c.did, c.odid, c.queue from cards c join notes n on n.id = c.nid "
        f"where n.mid in ({mids}) order by c.ord"
    ):
        home = odid or did
        cards.setdefault(nid, []).append(HeldCard(cid, names.get(home, ""), queue == -1))
    return {
        guid: Held(nid, flds, tags, tuple(cards.get(nid, ())), mod, types[mid], named[mid])
        for nid, (guid, flds, tags, mod, mid) in notes.items()
    }


def other_types_guids(col: Any) -> dict[str, str]:
    """The GUIDs notes of the person's own note types hold, with each one's note type name
    (Anki's import would skip a package note with one of them, saying nothing)."""
    ours = ",".join(str(model_id) for model_id, _fields in NOTE_TYPES.values())
    names: dict[int, str] = {}
    found: dict[str, str] = {}
    for guid, mid in col.db.execute(f"select guid, mid from notes where mid not in ({ours})"):
        if mid not in names:
            model = col.models.get(mid)
            names[mid] = str(model["name"]) if model else ""
        found[guid] = names[mid]
    return found


@dataclass(frozen=True)
class Applied:
    """What a sync did."""

    steps: Steps
    backup: Path | None
    media_added: int
    # Pictures found while the cards were made but gone when they were written: left out.
    gone: tuple[Media, ...] = ()


def apply_plan(
    col: Any,
    plan: Plan,
    media: Iterable[Media],
    delete_gone: bool = False,
    backup_folder: Path | None = None,
    committed: Callable[[], None] | None = None,
) -> Applied:
    """Carry ``plan`` into the open collection: a backup (unless ``backup_folder`` is None),
    then every step in one transaction, rolled back whole if anything fails. ``committed``
    is called once it went through, before any stop that came meanwhile is raised."""
    held_types = note_types(col)
    steps = sync_steps(plan, held_notes(col), delete_gone, taken=other_types_guids(col))
    by_name = {m.name: m for m in media}
    have = media_names(col)
    lacking = pictures_lacking(plan, by_name, have.__contains__, delete_gone)
    # The new notes' pictures go in their package; the others are written into the folder.
    packaged = media_to_add(steps.add, by_name, have.__contains__)
    in_package = {m.name for m in packaged}
    put_back = [m for m in lacking if m.name not in in_package]
    gone: dict[str, Media] = {}
    if steps.empty:
        # Pictures alone: files in the media folder, the collection file untouched (and a
        # backup of it would not hold them).
        with stops_held():
            _write_media(col, put_back, gone)
        return Applied(steps, None, len(put_back) - len(gone), tuple(gone.values()))
    _check_decks(col, steps)
    # A damaged collection opens, its damage met only by the change (or never: in the review
    # log), and a backup of it would be the newest to restore, one Anki cannot restore: it is
    # named before any backup or change.
    if not _sound(col):
        raise Memo2AnkiError(damaged(Path(col.path)))
    saved = backup(col, backup_folder) if backup_folder is not None else None
    before = schema_mark(col)

    def work() -> None:
        if steps.add:
            gone.update((m.name, m) for m in _import_new(col, steps.add, packaged, held_types))
        _write_media(col, put_back, gone)
        _update(col, steps)
        _move(col, steps)
        if steps.tag_gone:
            col.tags.bulk_add(list(steps.tag_gone), GONE_TAG)
        for note_id, tag in steps.tag_kept:
            col.tags.bulk_add([note_id], tag)
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

    transact_whole(col, work, committed)
    added = len(packaged) + len(put_back) - len(gone)
    return Applied(steps, saved, added, tuple(gone.values()))


def media_names(col: Any) -> set[str]:
    """The names of the files in the collection's media folder: one listing, however many
    pictures the vault shows."""
    try:
        return set(os.listdir(col.media.dir()))
    except OSError:  # no media folder yet: Anki makes it
        return set()


def _write_media(col: Any, files: Iterable[Media], gone: dict[str, Media]) -> None:
    """Write ``files`` into the media folder; those gone since found are left out, to
    ``gone``."""
    for item in files:
        try:
            data = read_media(item)
        except OSError:
            gone[item.name] = item
            continue
        col.media.write_data(item.name, data)


def transact_whole(
    col: Any, work: Callable[[], None], committed: Callable[[], None] | None = None
) -> None:
    """``work`` in one transaction of the collection, which a stop (Ctrl-C, a signal) waits
    for: ``committed`` is called once it went through, before such a stop is raised, so the
    stop is told as after it."""
    with stops_held():
        col.db.transact(work)
        if committed is not None:
            committed()


def note_types(col: Any) -> dict[int, HeldNoteType]:
    """memo2anki's note types the collection has, by id, as it has them (the person may have
    renamed them, restyled them, added or renamed card types): a sync leaves them so. One
    whose fields were changed in Anki is left to the person, and nothing is synced."""
    found: dict[int, HeldNoteType] = {}
    for model_id, _names in NOTE_TYPES.values():
        have = col.models.get(model_id)
        if have is None:
            continue
        fields = [f["name"] for f in have["flds"]]
        templates = tuple((t["name"], t["qfmt"], t["afmt"]) for t in have["tmpls"])
        found[model_id] = held_note_type(model_id, have["name"], fields, templates, have["css"])
    return found


def _check_decks(col: Any, steps: Steps) -> None:
    """No deck the steps put cards in is a filtered deck of the person's, nor under one
    (Anki's names know no case): else nothing is synced."""

    def filtered(name: str) -> str | None:
        found = col.decks.by_name(name)
        return str(found["name"]) if found is not None and found.get("dyn") else None

    check_no_filtered_deck(steps, filtered)


def _import_new(
    col: Any,
    notes: Iterable[TargetNote],
    missing: Sequence[Media],
    held: Mapping[int, HeldNoteType],
) -> tuple[Media, ...]:
    """Add notes by importing a package of them, as File > Import would: their GUIDs, and
    note types with memo2anki's own ids (created when missing; those ``held`` as the
    collection holds them, and never updated), and the media Anki lacks of them
    (``missing``); returns those of them gone since found, left out."""
    collection = _anki()
    from anki.import_export_pb2 import ImportAnkiPackageUpdateCondition as Condition

    with notes_package(notes, missing, held) as package:
        options = collection.ImportAnkiPackageOptions(
            update_notes=Condition.IMPORT_ANKI_PACKAGE_UPDATE_CONDITION_NEVER,
            update_notetypes=Condition.IMPORT_ANKI_PACKAGE_UPDATE_CONDITION_NEVER,
            merge_notetypes=False,
            with_scheduling=False,
            with_deck_configs=False,
        )
        request = collection.ImportAnkiPackageRequest(
            package_path=str(package.path), options=options
        )
        col.import_anki_package(request)
    return package.missing


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
