"""Remember each note's cards between runs, so re-exporting a big vault only reads what changed.

An entry is used only while everything that went into it is unchanged: the note file (size and
modification time), every file it embedded, every image lookup's outcome (a picture added,
moved or deleted changes it), the options, and memo2anki's own code. A cache that cannot be
read or written is simply not used: it never changes a deck and never fails a run.
"""

from __future__ import annotations

import hashlib
import os
import pickle
import sqlite3
from collections.abc import Callable
from importlib import resources
from pathlib import Path

from .media import Journal, Lookup, file_unchanged

_FORMAT = "1"
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
    root = resources.files("memo2anki")
    for path in sorted(Path(str(root)).rglob("*")):
        if path.suffix in {".py", ".html", ".css"} and path.is_file():
            digest.update(path.relative_to(Path(str(root))).as_posix().encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()


class NoteCache:
    """Cached per-note results in one SQLite file, for one set of options."""

    def __init__(self, folder: Path, options_key: str) -> None:
        self.key = hashlib.sha256(f"{code_fingerprint()}\0{options_key}".encode()).hexdigest()
        self._db: sqlite3.Connection | None = None
        self._pending: list[tuple[str, str, str, bytes]] = []
        try:
            folder.mkdir(parents=True, exist_ok=True, mode=0o700)
            self._db = sqlite3.connect(folder / "notes.sqlite", timeout=5)
            self._db.execute(
                "CREATE TABLE IF NOT EXISTS notes "
                "(path TEXT PRIMARY KEY, stamp TEXT, key TEXT, result BLOB)"
            )
        except (OSError, sqlite3.Error):
            self._db = None

    def get(self, path: Path, still_resolves: Callable[[str, str, Lookup], bool]) -> object | None:
        """The cached result for ``path`` if nothing it depends on has changed, else None."""
        if self._db is None:
            return None
        try:
            row = self._db.execute(
                "SELECT result FROM notes WHERE path = ? AND stamp = ? AND key = ?",
                (str(path.resolve()), _stamp(path), self.key),
            ).fetchone()
            if row is None:
                return None
            result, journal = pickle.loads(row[0])
        except (OSError, sqlite3.Error, pickle.UnpicklingError, ValueError, EOFError):
            return None
        if not all(file_unchanged(*f) for f in journal.files):
            return None
        if not all(still_resolves(*lookup) for lookup in journal.lookups):
            return None
        return result  # type: ignore[no-any-return]

    def put(self, path: Path, result: object, journal: Journal) -> None:
        """Remember a fresh result (written by :meth:`flush`)."""
        if self._db is None:
            return
        try:
            key = str(path.resolve())
            key.encode("utf-8")  # a file name that is not valid UTF-8 cannot be stored
            blob = pickle.dumps((result, journal), protocol=pickle.HIGHEST_PROTOCOL)
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


def _stamp(path: Path) -> str:
    stat = path.stat()
    return f"{stat.st_size}:{stat.st_mtime_ns}"
