"""Find the notes: markdown files under the given paths, and the vault they live in."""

from __future__ import annotations

import os
import unicodedata
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path

from memo2anki.model import Diagnostic, Memo2AnkiError, printable

MARKDOWN_SUFFIXES = frozenset({".md", ".markdown"})


def is_markdown(path: str | os.PathLike[str]) -> bool:
    """Whether a file name looks like a note (the suffix in any case)."""
    return os.path.splitext(path)[1].lower() in MARKDOWN_SUFFIXES


def find_vault_root(paths: Sequence[Path], vault: Path | None = None) -> Path:
    """The vault root: ``vault`` if given, else the nearest ancestor of the first path
    holding ``.obsidian/``, else that folder (or the file's folder)."""
    if vault is not None:
        if not vault.is_dir():
            raise Memo2AnkiError(f"{vault}: --vault is not a folder")
        return vault.resolve()
    if not paths:
        raise Memo2AnkiError("no notes given")
    first = paths[0].resolve()
    start = first if first.is_dir() else first.parent
    for folder in (start, *start.parents):
        if (folder / ".obsidian").is_dir():
            return folder
    return start


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
    seen: set[str] = set()
    parents: dict[str, str] = {}
    found: list[Path] = []
    problems: list[Diagnostic] = []
    for given in paths:
        if not given.exists():
            raise Memo2AnkiError(f"{given}: no such file or folder")
        files: Iterator[tuple[Path, bool]]
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
