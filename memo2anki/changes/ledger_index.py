"""Remember what a run reads of every row of a ledger file, by the file's digest, in the cache
folder: the next run reads a ledger it remembers without parsing its rows (it parses a row
only when its card did not match it by key), and writes the rows it keeps without splitting
the files into rows.

It is kept compact, a few long strings and arrays rather than an object per row, so that
remembering it again after an edit copies runs of it, as the ledger's own rows are copied.

Like the note cache, this never changes an outcome: what is remembered is used only for the
very bytes it was made from, and a file that cannot be read or does not hold what memo2anki
writes is not used (the ledger is then parsed whole). Deleting the folder is always safe.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
import sys
from array import array
from collections.abc import Sequence
from pathlib import Path
from typing import Any, NamedTuple

from memo2anki.changes.rows_file import compact_json, replace_atomically

FOLDER = "ledgers"  # in the cache folder
FORMAT = "memo2anki ledger index"
VERSION = 2
KEEP = 8  # files kept: a few vaults, or a vault and its copy on another machine


class Light(NamedTuple):
    """What a plan reads of every row of a ledger file to match cards by key, by row: each
    row's key ("" for none), GUID, stamp and deck, and the rows of gone cards."""

    keys: Sequence[str]
    guids: Sequence[str]
    stamps: Sequence[int]
    decks: Sequence[str]
    gone: frozenset[int]


class Columns(NamedTuple):
    """What is remembered of a ledger file, by row: its key and GUID (a line each, of one
    string for all rows), stamp, deck (an index into ``decks``), whether it is gone, and its
    length in the file and in the ``fields.json`` written with it (each with the line break
    after it; None: not known)."""

    keys: str
    guids: str
    stamps: array[int]
    deck: array[int]
    decks: tuple[str, ...]
    gone: frozenset[int]
    lengths: array[int]
    field_lengths: array[int] | None

    @property
    def rows(self) -> int:
        return len(self.stamps)

    def light(self) -> Light:
        """The columns a plan reads, one value per row."""
        if not self.rows:
            return Light([], [], self.stamps, [], self.gone)
        decks = list(map(self.decks.__getitem__, self.deck))
        return Light(self.keys.split("\n"), self.guids.split("\n"), self.stamps, decks, self.gone)


def rememberable(text: str) -> bool:
    """Whether a key or GUID can be remembered (as a line)."""
    return "\n" not in text


def recall(cache: Path, digest: str) -> Columns | None:
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
        or data.get("byteorder") != sys.byteorder
    ):
        return None
    try:
        columns = _columns(data)
    except (TypeError, ValueError, binascii.Error):
        return None
    return columns if _sound(columns) else None


def _columns(data: dict[str, Any]) -> Columns:
    keys, guids, decks, gone = (data[name] for name in ("keys", "guids", "decks", "gone"))
    if not (isinstance(keys, str) and isinstance(guids, str) and isinstance(decks, list)):
        raise TypeError
    if not (isinstance(gone, list) and all(type(row) is int for row in gone)):
        raise TypeError
    if not all(isinstance(deck, str) for deck in decks):
        raise TypeError
    field_lengths = data["field_lengths"]
    return Columns(
        keys,
        guids,
        _numbers(data["stamps"]),
        _numbers(data["deck"]),
        tuple(decks),
        frozenset(gone),
        _numbers(data["lengths"]),
        None if field_lengths is None else _numbers(field_lengths),
    )


def _numbers(text: object) -> array[int]:
    if not isinstance(text, str):
        raise TypeError
    numbers = array("q")
    numbers.frombytes(base64.b64decode(text, validate=True))
    return numbers


def _sound(c: Columns) -> bool:
    """Whether the columns agree with each other (each row has each)."""
    count = c.rows
    lines = max(count - 1, 0)
    return (
        c.keys.count("\n") == c.guids.count("\n") == lines
        and (count > 0 or not (c.keys or c.guids))
        and len(c.deck) == len(c.lengths) == count
        and (c.field_lengths is None or len(c.field_lengths) == count)
        and (not count or (min(c.deck) >= 0 and max(c.deck) < len(c.decks)))
        and all(0 <= row < count for row in c.gone)
    )


def remember(cache: Path, digest: str, columns: Columns) -> None:
    """Remember this of the ledger file of this digest (where the cache folder cannot be
    written, nothing is remembered), and forget all but the last few files used."""
    if not _sound(columns):
        return
    numbers = ("stamps", "deck", "lengths")
    data = {
        "format": FORMAT,
        "version": VERSION,
        "ledger": digest,
        "byteorder": sys.byteorder,
        "keys": columns.keys,
        "guids": columns.guids,
        "decks": list(columns.decks),
        "gone": sorted(columns.gone),
        **{name: _text(getattr(columns, name)) for name in numbers},
        "field_lengths": None if columns.field_lengths is None else _text(columns.field_lengths),
    }
    folder = cache / FOLDER
    try:
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        text = compact_json(data).encode("utf-8", "surrogatepass")
        replace_atomically(folder / f"{digest}.json", [text])
        files = sorted(folder.glob("*.json"), key=lambda p: p.stat().st_mtime_ns, reverse=True)
        for old in files[KEEP:]:
            old.unlink()
    except (OSError, UnicodeEncodeError):
        pass


def _text(numbers: array[int]) -> str:
    return base64.b64encode(numbers.tobytes()).decode("ascii")
