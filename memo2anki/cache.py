"""Remember each note's cards between runs, so re-exporting a big vault only reads what changed.

An entry is used only while everything that went into it is unchanged: the note file (size and
modification time), every file it embedded, every image lookup's outcome (a picture added,
moved or deleted changes it), the options, and memo2anki's own code. A cache that cannot be
read or written is simply not used: it never changes a deck and never fails a run.
"""

from __future__ import annotations

import copyreg
import hashlib
import io
import os
import pickle
import sqlite3
from collections.abc import Callable, Sequence
from functools import lru_cache
from pathlib import Path, PosixPath, WindowsPath
from typing import Any

from .gcpause import cycle_collection_paused
from .media import Journal, Lookup, file_unchanged
from .model import Media

_FORMAT = "2"
_BATCH = 500  # notes written to the cache at a time


def default_cache_dir() -> Path:
    """``$MEMO2ANKI_CACHE_DIR``, else ``$XDG_CACHE_HOME/memo2anki``, else ``~/.cache/memo2anki``."""
    if os.environ.get("MEMO2ANKI_CACHE_DIR"):
        return Path(os.environ["MEMO2ANKI_CACHE_DIR"])
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "memo2anki"


def code_fingerprint() -> str:
    """A hash of memo2anki's own code and templates: any change makes old entries unused."""
    digest = hashlib.sha256(_FORMAT.encode())
    # The package's own folder (not importlib.resources, whose import costs every run 10 ms).
    root = Path(__file__).parent
    for path in sorted(root.rglob("*")):
        if path.suffix in {".py", ".html", ".css"} and path.is_file():
            digest.update(path.relative_to(root).as_posix().encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()


class NoteCache:
    """Cached per-note results in one SQLite file, for one set of options."""

    def __init__(self, folder: Path, options_key: str) -> None:
        self.key = hashlib.sha256(f"{code_fingerprint()}\0{options_key}".encode()).hexdigest()
        self._db: sqlite3.Connection | None = None
        self._pending: list[tuple[str, str, str, bytes]] = []
        self._files: dict[tuple[str, int, int], bool] = {}
        try:
            folder.mkdir(parents=True, exist_ok=True, mode=0o700)
            self._db = sqlite3.connect(folder / "notes.sqlite", timeout=5)
            self._db.execute(
                "CREATE TABLE IF NOT EXISTS notes "
                "(path TEXT PRIMARY KEY, stamp TEXT, key TEXT, result BLOB)"
            )
        except (OSError, sqlite3.Error):
            self._db = None

    def get_many(
        self, paths: Sequence[Path], still_resolves: Callable[[str, str, Lookup], bool]
    ) -> list[object | None]:
        """Each path's cached result if nothing it depends on has changed, else None."""
        found: list[object | None] = [None] * len(paths)
        if self._db is None:
            return found
        with cycle_collection_paused():  # unpickling makes many objects and no cycles
            for start in range(0, len(paths), _BATCH):
                self._get_batch(paths, start, still_resolves, found)
        return found

    def _get_batch(
        self,
        paths: Sequence[Path],
        start: int,
        still_resolves: Callable[[str, str, Lookup], bool],
        found: list[object | None],
    ) -> None:
        wanted: dict[str, tuple[int, str]] = {}
        for index in range(start, min(start + _BATCH, len(paths))):
            try:
                key = _key(paths[index])
                key.encode("utf-8")  # a file name that is not valid UTF-8 is never stored
                wanted[key] = (index, _stamp(paths[index]))
            except (OSError, UnicodeEncodeError):
                continue
        if self._db is None or not wanted:
            return
        marks = ", ".join("?" * len(wanted))
        try:
            rows = self._db.execute(
                f"SELECT path, stamp, result FROM notes WHERE key = ? AND path IN ({marks})",
                (self.key, *wanted),
            ).fetchall()
        except sqlite3.Error:
            return
        for path, stamp, blob in rows:
            index, now = wanted[path]
            if stamp == now:
                found[index] = self._load(blob, still_resolves)

    def _load(
        self, blob: bytes, still_resolves: Callable[[str, str, Lookup], bool]
    ) -> object | None:
        """A stored result, if every file and lookup it depended on is as it was."""
        try:
            result, journal = pickle.loads(blob)
        except (pickle.UnpicklingError, ValueError, EOFError, AttributeError, ImportError):
            return None
        if not all(self._unchanged(f) for f in journal.files):
            return None
        if not all(still_resolves(*lookup) for lookup in journal.lookups):
            return None
        return result  # type: ignore[no-any-return]

    def _unchanged(self, file: tuple[str, int, int]) -> bool:
        # Checked once per run: thousands of cards share a few hundred pictures.
        known = self._files.get(file)
        if known is None:
            known = self._files[file] = file_unchanged(*file)
        return known

    def put(self, path: Path, result: object, journal: Journal) -> None:
        """Remember a fresh result (written by :meth:`flush`)."""
        if self._db is None:
            return
        try:
            key = _key(path)
            key.encode("utf-8")  # a file name that is not valid UTF-8 cannot be stored
            blob = _dumps((result, journal))
            self._pending.append((key, _stamp(path), self.key, blob))
        except (OSError, pickle.PicklingError, UnicodeEncodeError):
            return
        if len(self._pending) >= _BATCH:  # bounded memory on a big first run
            self._write()

    def flush(self) -> None:
        """Write what :meth:`put` collected and close."""
        if self._db is None:
            return
        self._write()
        self._db.close()
        self._db = None

    def _write(self) -> None:
        if self._db is None:
            return
        try:
            with self._db:
                self._db.executemany(
                    "INSERT OR REPLACE INTO notes VALUES (?, ?, ?, ?)", self._pending
                )
        except sqlite3.Error:
            self._db.close()
            self._db = None
        self._pending.clear()


@lru_cache(maxsize=4096)
def _shared_path(text: str) -> Path:
    return Path(text)


@lru_cache(maxsize=4096)
def _shared_media(path: str, name: str, sha256: str) -> Media:
    return Media(_shared_path(path), name, sha256)


# Paths and media are stored as plain strings and loaded through the functions above, which
# give one object for each distinct file (they are immutable): a vault's thousands of image
# references name a few hundred files. Only these types cost a Python call when pickled.
_REDUCERS: dict[type, Callable[[Any], Any]] = {
    **copyreg.dispatch_table,
    PosixPath: lambda path: (_shared_path, (str(path),)),
    WindowsPath: lambda path: (_shared_path, (str(path),)),
    Media: lambda media: (_shared_media, (str(media.path), media.name, media.sha256)),
}


def _dumps(obj: object) -> bytes:
    buffer = io.BytesIO()
    pickler = pickle.Pickler(buffer, protocol=pickle.HIGHEST_PROTOCOL)
    pickler.dispatch_table = _REDUCERS
    pickler.dump(obj)
    return buffer.getvalue()


def _key(path: Path) -> str:
    # The absolute path as found, not resolved: a re-export looks up every note.
    return os.path.abspath(path)


def _stamp(path: Path) -> str:
    stat = path.stat()
    return f"{stat.st_size}:{stat.st_mtime_ns}"
