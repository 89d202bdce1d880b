"""Find the person's Anki profiles where Anki itself looks for them.

Anki keeps its profiles in one base folder: ``ANKI_BASE`` when set, else the platform's
``Anki2`` folder. In it, ``prefs21.db`` has a table ``profiles(name, data)`` whose ``data`` is
a pickled dict; the row named ``_global`` says which profile was loaded last. Each profile is a
folder of that name holding ``collection.anki2``, ``collection.media/`` and ``backups/``.
"""

from __future__ import annotations

import io
import os
import pickle
import sqlite3
import sys
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from memo2anki.common.files import odd_sqlite_file
from memo2anki.model import Memo2AnkiError

PREFS = "prefs21.db"
FLATPAK_DATA = Path(".var", "app", "net.ankiweb.Anki", "data")


@dataclass(frozen=True)
class Profile:
    """One Anki profile: its name and folder."""

    name: str
    folder: Path

    @property
    def collection(self) -> Path:
        return self.folder / "collection.anki2"

    @property
    def backups(self) -> Path:
        return self.folder / "backups"


def base_folders(
    env: Mapping[str, str] | None = None, platform: str | None = None, home: Path | None = None
) -> list[Path]:
    """Where Anki's base folder may be, in the order Anki (or its Flatpak build) uses them."""
    env = os.environ if env is None else env
    platform = sys.platform if platform is None else platform
    home = Path.home() if home is None else home
    if env.get("ANKI_BASE"):
        return [Path(env["ANKI_BASE"]).expanduser()]
    if platform.startswith("win"):
        appdata = env.get("APPDATA")
        return [Path(appdata, "Anki2") if appdata else home / "AppData" / "Roaming" / "Anki2"]
    if platform == "darwin":
        return [home / "Library" / "Application Support" / "Anki2"]
    xdg = env.get("XDG_DATA_HOME")
    native = Path(xdg, "Anki2") if xdg else home / ".local" / "share" / "Anki2"
    return [native, home / FLATPAK_DATA / "Anki2"]


class _Opaque:
    """Stands in for any object a profile's pickle names (window geometry, Qt types, ...):
    built from nothing, so reading the file never runs a class it names."""

    def __init__(self, *args: object, **kwargs: object) -> None:
        pass

    def __setstate__(self, state: object) -> None:
        pass


class _SafeUnpickler(pickle.Unpickler):
    def find_class(self, module: str, name: str) -> Any:
        return _Opaque


def _unpickle(data: object) -> dict[str, Any]:
    """A profile row's dict, or an empty one when it is not a readable pickled dict."""
    if not isinstance(data, bytes):
        return {}
    try:
        value = _SafeUnpickler(io.BytesIO(data)).load()
    except Exception:  # a damaged row: Anki would reset that profile's settings too
        return {}
    return value if isinstance(value, dict) else {}


@dataclass(frozen=True)
class AnkiProfiles:
    """The profiles in one base folder, and the one Anki loaded last (if it says)."""

    base: Path
    names: tuple[str, ...]
    last: str | None

    def pick(self, name: str | None) -> Profile:
        """The profile called ``name``, else the last-loaded one (or the only one)."""
        if name is not None:
            wanted = unicodedata.normalize("NFC", name.strip())
            found = [n for n in self.names if unicodedata.normalize("NFC", n) == wanted]
            if not found:
                found = [n for n in self.names if n.casefold() == wanted.casefold()]
            if len(found) != 1:
                raise Memo2AnkiError(
                    f"no Anki profile named '{name}' in {self.base}; there are: {self._listed()}"
                )
            return Profile(found[0], self.base / found[0])
        if self.last in self.names:
            return Profile(self.last, self.base / self.last)
        if len(self.names) == 1:
            return Profile(self.names[0], self.base / self.names[0])
        raise Memo2AnkiError(
            f"Anki has {len(self.names)} profiles in {self.base} and none was loaded last; "
            f"pick one with --profile NAME: {self._listed()}"
        )

    def _listed(self) -> str:
        return ", ".join(f"'{n}'" for n in self.names) or "none"


def read_profiles(base: Path) -> AnkiProfiles:
    """The profiles listed in ``base/prefs21.db`` (opened read-only)."""
    prefs = base / PREFS
    if (odd := odd_sqlite_file(prefs)) is not None:  # (SQLite would wait on a FIFO for ever)
        raise Memo2AnkiError(
            f"{odd}: not a regular file (SQLite opens it with Anki's profile list); move it away"
        )
    try:
        conn = sqlite3.connect(f"{prefs.resolve().as_uri()}?mode=ro", uri=True)
        try:
            rows = conn.execute("SELECT name, data FROM profiles").fetchall()
        finally:
            conn.close()
    except sqlite3.Error as err:
        raise Memo2AnkiError(f"{prefs}: cannot read Anki's profile list: {err}") from err
    names = tuple(sorted(str(n) for n, _ in rows if n != "_global"))
    last = None
    for name, data in rows:
        if name == "_global":
            value = _unpickle(data).get("last_loaded_profile_name")
            last = value if isinstance(value, str) else None
    return AnkiProfiles(base, names, last)


def find_profile(
    name: str | None = None,
    env: Mapping[str, str] | None = None,
    platform: str | None = None,
    home: Path | None = None,
) -> Profile:
    """The profile to sync into: ``name``, else the one Anki loaded last, looked up in the
    first base folder that has Anki's profile list."""
    candidates = base_folders(env, platform, home)
    for base in candidates:
        try:
            found = (base / PREFS).is_file()
        except OSError as err:  # (a name too long for the file system, say: not "not there")
            raise Memo2AnkiError(
                f"{base / PREFS}: cannot look for Anki's profile list ({err.strerror or err})"
            ) from err
        if found:
            return read_profiles(base).pick(name)
    looked = ", ".join(str(c) for c in candidates)
    raise Memo2AnkiError(
        f"no Anki profiles found (looked in {looked}); start Anki once, set ANKI_BASE, "
        "or give the collection with --collection FILE"
    )
