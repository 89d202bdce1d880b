"""A package of chosen plan notes: how a live sync adds notes, so that they carry their GUIDs
and memo2anki's note types keep their frozen ids (which no other way into Anki can set), and
a package imported later, or before, matches them instead of duplicating them."""

from __future__ import annotations

import tempfile
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path

from memo2anki.changes.notes import HeldNoteType, TargetNote
from memo2anki.model import Media
from memo2anki.targets.package import PackageInfo, write_notes


@contextmanager
def notes_package(
    notes: Iterable[TargetNote], media: Sequence[Media], held: Mapping[int, HeldNoteType]
) -> Iterator[PackageInfo]:
    """A temporary .apkg of ``notes`` and ``media``, deleted after the ``with`` block; with
    memo2anki's note types the collection holds (``held``, by id) as it holds them, so that
    importing it changes none of them (see :func:`~memo2anki.targets.package.write_notes`).
    What was written: its ``missing`` pictures, gone since found, are not in it."""
    with tempfile.TemporaryDirectory(prefix="memo2anki-sync-") as work:
        yield write_notes(notes, media, Path(work, "new-notes.apkg"), held)
