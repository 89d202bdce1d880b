"""The Anki note ids memo2anki met through AnkiConnect, by profile and GUID, kept beside the
ledger in ``.memo2anki/anki-note-ids.json``.

AnkiConnect cannot find a note by its GUID, and the fields a note was found by are the
person's to edit in Anki: a note once added or found is found by its id from then on, and by
its fields only when memo2anki never saw it. Losing the file costs nothing but that: the
notes are found by their fields again.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from pathlib import Path

from memo2anki.changes import rows_file
from memo2anki.changes.ledger import FOLDER, Damaged, folder_problem, json_value
from memo2anki.model import Diagnostic, plural, printable

FILE_NAME = "anki-note-ids.json"
FORMAT = "memo2anki anki note ids"
VERSION = 1


def _path(home: Path) -> Path:
    return home / FOLDER / FILE_NAME


class _Damaged(ValueError):
    """The file is there and is not one memo2anki wrote (the reason)."""


def _read(home: Path) -> dict[str, dict[str, int]]:
    """The file's note ids by profile (empty: no file); _Damaged when it is there but cannot
    be read as memo2anki writes it (a merge's conflict markers, a cut, another format), or
    is not a regular file (a FIFO is never waited on, a link never followed)."""
    try:
        raw = rows_file.read_regular(_path(home))
    except FileNotFoundError:
        return {}
    except OSError as err:
        raise _Damaged(err.strerror or str(err)) from None
    try:
        data = json_value(raw)
    except Damaged as err:
        raise _Damaged(str(err)) from None
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise _Damaged("not memo2anki's note ids")
    version = data.get("version", VERSION)
    if type(version) is int and version > VERSION:  # (its layout may be another: kept)
        raise _Damaged(f"written by a newer memo2anki (version {version}): update memo2anki")
    profiles = data.get("profiles")
    if not isinstance(profiles, dict):
        raise _Damaged("no profiles in it")
    # Only what can be a note's: a GUID as memo2anki makes them, an id Anki can hold (a larger
    # one, sent to AnkiConnect, stopped the sync); a profile's name as UTF-8 can hold it.
    return {
        printable(profile): {g: n for g, n in ids.items() if _GUID.fullmatch(g) and _id(n)}
        for profile, ids in profiles.items()
        if isinstance(ids, dict)
    }


_GUID = re.compile("[!-~]{1,64}")


def _id(value: object) -> bool:
    return type(value) is int and 0 < value < 2**63


def _not_used(reason: str) -> Diagnostic:
    return Diagnostic(
        f"{FOLDER}/{FILE_NAME}",
        None,
        f"Anki's note ids not used ({reason}); notes are found by their fields, so one whose "
        "fields were edited in Anki is not found: mend the file (a merge left conflict "
        "markers in it?) or restore it; it is not written over",
    )


def misplaced(count: int) -> Diagnostic:
    """The warning for ``count`` cards whose remembered id named another card's note."""
    return Diagnostic(
        f"{FOLDER}/{FILE_NAME}",
        None,
        f"the note id remembered for {plural(count, 'card')} is another card's note in Anki "
        "(ids swapped or copied, by hand or a merge): found by their fields instead, and "
        "the ids written again",
    )


def load(home: Path, profile: str) -> tuple[dict[str, int], list[Diagnostic]]:
    """The note ids known for ``profile`` (empty: a profile AnkiConnect did not name), by
    GUID; empty when there are none, and with a warning when the file cannot be read. None
    are read through a ``.memo2anki`` the ledger is not read through (a link out of the
    vault: the ledger's lines say so)."""
    if folder_problem(home) is not None:
        return {}, []
    try:
        return _read(home).get(profile, {}), []
    except _Damaged as err:
        return {}, [_not_used(str(err))]


def save(home: Path, profile: str, ids: Mapping[str, int]) -> list[Diagnostic]:
    """Remember ``ids`` for ``profile`` (the other profiles' kept as they are); a warning
    when the file cannot be written. A file that cannot be read is not written over: what
    it holds of every profile may still be mended (load warned of it); nor is one written
    through a ``.memo2anki`` the ledger is not written through."""
    if folder_problem(home) is not None:
        return []
    try:
        profiles = _read(home)
    except _Damaged:
        return []
    if profiles.get(profile) == dict(ids):
        return []
    profiles[profile] = dict(sorted(ids.items()))
    data = {"format": FORMAT, "version": VERSION, "profiles": profiles}
    text = json.dumps(data, ensure_ascii=False, indent=1).encode("utf-8") + b"\n"
    try:
        _path(home).parent.mkdir(exist_ok=True)
        rows_file.replace_atomically(_path(home), [text])
    except OSError as err:
        reason = err.strerror or str(err)
        message = (
            f"cannot remember Anki's note ids ({reason}); the next sync finds the notes by "
            "their fields"
        )
        return [Diagnostic(f"{FOLDER}/{FILE_NAME}", None, message)]
    return []
