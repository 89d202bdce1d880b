"""Find the notes: markdown files under the given paths, and the vault they live in."""

from __future__ import annotations

import os
import unicodedata
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from memo2anki.model import Diagnostic, Memo2AnkiError, printable

MARKDOWN_SUFFIXES = frozenset({".md", ".markdown"})


def is_markdown(path: str | os.PathLike[str]) -> bool:
    """Whether a file name looks like a note (the suffix in any case)."""
    return os.path.splitext(path)[1].lower() in MARKDOWN_SUFFIXES


# Where the Digital Garden template keeps a published vault: notes at NOTES/<vault path>,
# pictures at PICTURES/<vault path> (the plugin links them as /img/user/<vault path>).
GARDEN_SITE = ("src", "site")
GARDEN_NOTES = (*GARDEN_SITE, "notes")
GARDEN_PICTURES = (*GARDEN_SITE, "img", "user")


@dataclass(frozen=True)
class Garden:
    """A Digital Garden repository (what the Obsidian Digital Garden plugin publishes): its
    folder, with the published vault's notes and pictures below it."""

    root: Path

    @property
    def site(self) -> Path:
        return self.root.joinpath(*GARDEN_SITE)

    @property
    def notes(self) -> Path:
        """The folder that stands for the vault's root as far as notes go."""
        return self.root.joinpath(*GARDEN_NOTES)

    @property
    def pictures(self) -> Path:
        """The folder that stands for the vault's root as far as pictures go."""
        return self.root.joinpath(*GARDEN_PICTURES)


def is_garden(folder: Path) -> bool:
    """Whether ``folder`` is a Digital Garden repository: it holds ``src/site/notes/`` and a
    marker of the template (``plugin-info.json``, or ``.eleventy.js`` beside ``src/``)."""
    if not folder.joinpath(*GARDEN_NOTES).is_dir():
        return False
    return (folder / "plugin-info.json").is_file() or (folder / ".eleventy.js").is_file()


def garden_root(path: Path) -> Path | None:
    """The Digital Garden repository holding ``path`` (or being it), found upward as
    ``.git`` is; None when ``path`` is in none."""
    start = path.resolve()
    if not start.is_dir():
        start = start.parent
    for folder in (start, *start.parents):
        if is_garden(folder):
            return folder
    return None


def garden_of(vault: Path) -> Garden | None:
    """The garden whose repository is ``vault`` (a vault root found by
    :func:`find_vault_root`), or None for an Obsidian vault or a plain folder."""
    return Garden(vault) if is_garden(vault) else None


def find_vault_root(paths: Sequence[Path], vault: Path | None = None) -> Path:
    """The vault root: ``vault`` if given, else the nearest ancestor of the first path
    holding ``.obsidian/`` or being a Digital Garden repository (:func:`is_garden`), else
    that folder (or the file's folder)."""
    if vault is not None:
        if not vault.is_dir():
            raise Memo2AnkiError(f"{vault}: --vault is not a folder")
        return vault.resolve()
    if not paths:
        raise Memo2AnkiError("no notes given")
    first = paths[0].resolve()
    start = first if first.is_dir() else first.parent
    for folder in (start, *start.parents):
        if (folder / ".obsidian").is_dir() or is_garden(folder):
            return folder
    return start


def notes_root(vault: Path) -> Path:
    """The folder note paths are relative to: the vault root, or a garden's notes folder
    (so a note's path, and its cards' identity, are the same from the vault and its garden)."""
    garden = garden_of(vault)
    return garden.notes if garden is not None else vault


def find_notes(
    paths: Iterable[Path], exclude: Iterable[Path] = (), vault: Path | None = None
) -> tuple[list[Path], list[Diagnostic]]:
    """Every markdown file named or below a named folder, each once, in path order.

    Folders starting with a dot are skipped; symlinked folders are not followed (they may
    point outside the vault or loop). A note that is a symlink is read only if it leads to a
    file inside ``vault``; other links (out of the vault, broken, looping) are warnings.
    ``exclude`` names files never to read (the output).
    """
    excluded = {_real(p) or os.path.abspath(p) for p in exclude}
    garden = garden_of(vault) if vault is not None else None
    seen: set[str] = set()
    parents: dict[str, str] = {}
    found: list[Path] = []
    problems: list[Diagnostic] = []
    for given in paths:
        if not given.exists():
            raise Memo2AnkiError(f"{given}: no such file or folder")
        files: Iterator[tuple[Path, bool]]
        if garden is not None and given.is_dir() and _holds(given, garden.notes):
            # A garden's notes are only those below src/site/notes/: not its README, nor
            # the site's templates or node_modules.
            given = garden.notes
        if given.is_dir():
            files = (
                (Path(path), link)
                for path, link in _walk(str(given), vault, problems)
                if is_markdown(path)
            )
        else:
            files = iter([(given, os.path.islink(given))])
        for path, link in files:
            real = _real(path, parents, link)
            problem = _link_problem(real, vault) if link else None
            if problem is not None:
                problems.append(Diagnostic(shown_path(path, vault), None, problem))
                continue
            key = real or os.path.abspath(path)
            if key in seen or key in excluded:
                continue
            seen.add(key)
            found.append(path)
    return found, problems


def _holds(folder: Path, inner: Path) -> bool:
    """Whether ``inner`` is ``folder`` or below it (both as they really are)."""
    return inner.resolve().is_relative_to(folder.resolve())


def shown_path(path: Path, vault: Path | None) -> str:
    """How a file is named in messages: vault-relative if inside it (the link itself, not
    where it leads), posix, NFC, printable."""
    absolute = Path(os.path.abspath(path))
    if vault is not None and absolute.is_relative_to(vault):
        text = absolute.relative_to(vault).as_posix()
    else:
        text = path.as_posix()
    return unicodedata.normalize("NFC", printable(text))


def real_path(
    path: str | os.PathLike[str],
    folders: dict[str, str] | None = None,
    *,
    strict: bool = False,
    link: bool | None = None,
) -> str:
    """``os.path.realpath(path)``, with each folder's real path worked out once and kept in
    ``folders`` (if given): a vault's thousands of files share a few folders, which do not move
    during a run. ``link``: whether ``path`` is a symlink, when that is known already."""
    if folders is None or (link if link is not None else os.path.islink(path)):
        return os.path.realpath(path, strict=strict)
    folder, name = os.path.split(os.path.abspath(path))
    real = folders.get(folder)
    if real is None:
        real = folders[folder] = os.path.realpath(folder, strict=strict)
    return os.path.join(real, name)


def _real(path: Path, parents: dict[str, str] | None = None, link: bool = True) -> str | None:
    """Where ``path`` really is, or None if it leads nowhere (missing, or a symlink loop).
    ``parents``: see :func:`real_path` (``link``: whether ``path`` is a symlink)."""
    try:
        return real_path(path, parents, strict=True, link=link)
    except OSError:
        return None


def _link_problem(real: str | None, vault: Path | None) -> str | None:
    """What is wrong with a note that is a symlink leading to ``real``, if anything."""
    if real is None:
        return "symbolic link that leads nowhere (missing or a loop); not read"
    if vault is not None and not Path(real).is_relative_to(vault):
        return "symbolic link to a file outside the vault; not read"
    return None


def _walk(
    folder: str, vault: Path | None, problems: list[Diagnostic]
) -> Iterator[tuple[str, bool]]:
    """Every file below ``folder`` in path order (names starting with a dot skipped, symlinked
    folders not entered), each with whether it is a symlink. ``os.scandir`` tells that without
    a system call per file, which ``os.walk`` does not pass on. A stack, not recursion: a
    vault may nest folders deeper than Python's recursion limit."""
    stack = [folder]
    while stack:
        current = stack.pop()
        try:
            with os.scandir(current) as listing:
                entries = sorted(listing, key=lambda entry: entry.name)
        except OSError as err:
            where = shown_path(Path(err.filename), vault) if err.filename else current
            problems.append(Diagnostic(where, None, f"cannot read folder: {err.strerror}"))
            continue
        folders = []
        for entry in entries:
            if entry.name.startswith("."):
                continue
            try:
                is_folder = entry.is_dir()
            except OSError:  # a symlink loop: shown as a file, then reported
                is_folder = False
            if not is_folder:
                yield entry.path, entry.is_symlink()
            elif not entry.is_symlink():
                folders.append(entry.path)
        stack.extend(reversed(folders))  # the first folder next, as recursion would
