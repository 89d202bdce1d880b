"""Find the notes: markdown files under the given paths, and the vault they live in."""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path

from .model import Diagnostic, Memo2AnkiError

MARKDOWN_SUFFIXES = frozenset({".md", ".markdown"})


def is_markdown(path: Path) -> bool:
    """Whether a file name looks like a note (the suffix in any case)."""
    return path.suffix.lower() in MARKDOWN_SUFFIXES


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
    paths: Iterable[Path], exclude: Iterable[Path] = ()
) -> tuple[list[Path], list[Diagnostic]]:
    """Every markdown file named or below a named folder, each once, in path order.

    Folders starting with a dot are skipped; symlinked folders are not followed (they may
    point outside the vault or loop). ``exclude`` names files never to read (the output).
    """
    excluded = {p.resolve() for p in exclude}
    seen: set[Path] = set()
    found: list[Path] = []
    problems: list[Diagnostic] = []
    for given in paths:
        if not given.exists():
            raise Memo2AnkiError(f"{given}: no such file or folder")
        files = _walk(given, problems) if given.is_dir() else iter([given])
        for path in files:
            if given.is_dir() and not is_markdown(path):
                continue
            key = path.resolve()
            if key in seen or key in excluded:
                continue
            seen.add(key)
            found.append(path)
    return found, problems


def _walk(folder: Path, problems: list[Diagnostic]) -> Iterator[Path]:
    def on_error(err: OSError) -> None:
        problems.append(
            Diagnostic(str(err.filename or folder), None, f"cannot read folder: {err.strerror}")
        )

    for dirpath, dirnames, filenames in os.walk(folder, onerror=on_error):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        for name in sorted(filenames):
            if not name.startswith("."):
                yield Path(dirpath, name)
