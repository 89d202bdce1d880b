"""Resolve media: find the file an image reference names, inside the vault and nowhere else."""

from __future__ import annotations

import errno
import hashlib
import os
import re
import stat
import unicodedata
from pathlib import Path, PurePosixPath
from typing import BinaryIO
from urllib.parse import unquote

from memo2anki.common.files import file_kind, open_regular, read_within
from memo2anki.model import Journal, Lookup, Media, file_version, media_name
from memo2anki.notes.discover import garden_of, real_path
from memo2anki.notes.garden import Pages

IMAGE_SUFFIXES = frozenset(
    {".png", ".jpg", ".jpeg", ".gif", ".webp", ".svg", ".bmp", ".avif", ".ico", ".tif", ".tiff"}
)
DIGITAL_GARDEN_PREFIX = "/img/user/"
_REMOTE = re.compile(r"^https?://", re.IGNORECASE)
_SCHEME = re.compile(r"^[a-z][a-z0-9+.-]*:", re.IGNORECASE)
_WINDOWS_ABS = re.compile(r"^(?:[a-z]:[\\/]|\\\\|//)", re.IGNORECASE)
# Anki's own limit on one media file (rslib's MAX_INDIVIDUAL_MEDIA_FILE_SIZE): AnkiWeb syncs
# none larger, so a larger picture would stay on one device; and a package or AnkiConnect's
# request would carry all of it (AnkiConnect's, in memory).
MAX_PICTURE_BYTES = 100 * 1024 * 1024
# How a lookup's problem ends when what the reference names is there but is no regular file.
NOT_REGULAR = ", not a regular file; not embedded"


def file_unchanged(path: str, size: int, version: int) -> bool:
    """Whether a file journaled earlier is still the same (by size and
    :func:`~memo2anki.model.file_version`)."""
    try:
        stat = os.stat(path)
    except OSError:
        return False
    return stat.st_size == size and file_version(stat) == version


def is_remote(ref: str) -> bool:
    """Whether a reference is a web URL, left as a link and never downloaded."""
    return bool(_REMOTE.match(ref.strip()))


def is_image(name: str) -> bool:
    """Whether a file's name has an image suffix (any case). The name as on disk: a ``?`` in
    it is part of it (``what?.png``)."""
    return PurePosixPath(name).suffix.lower() in IMAGE_SUFFIXES


def names_image(ref: str) -> bool:
    """Whether a reference, as written, names an image file: its query is taken off before
    it is decoded, so an encoded ``%3F`` stays in the name, as the file is looked up."""
    return is_image(unquote(_path_of(ref.strip())))


def _path_of(ref: str) -> str:
    """A reference's path, still encoded: without its ``#fragment`` and ``?query``."""
    return ref.split("#", 1)[0].split("?", 1)[0]


class MediaResolver:
    """Finds referenced files the way Obsidian does, refusing anything outside the vault.

    In a Digital Garden repository, the vault's root is two folders: its notes folder for
    notes and its pictures folder (``/img/user/``) for pictures, and nothing outside the
    site's folder is taken (not the repository's README, nor the built site's copies).

    The index of file names for the vault-wide search is built once, on first need.
    """

    def __init__(self, vault: Path) -> None:
        self.vault = vault.resolve()
        garden = garden_of(self.vault)
        # Where a note's path starts, and the folders a vault-relative reference is tried in.
        self.notes = garden.notes if garden is not None else self.vault
        self.pages = Pages(garden.notes) if garden is not None else None
        self._roots = (
            [str(garden.pictures), str(garden.notes)] if garden is not None else [str(self.vault)]
        )
        self._root = str(garden.site) if garden is not None else str(self.vault)
        self._by_name: dict[str, list[str]] | None = None
        self._cache: dict[tuple[str, str], Lookup] = {}
        self._real_folders: dict[str, str] = {}
        self._listings: dict[str, dict[str, str]] = {}
        # What each step found, by its inputs: the vault does not change during a run.
        self._files_at: dict[str, tuple[str | None, bool]] = {}
        self._by_name_found: dict[tuple[str, Folders, str], tuple[str | None, bool]] = {}
        self._found_lookups: dict[str, Lookup] = {}
        self.journal: Journal | None = None

    def resolve(self, ref: str, note_dir: Path | str) -> Lookup:
        """Look ``ref`` up relative to the note's folder, the vault root, the Digital Garden
        prefix removed, then by file name anywhere in the vault."""
        folder = os.path.abspath(note_dir)
        key = (ref, folder)
        lookup = self._cache.get(key)
        if lookup is None:
            lookup = self._cache[key] = self._resolve(ref, folder)
        if self.journal is not None:
            self.journal.lookups.append((ref, folder, lookup))
        return lookup

    def still_finds(self, ref: str, note_dir: str, outcome: Lookup) -> bool:
        """Whether a reference looked up in an earlier run still finds what it found then
        (``note_dir`` as :meth:`resolve` recorded it, made absolute then)."""
        key = (ref, note_dir)
        lookup = self._cache.get(key)
        if lookup is None:
            lookup = self._cache[key] = self._resolve(ref, note_dir)
        return lookup == outcome

    def still_publishes(self, permalink: str, embedded: str, note: str | None) -> bool:
        """Whether a garden page looked up in an earlier run is still the same note's."""
        return self.pages is not None and self.pages.note_of(permalink, embedded) == note

    # Paths are strings (os.path) from here on, not pathlib objects: a re-export checks every
    # image lookup of the vault again, and pathlib's objects cost several times more.
    def _resolve(self, ref: str, note_dir: str) -> Lookup:
        raw = ref.strip()
        if is_remote(raw):
            return Lookup(remote=True)
        text = unicodedata.normalize("NFC", unquote(_path_of(raw)))
        if not text:
            return Lookup(problem="empty image reference")
        if "\x00" in text:  # `%00`: no file has that name, and os calls raise on it
            return Lookup(problem=f"not a file name: {ref}")
        if _WINDOWS_ABS.match(text) or _SCHEME.match(text):
            return Lookup(problem=f"'{text}' is outside the vault; not embedded")
        text = text.replace("\\", "/")
        roots = self._roots
        candidates: list[str] = []
        if text.startswith(DIGITAL_GARDEN_PREFIX):
            candidates.append(os.path.join(roots[0], text[len(DIGITAL_GARDEN_PREFIX) :]))
        if text.startswith("/"):
            candidates += [os.path.join(root, text.lstrip("/")) for root in roots]
        else:
            candidates.append(os.path.join(note_dir, text))
            candidates += [os.path.join(root, text) for root in roots]
        refused = False
        for candidate in candidates:
            found, was_refused = self._file_at(candidate)
            if found is not None:
                return self._found(found)
            refused = refused or was_refused
        found, name_refused = self._by_file_name(text, note_dir)
        if found is not None:
            return self._found(found)
        if refused or name_refused:
            return Lookup(problem=f"'{text}' is outside the vault; not embedded")
        kind = self._not_regular([*candidates, *self._named(text)])
        if kind is not None:
            return Lookup(problem=f"'{text}' is {kind}{NOT_REGULAR}")
        return Lookup(problem=f"image not found: {text}")

    def _not_regular(self, paths: list[str]) -> str | None:
        """What the first of ``paths`` inside the vault that is there but is not a regular
        file is (a folder, a FIFO, ...): never opened, a FIFO would be waited on for ever."""
        for path in paths:
            inside = self._inside(path)
            if inside is None:
                continue
            try:
                mode = os.stat(inside).st_mode
            except OSError:
                continue
            if not stat.S_ISREG(mode):
                return file_kind(mode)
        return None

    def _file_at(self, candidate: str) -> tuple[str | None, bool]:
        """The file a candidate path names (its real path), and whether the path was refused
        for leaving the vault. Remembered: the notes of many folders try the same paths."""
        known = self._files_at.get(candidate)
        if known is None:
            inside = self._inside(candidate)
            if inside is None:
                known = (None, True)
            elif os.path.isfile(inside):
                known = (inside, False)
            else:
                known = (self._other_normalization(inside), False)
            self._files_at[candidate] = known
        return known

    def _found(self, path: str) -> Lookup:
        """The lookup of a file found (one per file: lookups are compared, never changed)."""
        lookup = self._found_lookups.get(path)
        if lookup is None:
            lookup = self._found_lookups[path] = Lookup(path=Path(path))
        return lookup

    def _inside(self, candidate: str) -> str | None:
        """The real path if it stays inside the vault (also after symlinks), else None."""
        normal = os.path.normpath(candidate)
        if not _within(normal, self._root):
            return None
        try:
            real = real_path(normal, self._real_folders)
        except (OSError, RuntimeError):  # a symlink loop
            return None
        return real if _within(real, self._root) else None

    def _other_normalization(self, path: str) -> str | None:
        """The file ``path`` names (inside the vault, missing as spelled) with every name
        compared in NFC: macOS writes Korean names decomposed (NFD), links are composed."""
        relative = path[len(self._root) :].lstrip(os.sep)  # (inside it: see _inside)
        if relative.isascii():  # NFC and NFD differ only outside ASCII (the root itself too)
            return None
        current = self._root
        for part in relative.split(os.sep):
            if not os.path.lexists(os.path.join(current, part)):
                on_disk = self._names(current).get(unicodedata.normalize("NFC", part))
                if on_disk is None:
                    return None
                part = on_disk
            current = os.path.join(current, part)
        inside = self._inside(current)  # again: a name matched may be a symlink
        return inside if inside is not None and os.path.isfile(inside) else None

    def _names(self, folder: str) -> dict[str, str]:
        """A folder's entries by NFC name (listed once: the vault does not change mid-run)."""
        if folder not in self._listings:
            try:
                names = os.listdir(folder)
            except OSError:
                names = []
            self._listings[folder] = {unicodedata.normalize("NFC", n): n for n in names}
        return self._listings[folder]

    def _by_file_name(self, text: str, note_dir: str) -> tuple[str | None, bool]:
        """The nearest file of the name ``text`` (a reference, decoded) ends with, in a folder
        whose path ends with the folders ``text`` names before it, as Obsidian finds a link
        with a path (``b/arch.png`` is ``image/b/arch.png``, never ``image/a/arch.png``); and
        whether one was refused for leaving the vault."""
        name = PurePosixPath(text).name
        matches = self._named(text)
        folders = _folders_named(text)
        # Which of several files is nearest depends on the note's folder; one file does not.
        key = (name, folders, note_dir if len(matches) > 1 else "")
        known = self._by_name_found.get(key)
        if known is None:
            known = self._by_name_found[key] = self._nearest(matches, note_dir)
        return known

    def _named(self, text: str) -> list[str]:
        """The files anywhere in the vault of the name ``text`` ends with, in folders whose
        path ends with those ``text`` names (see :meth:`_by_file_name`)."""
        name = PurePosixPath(text).name
        if not name or name in {".", ".."}:
            return []
        if self._by_name is None:
            self._by_name = {}
            for folder in self._roots:
                for name_key, paths in _index_vault(Path(folder)).items():
                    self._by_name.setdefault(name_key, []).extend(paths)
        matches = self._by_name.get(_folded(name), [])
        folders = _folders_named(text)
        if folders:
            matches = [
                path for path in matches if self._folders_of(path)[-len(folders) :] == folders
            ]
        return matches

    def _folders_of(self, path: str) -> Folders:
        """The folders of a file found in the vault, from its root down, compared as the
        names are (NFC, case folded)."""
        folder = os.path.dirname(path)
        root = next((r for r in self._roots if _within(folder, r)), folder)
        relative = os.path.relpath(folder, root)
        if relative == os.curdir:
            return ()
        return tuple(_folded(part) for part in relative.split(os.sep))

    def _nearest(self, matches: list[str], note_dir: str) -> tuple[str | None, bool]:
        # Like Obsidian, prefer the file nearest the note, then the shortest path.
        def rank(path: str) -> tuple[int, int, str]:
            shared = len(os.path.commonpath([os.path.dirname(path), note_dir]).split(os.sep))
            return (-shared, path.count(os.sep), path)

        refused = False
        for path in sorted(matches, key=rank):
            inside = self._inside(path)
            if inside is None:
                refused = True
            elif os.path.isfile(inside):
                return inside, False
        return None, refused


# A path's folders, each NFC and case folded.
Folders = tuple[str, ...]


def _folded(name: str) -> str:
    return unicodedata.normalize("NFC", name).casefold()


def _folders_named(text: str) -> Folders:
    """The folders a reference names before its file's name, which the folder of a file
    found by name must end with. ``./`` and ``../`` say where to start from, not a folder's
    name: only those after the last ``..`` count; so does the Digital Garden prefix."""
    text = text.removeprefix(DIGITAL_GARDEN_PREFIX)
    parts = text.split("/")[:-1]
    if ".." in parts:
        parts = parts[len(parts) - parts[::-1].index("..") :]
    return tuple(_folded(part) for part in parts if part not in {"", "."})


def _within(path: str, root: str) -> bool:
    return path == root or path.startswith(root.rstrip(os.sep) + os.sep)


def _index_vault(vault: Path) -> dict[str, list[str]]:
    # A stack, not os.walk: before Python 3.12 it recurses, and a vault may nest folders
    # deeper than the recursion limit.
    index: dict[str, list[str]] = {}
    stack = [str(vault)]
    while stack:
        folder = stack.pop()
        try:
            with os.scandir(folder) as listing:
                entries = list(listing)
        except OSError:
            continue
        for entry in entries:
            try:
                is_folder = entry.is_dir()
            except OSError:
                is_folder = False
            if is_folder:  # as os.walk: a symlinked folder is neither a file nor entered
                if not entry.name.startswith(".") and not entry.is_symlink():
                    stack.append(entry.path)
            else:
                index.setdefault(_folded(entry.name), []).append(entry.path)
    return index


class MediaStore:
    """Names each distinct file by its content, hashing every file once."""

    def __init__(self) -> None:
        self._by_path: dict[Path, Media] = {}
        self._stamps: dict[Path, tuple[str, int, int]] = {}  # each file as it was hashed
        self.journal: Journal | None = None

    def add(self, path: Path) -> Media:
        """The :class:`Media` for a resolved file (read and hashed on first sight)."""
        media = self._by_path.get(path)
        if self.journal is not None:
            if media is None:
                self._stamps[path] = self.journal.record_file(path)
            else:  # as it was when hashed, not as it is now
                self.journal.files.append(self._stamps.get(path) or self.journal.record_file(path))
        if media is None:
            digest = hashlib.sha256()
            with open_picture(path) as f:
                for chunk in iter(lambda: f.read(1 << 20), b""):
                    digest.update(chunk)
                file_id = _file_id(f)
            sha = digest.hexdigest()
            media = Media(path, media_name(sha, path.suffix), sha, file_id)
            self._by_path[path] = media
        return media


class PictureTooLarge(OSError):
    """A picture larger than :data:`MAX_PICTURE_BYTES`: left out of the deck."""

    def __init__(self, path: Path, size: int) -> None:
        super().__init__(errno.EFBIG, f"larger than {_mib(MAX_PICTURE_BYTES)}", str(path))
        self.size = size


def open_picture(path: Path) -> BinaryIO:
    """A picture's file (its real path, as found), opened to read: :class:`OSError` if it is
    gone or is no longer a regular file (never waited on), or is a symbolic link now (it may
    lead out of the vault: it was checked before it was one), :class:`PictureTooLarge` if
    it is larger than Anki takes."""
    file = open_regular(path)
    size = os.fstat(file.fileno()).st_size
    if size > MAX_PICTURE_BYTES:
        file.close()
        raise PictureTooLarge(path, size)
    return file


def open_media(media: Media) -> BinaryIO:
    """A picture's file opened as :func:`open_picture` opens it, and only if it is still the
    file that was hashed: :class:`OSError` if another is at its path now (one of its folders
    made a symbolic link out of the vault, say)."""
    file = open_picture(media.path)
    if media.file_id is not None and _file_id(file) != media.file_id:
        file.close()
        raise OSError(errno.ENOENT, "not the file found there before", str(media.path))
    return file


def read_media(media: Media) -> bytes:
    """A picture's bytes, from the file :func:`open_media` opens (one that grew past Anki's
    limit since it was opened is not read on)."""
    with open_media(media) as file:
        return read_within(file, MAX_PICTURE_BYTES, media.path)


def _file_id(file: BinaryIO) -> tuple[int, int]:
    info = os.fstat(file.fileno())
    return info.st_dev, info.st_ino


def picture_size(size: int) -> str:
    """A picture's size as a warning says it (``3.0 GiB``, ``120.5 MiB``; in bytes when
    rounded it would read as no larger than the limit: ``104,857,601 bytes``)."""
    if size >= 1 << 30:
        return f"{size / (1 << 30):.1f} GiB"
    if size > MAX_PICTURE_BYTES >= round(size / (1 << 20), 1) * (1 << 20):
        return f"{size:,} bytes"
    return f"{size / (1 << 20):.1f} MiB"


def _mib(size: int) -> str:
    return f"{size >> 20} MiB"
