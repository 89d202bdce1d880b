"""The Anki note ids memo2anki met through AnkiConnect, by profile and GUID, kept beside the
ledger in ``.memo2anki/anki-note-ids.json``.

AnkiConnect cannot find a note by its GUID, and the fields a note was found by are the
person's to edit in Anki: a note once added or found is found by its id from then on, and by
its fields only when memo2anki never saw it. Losing the file costs nothing but that: the
notes are found by their fields again.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path

from memo2anki.changes import rows_file
from memo2anki.changes.ledger import FOLDER
from memo2anki.model import Diagnostic

FILE_NAME = "anki-note-ids.json"
FORMAT = "memo2anki anki note ids"
VERSION = 1


def _path(home: Path) -> Path:
    return home / FOLDER / FILE_NAME


def _read(home: Path) -> dict[str, dict[str, int]]:
    try:
        data = json.loads(_path(home).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError):
        return {}
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        return {}
    profiles = data.get("profiles")
    if not isinstance(profiles, dict):
        return {}
    out: dict[str, dict[str, int]] = {}
    for profile, ids in profiles.items():
        if isinstance(profile, str) and isinstance(ids, dict):
            out[profile] = {
                g: n for g, n in ids.items() if isinstance(g, str) and type(n) is int and n > 0
            }
    return out


def load(home: Path, profile: str) -> dict[str, int]:
    """The note ids known for ``profile`` (empty: a profile AnkiConnect did not name), by
    GUID; empty when there are none or the file cannot be read."""
    return _read(home).get(profile, {})


def save(home: Path, profile: str, ids: Mapping[str, int]) -> list[Diagnostic]:
    """Remember ``ids`` for ``profile`` (the other profiles' kept as they are); a warning
    when the file cannot be written."""
    profiles = _read(home)
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
