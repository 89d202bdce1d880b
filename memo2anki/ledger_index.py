"""Remember what a plan reads of every row of a ledger file (its :class:`Light` columns), by
the file's digest, in the cache folder: the next run reads a ledger it remembers without
parsing its rows, and parses a row only when its card did not match it by key.

Like the note cache, this never changes an outcome: what is remembered is used only for the
very bytes it was made from, and a file that cannot be read or does not hold what memo2anki
writes is not used (the ledger is then parsed whole). Deleting the folder is always safe.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any, NamedTuple

FOLDER = "ledgers"  # in the cache folder
FORMAT = "memo2anki ledger index"
VERSION = 1
KEEP = 8  # files kept: a few vaults, or a vault and its copy on another machine
_encode = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode


class Light(NamedTuple):
    """What a plan reads of every row of a ledger file to match cards by key, by row: each
    row's key, GUID, stamp and deck, and the rows of gone cards."""

    keys: Sequence[str]
    guids: Sequence[str]
    stamps: Sequence[int]
    decks: Sequence[str]
    gone: frozenset[int]


class Remembered(NamedTuple):
    """What is remembered of a ledger file: its :class:`Light` columns, and where each row
    of it (and of the ``fields.json`` written with it, when known) ends, so that rows kept as
    read are copied without splitting the files into rows."""

    light: Light
    ends: Sequence[int]
    field_ends: Sequence[int] | None


def recall(cache: Path, digest: str) -> Remembered | None:
    """What is remembered of the ledger file of this digest, if anything."""
    path = cache / FOLDER / f"{digest}.json"
    try:
        data = json.loads(path.read_bytes())
        os.utime(path)  # the files least recently used are forgotten first
    except (OSError, ValueError):
        return None
    if (
        not isinstance(data, dict)
        or data.get("format") != FORMAT
        or data.get("version") != VERSION
        or data.get("ledger") != digest
    ):
        return None
    field_ends = data.get("field_ends")
    if field_ends is not None and not (isinstance(field_ends, list) and _all(field_ends, int)):
        return None
    columns: list[list[Any]] = []
    for name in ("keys", "guids", "stamps", "decks", "deck", "gone", "ends"):
        column = data.get(name)
        if not isinstance(column, list):
            return None
        columns.append(column)
    keys, guids, stamps, names, deck, gone, ends = columns
    count = len(keys)
    if not (
        len(guids) == len(stamps) == len(deck) == len(ends) == count
        and (field_ends is None or len(field_ends) == count)
        and _all(ends, int)
        and _all(keys, str)
        and _all(guids, str)
        and _all(names, str)
        and _all(stamps, int)
        and _all(deck, int)
        and _all(gone, int)
        and (not deck or (min(deck) >= 0 and max(deck) < len(names)))
        and (not gone or (min(gone) >= 0 and max(gone) < count))
    ):
        return None
    light = Light(keys, guids, stamps, [names[k] for k in deck], frozenset(gone))
    return Remembered(light, ends, field_ends)


def _all(values: list[object], kind: type) -> bool:
    # By exact type: a bool is no int here.
    return set(map(type, values)) <= {kind}


def remember(cache: Path, digest: str, remembered: Remembered) -> None:
    """Remember this of the ledger file of this digest (where the cache folder cannot be
    written, nothing is remembered), and forget all but the last few files used."""
    light = remembered.light
    names: dict[str, int] = {}
    deck = [names.setdefault(name, len(names)) for name in light.decks]
    data = {
        "format": FORMAT,
        "version": VERSION,
        "ledger": digest,
        "keys": list(light.keys),
        "guids": list(light.guids),
        "stamps": list(light.stamps),
        "decks": list(names),
        "deck": deck,
        "gone": sorted(light.gone),
        "ends": list(remembered.ends),
        "field_ends": None if remembered.field_ends is None else list(remembered.field_ends),
    }
    # A member at a time: the encoder joins a whole dict's pieces about twice as slowly.
    text = "{" + ",".join(f"{_encode(key)}:{_encode(value)}" for key, value in data.items()) + "}"
    folder = cache / FOLDER
    try:
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd, tmp = tempfile.mkstemp(prefix=".", suffix=".tmp", dir=folder)
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(text.encode("utf-8", "surrogatepass"))
            os.replace(tmp, folder / f"{digest}.json")
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            raise
        files = sorted(folder.glob("*.json"), key=lambda p: p.stat().st_mtime_ns, reverse=True)
        for old in files[KEEP:]:
            old.unlink()
    except (OSError, UnicodeEncodeError):
        pass
