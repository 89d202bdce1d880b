"""The ledger: what memo2anki exported last, kept in the vault, so the next run tells what changed.

It lives at ``.memo2anki/ledger.json`` (a dot-folder, which Obsidian does not list), found like
``.git``: the nearest ``.memo2anki/`` at or above the notes of a run (:func:`find_home`); only
when there is none is one made, at the vault root, never in a folder of pictures nor under a
garden's ``src/site/`` (:func:`new_home`). So it travels with the vault into backups, git and
other machines, and a run on a subfolder or with another vault root uses the same one. The
file is JSON with one card per line, so a git diff shows one line per changed card. It is
written atomically (a temporary file, then ``os.replace``) under a lock, and only if nobody
else wrote it since this run read it (compare-and-swap on its bytes): two runs at once never
corrupt it, and the one that lost the race says so. What deleting it costs: docs/ledger.md.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import errno
import hashlib
import json
import os
import re
import stat
import time
from array import array
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from functools import partial
from itertools import compress, repeat
from operator import add, eq, itemgetter
from pathlib import Path
from typing import Annotated, Any, Final, Literal, NamedTuple, overload

import msgspec

from memo2anki.changes import rows_file
from memo2anki.changes.rows_file import Body, Chunks, Segments
from memo2anki.model import Diagnostic, plural, printable
from memo2anki.notes.discover import garden_root, is_garden

FORMAT = "memo2anki ledger"
VERSION = 1
FOLDER = ".memo2anki"
FILE_NAME = "ledger.json"
FIELDS_NAME = "fields.json"
FIELDS_FORMAT = "memo2anki last fields"

# The last second a card's time can name (9999-12-31 23:59:59 UTC): a time past it is a
# damaged row, and no time written goes past it.
LAST_STAMP = 253_402_300_799
# How far ahead of this computer's clock a row's time may be (another machine's clock ahead
# wrote it): one further ahead is a damaged row.
CLOCK_SKEW = 86_400

LIVE: Final = "live"
# No longer in any memo; its retiring copy (tagged memo2anki::gone) was handled.
GONE: Final = "gone"


# What a row must hold, checked as it is read (by msgspec, in C): a value of another type
# or out of range makes the row one not used. A line or an ordinal fits in 32 bits; a stamp
# is a time in seconds before the year 10000; a GUID is printable ASCII (as genanki makes
# them), which is checked after (:func:`_odd_guids`: a pattern here would cost a regex a row).
_Count = Annotated[int, msgspec.Meta(ge=0, le=2**31 - 1)]
_Stamp = Annotated[int, msgspec.Meta(ge=0, le=LAST_STAMP)]
_Guid = Annotated[str, msgspec.Meta(min_length=1, max_length=64)]


class LedgerCard(NamedTuple):
    """One Anki note memo2anki manages, as it was last exported (a named tuple: a ledger
    holds every card of a vault, and a frozen dataclass costs ten times as much to make)."""

    # (Each column typed as a row of the file must hold it: a row is checked, and made a
    # card, by msgspec as it is read.)
    guid: _Guid
    identity: tuple[str, str, str, _Count]  # (note file name or path, subject, front, ordinal)
    note: str  # vault-relative path of the note it came from
    line: _Count
    subject: str
    front: str  # plain text
    deck: str
    date: str  # ISO date, or "" when the note has none
    state: Literal["live", "gone"]  # LIVE or GONE
    stamp: _Stamp  # when its content last changed (the Anki note's modification time)
    digest: str  # of the front, back and tags (identity.content_digest)
    tags: tuple[str, ...]
    key: str  # identity.row_key of the card as exported; empty: compared column by column
    # Its last Front and Back HTML: what a gone card is carried with once more, and what
    # backs are compared by (the back's plain text is worked out from it when needed); kept
    # in fields.json, so empty for a card read from the ledger. (The columns before these are
    # the ledger file's, in its order: a row is made a card in C.)
    front_html: str = ""
    back_html: str = ""


class LastFields(Mapping[str, tuple[str, str]]):
    """The last Front and Back HTML of every card, by GUID, from ``.memo2anki/fields.json``:
    read only when a run needs them (a card gone or paired), which most runs never do. Each
    row is read on its own, as the ledger's are: one that is not three strings is left out,
    with a warning naming its line (its card, if gone, is then only reported); a file git
    merged is read as both sides (the first side's row of a card). The whole file is left
    out only when it is not one memo2anki wrote."""

    def __init__(self, path: Path | None) -> None:
        self._path = path
        self._fields: dict[str, tuple[str, str]] | None = None if path else {}
        # Why the file could not be used, once it was read (None: it could, or was not read).
        self.problem: str | None = None
        # What was wrong with rows of it (or that git's conflict markers were in it), once
        # it was read: told by the first to ask (:meth:`take_warnings`).
        self._warnings: list[Diagnostic] = []
        # Whether it was read and held what could not be used (all of it, or a row): kept
        # aside before it is written over (see save).
        self.damaged = False

    def _load(self) -> dict[str, tuple[str, str]]:
        if self._fields is None:
            self._fields = {}
            try:
                assert self._path is not None
                raw = rows_file.read_regular(self._path)
                self._read(raw.removeprefix(rows_file.BOM))
            except FileNotFoundError:
                self.problem = f"{FIELDS_NAME} is missing"
            except OSError as err:
                self.problem = f"{FIELDS_NAME} cannot be read: {err.strerror or err}"
            except Damaged as err:  # gone cards are then left out: see plan._left_out
                self.problem = f"{FIELDS_NAME} not used: {err}"
                self.damaged = True
            # (A merge's rows on both sides are no damage.)
            self.damaged |= any(w.message != MERGE_CONFLICT for w in self._warnings)
        return self._fields

    def _read(self, text: bytes) -> None:
        """Read the file's rows (``text``: its bytes past a BOM) into ``_fields``."""
        fields = self._fields
        assert fields is not None
        end = max(text.find(b"\n"), 0)
        if _fields_header(text[:end]) is not None and text.endswith(rows_file.END):
            with contextlib.suppress(msgspec.DecodeError, msgspec.ValidationError, RecursionError):
                body = text[end + 1 : -len(rows_file.END)]
                for guid, front, back in _FIELDS_ROWS.decode(b"[" + body + b"]"):
                    fields.setdefault(guid, (front, back))  # nearly always
                return
        laid_out = rows_file.lines_of(text)
        if laid_out is None or (_fields_header(text[:end]) is None and not laid_out.conflict):
            self._read_whole(text)  # (laid out otherwise: by hand)
            return
        if laid_out.cut and not laid_out.conflict:
            with contextlib.suppress(Damaged):  # (JSON all the same: laid out otherwise)
                _document(text)
                self._read_whole(text)
                return
        (first, top), *numbered = laid_out.lines
        if _fields_header(top) is None:
            raise Damaged(f"not valid JSON (line {first})")
        merged = laid_out.conflict
        for number, line in numbered:
            if line.startswith(b"{") and _fields_header(line) is not None:
                merged = True
                continue  # (the other side's header: the same)
            try:
                guid, front, back = _fields_row(line)
            except (msgspec.DecodeError, msgspec.ValidationError, RecursionError) as err:
                self._not_used(number, f"last fields not used ({_why(err, _FIELDS_COLUMNS)})")
                continue
            fields.setdefault(guid, (front, back))
        if laid_out.cut:
            last = laid_out.lines[-1][0]
            cut = _cut(last, "without its last Front and Back")
            self._warnings.append(Diagnostic(f"{FOLDER}/{FIELDS_NAME}", None, cut))
        if laid_out.conflict:
            self._warnings.insert(0, Diagnostic(f"{FOLDER}/{FIELDS_NAME}", None, MERGE_CONFLICT))
        elif self._warnings and not merged:  # (unless its rows are not one per line)
            with contextlib.suppress(Damaged):
                rows = _document(text).get("fields")
                if isinstance(rows, list) and len(rows) != len(numbered):
                    fields.clear()
                    self._warnings.clear()
                    self._read_whole(text)

    def _read_whole(self, text: bytes) -> None:
        """Read a file not laid out one row a line (its rows named by number)."""
        fields = self._fields
        assert fields is not None
        data = _document(text)
        rows = data.get("fields")
        if data.get("format") != FIELDS_FORMAT or not isinstance(rows, list):
            raise Damaged("not memo2anki's last fields")
        if data.get("version") != VERSION:  # (a newer one's is never read: see load)
            version = data.get("version")
            shown = repr(version) if isinstance(version, int | str) else "unknown"
            raise Damaged(f"version {shown}; this memo2anki reads {VERSION}")
        for number, row in enumerate(rows, 1):
            try:
                guid, front, back = msgspec.convert(row, _FieldsRow)
            except (msgspec.ValidationError, RecursionError) as err:
                why = _why(err, _FIELDS_COLUMNS)
                self._not_used(None, f"card {number}'s last fields not used ({why})")
                continue
            fields.setdefault(guid, (front, back))

    def _not_used(self, line: int | None, what: str) -> None:
        message = f"{what}; {_NOT_KNOWN}"
        self._warnings.append(Diagnostic(f"{FOLDER}/{FIELDS_NAME}", line, message))

    def take_warnings(self) -> list[Diagnostic]:
        """What was wrong with the file's rows, if it was read and nobody was told yet (the
        rows not used but the first few counted in one line)."""
        warnings, self._warnings = self._warnings, []
        return _capped(warnings, _NOT_KNOWN, "their cards' last Front and Back are not known")

    def __getitem__(self, guid: str) -> tuple[str, str]:
        return self._load()[guid]

    def __iter__(self) -> Iterator[str]:
        return iter(self._load())

    def __len__(self) -> int:
        return len(self._load())


class FieldsAfter(Mapping[str, tuple[str, str]]):
    """The last fields after a run: those read (``last``), and for a card they lack (its row
    of ``fields.json`` damaged, say), those this run gave it when it was unchanged (the same:
    its digest of them is its row's), worked out (by ``made``) only when one is asked for.
    So a run that writes ``fields.json`` again restores them."""

    def __init__(
        self,
        last: Mapping[str, tuple[str, str]],
        made: Callable[[], Mapping[str, tuple[str, str]]],
    ) -> None:
        self.last = last
        self._make = made
        self._made: Mapping[str, tuple[str, str]] | None = None

    @property
    def made(self) -> Mapping[str, tuple[str, str]]:
        if self._made is None:
            self._made = self._make()
        return self._made

    @property
    def problem(self) -> str | None:
        return getattr(self.last, "problem", None)

    def __getitem__(self, guid: str) -> tuple[str, str]:
        try:
            return self.last[guid]
        except KeyError:
            return self.made[guid]

    def __iter__(self) -> Iterator[str]:
        return iter(dict.fromkeys([*self.last, *self.made]))

    def __len__(self) -> int:
        return len(dict.fromkeys([*self.last, *self.made]))


def fields_warnings(fields: Mapping[str, tuple[str, str]]) -> list[Diagnostic]:
    """The warnings about ``fields.json`` not told yet, once it was read (none if it was
    not: a run that never needed it)."""
    read = _read_fields(fields)
    return read.take_warnings() if read is not None else []


def _read_fields(fields: Mapping[str, tuple[str, str]]) -> LastFields | None:
    """The ``fields.json`` as read that ``fields`` stand for (None: they are made)."""
    while isinstance(fields, FieldsAfter):
        fields = fields.last
    return fields if isinstance(fields, LastFields) else None


class Written(NamedTuple):
    """What a card's Link field was last made from: the vault's name, what else (see
    plan.Layout.links), and the vault root its note's path was relative to (relative to the
    ledger's home, as the header's ``root``)."""

    vault: str
    links: str
    root: str


class Light(NamedTuple):
    """What a plan reads of every row of a ledger file to match cards by key, by row: each
    row's key ("" for none), GUID, stamp and deck, and the rows of gone cards."""

    keys: Sequence[str]
    guids: Sequence[str]
    stamps: Sequence[int]
    decks: Sequence[str]
    gone: frozenset[int]


class ReadFile:
    """A ledger file as read: its cards (each row checked as it was read), and when its rows
    are as memo2anki wrote them, their bytes, so the rows kept are written again as read."""

    def __init__(
        self,
        cards: Sequence[LedgerCard],
        rows: memoryview | None,
        fields_digest: str | None,
        raw: bytes | None = None,
        stale: bool = False,
    ) -> None:
        self.count = len(cards)
        self.raw = raw  # the file's bytes
        # Whether it holds what this run does not write again (rows not used, git's conflict
        # markers or a second header): then it is written even when no card changed.
        self.stale = stale
        # Its rows' bytes when they are as memo2anki wrote them (the header's digest vouches
        # for them); None: edited since, or written by an older memo2anki, or a row of it was
        # not used.
        self._rows = rows
        self._body: Body | None = None
        self.fields_digest = fields_digest  # of the fields.json written with it (None: unknown)
        self._cards = cards
        self._light: Light | None = None

    @property
    def body(self) -> Body | None:
        """Its rows as memo2anki wrote them, one per line (worked out when first asked for:
        only a run that writes the ledger does); None when they are not."""
        if self._body is None and self._rows is not None:
            self._body = Body.of(self._rows, self.count)
            if self._body is None:
                self._rows = None
        return self._body

    @property
    def light(self) -> Light | None:
        """The columns a plan reads of every row, when the rows are as memo2anki wrote them
        (a row's key then goes with the rest of it); else None."""
        if self._light is None and self._rows is not None:
            cards = self._cards
            states = map(_STATE, cards)
            self._light = Light(
                list(map(_KEY, cards)),
                list(map(_GUID, cards)),
                list(map(_STAMP, cards)),
                list(map(_DECK, cards)),
                frozenset(compress(range(self.count), map(eq, states, repeat(GONE)))),
            )
        return self._light

    def card(self, row: int) -> LedgerCard:
        """The card of one row."""
        return self._cards[row]

    def cards(self) -> list[LedgerCard]:
        """Every card, in the file's order."""
        return list(self._cards)


class Cards(Sequence[LedgerCard]):
    """A ledger's cards, each either a row of the file it was read from (an ``int``: the
    row's position; such a card is written again as it was read) or a card made anew."""

    def __init__(self, items: Sequence[int | LedgerCard], file: ReadFile | None = None) -> None:
        self.items = items
        self.file = file

    def __len__(self) -> int:
        return len(self.items)

    @overload
    def __getitem__(self, index: int) -> LedgerCard: ...
    @overload
    def __getitem__(self, index: slice) -> Cards: ...
    def __getitem__(self, index: int | slice) -> LedgerCard | Cards:
        if isinstance(index, slice):
            return Cards(self.items[index], self.file)
        item = self.items[index]
        if isinstance(item, int):
            assert self.file is not None
            return self.file.card(item)
        return item

    def __iter__(self) -> Iterator[LedgerCard]:
        if self.file is not None and self.items == range(self.file.count):
            return iter(self.file.cards())
        return (self[k] for k in range(len(self.items)))

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Sequence):
            return NotImplemented
        return tuple(self) == tuple(other)

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"Cards({list(self)!r})"

    def light(self) -> Light | None:
        """The :class:`Light` columns of these cards, when they are the rows of a file as
        memo2anki wrote it, in its order; else None."""
        if self.file is None or self.items != range(self.file.count):
            return None
        return self.file.light


@dataclass(frozen=True)
class Ledger:
    """Every card of a vault that memo2anki exported, by GUID (in the order written)."""

    vault: str = ""  # the vault folder's name: a ledger copied from another vault is not used
    cards: Sequence[LedgerCard] = ()
    # The file's bytes as read (None: there was none): the write checks nobody wrote since.
    read_digest: str | None = field(default=None, compare=False)
    # The last fields of cards read from the file (whose front_html and back_html are empty).
    fields: Mapping[str, tuple[str, str]] = field(default_factory=dict, compare=False)
    # What its cards' Link fields were made from, when not the vault's name alone (see
    # plan.Layout.links): another one changes every Link field.
    links: str = ""
    # The published page of each note whose cards link to it (a Digital Garden's, with the
    # site's address known), by note path: a page moved changes its cards' Link fields.
    pages: Mapping[str, str] = field(default_factory=dict)
    # The folder holding its .memo2anki/ (None: the vault root), whether a ledger was found
    # there (else it is made there), and the vault root relative to it (posix, "" when the
    # same): what the rows' note paths are relative to.
    home: Path | None = field(default=None, compare=False)
    found: bool = field(default=True, compare=False)
    root: str = field(default="", compare=False)
    # The vault root its cards' links were made against, when not ``root`` (the file was
    # written against another: its note paths were made relative to this run's).
    link_root: str | None = field(default=None, compare=False)
    # The cards whose links were last made otherwise than ``written`` says, by GUID: cards a
    # run with another vault root (or name, or links) could not reach, left as they were.
    others: Mapping[str, Written] = field(default_factory=dict)
    # Whether the run that wrote it made cloze notes (--cloze): one a card's memo no longer
    # makes is retired by the next run. None when the header does not say (none made: no
    # run made any, or a ledger from before it said); said once a run made some.
    cloze: bool | None = None
    # Its file was written by a newer memo2anki: never written over (see NewerLedger).
    read_only: bool = field(default=False, compare=False)
    # Its file held what could not be used (a row, or all of it): kept aside before it is
    # written over (see save).
    damaged: bool = field(default=False, compare=False)

    @property
    def empty(self) -> bool:
        return not self.cards

    @property
    def written(self) -> Written:
        """What its cards' links were made from (but those of :attr:`others`)."""
        root = self.root if self.link_root is None else self.link_root
        return Written(self.vault, self.links, root)

    @property
    def source(self) -> ReadFile | None:
        """The file the cards were read from (for a ledger a plan made: the one it was
        planned against), whose rows are written again as read."""
        return self.cards.file if isinstance(self.cards, Cards) else None

    def as_read(self) -> Ledger:
        """The ledger as it was read from its file (for a ledger a plan made: the one it was
        planned against); empty when there was none to read."""
        file = self.source
        cards = Cards(range(file.count), file) if file is not None else ()
        return replace(self, cards=cards)

    def last_html(self, card: LedgerCard) -> tuple[str, str]:
        """A card's last Front and Back HTML."""
        if card.front_html or card.back_html:
            return card.front_html, card.back_html
        return self.fields.get(card.guid, ("", ""))


def ledger_path(vault: Path) -> Path:
    """Where the ledger of the folder holding ``.memo2anki/`` lives."""
    return vault / FOLDER / FILE_NAME


def find_home(starts: Sequence[Path]) -> Path | None:
    """The folder holding the nearest ``.memo2anki/`` at or above each start in turn (the
    PATHs, then the vault root), as git finds ``.git``; None when there is none. The search
    stops at an Obsidian vault's root (``.obsidian/``) or a Digital Garden repository's: a
    stray ledger above a vault is never its ledger."""
    for start in starts:
        folder = start.resolve()
        if not folder.is_dir():
            folder = folder.parent
        for candidate in (folder, *folder.parents):
            if (candidate / FOLDER).is_dir():
                return candidate
            if (candidate / ".obsidian").is_dir() or is_garden(candidate):
                break
    return None


def new_home(vault: Path, paths: Sequence[Path]) -> Path:
    """Where a new ledger is made: the vault root, unless it does not hold the notes (a
    folder of pictures or attachments given as ``--vault``: then the nearest folder holding
    both), and never under a garden's ``src/site/`` (then the garden's root)."""
    home = vault.resolve()
    notes = [p.resolve() for p in paths]
    if not all(p == home or p.is_relative_to(home) for p in notes):
        home = Path(os.path.commonpath([home, *notes]))
        if not home.is_dir():
            home = home.parent
    garden = garden_root(home)
    if garden is not None and home.is_relative_to(garden / "src" / "site"):
        return garden
    return home


def recorded_root(home: Path) -> Path | None:
    """The vault root the ledger in ``home`` was last written against (None: no ledger
    there, or one this run would not use: unreadable, or another vault's)."""
    try:
        with rows_file.open_regular(ledger_path(home)) as file:
            first = file.readline(1 << 20).removeprefix(rows_file.BOM)
            if rows_file.marker(first.rstrip(b"\r\n")):  # (git's: the first side's next)
                first = file.readline(1 << 20)
        text = first.decode("utf-8").rstrip()
        head = _loads(text + "]}" if text.endswith("[") else text)
        if not isinstance(head, dict):
            return None
        _header({**head, "cards": []})
    except (OSError, UnicodeDecodeError, json.JSONDecodeError, Damaged, RecursionError):
        return None
    root = head.get("root", "")
    if not isinstance(root, str):
        return None
    folder = Path(os.path.normpath(home / root)) if root else home
    return folder if head["vault"] == printable(folder.name) and folder.is_dir() else None


def root_of(vault: Path, home: Path) -> str:
    """The vault root relative to the ledger's home (posix; "" when the same; with ``..``
    when the ledger lies elsewhere)."""
    rel = os.path.relpath(vault.resolve(), home.resolve())
    return "" if rel == "." else Path(rel).as_posix()


def _rebase(note: str, old: str, new: str) -> str:
    """A note path relative to the root ``old`` made relative to the root ``new`` (both
    relative to the ledger's home)."""
    path = os.path.normpath(os.path.join(old or ".", note))
    rel = os.path.relpath(path, new or ".")
    return Path(rel).as_posix()


# One card per line, as an array in this order (named in the file's header).
COLUMNS = (
    "guid",
    "identity",
    "note",
    "line",
    "subject",
    "front",
    "deck",
    "date",
    "state",
    "stamp",
    "digest",
    "tags",
    "key",
)
# A ledger written before rows had their key: read, and written again with one.
_KEYLESS = COLUMNS[:-1]

_GUID_TEXT = re.compile("[!-~]+")
_Row = tuple[
    _Guid,
    tuple[str, str, str, _Count],
    str,
    _Count,
    str,
    str,
    str,
    str,
    Literal["live", "gone"],
    _Stamp,
    str,
    tuple[str, ...],
    str,
]
_KeylessRow = tuple[
    _Guid,
    tuple[str, str, str, _Count],
    str,
    _Count,
    str,
    str,
    str,
    str,
    Literal["live", "gone"],
    _Stamp,
    str,
    tuple[str, ...],
]
_FieldsRow = tuple[str, str, str]
_FIELDS_COLUMNS = ("guid", "front", "back")
_FIELDS_ROWS: msgspec.json.Decoder[list[_FieldsRow]] = msgspec.json.Decoder(list[_FieldsRow])
_FIELDS_ROW: msgspec.json.Decoder[_FieldsRow] = msgspec.json.Decoder(_FieldsRow)
_ROWS: dict[bool, msgspec.json.Decoder[Any]] = {
    False: msgspec.json.Decoder(list[_Row]),
    True: msgspec.json.Decoder(list[_KeylessRow]),
}
_ROW: dict[bool, msgspec.json.Decoder[Any]] = {
    False: msgspec.json.Decoder(_Row),
    True: msgspec.json.Decoder(_KeylessRow),
}
_AT_COLUMN = re.compile(r" - at `\$\[(\d+)\](.*)`$")
# What each warning about a row not used ends with (of the ledger, of fields.json).
_NOT_USED = "this card is treated as on a first run"
_NOT_KNOWN = "that card's last Front and Back are not known"
# Rows not used named one by one, in a file; past these, one line counts the rest.
SHOWN_ROWS = 5


def _capped(warnings: list[Diagnostic], of_a_row: str, of_the_rest: str) -> list[Diagnostic]:
    """The warnings about a file, those about its rows not used (each ending with
    ``of_a_row``) but the first few, by line, counted in one line that says ``of_the_rest``:
    a file of thousands of junk rows is a few lines naming it, not thousands."""
    rows = [w for w in warnings if w.message.endswith(of_a_row)]
    if len(rows) <= SHOWN_ROWS:
        return warnings
    first = next(k for k, w in enumerate(warnings) if w.message.endswith(of_a_row))
    rows.sort(key=lambda w: w.line or 0)
    more = plural(len(rows) - SHOWN_ROWS, "more row")
    rest = Diagnostic(rows[0].path, None, f"... and {more} not used; {of_the_rest}")
    others = [w for w in warnings if not w.message.endswith(of_a_row)]
    return [*others[:first], *rows[:SHOWN_ROWS], rest, *others[first:]]


def _row(c: LedgerCard) -> bytes:
    return rows_file.utf8(
        rows_file.compact_json(
            [
                c.guid,
                c.identity,
                c.note,
                c.line,
                c.subject,
                c.front,
                c.deck,
                c.date,
                c.state,
                c.stamp,
                c.digest,
                c.tags,
                c.key,
            ]
        )
    )


def _ledger_file(
    ledger: Ledger, segments: Segments, fields_digest: str | None
) -> tuple[Chunks, array[int]]:
    """The ledger file: a header (with the digest of the ``fields.json`` written beside it),
    then one card per line, a row of the file read written again as it was read; and the
    length of each row."""
    cards = ledger.cards
    file = ledger.source
    kept = file.body if file else None
    body, lengths = rows_file.rows_out(segments, kept, lambda k: _row(cards[k]))
    head: dict[str, Any] = {
        "format": FORMAT,
        "version": VERSION,
        "vault": ledger.vault,
        "columns": COLUMNS,
    }
    if ledger.root:
        head["root"] = ledger.root  # the vault root its note paths are relative to
    if ledger.links:
        head["links"] = ledger.links
    if ledger.pages:
        head["pages"] = dict(ledger.pages)
    if ledger.others:
        head["other_links"] = _other_links(ledger.others)
    if ledger.cloze is not None:
        head["cloze"] = ledger.cloze
    if fields_digest is not None:
        head["fields"] = fields_digest
    return rows_file.file_chunks(head, "cards", body, len(cards), vouch=True), lengths


class _OtherLinks(msgspec.Struct):
    """A group of the header's ``other_links``: the cards (by GUID) whose links were last
    made for that vault name, root and links (see :class:`Written`)."""

    vault: str
    guids: list[str]
    root: str = ""
    links: str = ""


def _other_links(others: Mapping[str, Written]) -> list[dict[str, Any]]:
    """The header's ``other_links`` of a ledger's :attr:`Ledger.others`: a group per
    :class:`Written`, its cards in the order given."""
    groups: dict[Written, list[str]] = {}
    for guid, written in others.items():
        groups.setdefault(written, []).append(guid)
    return [
        {"vault": w.vault, "root": w.root, "links": w.links, "guids": guids}
        for w, guids in groups.items()
    ]


def _others_of(head: dict[str, Any]) -> dict[str, Written] | None:
    """The cards whose links were made otherwise than the header says (by GUID), from its
    ``other_links``; None when that is not as memo2anki writes it (a hand edit)."""
    value = head.get("other_links")
    if value is None:
        return {}
    try:
        groups = msgspec.convert(value, list[_OtherLinks])
    except (msgspec.ValidationError, RecursionError):
        return None
    others: dict[str, Written] = {}
    for group in groups:
        others.update(dict.fromkeys(group.guids, Written(group.vault, group.links, group.root)))
    return others


def _fields_file(
    ledger: Ledger, segments: Segments, last: Body | None
) -> tuple[Chunks, array[int]]:
    """``fields.json``: the last Front and Back HTML of the ledger's cards, one card per
    line, and the length of each row. ``last``: the rows of the one written with the file
    the ledger was read from, kept for its rows written again as read."""
    cards = ledger.cards

    def encode(k: int) -> bytes:
        card = cards[k]
        return rows_file.utf8(rows_file.compact_json([card.guid, *ledger.last_html(card)]))

    body, lengths = rows_file.rows_out(segments, last, encode)
    # (Vouched for by its digest in the ledger's header.)
    head = {"format": FIELDS_FORMAT, "version": VERSION}
    return rows_file.file_chunks(head, "fields", body, len(cards), vouch=False), lengths


class Damaged(ValueError):
    """A file (or its header) that is not one memo2anki wrote, saying why: the only error
    taken as damage. Any other is a bug, and is never reported as damaged input."""


class NewerLedger(Damaged):
    """A ledger (or its ``fields.json``) a newer memo2anki wrote: not used, and never
    written over (an older memo2anki on another machine would replace it with what it can
    tell)."""

    def __init__(self, version: int) -> None:
        super().__init__(
            f"written by a newer memo2anki (version {version}); not used and not written: "
            "update memo2anki"
        )


def _newer(raw: bytes, said: re.Pattern[bytes] | None = None) -> NewerLedger | None:
    """A file a newer memo2anki wrote (``said``: its format, the ledger's by default), said
    so by a header of it, whatever the rest holds (its layout may be one this memo2anki
    cannot read): a line that starts with ``{`` (its first past a BOM or git's marker, or
    the header of a merge's other side; no row starts so)."""
    said = _FORMAT_SAID if said is None else said
    text = raw.removeprefix(rows_file.BOM)
    starts = [0] if text.startswith(b"{") else []
    at = text.find(b"\n{")
    while at >= 0:
        starts.append(at + 1)
        at = text.find(b"\n{", at + 1)
    newest = 0
    for start in starts:
        end = text.find(b"\n", start)
        line = text[start:] if end < 0 else text[start:end]
        version = _VERSION_SAID.search(line) if said.search(line) else None
        newest = max(newest, int(version.group(1)) if version else 0)
    return NewerLedger(newest) if newest > VERSION else None


def _newer_fields(path: Path) -> NewerLedger | None:
    """The ``fields.json`` at ``path``, when a newer memo2anki wrote it (then neither file is
    written: they go together). Read for its headers alone."""
    try:
        raw = rows_file.read_regular(path)
    except OSError:
        return None
    newer = _newer(raw, _FIELDS_SAID)
    text = raw.removeprefix(rows_file.BOM)
    first = text[: max(text.find(b"\n"), 0)].rstrip(b"\r")
    if newer is None and not first.endswith(b"[") and rows_file.marker(first) is None:
        # Laid out otherwise (by hand): its version may be on a line of its own.
        with contextlib.suppress(Damaged):
            data = _document(raw)
            version = data.get("version")
            if data.get("format") == FIELDS_FORMAT and type(version) is int and version > VERSION:
                newer = NewerLedger(version)
    return newer


_FORMAT_SAID = re.compile(rb'"format"\s*:\s*"memo2anki ledger"')
_FIELDS_SAID = re.compile(rb'"format"\s*:\s*"memo2anki last fields"')
_VERSION_SAID = re.compile(rb'"version"\s*:\s*(\d{1,9})\b')


def _header(data: dict[str, Any]) -> dict[str, Any]:
    if data.get("format") != FORMAT:
        raise Damaged("not a memo2anki ledger")
    if data.get("version") != VERSION:
        version = data.get("version")
        if type(version) is int and version > VERSION:
            raise NewerLedger(version)
        shown = repr(version) if isinstance(version, int | str) else "unknown"
        raise Damaged(f"ledger version {shown}; this memo2anki reads {VERSION}")
    if not isinstance(data.get("vault"), str) or not isinstance(data.get("cards"), list):
        raise Damaged("not a memo2anki ledger")
    return data


def json_value(raw: bytes, loads: Callable[[str], Any] = json.loads) -> Any:
    """A whole file's JSON, past a BOM an editor put before it, parsed by ``loads``;
    :class:`Damaged` saying why it is not JSON."""
    try:
        return loads(raw.removeprefix(rows_file.BOM).decode("utf-8"))
    except UnicodeDecodeError:
        raise Damaged("not UTF-8") from None
    except json.JSONDecodeError as err:
        raise Damaged(f"not valid JSON (line {err.lineno})") from None
    except RecursionError:
        raise Damaged("nested too deep") from None


def _document(raw: bytes) -> dict[str, Any]:
    """A whole file parsed as JSON (an object), past a BOM an editor put before it;
    :class:`Damaged` saying why it is not one."""
    data = json_value(raw, _loads)
    if not isinstance(data, dict):
        raise Damaged("not a memo2anki ledger")
    return data


# A lone surrogate in JSON text (a byte not valid UTF-8, read as one), or its escape.
_SURROGATE_IN_JSON = re.compile(r"[\ud800-\udfff]|\\u[dD][89a-fA-F]")
_SURROGATE = re.compile("[\ud800-\udfff]")


def _loads(text: str) -> Any:
    """JSON text parsed, a lone surrogate in any of its texts shown as :func:`printable`
    shows one (``\\xff``, ``\\ud800``): what is read goes on into messages, fields, links
    and paths, none of which can hold one (UTF-8 cannot)."""
    value = json.loads(text)
    return _printable_texts(value) if _SURROGATE_IN_JSON.search(text) else value


def _printable_texts(value: Any) -> Any:
    if isinstance(value, str):
        return printable(value) if _SURROGATE.search(value) else value
    if isinstance(value, list):
        return [_printable_texts(item) for item in value]
    if isinstance(value, dict):
        return {_printable_texts(k): _printable_texts(v) for k, v in value.items()}
    return value


# A checked row (a tuple of the file's columns) as a card, in C: its HTML is in fields.json.
_make_card = partial(tuple.__new__, LedgerCard)
_NO_HTML = ("", "")


def _as_cards(rows: Iterable[tuple[Any, ...]]) -> list[LedgerCard]:
    return list(map(_make_card, map(add, rows, repeat(_NO_HTML))))


# The rows of a file in this layout, each checked and made a card by msgspec (a row of more
# columns, which would be taken as a card's HTML, is caught after: see _rows).
_CARDS: msgspec.json.Decoder[list[LedgerCard]] = msgspec.json.Decoder(list[LedgerCard])
_FRONT_HTML, _BACK_HTML = itemgetter(len(COLUMNS)), itemgetter(len(COLUMNS) + 1)
_GUID, _IDENTITY, _DECK, _STATE, _STAMP, _KEY = (
    itemgetter(LedgerCard._fields.index(name))
    for name in ("guid", "identity", "deck", "state", "stamp", "key")
)


def _why(err: Exception, columns: Sequence[str] = COLUMNS) -> str:
    """What is wrong with a row, naming its column (msgspec names its place in the row)."""
    if isinstance(err, RecursionError):
        return "nested too deep"
    text = str(err)
    if isinstance(err, msgspec.ValidationError) and (at := _AT_COLUMN.search(text)):
        column = int(at.group(1))
        name = columns[column] if column < len(columns) else f"column {column + 1}"
        return f"{name}: {text[: at.start()]}"
    return text if isinstance(err, msgspec.ValidationError) else "not valid JSON"


def _checked(value: Any, keyless: bool) -> tuple[Any, ...]:
    """A row of plain data (from ``json.loads``) checked as the decoder checks one (see
    :func:`_either_layout`)."""
    return _either_layout(partial(_converted, value), keyless)


def _converted(value: Any, keyless: bool) -> tuple[Any, ...]:
    row: tuple[Any, ...] = msgspec.convert(value, _KeylessRow if keyless else _Row)
    return row


def _either_layout(read: Callable[[bool], tuple[Any, ...]], keyless: bool) -> tuple[Any, ...]:
    """A row read in the layout its header names (``keyless``: the one before rows had
    their key), or, when it does not fit by its length alone, in the other one memo2anki
    wrote: a row's length says which it is in, whatever a header edited or merged by hand
    says. msgspec's error when it fits neither (the other layout's, if the row is as long)."""
    try:
        return read(keyless)
    except msgspec.ValidationError as err:
        if not _by_length(err):
            raise
        try:
            return read(not keyless)
        except msgspec.ValidationError as other:
            if _by_length(other):
                raise err from None
            raise


def _by_length(err: msgspec.ValidationError) -> bool:
    """Whether a row did not fit by its length alone (its columns fit as far as they go:
    msgspec names a column it finds wrong, and the row's length only past them)."""
    text = str(err)
    return text.startswith("Expected `array` of length") and _AT_COLUMN.search(text) is None


def _keyed(row: tuple[Any, ...]) -> tuple[Any, ...]:
    """A row in the file's layout, given an empty key when it has none (compared column by
    column, and written again with one)."""
    return (*row, "") if len(row) == len(_KEYLESS) else row


def _fields_header(line: bytes) -> dict[str, Any] | None:
    """The header a line of ``fields.json`` is (its first), None when it is none."""
    try:
        head = _document(line + b"]}")
    except Damaged:
        return None
    ours = head.get("format") == FIELDS_FORMAT and head.get("version") == VERSION
    return head if ours and head.get("fields") == [] else None


def _fields_row(line: bytes) -> tuple[str, str, str]:
    """The checked row of one line of ``fields.json``; msgspec's errors, or RecursionError."""
    try:
        return _FIELDS_ROW.decode(line)
    except msgspec.DecodeError:
        # A lone surrogate's escape (a file name not valid UTF-8) is JSON msgspec refuses.
        try:
            value = _loads(line.decode("utf-8", "surrogateescape"))
        except json.JSONDecodeError as err:
            raise msgspec.DecodeError("not valid JSON") from err
        row: tuple[str, str, str] = msgspec.convert(value, _FieldsRow)
        return row


def _row_of_line(line: bytes, keyless: bool) -> tuple[Any, ...]:
    """The checked row of one line of a file (see :func:`_either_layout`); msgspec's errors,
    or RecursionError."""
    return _either_layout(partial(_decoded, line.removesuffix(b",")), keyless)


def _decoded(line: bytes, keyless: bool) -> tuple[Any, ...]:
    try:
        row: tuple[Any, ...] = _ROW[keyless].decode(line)
        return row
    except msgspec.DecodeError:
        # A lone surrogate's escape (a file name not valid UTF-8) is JSON msgspec refuses.
        try:
            value = _loads(line.decode("utf-8", "surrogateescape"))
        except json.JSONDecodeError as err:
            raise msgspec.DecodeError("not valid JSON") from err
        return _converted(value, keyless)


class _Read(NamedTuple):
    """What :func:`_rows` reads of a ledger file."""

    head: dict[str, Any]
    rows: list[LedgerCard]  # the rows that fit, as cards (each with its key, "" for none)
    lines: Sequence[int | None]  # each one's line (None: the file is not one row a line)
    whole: bool  # they are all of the file's, one per line as memo2anki writes them
    warnings: list[Diagnostic]  # one for each row that does not fit
    merged: bool  # the file is a git merge's: conflict markers, or a header for each side
    # Each other side's header of a merged file, with the first of ``rows`` after it.
    sides: Sequence[tuple[int, dict[str, Any]]] = ()
    # A row is in the other layout than its header names (read by its length): the file
    # is written again, its header naming them.
    relaid: bool = False


# Said once of a file holding git's conflict markers (both sides are read).
MERGE_CONFLICT = (
    "held a merge conflict (git's <<<<<<< markers): both sides were read, a card on both "
    "as the first side has it"
)


def _rows(raw: bytes, where: str) -> _Read:
    """The rows of a ledger file's bytes (past a BOM)."""
    head: dict[str, Any] | None = None
    end = raw.find(b"\n")
    if end > 0 and raw.endswith(rows_file.END) and end < len(raw) - len(rows_file.END):
        with contextlib.suppress(Damaged):
            head = _document(raw[:end] + b"]}")  # (the header line, with its rows cut)
    if head is not None and head.get("cards") != []:
        head = None
    if head is not None:
        _header(head).pop("cards")
        keyless = head.get("columns") == list(_KEYLESS)
        # The rows as the JSON array they are in the file, from the header line's last "["
        # to the "]" of its end, read in place (not copied: a ledger is megabytes); unless
        # that "[" is followed by more than spaces on its line (in a string, an array of its
        # own: a header edited by hand), when the rows are what follows the line, as ever.
        opening = raw.rindex(b"[", 0, end)
        close = len(raw) - len(rows_file.END) + rows_file.END.index(b"]") + 1
        if raw[opening + 1 : end].strip(b" \t\r"):
            body: bytes | memoryview = b"[" + raw[end + 1 : close]
        else:
            body = memoryview(raw)[opening:close]
        try:
            if keyless:
                cards = _as_cards(map(_keyed, _ROWS[True].decode(body)))
            else:  # nearly always: each row made a card as it is read, in C
                cards = _CARDS.decode(body)
                if any(map(_FRONT_HTML, cards)) or any(map(_BACK_HTML, cards)):
                    raise msgspec.ValidationError  # (a row longer than the file's columns)
            return _Read(head, cards, range(2, len(cards) + 2), True, [], False)
        except (msgspec.DecodeError, msgspec.ValidationError, RecursionError):
            pass
    # A row does not fit, or holds what msgspec does not read, or git merged the file (its
    # conflict markers, or a header for each side): line by line.
    laid_out = rows_file.lines_of(raw)
    if laid_out is not None and laid_out.cut and not laid_out.conflict:
        with contextlib.suppress(Damaged):  # (JSON all the same: laid out otherwise)
            return _rows_of_document(_header(_document(raw)), where)
    if laid_out is None or (head is None and not laid_out.conflict and not laid_out.cut):
        return _rows_of_document(_header(_document(raw)), where)  # (laid out otherwise)
    (first, top), *numbered = laid_out.lines
    if head is None:  # (git's marker first, or cut short: the first header is the file's)
        head = _header_line(top)
        if head is None:
            raise Damaged(f"not valid JSON (line {first})")
    keyless = head.get("columns") == list(_KEYLESS)
    rows: list[tuple[Any, ...]] = []
    warnings: list[Diagnostic] = []
    lines: list[int | None] = []
    sides: list[tuple[int, dict[str, Any]]] = []
    merged = laid_out.conflict
    relaid = False
    for number, line in numbered:
        if line.startswith(b"{") and (newer := _newer(line)) is not None:
            raise newer  # (the other side's header, of a newer memo2anki: never written over)
        if line.startswith(b"{") and (other := _header_line(line)) is not None:
            # The other side's header (its digests are this side's no more): its rows
            # follow, in its columns.
            merged = True
            keyless = other.get("columns") == list(_KEYLESS)
            sides.append((len(rows), other))
            continue
        try:
            row = _row_of_line(line, keyless)
        except (msgspec.DecodeError, msgspec.ValidationError, RecursionError) as err:
            message = f"card not used ({_why(err)}); {_NOT_USED}"
            warnings.append(Diagnostic(where, number, message))
            continue
        relaid = relaid or (len(row) == len(_KEYLESS)) != keyless
        rows.append(_keyed(row))
        lines.append(number)
    if laid_out.cut:
        warnings.append(Diagnostic(where, None, _cut(numbered[-1][0] if numbered else first)))
    if laid_out.conflict:
        warnings.insert(0, Diagnostic(where, None, MERGE_CONFLICT))
    elif warnings and not merged:  # (unless its rows are not one per line: read whole)
        with contextlib.suppress(Damaged):
            document = _document(raw)
            listed = document.get("cards")
            if isinstance(listed, list) and len(listed) != len(numbered):
                return _rows_of_document(_header(document), where)
    whole = not warnings and not merged and not relaid
    return _Read(head, _as_cards(rows), lines, whole, warnings, merged, sides, relaid)


def _cut(last: int, lost: str = "treated as on a first run") -> str:
    """What is said of a file cut short (its last line is not ``]}``)."""
    return (
        f"cut short after line {last} (its last line, ']}}', is missing): the rows before "
        f"are used, the card of each row lost is {lost}"
    )


def _header_line(line: bytes) -> dict[str, Any] | None:
    """The header a line of a file one row a line is, its rows cut (``"cards"`` popped);
    None when it is none (not JSON, or not ending with the rows); :class:`Damaged` when it is
    one this memo2anki does not read (another format or version)."""
    try:
        head = _document(line + b"]}")
    except Damaged:
        return None
    if head.get("cards") != []:
        return None
    _header(head).pop("cards")
    return head


def _rows_of_document(head: dict[str, Any], where: str) -> _Read:
    """What :func:`_rows` gives, of a file read whole (its rows named by number)."""
    rows: list[tuple[Any, ...]] = []
    lines: list[int | None] = []
    keyless = head.get("columns") == list(_KEYLESS)
    warnings = []
    relaid = False
    for number, value in enumerate(head.pop("cards"), 1):
        try:
            row = _checked(value, keyless)
        except (msgspec.ValidationError, RecursionError) as err:
            message = f"card {number} not used ({_why(err)}); {_NOT_USED}"
            warnings.append(Diagnostic(where, None, message))
            continue
        relaid = relaid or (len(row) == len(_KEYLESS)) != keyless
        rows.append(_keyed(row))
        lines.append(None)
    return _Read(head, _as_cards(rows), lines, False, warnings, False, (), relaid)


def parse(
    raw: bytes, where: str = f"{FOLDER}/{FILE_NAME}"
) -> tuple[dict[str, Any], ReadFile, list[Diagnostic]]:
    """(header, the file as read, a warning for each row not used) of a ledger file's bytes;
    :class:`Damaged` when it is not one memo2anki reads at all. Every row is checked as it is read:
    one that does not fit (a value of another type or out of range, a card in it twice) is
    left out, and its card is then new to this run. A BOM before it (an editor's) is read
    past. A file git merged (with its conflict markers, or a union merge's header of each
    side) is read whole: both sides' rows, a card on both as the first side has it (no
    warning for each: one for the file, when it holds conflict markers)."""
    text = raw.removeprefix(rows_file.BOM)
    head, rows, lines, whole, warnings, merged, sides, relaid = _rows(text, where)
    cards = rows
    if sides:  # (a union merge's, or git's conflict markers around a header)
        head, cards = _merged(head, cards, sides)
    count = len(cards)
    if _odd_guids(cards):  # (nearly never: a hand edit)
        cards, lines, whole = _fitting(cards, lines, where, warnings, _odd_guid)
        count = len(cards)
    # A time no run of memo2anki could have written (a clock a little ahead on another
    # machine is no damage): a hand edit. A package carrying it makes Anki hold a note
    # no later edit is newer than, so none would ever reach it.
    last = int(time.time()) + CLOCK_SKEW
    if cards and max(map(_STAMP, cards)) > last:
        cards, lines, whole = _fitting(cards, lines, where, warnings, _stamp_to_come(last))
        count = len(cards)
    if len(set(map(_GUID, cards))) != count or len(set(map(_IDENTITY, cards))) != count:
        cards = _once(cards, lines, where, [] if merged else warnings)
        whole = False
    digest_ = head.get("rows")
    vouched = None
    if whole and isinstance(digest_, str) and head.get("columns") == list(COLUMNS):
        vouched = rows_file.rows_of(text, digest_)
    # Rows left out (or a merge's lines) are not written again, even by a run that changes
    # nothing else.
    stale = merged or relaid or bool(warnings) or len(cards) != len(rows)
    warnings = _capped(warnings, _NOT_USED, "their cards are treated as on a first run")
    return head, ReadFile(cards, vouched, _fields_digest(head), raw, stale), warnings


def _merged(
    head: dict[str, Any], cards: list[LedgerCard], sides: Sequence[tuple[int, dict[str, Any]]]
) -> tuple[dict[str, Any], list[LedgerCard]]:
    """The header and cards of a file git merged, given each other side's header and the
    first card after it (the rows after a header are its side's, or both sides' alike): each
    side's notes made relative to the first side's root, its pages added (a note's none when
    two sides say two), and what its header says its cards' links were made from kept for
    them (``other_links``); a card whose rows the sides say were linked otherwise is one
    whose link is not known (which side's package Anki took last cannot be told), and has
    the newest time a side gave it, so the next run writes it and Anki takes it."""
    root = _text(head.get("root"))
    said = [(_written_of(h), _others_of(h)) for h in (head, *(side for _k, side in sides))]
    bounds = [0, *(start for start, _side in sides), len(cards)]
    cards = list(cards)
    seen: dict[str, Written | None] = {}  # how each card's link was made (None: not known)
    unsure: set[str] = set()
    newest: dict[str, int] = {}
    for (written, others), lo, hi in zip(said, bounds[:-1], bounds[1:], strict=True):
        for card in cards[lo:hi]:
            was = others.get(card.guid, written) if others is not None else None
            if seen.setdefault(card.guid, was) != was:
                unsure.add(card.guid)
            newest[card.guid] = max(newest.get(card.guid, 0), card.stamp)
    # Each note's page as the sides say it (none when one's are not as memo2anki writes
    # them: then every page link is written again).
    pages: dict[str, str] | None = _pages_of(head) if "pages" in head else {}
    clashing: set[str] = set()
    for (start, side), end in zip(sides, bounds[2:], strict=True):
        side_root = _text(side.get("root"))
        if side_root != root:
            for k in range(start, end):
                note = _rebase(cards[k].note, side_root, root)
                cards[k] = cards[k]._replace(note=note, key="")
        side_pages = _pages_of(side) if "pages" in side else {}
        if pages is None or side_pages is None:
            pages = None
            continue
        for note, page in side_pages.items():
            note = _rebase(note, side_root, root) if side_root != root else note
            if pages.setdefault(note, page) != page:
                clashing.add(note)
    merged = dict(head)
    first, first_others = said[0]
    if first_others is not None:  # (else hand-edited: every link is written again anyway)
        unknown = first._replace(links="\0")  # (never what a run makes them from)
        others = dict(first_others)
        for guid, was in seen.items():
            was = unknown if guid in unsure or was is None else was
            if was == first:
                others.pop(guid, None)
            else:
                others[guid] = was
        merged["other_links"] = _other_links(others)
        cards = [c._replace(stamp=newest[c.guid]) if c.guid in unsure else c for c in cards]
    if pages is not None:
        pages = {note: page for note, page in pages.items() if note not in clashing}
    merged["pages"] = pages
    # Cloze notes made by either side's last run: the next run retires those no longer made.
    if any(side.get("cloze") is True for _start, side in sides):
        merged["cloze"] = True
    return merged, cards


def _text(value: object) -> str:
    return value if isinstance(value, str) else ""


def _written_of(head: dict[str, Any]) -> Written:
    """What a header says its cards' links were made from (see :class:`Written`)."""
    return Written(head["vault"], _text(head.get("links")), _text(head.get("root")))


def _pages_of(head: dict[str, Any]) -> dict[str, str] | None:
    """A header's ``pages``; None when it is not as memo2anki writes it."""
    pages = head.get("pages")
    if not isinstance(pages, dict) or not all(isinstance(p, str) for p in pages.values()):
        return None
    return pages


def _odd_guids(cards: list[LedgerCard]) -> bool:
    """Whether a GUID is not printable ASCII (one pass over them all, in C)."""
    text = " ".join(map(_GUID, cards))
    return bool(cards) and (
        _GUID_TEXT.fullmatch(text.replace(" ", "!")) is None or text.count(" ") != len(cards) - 1
    )


def _fitting(
    cards: list[LedgerCard],
    lines: Sequence[int | None],
    where: str,
    warnings: list[Diagnostic],
    unfit: Callable[[LedgerCard], str | None],
) -> tuple[list[LedgerCard], list[int | None], bool]:
    """The cards ``unfit`` finds nothing wrong with, and their lines (a warning for each
    other, naming its column as what it says)."""
    kept, kept_lines = [], []
    for k, (card, line) in enumerate(zip(cards, lines, strict=True)):
        why = unfit(card)
        if why is None:
            kept.append(card)
            kept_lines.append(line)
            continue
        named = "card not used" if line is not None else f"card {k + 1} not used"
        warnings.append(Diagnostic(where, line, f"{named} ({why}); {_NOT_USED}"))
    return kept, kept_lines, False


def _odd_guid(card: LedgerCard) -> str | None:
    return None if _GUID_TEXT.fullmatch(card.guid) else "guid: not printable ASCII"


def _stamp_to_come(last: int) -> Callable[[LedgerCard], str | None]:
    def unfit(card: LedgerCard) -> str | None:
        if card.stamp <= last:
            return None
        when = dt.datetime.fromtimestamp(card.stamp, dt.UTC)
        return f"stamp: {when:%Y-%m-%d %H:%M:%S} UTC, later than now"

    return unfit


def _once(
    cards: list[LedgerCard], lines: Sequence[int | None], where: str, warnings: list[Diagnostic]
) -> list[LedgerCard]:
    """The cards but those whose GUID or identity an earlier row holds (a warning each)."""
    kept: list[LedgerCard] = []
    first_guid: dict[str, int] = {}
    first_identity: dict[tuple[str, str, str, int], int] = {}
    for k, card in enumerate(cards):
        other = first_guid.setdefault(card.guid, k)
        if other == k:
            other = first_identity.setdefault(card.identity, k)
        if other == k:
            kept.append(card)
            continue
        line = lines[other]
        twice = f"line {line}" if line is not None else f"card {other + 1}"
        message = f"card not used: its GUID or identity is also {twice}'s; {_NOT_USED}"
        warnings.append(Diagnostic(where, lines[k], message))
    return kept


def _fields_digest(head: dict[str, Any]) -> str | None:
    digest = head.get("fields")
    return digest if isinstance(digest, str) else None


def load(
    vault: Path,
    vault_name: str,
    cache: Path | None = None,
    root: Path | None = None,
    found: bool = True,
) -> tuple[Ledger, list[Diagnostic]]:
    """The ledger in ``vault`` (the folder holding ``.memo2anki/``); an empty one (a first
    run) when there is none, or with a warning when it cannot be read, is damaged, or
    belongs to another vault (a row of it that is damaged is left out, with a warning).
    ``cache`` is not used: the ledger is read whole each run, as nothing kept outside the
    vault may change what it says. ``root``: the run's vault root (default ``vault``), which
    the cards' note paths are relative to: rows written against another root have theirs
    made relative to it. ``found``: whether ``vault`` was found holding a ``.memo2anki/``
    (else it is where a new one is made)."""
    del cache
    path = ledger_path(vault)
    where = f"{FOLDER}/{FILE_NAME}"
    now_root = root_of(root, vault) if root is not None else ""

    def empty(digest: str | None = None) -> Ledger:
        return Ledger(vault_name, (), digest, home=vault, found=found, root=now_root)

    def newer_than_this(
        digest: str | None, at: str, newer: NewerLedger
    ) -> tuple[Ledger, list[Diagnostic]]:
        # (A first run, which leaves both files as they are: they are written together.)
        return replace(empty(digest), read_only=True), [_warn(at, str(newer))]

    if (problem := folder_problem(vault)) is not None:
        return empty(), [_warn(FOLDER, f"ledger not used: {problem}")]
    newer_fields = _newer_fields(path.with_name(FIELDS_NAME))
    fields_where = f"{FOLDER}/{FIELDS_NAME}"
    try:
        raw = rows_file.read_regular(path)
    except FileNotFoundError:
        if newer_fields is not None:
            return newer_than_this(None, fields_where, newer_fields)
        return empty(), []
    except OSError as err:
        reason = err.strerror or str(err)
        warning = _warn(where, f"cannot read the ledger ({reason})")
        return empty(), [warning]
    digest = hashlib.sha256(raw).hexdigest()
    try:
        head, file, warnings = parse(raw, where)
    except Damaged as err:
        newer = err if isinstance(err, NewerLedger) else _newer(raw)
        if newer is not None:
            return newer_than_this(digest, where, newer)
        if newer_fields is not None:
            return newer_than_this(digest, fields_where, newer_fields)
        warning = _warn(where, f"ledger not used: {err}")
        return replace(empty(digest), damaged=True), [warning]
    if newer_fields is not None:
        return newer_than_this(digest, fields_where, newer_fields)
    # (Rows not used; a merge's cards on both sides are not damage.)
    damaged = any(w.message != MERGE_CONFLICT for w in warnings)
    old_root = head.get("root", "")
    old_root = old_root if isinstance(old_root, str) else ""
    # The name of the vault it was written for: this run's, or (written against another
    # root) the folder its paths are relative to; else it is another vault's.
    expected = vault_name
    if old_root != now_root:
        expected = printable(os.path.basename(os.path.normpath(os.path.join(vault, old_root))))
    renamed = False
    if head["vault"] != expected:
        if old_root != now_root or not _notes_here(file, root or vault):
            message = (
                f"ledger not used: it was written for vault '{head['vault']}', not '{expected}'"
            )
            # Kept aside as a damaged one is, when this run writes its own: it may be this
            # vault's after all (renamed, its notes moved too), and its history is in it.
            return replace(empty(digest), damaged=True), [_warn(where, message)]
        # Its notes are here: the vault's folder was renamed, and its history goes on (every
        # card's link, which names the vault, is written again).
        renamed = True
        message = (
            f"written for vault '{head['vault']}', used for '{expected}' (its notes are here: "
            "the folder was renamed?); every card's link is written again"
        )
        warnings = [*warnings, Diagnostic(where, None, message)]
    fields = LastFields(path.with_name(FIELDS_NAME))
    if old_root != now_root:
        # Written against another vault root: each row's note made relative to this one
        # (the rows are then written anew, against this root).
        rebased = [
            c._replace(note=_rebase(c.note, old_root, now_root), key="") for c in file.cards()
        ]
        file = ReadFile(rebased, None, file.fields_digest, raw, file.stale)
    name = head["vault"] if old_root != now_root or renamed else vault_name
    links = head.get("links")
    links = links if isinstance(links, str) else ""
    pages = head.get("pages")
    if not isinstance(pages, dict) or not all(isinstance(p, str) for p in pages.values()):
        pages = {}  # (a hand-edited ledger: every page link is then written again)
    elif old_root != now_root:  # (by note path, as the rows' notes)
        pages = {_rebase(note, old_root, now_root): page for note, page in pages.items()}
    others = _others_of(head)
    if others is None:
        others, links = {}, "\0"  # (a hand-edited ledger: every link is then written again)
    cards = Cards(range(file.count), file)
    ledger = Ledger(
        name,
        cards,
        digest,
        fields,
        links,
        pages,
        home=vault,
        found=found,
        root=now_root,
        link_root=old_root if old_root != now_root else None,
        others=others,
        cloze=cloze if isinstance(cloze := head.get("cloze"), bool) else None,
        damaged=damaged,
    )
    return ledger, warnings


def _notes_here(file: ReadFile, root: Path) -> bool:
    """Whether most of the notes a ledger's live cards came from are files below ``root``
    (a ledger of a vault whose folder was renamed; not one copied from another vault)."""
    notes = {card.note for card in file.cards() if card.state == LIVE}
    here = sum(1 for note in notes if (root / note).is_file())
    return bool(notes) and here * 2 > len(notes)


def folder_problem(vault: Path) -> str | None:
    """Why the ``.memo2anki`` in ``vault`` cannot be used (None: it can, or is not there
    yet): it is not a folder, or a link to one outside ``vault`` (the ledger is never read
    or written elsewhere)."""
    folder = vault / FOLDER
    try:
        mode = os.lstat(folder).st_mode
    except FileNotFoundError:
        return None
    except OSError as err:
        return f"cannot be read ({err.strerror or err})"
    if stat.S_ISLNK(mode):
        try:
            target = folder.resolve(strict=True)
        except RuntimeError:  # (a loop, before Python 3.13)
            return "a link that leads nowhere (a loop)"
        except OSError as err:
            if err.errno == errno.ELOOP:  # (a loop, from Python 3.13)
                return "a link that leads nowhere (a loop)"
            target = folder.resolve()  # (a link to nothing: where it leads)
        if not target.is_relative_to(vault.resolve()):
            return f"a link to {target}, outside the vault"
        mode = os.stat(folder).st_mode if target.exists() else 0
    if not stat.S_ISDIR(mode):
        return "not a folder"
    return None


def _warn(where: str, message: str) -> Diagnostic:
    return Diagnostic(where, None, f"{message}; this run is treated as a first run")


# A run holds the lock only while it writes the two files (well under a second for a vault
# of 20,000 notes): one held longer is held by a run stopped (Ctrl-Z) or by another program.
LOCK_WAIT = 10.0


@contextlib.contextmanager
def _locked(folder: Path) -> Iterator[None]:
    """Hold an exclusive lock on the ``.memo2anki`` folder, waiting for another run to
    finish writing, but not for ever: past :data:`LOCK_WAIT` seconds (a run stopped while it
    held it waited for ever), and where folders cannot be locked (Windows), the files are
    written without it, and the compare-and-swap in :func:`save` still catches a race."""
    try:
        import fcntl

        fd = os.open(folder, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    except (ImportError, OSError):
        yield
        return
    try:
        deadline = time.monotonic() + LOCK_WAIT
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    break
                time.sleep(0.05)
        yield
    finally:
        os.close(fd)  # closing releases the lock


def _last_rows(ledger: Ledger, fields_path: Path) -> Body | None:
    """The rows of ``fields.json`` as written with the file the ledger was read from (its
    header names the file's digest), so the cards written again as read keep theirs without
    the file being parsed; None when it is not that file (changed since, or written by a run
    stopped before its ledger), and then every card's fields are worked out again."""
    file = ledger.source
    if file is None or file.body is None or file.fields_digest is None:
        return None
    try:
        raw = rows_file.read_regular(fields_path)
    except OSError:
        return None
    if hashlib.sha256(raw).hexdigest() != file.fields_digest:
        return None
    return Body.of(rows_file.rows_of(raw), file.count)


def _digest_now(raw: bytes, ledger: Ledger, read_digest: str | None) -> str:
    """The digest of the ledger file's bytes now: ``read_digest`` when they are still those
    ``ledger`` was read from (compared, not hashed again)."""
    read = ledger.source.raw if ledger.source is not None else None
    if read_digest is not None and read_digest == ledger.read_digest and raw == read:
        return read_digest
    return hashlib.sha256(raw).hexdigest()


def _would_write(ledger: Ledger, read_digest: str | None, changed: bool) -> bool:
    """Whether :func:`save` writes the files (else it leaves them and their times alone)."""
    if ledger.read_only:
        return False  # (a newer memo2anki's: said so when it was read)
    stale = ledger.source is not None and ledger.source.stale
    return changed or read_digest is None or not ledger.cards or stale


def holds_run(ledger: Ledger, read_digest: str | None, changed: bool) -> bool:
    """Whether the ledger as read already holds this run's (:func:`save` leaves it as it
    is): a stop before it is saved loses nothing of it. (Not so of a newer memo2anki's,
    which is never written.)"""
    return not ledger.read_only and not _would_write(ledger, read_digest, changed)


def unwritten_warnings(
    vault: Path, ledger: Ledger, read_digest: str | None, changed: bool = True
) -> list[Diagnostic]:
    """For a dry run, which writes nothing: the warnings :func:`save` would give of
    ``fields.json``, which it reads (when it is not the file the ledger names: one git
    merged, say) to write each card's last fields again."""
    if not _would_write(ledger, read_digest, changed):
        return []
    if _last_rows(ledger, ledger_path(vault).with_name(FIELDS_NAME)) is None:
        for card in ledger.cards:
            ledger.last_html(card)  # (as the write reads them)
    return fields_warnings(ledger.fields)


def save(
    vault: Path, ledger: Ledger, read_digest: str | None, changed: bool = True
) -> list[Diagnostic]:
    """Write the ledger atomically, only if the file is still what this run read
    (``read_digest``; None: there was none), and only if ``changed`` (a run that changed
    nothing leaves the files and their times alone). The cards' last fields go to
    ``fields.json`` beside it, first. Nothing is written through a link out of the vault,
    nor over anything but a regular file. Returns warnings; never raises on I/O."""
    path = ledger_path(vault)
    where = f"{FOLDER}/{FILE_NAME}"
    if not _would_write(ledger, read_digest, changed):
        return []
    if (problem := folder_problem(vault)) is not None:
        message = f"ledger not written: {problem}; the deck was written, but the next run "
        return [Diagnostic(FOLDER, None, message + "cannot tell what changed since this one")]
    cards = ledger.cards
    segments = rows_file.segments(cards.items if isinstance(cards, Cards) else cards)
    last_fields = _last_rows(ledger, path.with_name(FIELDS_NAME))
    fields_bytes, _ = _fields_file(ledger, segments, last_fields)
    text, _ = _ledger_file(ledger, segments, rows_file.digest(fields_bytes))
    digest = rows_file.digest(text)
    try:
        path.parent.mkdir(exist_ok=True)
        with _locked(path.parent):
            for name in (FILE_NAME, FIELDS_NAME):
                if (why := rows_file.in_the_way(path.with_name(name))) is not None:
                    message = (
                        f"ledger not written: {why}; the deck was written, but the next run "
                        "cannot tell what changed since this one"
                    )
                    return [Diagnostic(f"{FOLDER}/{name}", None, message)]
            try:
                now = _digest_now(rows_file.read_regular(path), ledger, read_digest)
            except FileNotFoundError:
                now = None
            if now != read_digest:
                message = (
                    "not updated: another run changed the ledger while this one ran; "
                    "run again so the next export compares against both"
                )
                return [Diagnostic(where, None, message)]
            if now is not None and now == digest:
                return []  # nothing changed: leave the file (and its time) alone
            # A ledger that held what this run could not use is kept aside (with the
            # fields.json written with it), never lost: its cards' history may be mended
            # from it. So is a fields.json that did (its cards' last fields).
            aside: tuple[str, ...] = ()
            if ledger.damaged:
                aside = (FIELDS_NAME, FILE_NAME)
            elif (read := _read_fields(ledger.fields)) is not None and read.damaged:
                aside = (FIELDS_NAME,)
            copies = {
                name: copy
                for name in aside
                if (copy := _keep_aside(path.with_name(name))) is not None
            }
            # The fields first: a run stopped between the two leaves newer fields beside the
            # old ledger, which only ever carries a gone card with its latest text.
            rows_file.replace_atomically(path.with_name(FIELDS_NAME), fields_bytes)
            rows_file.replace_atomically(path, text)
    except OSError as err:
        reason = err.strerror or str(err)
        message = f"cannot write the ledger ({reason}); the deck was written, but the next run "
        return [Diagnostic(where, None, message + "cannot tell what changed since this one")]
    # (fields.json's, if it was read only to write it)
    return [*fields_warnings(ledger.fields), *_kept(copies)]


def _kept(copies: Mapping[str, str]) -> list[Diagnostic]:
    """The line saying where the files kept aside went (by the name of each)."""
    if not copies:
        return []
    name = FILE_NAME if FILE_NAME in copies else FIELDS_NAME
    fields = copies.get(FIELDS_NAME) if name == FILE_NAME else None
    also = f" (and {FIELDS_NAME} as {fields})" if fields else ""
    message = (
        f"kept as {FOLDER}/{copies[name]}{also} before it was written anew: what this "
        "run could not use of it is there, to mend or restore"
    )
    return [Diagnostic(f"{FOLDER}/{name}", None, message)]


def _keep_aside(path: Path) -> str | None:
    """Keep the file at ``path`` under a name of its own beside it (``ledger.damaged.json``,
    then ``ledger.damaged-2.json``, ...), never over anything there: a second link to it
    (the file written next replaces only the name), or where there are none, a copy. Its
    name; None when there was no file."""
    if not path.exists():
        return None
    for n in range(1, 1000):
        copy = path.with_name(f"{path.stem}.damaged{f'-{n}' if n > 1 else ''}{path.suffix}")
        try:
            os.link(path, copy, follow_symlinks=False)
        except FileExistsError:
            continue
        except OSError:  # (a file system without hard links)
            try:
                _copy_new(path, copy)
            except FileExistsError:
                continue
        return copy.name
    raise OSError(errno.EEXIST, "too many damaged copies kept", str(path))


def _copy_new(path: Path, copy: Path) -> None:
    """Copy a regular file to a name nothing holds (FileExistsError when one does)."""
    data = rows_file.read_regular(path)
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
    fd = os.open(copy, flags, 0o644)
    try:
        with os.fdopen(fd, "wb") as file:
            file.write(data)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(copy)
        raise
