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
import hashlib
import json
import os
from array import array
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from functools import partial
from pathlib import Path
from typing import Any, NamedTuple, overload

from memo2anki.changes import ledger_index, rows_file
from memo2anki.changes.ledger_index import Columns, Light
from memo2anki.changes.rows_file import Body, Chunks, Segments
from memo2anki.model import Diagnostic, printable
from memo2anki.notes.discover import garden_root, is_garden

FORMAT = "memo2anki ledger"
VERSION = 1
FOLDER = ".memo2anki"
FILE_NAME = "ledger.json"
FIELDS_NAME = "fields.json"
FIELDS_FORMAT = "memo2anki last fields"

LIVE = "live"
GONE = "gone"  # no longer in any memo; its retiring copy (tagged memo2anki::gone) was handled


class LedgerCard(NamedTuple):
    """One Anki note memo2anki manages, as it was last exported (a named tuple: a ledger
    holds every card of a vault, and a frozen dataclass costs ten times as much to make)."""

    guid: str
    identity: tuple[str, str, str, int]  # (note file name or path, subject, front, ordinal)
    note: str  # vault-relative path of the note it came from
    line: int
    subject: str
    front: str  # plain text
    deck: str
    date: str  # ISO date, or "" when the note has none
    digest: str  # of the front, back and tags (identity.content_digest)
    stamp: int  # when its content last changed (the Anki note's modification time)
    state: str = LIVE  # LIVE or GONE
    # Its last Front and Back HTML and tags: what a gone card is carried with once more, and
    # what backs are compared by (the back's plain text is worked out from it when needed).
    front_html: str = ""
    back_html: str = ""
    tags: tuple[str, ...] = ()
    key: str = ""  # identity.row_key of the card as exported; empty: compared column by column


class LastFields(Mapping[str, tuple[str, str]]):
    """The last Front and Back HTML of every card, by GUID, from ``.memo2anki/fields.json``:
    read only when a run needs them (a card gone or paired), which most runs never do."""

    def __init__(self, path: Path | None) -> None:
        self._path = path
        self._fields: dict[str, tuple[str, str]] | None = None if path else {}

    def _load(self) -> dict[str, tuple[str, str]]:
        if self._fields is None:
            self._fields = {}
            try:
                assert self._path is not None
                data = json.loads(self._path.read_text(encoding="utf-8"))
                if isinstance(data, dict) and data.get("format") == FIELDS_FORMAT:
                    for row in data["fields"]:
                        guid, front, back = row
                        if (
                            isinstance(guid, str)
                            and isinstance(front, str)
                            and isinstance(back, str)
                        ):
                            self._fields[guid] = (front, back)
            except (OSError, UnicodeDecodeError, ValueError, KeyError, TypeError):
                pass  # gone cards are then carried with empty fields: see the README
        return self._fields

    def __getitem__(self, guid: str) -> tuple[str, str]:
        return self._load()[guid]

    def __iter__(self) -> Iterator[str]:
        return iter(self._load())

    def __len__(self) -> int:
        return len(self._load())


class ReadFile:
    """A ledger file as read. When the file is as memo2anki wrote it and what a run reads of
    its rows was remembered (:mod:`memo2anki.changes.ledger_index`), its rows are parsed only when
    asked for, one by one: a run whose cards all match their rows by key parses none."""

    def __init__(
        self,
        count: int,
        body: Body | None,
        fields_digest: str | None,
        columns: Columns | None,
        cards: Sequence[LedgerCard] | None = None,
        raw: bytes | None = None,
    ) -> None:
        self.count = count
        self.raw = raw  # the file's bytes
        # Its rows when they are as memo2anki wrote them (the header's digest vouches for
        # them); None: edited since, or written by an older memo2anki.
        self.body = body
        self.fields_digest = fields_digest  # of the fields.json written with it (None: unknown)
        # What is remembered of its rows (None: none can be: they are not as written).
        self.columns = columns
        self._light: Light | None = None
        self._cards: list[LedgerCard | None] = [*cards] if cards is not None else [None] * count

    @property
    def light(self) -> Light | None:
        """The columns a plan reads of every row (None: not known)."""
        if self._light is None and self.columns is not None:
            self._light = self.columns.light()
        return self._light

    @property
    def parsed(self) -> int:
        """How many of its rows were parsed so far."""
        return self.count - self._cards.count(None)

    def card(self, row: int) -> LedgerCard:
        """The card of one row."""
        card = self._cards[row]
        if card is None:
            body = self.body
            assert body is not None  # (the cards are given when the rows are not as written)
            if not body.is_run(row, row):  # (the lengths remembered were wrong)
                body.lengths_found()
            card = self._cards[row] = _card(json.loads(body.row(row)))
        return card

    def cards(self) -> list[LedgerCard]:
        """Every card, in the file's order (parsed all at once when most are not yet)."""
        if self._cards.count(None) > self.count // 8:
            assert self.body is not None
            for row, values in enumerate(json.loads(b"[" + self.body.data + b"]")):
                if self._cards[row] is None:
                    self._cards[row] = _card(values)
        return [self.card(row) for row in range(self.count)]


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
    # Where what was read of the file is remembered for the next run (see ledger_index), and
    # what is written of it; None: nowhere.
    cache: Path | None = field(default=None, compare=False)
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

    @property
    def empty(self) -> bool:
        return not self.cards

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
        with ledger_path(home).open("rb") as file:
            first = file.readline(1 << 20)
        text = first.decode("utf-8").rstrip()
        head = json.loads(text + "]}" if text.endswith("[") else text)
        _header({**head, "cards": []} if isinstance(head, dict) else head)
    except (OSError, UnicodeDecodeError, ValueError):
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
_TYPES = (str, list, str, int, str, str, str, str, str, int, str, list, str)
# A ledger written before rows had their key: read, and written again with one.
_KEYLESS = COLUMNS[:-1]
_IDENTITY_TYPES = (str, str, str, int)
_STATES = (LIVE, GONE)


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
    if fields_digest is not None:
        head["fields"] = fields_digest
    return rows_file.file_chunks(head, "cards", body, len(cards), vouch=True), lengths


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


def _columns_of(
    cards: Sequence[LedgerCard],
    segments: Segments,
    lengths: array[int],
    field_lengths: array[int] | None,
) -> Columns | None:
    """What to remember of a ledger file of these cards (None: a key or GUID that cannot be
    remembered). A run of rows of the file read takes the columns remembered of them, at
    once."""
    file = cards.file if isinstance(cards, Cards) else None
    old = file.columns if file is not None else None
    keys: list[str] = []
    guids: list[str] = []
    stamps, deck = array("q"), array("q")
    decks = {name: k for k, name in enumerate(old.decks)} if old is not None else {}
    gone: set[int] = set()
    if old is not None and file is not None and file.light is not None:
        # Where the lines of the runs start in the strings of keys and GUIDs.
        runs = [(first, first + stop - start) for start, stop, first in segments if first >= 0]
        edges = [row for run in runs for row in run]
        key_starts = _line_starts(file.light.keys, edges)
        guid_starts = _line_starts(file.light.guids, edges)
    for start, stop, first in segments:
        if first >= 0 and old is not None:
            last = first + stop - start - 1
            keys.append(old.keys[key_starts[first] : key_starts[last + 1] - 1])
            guids.append(old.guids[guid_starts[first] : guid_starts[last + 1] - 1])
            stamps.extend(old.stamps[first : last + 1])
            deck.extend(old.deck[first : last + 1])
            gone.update(row - first + start for row in old.gone if first <= row <= last)
            continue
        for k in range(start, stop):
            card = cards[k]
            if not (ledger_index.rememberable(card.key) and ledger_index.rememberable(card.guid)):
                return None
            keys.append(card.key)
            guids.append(card.guid)
            stamps.append(card.stamp)
            deck.append(decks.setdefault(card.deck, len(decks)))
            if card.state == GONE:
                gone.add(k)
    return Columns(
        "\n".join(keys),
        "\n".join(guids),
        stamps,
        deck,
        tuple(decks),
        frozenset(gone),
        lengths,
        field_lengths,
    )


def _line_starts(lines: Sequence[str], rows: Sequence[int]) -> dict[int, int]:
    """Where each of these rows' lines starts in ``lines`` joined by line breaks."""
    starts: dict[int, int] = {}
    at = row = 0
    for wanted in sorted(set(rows)):
        at += sum(map(len, lines[row:wanted])) + wanted - row
        starts[row := wanted] = at
    return starts


def _check(rows: list[Any], types: tuple[type, ...] = _TYPES) -> None:
    """ValueError naming the first damaged row, if any."""
    for number, row in enumerate(rows, 1):
        if (
            type(row) is not list
            or tuple(map(type, row)) != types
            or tuple(map(type, row[1])) != _IDENTITY_TYPES
            or row[8] not in _STATES
            or (row[11] and set(map(type, row[11])) != {str})
        ):
            raise ValueError(f"card {number} is damaged")


def _header(data: object) -> dict[str, Any]:
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise ValueError("not a memo2anki ledger")
    if data.get("version") != VERSION:
        raise ValueError(f"ledger version {data.get('version')!r}; this memo2anki reads {VERSION}")
    if not isinstance(data.get("vault"), str) or not isinstance(data.get("cards"), list):
        raise ValueError("not a memo2anki ledger")
    return data


def _card(row: list[Any]) -> LedgerCard:
    """The card of a row in the file's column order (its HTML is in fields.json)."""
    g, i, n, line, s, f, d, date, state, stamp, dg, t, k = row
    return _make_card((g, tuple(i), n, line, s, f, d, date, dg, stamp, state, "", "", tuple(t), k))


_make_card = partial(tuple.__new__, LedgerCard)


def _fields_digest(head: dict[str, Any]) -> str | None:
    digest = head.get("fields")
    return digest if isinstance(digest, str) else None


def _as_remembered(raw: bytes, remembered: Columns) -> tuple[dict[str, Any], ReadFile] | None:
    """A file as memo2anki wrote it, with the columns remembered for its bytes, read without
    parsing its rows; None when it is not one (it is then parsed whole)."""
    end = raw.find(b"\n")
    try:
        head = _header(json.loads(raw[:end].decode("utf-8") + "]}"))
    except (UnicodeDecodeError, ValueError):
        return None
    rows_digest = head.pop("rows", None)
    if head.pop("cards") or head.get("columns") != list(COLUMNS):
        return None
    count = remembered.rows
    # (Only rows as written are remembered, by the digest of the whole file: its rows are
    # known to be those without hashing them again.)
    data = rows_file.rows_of(raw) if isinstance(rows_digest, str) else None
    body = Body(data, count, remembered.lengths) if data is not None else None
    if body is None or body.lengths_unknown:
        return None
    file = ReadFile(count, body, _fields_digest(head), remembered, raw=raw)
    light = file.light
    if light is None or len(set(light.guids)) != count:
        return None  # (a card in it twice: parsed whole, which says so)
    return head, file


def parse(raw: bytes, remembered: Columns | None = None) -> tuple[dict[str, Any], ReadFile]:
    """(header, the file as read) of a ledger file's bytes; ValueError when it is not one
    memo2anki reads. ``remembered``: what was remembered of these very bytes, if anything."""
    if remembered is not None and (read := _as_remembered(raw, remembered)) is not None:
        return read
    try:
        data = _header(json.loads(raw.decode("utf-8")))
    except json.JSONDecodeError as err:
        raise ValueError(f"not valid JSON (line {err.lineno})") from err
    rows = data.pop("cards")
    digest_ = data.pop("rows", None)
    body = None
    if data.get("columns") == list(_KEYLESS):
        _check(rows, _TYPES[:-1])
        rows = [[*row, ""] for row in rows]
    else:
        body = rows_file.rows_of(raw, digest_) if rows and isinstance(digest_, str) else None
        if body is None:
            _check(rows)  # edited since memo2anki wrote it (else as written, so checked)
    cards = [_card(row) for row in rows]
    if len({c.guid for c in cards}) != len(cards):
        raise ValueError("a card is in it twice")
    rows_of = Body.of(body, len(cards))
    columns = None
    if rows_of is not None:
        columns = _columns_of(cards, [(0, len(cards), -1)], rows_of.lengths, None)
    return data, ReadFile(len(cards), rows_of, _fields_digest(data), columns, cards, raw)


def load(
    vault: Path,
    vault_name: str,
    cache: Path | None = None,
    root: Path | None = None,
    found: bool = True,
) -> tuple[Ledger, list[Diagnostic]]:
    """The ledger in ``vault`` (the folder holding ``.memo2anki/``); an empty one (a first
    run) when there is none, or with a warning when it cannot be read, is damaged, or
    belongs to another vault. ``cache``: the folder where what was read of a ledger is
    remembered for the next run (:mod:`.ledger_index`). ``root``: the run's vault root
    (default ``vault``), which the cards' note paths are relative to: rows written against
    another root have theirs made relative to it. ``found``: whether ``vault`` was found
    holding a ``.memo2anki/`` (else it is where a new one is made)."""
    path = ledger_path(vault)
    where = f"{FOLDER}/{FILE_NAME}"
    now_root = root_of(root, vault) if root is not None else ""

    def empty(digest: str | None = None) -> Ledger:
        return Ledger(vault_name, (), digest, cache=cache, home=vault, found=found, root=now_root)

    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return empty(), []
    except OSError as err:
        reason = err.strerror or str(err)
        warning = _warn(where, f"cannot read the ledger ({reason})")
        return empty(), [warning]
    digest = hashlib.sha256(raw).hexdigest()
    remembered = ledger_index.recall(cache, digest) if cache is not None else None
    try:
        head, file = parse(raw, remembered)
    except (UnicodeDecodeError, ValueError, TypeError) as err:
        reason = "not UTF-8" if isinstance(err, UnicodeDecodeError) else str(err)
        warning = _warn(where, f"ledger not used: {reason}")
        return empty(digest), [warning]
    old_root = head.get("root", "")
    old_root = old_root if isinstance(old_root, str) else ""
    # The name of the vault it was written for: this run's, or (written against another
    # root) the folder its paths are relative to; else it is another vault's.
    expected = vault_name
    if old_root != now_root:
        expected = printable(os.path.basename(os.path.normpath(os.path.join(vault, old_root))))
    if head["vault"] != expected:
        message = f"ledger not used: it was written for vault '{head['vault']}', not '{expected}'"
        return empty(digest), [_warn(where, message)]
    if cache is not None and file.columns is not None and file.columns is not remembered:
        ledger_index.remember(cache, digest, file.columns)  # (none before, or not right)
    fields = LastFields(path.with_name(FIELDS_NAME))
    if old_root != now_root:
        # Written against another vault root: each row's note made relative to this one
        # (the rows are then written anew, against this root).
        rebased = [
            c._replace(note=_rebase(c.note, old_root, now_root), key="") for c in file.cards()
        ]
        file = ReadFile(len(rebased), None, file.fields_digest, None, rebased, raw)
    name = head["vault"] if old_root != now_root else vault_name
    links = head.get("links")
    links = links if isinstance(links, str) else ""
    pages = head.get("pages")
    if not isinstance(pages, dict) or not all(isinstance(p, str) for p in pages.values()):
        pages = {}  # (a hand-edited ledger: every page link is then written again)
    cards = Cards(range(file.count), file)
    return (
        Ledger(
            name, cards, digest, fields, cache, links, pages, home=vault, found=found, root=now_root
        ),
        [],
    )


def _warn(where: str, message: str) -> Diagnostic:
    return Diagnostic(where, None, f"{message}; this run is treated as a first run")


@contextlib.contextmanager
def _locked(folder: Path) -> Iterator[None]:
    """Hold an exclusive lock on the ``.memo2anki`` folder (waiting for another run to
    finish writing); where folders cannot be locked (Windows), the compare-and-swap in
    :func:`save` still catches a race."""
    try:
        import fcntl

        fd = os.open(folder, os.O_RDONLY)
    except (ImportError, OSError):
        yield
        return
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
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
        raw = fields_path.read_bytes()
    except OSError:
        return None
    if hashlib.sha256(raw).hexdigest() != file.fields_digest:
        return None
    lengths = file.columns.field_lengths if file.columns is not None else None
    return Body.of(rows_file.rows_of(raw), file.count, lengths)


def _digest_now(raw: bytes, ledger: Ledger, read_digest: str | None) -> str:
    """The digest of the ledger file's bytes now: ``read_digest`` when they are still those
    ``ledger`` was read from (compared, not hashed again)."""
    read = ledger.source.raw if ledger.source is not None else None
    if read_digest is not None and read_digest == ledger.read_digest and raw == read:
        return read_digest
    return hashlib.sha256(raw).hexdigest()


def save(
    vault: Path, ledger: Ledger, read_digest: str | None, changed: bool = True
) -> list[Diagnostic]:
    """Write the ledger atomically, only if the file is still what this run read
    (``read_digest``; None: there was none), and only if ``changed`` (a run that changed
    nothing leaves the files and their times alone). The cards' last fields go to
    ``fields.json`` beside it, first; what the next run reads of the file is remembered in
    ``ledger.cache``. Returns warnings; never raises on I/O."""
    path = ledger_path(vault)
    where = f"{FOLDER}/{FILE_NAME}"
    if not changed and read_digest is not None and ledger.cards:
        return []
    cards = ledger.cards
    segments = rows_file.segments(cards.items if isinstance(cards, Cards) else cards)
    last_fields = _last_rows(ledger, path.with_name(FIELDS_NAME))
    fields_bytes, field_lengths = _fields_file(ledger, segments, last_fields)
    text, lengths = _ledger_file(ledger, segments, rows_file.digest(fields_bytes))
    digest = rows_file.digest(text)
    try:
        path.parent.mkdir(exist_ok=True)
        with _locked(path.parent):
            try:
                now = _digest_now(path.read_bytes(), ledger, read_digest)
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
            # The fields first: a run stopped between the two leaves newer fields beside the
            # old ledger, which only ever carries a gone card with its latest text.
            rows_file.replace_atomically(path.with_name(FIELDS_NAME), fields_bytes)
            rows_file.replace_atomically(path, text)
    except OSError as err:
        reason = err.strerror or str(err)
        message = f"cannot write the ledger ({reason}); the deck was written, but the next run "
        return [Diagnostic(where, None, message + "cannot tell what changed since this one")]
    if ledger.cache is not None:
        columns = _columns_of(ledger.cards, segments, lengths, field_lengths)
        if columns is not None:
            ledger_index.remember(ledger.cache, digest, columns)
    return []
