"""Remember each note's cards between runs, so re-exporting a big vault only reads what changed.

An entry is used only while everything that went into it is unchanged: the note file (size,
modification and change times and inode, taken before it is read, and where it really is
past any link), every file it embedded
(the same), every image lookup's
outcome (a picture added, moved or deleted changes it), the options, and memo2anki's own code.
A cache that cannot be read or written is simply not used, and a row that does not hold what
memo2anki stores is a row not there: the cache never changes a deck and never fails a run.

What a row is trusted for: the cards a note gave, as plain JSON, each field checked against
memo2anki's own types as it is loaded (msgspec, in C), never pickles: reading one cannot run
code. Each row is sealed with a SHA-256 of itself and of what it is stored under (the options,
the note's path and stamp): a row damaged, edited by hand, copied to another note or another
set of options, or kept under a stamp it was not made for does not open, and the note is read
again. (A seal is no secret: whoever can write the cache folder can seal what they write.)
SQLite's files are opened only when they are regular files (a FIFO there would wait for ever),
and used only when they hold nothing but the cache's own tables (another program's are left
alone). A database whose files have another name too (a hard link: that file is not the
cache's to write) is made anew, and so is a damaged one, once set aside (never deleted).

Rows are kept per note and per set of options, for the four sets of options most recently
written: a run over one subject and a run over all of them each keep their own, and neither
reads the vault again after the other.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import sqlite3
import stat
import time
from collections.abc import Callable, Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any

import msgspec
import platformdirs

from memo2anki.cards.pictures.media import file_unchanged
from memo2anki.common.files import SQLITE_SIDE_FILES
from memo2anki.common.gcpause import cycle_collection_paused
from memo2anki.model import Card, Journal, Lookup, Media, NoteResult, Options, file_version
from memo2anki.notes.discover import garden_of

_FORMAT = "6"
_BATCH = 500  # notes written to the cache at a time
_FILE = "notes.sqlite"
_NAMES = (_FILE, *(_FILE + side for side in SQLITE_SIDE_FILES))
# The tables' layout (SQLite's user_version): an older one's rows are dropped, a newer one (a
# newer memo2anki's) is left alone and not used.
_LAYOUT = 2
_KEPT = 4  # sets of options whose rows are kept: the most recently written
_PAGE = 65536
# What a row holds: the note's path (the key it was stored under), its result (without the
# journal) and the journal. Dataclasses are JSON objects, their fields by name.
_Entry = tuple[str, NoteResult, Journal]


def default_cache_dir() -> Path:
    """``$MEMO2ANKI_CACHE_DIR``, else the system's cache folder for memo2anki (platformdirs:
    ``$XDG_CACHE_HOME/memo2anki`` or ``~/.cache/memo2anki`` on Linux,
    ``~/Library/Caches/memo2anki`` on macOS, ``%LOCALAPPDATA%\\memo2anki\\Cache`` on Windows)."""
    if os.environ.get("MEMO2ANKI_CACHE_DIR"):
        return Path(os.environ["MEMO2ANKI_CACHE_DIR"])
    return platformdirs.user_cache_path("memo2anki", appauthor=False)


def code_fingerprint() -> str:
    """A hash of memo2anki's own code and templates: any change makes old entries unused."""
    digest = hashlib.sha256(_FORMAT.encode())
    # The package's own folder (not importlib.resources, whose import costs every run 10 ms).
    root = Path(__file__).parents[1]
    for path in sorted(root.rglob("*")):
        if path.suffix in {".py", ".html", ".css"} and path.is_file():
            digest.update(path.relative_to(root).as_posix().encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()


@lru_cache(maxsize=4096)
def _shared_path(text: str) -> Path:
    # One object per distinct file: a vault's thousands of image references name a few
    # hundred files (paths are immutable).
    return Path(text)


@lru_cache(maxsize=4096)
def _shared_media(media: Media) -> Media:
    # The same for pictures: the first record equal to this one.
    return media


def _decode_hook(kind: type, value: Any) -> Any:
    if kind is Path and isinstance(value, str):
        return _shared_path(value)
    raise NotImplementedError  # (msgspec then says the value is not of that type)


def _encode_hook(value: Any) -> Any:
    if isinstance(value, Path):
        return str(value)
    raise NotImplementedError


_decoder = msgspec.json.Decoder(_Entry, dec_hook=_decode_hook)
_encoder = msgspec.json.Encoder(enc_hook=_encode_hook)


def dumps(path: str, result: NoteResult, journal: Journal) -> bytes:
    """A row's JSON: the note's path, its result and its journal, as plain data."""
    return _encoder.encode((path, result, journal))


def loads(blob: bytes | str, path: str) -> tuple[NoteResult, Journal]:
    """The result and journal a row's JSON holds for the note at ``path``; ValueError
    (msgspec's, or RecursionError's) for anything else: another shape, a wrong type in any
    field, another note's row."""
    stored, result, journal = _decoder.decode(blob)
    if stored != path:
        raise ValueError("another note's row")
    if any(card.media for card in result.cards):
        cards = tuple(map(_shared_pictures, result.cards))
        result = NoteResult(cards, *_rest(result))
    return result, journal


def _rest(result: NoteResult) -> tuple[Any, ...]:
    return (result.diagnostics, result.has_section, result.lint, result.subjects)


def _shared_pictures(card: Card) -> Card:
    if card.media:  # (a card just decoded, seen by nobody yet)
        object.__setattr__(card, "media", tuple(map(_shared_media, card.media)))
    return card


_SEAL = 64  # a SHA-256 in hex


def seal(options_key: str, path: str, stamp: str, payload: bytes) -> bytes:
    """The row stored for ``payload`` (:func:`dumps`'s): a SHA-256 of it and of what it is
    stored under, then the payload."""
    return _seal_of(options_key, path, stamp, payload) + payload


def unsealed(options_key: str, path: str, stamp: str, blob: bytes) -> bytes | None:
    """The payload of a row stored under these, if its seal is theirs and its own."""
    payload = blob[_SEAL:]
    if blob[:_SEAL] != _seal_of(options_key, path, stamp, payload):
        return None
    return payload


def _seal_of(options_key: str, path: str, stamp: str, payload: bytes) -> bytes:
    digest = hashlib.sha256(f"{options_key}\0{path}\0{stamp}\0".encode())
    digest.update(payload)
    return digest.hexdigest().encode("ascii")


def _open(folder: Path) -> sqlite3.Connection | None:
    """The cache's database in ``folder``, laid out as this memo2anki lays it out; None when
    it is not the cache's to use (one of its files is not a regular file, or it is another
    program's or a newer memo2anki's: see :func:`_laid_out`). One whose files have other names
    too (hard links) is made anew: its names here go, and the file a link shared (another
    program's database, a backup's copy) is never written. A damaged one is made anew once
    set aside (see :func:`_set_aside`)."""
    for again in (False, True):
        found = _files(folder)
        if found is None:
            return None
        if any(info.st_nlink != 1 for info in found):
            if again:
                return None
            _remove(folder)
            continue
        db = sqlite3.connect(folder / _FILE, timeout=5)
        try:
            if _laid_out(db):
                return db
        except sqlite3.Error as err:
            db.close()
            if again or not _is_damage(err) or not _set_aside(folder):
                return None
            continue
        db.close()
        return None
    return None


def _files(folder: Path) -> list[os.stat_result] | None:
    """The database's files that are there, the database and SQLite's files beside it; None
    when one is not a regular file (SQLite would wait for ever on a FIFO) or cannot be
    looked at."""
    found = []
    for name in _NAMES:
        try:
            info = os.lstat(folder / name)
        except FileNotFoundError:
            continue
        except OSError:
            return None
        if not stat.S_ISREG(info.st_mode):
            return None
        found.append(info)
    return found


def _remove(folder: Path, *, aside: bool = False) -> None:
    """Remove the database's files (``aside``: rename them, see :func:`_aside`), so that it
    is made anew: only these names, and only regular files (a FIFO or a folder in their place
    stays, and the cache is not used)."""
    for name in _NAMES:
        with contextlib.suppress(OSError):
            if stat.S_ISREG(os.lstat(folder / name).st_mode):
                if aside:
                    os.rename(folder / name, folder / _aside(name))
                else:
                    os.unlink(folder / name)


def _set_aside(folder: Path) -> bool:
    """Move a damaged database's files aside, ``notes.sqlite.damaged`` and beside it, so that
    it is made anew and nothing is lost: a file that SQLite cannot read may be another
    program's (encrypted, say) in a cache folder named by hand. False, and nothing moved,
    while files set aside before are there: they are never replaced."""
    if any(os.path.lexists(folder / _aside(name)) for name in _NAMES):
        return False
    _remove(folder, aside=True)
    return True


def _aside(name: str) -> str:
    return name.replace(_FILE, _FILE + ".damaged", 1)


def _is_damage(err: sqlite3.Error) -> bool:
    """Whether SQLite found its file damaged (not a database, or its pages malformed)."""
    return getattr(err, "sqlite_errorname", "") in ("SQLITE_NOTADB", "SQLITE_CORRUPT")


def options_key(vault: Path, options: Options) -> str:
    """What a note's cards depend on besides the note: the vault root (their paths and
    identity come from it), whether it is a Digital Garden (its notes are read otherwise),
    and which sections and subjects count; not the output's name."""
    root = str(vault)
    return repr((root, garden_of(vault) is not None, options.sections, options.subjects))


class NoteCache:
    """Cached per-note results in one SQLite file, for one set of options."""

    def __init__(self, folder: Path, options_key: str) -> None:
        self.key = hashlib.sha256(f"{code_fingerprint()}\0{options_key}".encode()).hexdigest()
        self._db: sqlite3.Connection | None = None
        self._pending: list[tuple[str, str, str, bytes]] = []
        self._files: dict[tuple[str, int, int], bool] = {}
        # Each note's stamp as it was before it was read: a note saved while it is read is
        # stored under its old stamp, so the next run reads it again.
        self._stamps: dict[str, str] = {}
        self._real_folders: dict[str, str] = {}
        self._folder = folder
        try:
            folder.mkdir(parents=True, exist_ok=True, mode=0o700)
            self._db = _open(folder)
        except (OSError, sqlite3.Error):
            self._db = None

    def get_many(
        self,
        paths: Sequence[Path],
        still_resolves: Callable[[str, str, Lookup], bool],
        still_publishes: Callable[[str, str, str | None], bool] = lambda *_: False,
    ) -> list[NoteResult | None]:
        """Each path's cached result if nothing it depends on has changed, else None.
        Call it before reading the notes: it takes the stamps that :meth:`put` stores."""
        found: list[NoteResult | None] = [None] * len(paths)
        if self._db is None:
            return found
        with cycle_collection_paused():  # loading makes many objects and no cycles
            for start in range(0, len(paths), _BATCH):
                self._get_batch(paths, start, (still_resolves, still_publishes), found)
        return found

    def _get_batch(
        self,
        paths: Sequence[Path],
        start: int,
        still: tuple[Callable[[str, str, Lookup], bool], Callable[[str, str, str | None], bool]],
        found: list[NoteResult | None],
    ) -> None:
        wanted: dict[str, tuple[int, str]] = {}
        for index in range(start, min(start + _BATCH, len(paths))):
            try:
                key = _key(paths[index])
                key.encode("utf-8")  # a file name that is not valid UTF-8 is never stored
                wanted[key] = (index, self._stamp(key))
            except (OSError, UnicodeEncodeError):
                continue
            self._stamps[key] = wanted[key][1]
        if self._db is None or not wanted:
            return
        marks = ", ".join("?" * len(wanted))
        try:
            rows = self._db.execute(
                f"SELECT path, stamp, result FROM notes WHERE key = ? AND path IN ({marks})",
                (self.key, *wanted),
            ).fetchall()
        except sqlite3.Error as err:
            if _is_damage(err):  # (a lock held by another run is not: it is used next time)
                self._closed(err)
            return
        for path, stamp, blob in rows:
            index, now = wanted[path]
            if stamp == now:
                found[index] = self._load(blob, path, stamp, still)

    def _load(
        self,
        blob: object,
        path: str,
        stamp: str,
        still: tuple[Callable[[str, str, Lookup], bool], Callable[[str, str, str | None], bool]],
    ) -> NoteResult | None:
        """A stored result, if its seal holds and every file and lookup it depended on is as
        it was; None for a row that holds anything else (whatever is in it)."""
        try:
            if not isinstance(blob, bytes):
                return None
            payload = unsealed(self.key, path, stamp, blob)
            if payload is None:
                return None
            result, journal = loads(payload, path)
            if not all(self._unchanged(f) for f in journal.files):
                return None
            still_resolves, still_publishes = still
            if not all(still_resolves(*lookup) for lookup in journal.lookups):
                return None
            if not all(still_publishes(*page) for page in journal.pages):
                return None
        # Checked data can still name odd files (a NUL in a path is a ValueError in os.stat).
        except (ValueError, TypeError, OSError, RecursionError):
            return None
        return result

    def _unchanged(self, file: tuple[str, int, int]) -> bool:
        # Checked once per run: thousands of cards share a few hundred pictures.
        known = self._files.get(file)
        if known is None:
            known = self._files[file] = file_unchanged(*file)
        return known

    def _stamp(self, key: str) -> str:
        """What a note's row is stored under besides its path: its size and
        :func:`~memo2anki.model.file_version`, and where it really is (its cards name the
        note by that: a folder on its way renamed, and the link to it made anew, changes
        no time of the note's)."""
        found = os.lstat(key)
        if stat.S_ISLNK(found.st_mode):
            real, found = os.path.realpath(key), os.stat(key)
        else:  # (each folder's real path worked out once: a vault's notes share a few)
            folder, name = os.path.split(key)
            real_folder = self._real_folders.get(folder)
            if real_folder is None:
                real_folder = self._real_folders[folder] = os.path.realpath(folder)
            real = os.path.join(real_folder, name)
        return f"{found.st_size}:{file_version(found)}:{real}"

    def put(self, path: Path, result: NoteResult, journal: Journal) -> None:
        """Remember a fresh result (written by :meth:`flush`) under the stamp the note had
        when :meth:`get_many` looked it up, before it was read."""
        if self._db is None:
            return
        key = _key(path)
        stamp = self._stamps.pop(key, None)
        if stamp is None:  # not looked up first: when it was read is unknown
            return
        try:
            blob = seal(self.key, key, stamp, dumps(key, result, journal))
        except (TypeError, ValueError, UnicodeEncodeError):
            return
        self._pending.append((key, stamp, self.key, blob))
        if len(self._pending) >= _BATCH:  # bounded memory on a big first run
            self._write()

    def flush(self) -> None:
        """Write what :meth:`put` collected and close."""
        if self._db is None:
            return
        self._write()
        if self._db is not None:  # (None: a write failed, and closed it)
            self._db.close()
        self._db = None

    def _write(self) -> None:
        if self._db is None or not self._pending:
            return
        try:
            with self._db:
                self._db.executemany(
                    "INSERT OR REPLACE INTO notes VALUES (?, ?, ?, ?)", self._pending
                )
                # The rows of options not written lately go (another memo2anki's too), never
                # this run's: a time not yet come (a clock set back since) or not a time
                # counts as the oldest, lest it keep its rows for ever and drop this run's.
                now = time.time()
                self._db.execute("INSERT OR REPLACE INTO written VALUES (?, ?)", (self.key, now))
                older = (
                    "SELECT key FROM written WHERE key <> :key ORDER BY "
                    "typeof(at) IN ('integer', 'real') AND at <= :now DESC, at DESC "
                    "LIMIT -1 OFFSET :others"
                )
                held = {"key": self.key, "now": now, "others": _KEPT - 1}
                self._db.execute(f"DELETE FROM notes WHERE key IN ({older})", held)
                self._db.execute(f"DELETE FROM written WHERE key IN ({older})", held)
        except sqlite3.Error as err:
            self._closed(err)
        self._pending.clear()

    def _closed(self, err: sqlite3.Error) -> None:
        """Close the database after ``err``; a damaged one is made anew, for what is left."""
        if self._db is not None:
            self._db.close()
            self._db = None
        if _is_damage(err) and _set_aside(self._folder):
            with contextlib.suppress(OSError, sqlite3.Error):
                self._db = _open(self._folder)


_NOTES = (
    "CREATE TABLE notes (path TEXT, stamp TEXT, key TEXT, result BLOB, PRIMARY KEY (key, path))"
)
_WRITTEN = "CREATE TABLE written (key TEXT PRIMARY KEY, at REAL)"
# This layout's database as SQLite lists it (sqlite_master, by name).
_SCHEMA = [
    ("table", "notes", "notes", _NOTES),
    ("index", "sqlite_autoindex_notes_1", "notes", None),
    ("index", "sqlite_autoindex_written_1", "written", None),
    ("table", "written", "written", _WRITTEN),
]


def _laid_out(db: sqlite3.Connection) -> bool:
    """Whether the database holds this layout's tables, made now in place of an older
    layout's or of tables of these names laid out otherwise (their rows go); False for a
    newer layout, or a database holding anything else (not memo2anki's), left as it is."""
    schema = "SELECT type, name, tbl_name, sql FROM sqlite_master ORDER BY name"
    layout: int = db.execute("PRAGMA user_version").fetchone()[0]
    if layout > _LAYOUT:
        return False
    if layout < _LAYOUT or db.execute(schema).fetchall() != _SCHEMA:
        # Pages of 64 KiB, which hold a note's row whole (a run reads every row: at 4 KiB,
        # a row's overflow pages were read one by one). Taken by a new file, or by VACUUM.
        db.execute(f"PRAGMA page_size = {_PAGE}")
        with db:
            db.execute("BEGIN IMMEDIATE")  # (two runs at once: one makes the tables)
            layout = db.execute("PRAGMA user_version").fetchone()[0]
            found = db.execute(schema).fetchall()
            if layout > _LAYOUT or any(
                kind == "view" or table not in ("notes", "written") for kind, _, table, _ in found
            ):
                return False
            if layout < _LAYOUT or found != _SCHEMA:
                db.execute("DROP TABLE IF EXISTS notes")
                db.execute("DROP TABLE IF EXISTS written")
                db.execute(_NOTES)
                db.execute(_WRITTEN)
                db.execute(f"PRAGMA user_version = {_LAYOUT}")
    # The last layout's file takes its pages by VACUUM: checked at each opening, not only at
    # the layout's change, as a stop or a failure between the two left 4 KiB for good.
    if db.execute("PRAGMA page_size").fetchone()[0] != _PAGE:
        db.execute(f"PRAGMA page_size = {_PAGE}")
        with contextlib.suppress(sqlite3.Error):
            db.execute("VACUUM")
    return True


def _key(path: Path) -> str:
    # The absolute path as found, not resolved: a re-export looks up every note.
    return os.path.abspath(path)
