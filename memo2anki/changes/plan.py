"""What changes in a deck, worked out once as plain data: the cards of this run and the ledger
of the last one in, a plan of new, updated, renamed, moved, gone and unchanged cards out.

The plan never knows its target: one writer per target (the package, a collection, AnkiConnect)
carries it out, and no writer decides what changes. :func:`plan_changes` does no I/O.
"""

from __future__ import annotations

import datetime as dt
import html
import json
import re
import unicodedata
import zlib
from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from enum import StrEnum
from functools import partial
from itertools import compress, repeat
from operator import attrgetter, lt
from typing import NamedTuple
from urllib.parse import parse_qs, urlsplit

import genanki

from memo2anki.cards.fields import about_fields, deck_name, stored_deck, stored_html
from memo2anki.cards.fields import tags as clean_tags
from memo2anki.cards.identity import cloze_guid, content_digest
from memo2anki.changes.ledger import (
    FIELDS_NAME,
    FOLDER,
    GONE,
    LAST_STAMP,
    LIVE,
    Cards,
    FieldsAfter,
    Ledger,
    LedgerCard,
    Written,
    fields_warnings,
)
from memo2anki.changes.notes import (
    CLOZE_MODEL_NAME,
    IMG,
    MODEL_NAME,
    TargetNote,
    card_link,
    cloze_text,
)
from memo2anki.model import Card, Diagnostic, fold, plural

GONE_TAG = "memo2anki::gone"
# Put beside the gone tag on retiring a note, one per card the person had suspended already
# (``…::kept-suspended::<card id>``): when its memo returns, that card stays suspended, and
# only the cards memo2anki suspended are unsuspended. The card's id, which stays the card's
# whatever happens to the note's other cards meanwhile.
KEPT_SUSPENDED = f"{GONE_TAG}::kept-suspended"


def kept_suspended_tag(card_id: int) -> str:
    """The tag saying the person, not memo2anki, suspended the card ``card_id``."""
    return f"{KEPT_SUSPENDED}::{card_id}"


# "Much the same": the Dice similarity of two texts' character bigrams (which suits Korean,
# whose words change their endings) at least this. Chosen from tests/test_plan.py's table of
# real-looking edits: a reworded ending, a line added, typos fixed, lines reordered score
# 0.70 and up; half the back rewritten, or another fact of the same topic, 0.46 and down.
BACK_SIMILAR = 0.6
FRONT_SIMILAR = 0.5  # a card moved to another note or subject: its front too
SIMILARITY_CHARS = 3000  # texts are compared by their start only, so pairing stays linear
# Past this many (appeared × disappeared) pairs, cards that moved note or subject are paired
# only with a card of the same front, so a vault-wide rewrite cannot take quadratic time.
CROSS_PAIRS_MAX = 250_000

Identity = tuple[str, str, str, int]


class Kind(StrEnum):
    """What happens to one card."""

    NEW = "new"
    UPDATED = "updated"
    RENAMED = "renamed"  # its heading was edited; the back is much the same
    MOVED = "moved"  # to another note, subject or deck (its front possibly edited too)
    RETURNED = "returned"  # was gone, and is in a memo again
    GONE = "gone"  # in no memo any more
    UNCHANGED = "unchanged"


# The order of the summary line.
KINDS = (
    Kind.NEW,
    Kind.UPDATED,
    Kind.RENAMED,
    Kind.MOVED,
    Kind.RETURNED,
    Kind.GONE,
    Kind.UNCHANGED,
)


@dataclass(frozen=True)
class Scope:
    """What a run can see: the cards of other subjects, notes outside the PATHs given (and
    other dates) are out of its reach, carried over unchanged and never gone."""

    subjects: tuple[str, ...] = ()  # NFC, casefolded; empty: every subject
    # Vault-relative notes, or folders ending in "/"; empty (or ""): the whole vault.
    paths: tuple[str, ...] = ()
    since: dt.date | None = None
    until: dt.date | None = None
    # Worked out only when some row would be gone (targets.build.out_of_reach), what left
    # the run's reach during it: the cards of the notes read that it leaves out (another
    # subject, another date), which a row may be paired with as cards are, never exported;
    # and the notes, as the ledger names them, not where it says but in the vault outside
    # the PATHs (a note of that file name is there).
    beyond: tuple[Card, ...] = field(default=(), compare=False)
    moved_out: frozenset[str] = frozenset()

    def covers(self, card: LedgerCard) -> bool:
        """Whether the run could have seen this ledger card (so its absence means gone)."""
        return card.note not in self.moved_out and self.reaches(card.note, card.subject, card.date)

    def reaches(self, note: str, subject: str, date: str) -> bool:
        """Whether the run could have seen a card of this note (vault-relative), subject and
        date (ISO, or "")."""
        if note.startswith("../"):
            return False  # a note outside this run's vault root (the ledger lies above it)
        if self.subjects and fold(subject) not in self.subjects:
            return False
        if self.paths and not any(
            p == "" or note == p or (p.endswith("/") and note.startswith(p)) for p in self.paths
        ):
            return False
        if self.since or self.until:
            if not date:
                return False
            try:
                day = dt.date.fromisoformat(date)
            except ValueError:  # a hand-edited ledger: out of reach rather than gone
                return False
            if (self.since and day < self.since) or (self.until and day > self.until):
                return False
        return True


@dataclass(frozen=True)
class Layout:
    """How cards become Anki notes: the top deck, the vault's name (its folder's: the ledger
    is that vault's), cloze notes beside them, whether gone cards are carried once more, and
    what a card's Link opens (:func:`memo2anki.changes.notes.card_link`)."""

    deck: str
    vault_name: str
    cloze: bool = False
    leave_out_gone: bool = False
    # The published site's address (a Digital Garden's), for a card whose note has a page.
    site_url: str = ""
    # The vault an Obsidian link opens: None, the vault's own name; "" no Obsidian link (a
    # garden whose vault is not known).
    link_vault: str | None = None

    @property
    def obsidian_vault(self) -> str:
        return self.vault_name if self.link_vault is None else self.link_vault

    def link(self, note: str, permalink: str) -> str:
        """A card's Link field (before escaping)."""
        return card_link(self.site_url, self.obsidian_vault, note, permalink)

    @property
    def links(self) -> str:
        """What the Link fields are made from, as the ledger keeps it ("" for the vault's
        own name alone, as before there was anything else)."""
        if not self.site_url and self.link_vault is None:
            return ""
        return json.dumps([self.site_url, self.obsidian_vault], ensure_ascii=False)


class Place(NamedTuple):
    """Where a card is (or was): its note, line, subject, front and deck."""

    note: str
    line: int
    subject: str
    front: str
    deck: str

    @property
    def where(self) -> str:
        """``note:line``, or the note alone where the line is not known (a ledger read back
        from Anki's notes has none)."""
        return f"{self.note}:{self.line}" if self.line > 0 else self.note


class Change(NamedTuple):
    """What happens to one card memo2anki manages (a named tuple: one per card)."""

    kind: Kind
    guid: str
    now: Place | None  # None: gone
    before: Place | None  # from the ledger; None: new
    # What the target must hold for it: the card's note (and its cloze note); empty for a
    # gone card that is left out.
    notes: tuple[TargetNote, ...] = ()

    @property
    def deck_changed(self) -> bool:
        return (
            self.now is not None and self.before is not None and self.now.deck != self.before.deck
        )

    @property
    def retired_cloze(self) -> TargetNote | None:
        """The cloze note of a card still in its memo that the memo no longer makes (its
        highlights removed, or cloze notes turned off), carried once more with its last
        fields and the gone tag, to be retired as a gone card's is; None for most cards.
        (It is the card's last note, tagged gone while the card's own note is not.)"""
        if self.kind is Kind.GONE or len(self.notes) < 2:
            return None
        last = self.notes[-1]
        return last if GONE_TAG in last.tags and GONE_TAG not in self.notes[0].tags else None


@dataclass(frozen=True)
class Plan:
    """Every change of one run, in study order (gone cards last), and the ledger after it."""

    changes: tuple[Change, ...]
    ledger: Ledger
    diagnostics: tuple[Diagnostic, ...] = ()
    filtered: int = 0  # ledger cards out of this run's scope, carried over unchanged
    first_run: bool = False  # there was no ledger to compare against
    counts: dict[Kind, int] = field(default_factory=dict, compare=False)
    # Whether the ledger after this run differs from the one before (else it is not written).
    ledger_changed: bool = True
    # What the run could see (a target's notes out of it are never touched).
    scope: Scope = field(default_factory=Scope, compare=False)
    # How its cards became notes (None: not known), for planning again against a target.
    layout: Layout | None = field(default=None, compare=False)
    # The GUIDs of the cards earlier runs of this ledger retired (its gone rows within the
    # run's reach): the only notes --delete-gone deletes besides those gone now.
    retired: tuple[str, ...] = field(default=(), compare=False)
    # Of those, when each was retired (its row's stamp), by GUID: a target holding a note
    # of one older than that, untagged, never got the write that retired it.
    retired_when: Mapping[str, int] = field(default_factory=dict, compare=False)

    def notes(self) -> Iterator[TargetNote]:
        """The notes the target must hold, in study order."""
        for change in self.changes:
            yield from change.notes


def fields_of(
    front_html: str, back_html: str, subject: str, note: str, date: str, link: str
) -> tuple[str, ...]:
    """The memo2anki note type's fields (package.FIELDS) of a card: Front and Back as the card
    made them (sanitized HTML), Subject, Source and Date escaped text, Link a URL (see
    :mod:`memo2anki.cards.fields`)."""
    return (front_html, back_html, *about_fields(subject, note, date, link))


def digest(card: Card) -> str:
    """The card's digest of its front, back and tags (the ledger's ``digest``): the other
    fields (subject, note, date, link) are the ledger's columns and the vault's name."""
    return card.digest or content_digest(card.front_html, card.back_html, card.tags)


def _left_out(count: int, ledger: Ledger) -> Diagnostic:
    """The warning for gone cards without their last fields: a package leaves them out (with
    empty ones, its import would blank their notes), a sync retires them all the same (it
    tags and suspends the notes Anki holds, their fields as they are)."""
    why = getattr(ledger.fields, "problem", None) or f"{FIELDS_NAME} has none for them"
    return Diagnostic(
        f"{FOLDER}/{FIELDS_NAME}",
        None,
        f"{plural(count, 'gone card')} whose last fields are not known ({why}): left out of a "
        "package, they keep their last fields in Anki, not tagged memo2anki::gone (a sync "
        "tags them); --changes names them",
    )


def _unchanged_fields(changes: Sequence[Change]) -> dict[str, tuple[str, str]]:
    """The Front and Back HTML of the cards a plan found unchanged, by GUID: as they were
    last written (see :class:`~memo2anki.changes.ledger.FieldsAfter`)."""
    return {
        c.guid: (c.notes[0].fields[0], c.notes[0].fields[1])
        for c in changes
        if c.kind is Kind.UNCHANGED and c.notes
    }


def _later(now: int, stamp: int) -> int:
    """A changed card's new time: now, or past its last one (so Anki's import, which takes
    only a newer note, takes it), and never past the last time a ledger can hold."""
    return min(max(now, stamp + 1), LAST_STAMP)


def _gone_cloze(
    guid: str, fields: tuple[str, ...], deck: str, tags: Sequence[str], stamp: int, due: int
) -> TargetNote | None:
    """The cloze note a card's last fields (Front, Back, then Subject, Source, Date, Link)
    made, tagged gone: carried once more, so that Anki retires it as it does a gone card's;
    None when that back had no highlights (it made none)."""
    text = cloze_text(fields[1])
    if text is None:
        return None
    tags = (*(t for t in clean_tags(tags) if t != GONE_TAG), GONE_TAG)
    cloze_fields = (text, fields[0], *fields[2:])
    return TargetNote(cloze_guid(guid), CLOZE_MODEL_NAME, deck, cloze_fields, tags, stamp, due)


def _last_fields(
    ledger: Ledger, entry: LedgerCard, layout: Layout, pages: Mapping[str, str]
) -> tuple[str, ...]:
    """A ledger card's note as memo2anki last wrote it (:func:`fields_of`), its Front and
    Back from the ledger's last fields. The one place the ledger's values become a note's:
    each passes the checks a value made from a note does (the ledger is a file anyone can
    edit)."""
    front_html, back_html = ledger.last_html(entry)
    return fields_of(
        stored_html(front_html),
        stored_html(back_html),
        entry.subject,
        entry.note,
        entry.date,
        layout.link(entry.note, pages.get(entry.note, "")),
    )


def guid_of(identity: Identity, attempt: int = 0) -> str:
    """The GUID of an identity; ``attempt`` > 0 when that one is taken by a renamed card."""
    parts: tuple[object, ...] = identity if attempt == 0 else (*identity, attempt)
    return str(genanki.guid_for("memo2anki", *parts))


_TAG = re.compile(r"<[^>]*>")
_SPACE = re.compile(r"\s+")


def plain_text(card_html: str) -> str:
    """What a card's HTML says, for comparing: text without markup, each picture as one
    character (:func:`_picture_mark`), folded."""
    text = IMG.sub(lambda m: f" {_picture_mark(m.group(1))} ", card_html[: SIMILARITY_CHARS * 4])
    text = html.unescape(_TAG.sub(" ", text))
    text = _SPACE.sub(" ", unicodedata.normalize("NFC", text)).strip().casefold()
    return text[:SIMILARITY_CHARS]


def _picture_mark(src: str) -> str:
    """A character of Unicode's private use standing for the picture named ``src``, the same
    for the same content: a picture weighs as a short word does. (Its name, 24 characters,
    outweighed a line of text: a short back whose picture was replaced or added, its heading
    renamed, was taken for another card, and the card's history was lost.)"""
    return chr(0xE000 + zlib.crc32(src.encode("utf-8", "surrogatepass")) % 6400)


def _grams(text: str) -> Counter[str]:
    if len(text) < 2:
        return Counter([text]) if text else Counter()
    return Counter(text[i : i + 2] for i in range(len(text) - 1))


def _dice(a: Counter[str], b: Counter[str]) -> float:
    total = a.total() + b.total()
    if not total:
        return 1.0
    return 2 * sum((a & b).values()) / total


def similarity(a: str, b: str) -> float:
    """How much the same two plain texts are, 0 to 1 (Dice over character bigrams)."""
    return _dice(_grams(a), _grams(b))


@dataclass
class _Side:
    """A card or ledger entry taking part in pairing, with its texts worked out once."""

    index: int
    place: tuple[str, str]  # (note file name, subject)
    front: str
    back: Counter[str]
    front_grams: Counter[str]


def _pairs(appeared: list[_Side], gone: list[_Side]) -> list[tuple[int, int]]:
    """One-to-one pairs (appeared index, gone index), best first."""
    cross_all = len(appeared) * len(gone) <= CROSS_PAIRS_MAX
    by_front: dict[str, list[_Side]] = {}
    by_place: dict[tuple[str, str], list[_Side]] = {}
    for g in gone:
        by_front.setdefault(g.front, []).append(g)
        by_place.setdefault(g.place, []).append(g)
    scored: list[tuple[float, int, int]] = []
    for a in appeared:
        candidates = gone if cross_all else by_place.get(a.place, []) + by_front.get(a.front, [])
        seen: set[int] = set()
        for g in candidates:
            if g.index in seen:
                continue
            seen.add(g.index)
            back = _dice(a.back, g.back)
            if back < BACK_SIMILAR:
                continue
            if a.place == g.place:
                score = back
            else:
                front = 1.0 if a.front == g.front else _dice(a.front_grams, g.front_grams)
                if front < FRONT_SIMILAR:
                    continue
                score = (back + front) / 2
            scored.append((-score, a.index, g.index))
    scored.sort()
    taken_a: set[int] = set()
    taken_g: set[int] = set()
    pairs = []
    for _score, ai, gi in scored:
        if ai not in taken_a and gi not in taken_g:
            taken_a.add(ai)
            taken_g.add(gi)
            pairs.append((ai, gi))
    return pairs


def _side(index: int, identity: Identity, front: str, back_html: str) -> _Side:
    folded = fold(front)
    return _Side(
        index, (identity[0], identity[1]), folded, _grams(plain_text(back_html)), _grams(folded)
    )


def _settle_identities(
    cards: Sequence[Card], entries: Sequence[LedgerCard]
) -> tuple[list[Identity], dict[Identity, int], list[Diagnostic]]:
    """Each card's identity, and each identity's card (by index). Two notes of one file name
    (in different folders) that hold the same card would share one: the card the ledger
    knows from that note keeps it (without a ledger, the note first by path), and the other
    is told apart by its folder, with a warning."""
    identities = [c.identity for c in cards]
    index = dict(zip(identities, range(len(identities)), strict=True))
    if len(index) == len(identities):
        return identities, index, []  # as always, but with two notes of one name and one card
    known = {e.identity: e for e in entries}
    groups: dict[Identity, list[int]] = {}
    for i, identity in enumerate(identities):
        groups.setdefault(identity, []).append(i)
    diagnostics = []
    for identity, members in groups.items():
        if len(members) < 2:
            continue
        entry = known.get(identity)
        keeper = min(
            members, key=lambda i: (entry is None or cards[i].note != entry.note, cards[i].note)
        )
        for i in members:
            if i == keeper:
                continue
            card = cards[i]
            identities[i] = (card.note, card.subject, card.front, card.ordinal)
            message = (
                f"'{card.front}' is also a card of {cards[keeper].note}, a note of the same "
                "name: this one is told apart by its folder (rename one of the notes to "
                "keep them apart for good)"
            )
            diagnostics.append(Diagnostic(card.note, card.line, message))
    return identities, {identity: i for i, identity in enumerate(identities)}, diagnostics


def _key_hits(cards: Sequence[Card], ledger: Ledger) -> list[int]:
    """Each card's row when its key is that row's key (else -1): the same card as that row,
    with all that the plan compares as exported. Empty (no card matched by key) unless every
    card has its key and no two share an identity, and the ledger's cards are the rows of a
    file as memo2anki wrote it (a row's key then goes with its identity)."""
    light = ledger.cards.light() if isinstance(ledger.cards, Cards) else None
    if light is None or not light.keys:
        return []
    # (attrgetter: each pass over thousands of cards in C.)
    keys = list(map(attrgetter("key"), cards))
    if "" in keys or len(set(map(attrgetter("identity"), cards))) != len(cards):
        return []
    rows = dict(zip(light.keys, range(len(light.keys)), strict=True))
    rows.pop("", None)  # (a row compared column by column)
    return list(map(rows.get, keys, repeat(-1)))


# The identity of a card matched by its key, until it is worked out.
BY_KEY: Identity = ("", "", "", 0)


def _match_around(
    cards: Sequence[Card], entries: Sequence[LedgerCard], hits: list[int], misses: list[int]
) -> tuple[list[Identity], dict[int, int]]:
    """Each card's identity, and the match by identity (card index -> entry index) of those
    not matched by key (``misses``), given each card's row by key (see :func:`_key_hits`).
    The identity of a card matched by key is its row's (a key covers the identity), so it is
    worked out only when needed (:data:`BY_KEY` until then)."""
    identities = [BY_KEY] * len(cards)
    match: dict[int, int] = {}
    if misses:
        for i in misses:
            identities[i] = cards[i].identity
        rest = {identities[i]: i for i in misses}
        for j in _rows_but(len(entries), set(hits)):
            if (i := rest.get(entries[j].identity, -1)) >= 0:
                match[i] = j
    return identities, match


def _missed(hits: list[int]) -> list[int]:
    """The cards not matched by key (in C: a vault has thousands of cards)."""
    return list(compress(range(len(hits)), map(lt, hits, repeat(0))))


def _rows_but(count: int, taken: set[int]) -> list[int]:
    """Rows ``0`` to ``count - 1`` not ``taken``, in order (most are, after a small edit)."""
    return sorted(set(range(count)).difference(taken))


def plan_changes(
    cards: Sequence[Card], ledger: Ledger, scope: Scope, now: int, layout: Layout
) -> Plan:
    """The plan for one run: ``cards`` in study order, against ``ledger``, at time ``now``
    (whole seconds). Pure: no I/O."""
    hits = _key_hits(cards, ledger)  # each card's row by key, or -1
    misses = _missed(hits)  # the cards not matched by key
    light = (
        ledger.cards.light()
        if len(misses) < len(hits) and isinstance(ledger.cards, Cards)
        else None
    )
    entries: Sequence[LedgerCard]
    if light is not None:
        # The rows of a file: parsed only where a card did not match its row by key.
        entries = ledger.cards
        identities, match = _match_around(cards, entries, hits, misses)
        diagnostics: list[Diagnostic] = []
    else:
        hits, misses = [-1] * len(cards), list(range(len(cards)))
        entries = list(ledger.cards)
        identities, card_index, diagnostics = _settle_identities(cards, entries)
        # Card index -> entry index (the ledger never holds an identity twice).
        found = enumerate(map(card_index.get, [e.identity for e in entries], repeat(-1)))
        match = {i: j for j, i in found if i >= 0}

    # Fronts that a note holds more than once are told apart by their order, which an edit
    # shifts: those cards are paired by their backs first, and by their order only if not.
    # (A second card of one front in a note has an ordinal above 0, so those tell them.)
    # (A row matched by key has its card's identity, and its card's digest.)
    count = len(entries)
    hit_rows = set(hits)
    hit_rows.discard(-1)
    # Needed only for the cards not matched by key (all of them when none is).
    shared: set[tuple[str, str, str]] = set()
    if misses:
        shared.update(
            (cards[i].identity if identities[i] is BY_KEY else identities[i])[:3]
            for i in compress(range(len(cards)), map(attrgetter("ordinal"), cards))
        )
        shared.update(
            e.identity[:3] for j in _rows_but(count, hit_rows) if (e := entries[j]).identity[3]
        )
    for i, j in list(match.items()) if shared else ():  # (match: of cards not matched by key)
        if identities[i][:3] in shared and entries[j].digest != digest(cards[i]):
            del match[i]  # one of several equal fronts, changed: paired by its back first
    paired: set[int] = set()

    def row_sides(rows: list[int]) -> list[_Side]:
        """The rows' sides to pair cards with: their last front and back."""
        return [
            _side(j, entries[j].identity, entries[j].front, ledger.last_html(entries[j])[1])
            for j in rows
        ]

    def pair(allowed_entries: list[int]) -> None:
        todo = [i for i in misses if i not in match]
        if not todo or not allowed_entries:
            return  # nothing to pair (a first run, say): no texts to work out
        appeared = [_side(i, identities[i], cards[i].front, cards[i].back_html) for i in todo]
        for i, j in _pairs(appeared, row_sides(allowed_entries)):
            match[i] = j
            if identities[i] != entries[j].identity:
                paired.add(i)

    matched = hit_rows.union(match.values())
    pair([j for j in _rows_but(count, matched) if scope.covers(entries[j])])
    # Then the shared fronts left over, by their order, as before there was a ledger. (Only
    # those can be unmatched while the ledger holds their identity.)
    if shared:
        matched = hit_rows.union(match.values())
        entry_index = {entries[j].identity: j for j in _rows_but(count, matched)}
        for i in misses:
            identity = identities[i]
            if i not in match and (k := entry_index.get(identity, -1)) >= 0 and k not in matched:
                match[i] = k
                matched.add(k)

    # A row left without a card that became one the run leaves out (moved to another
    # subject, say): out of its reach, not gone.
    beyond_rows: set[int] = set()
    if scope.beyond:
        matched = hit_rows.union(match.values())
        left = [
            j
            for j in _rows_but(count, matched)
            if entries[j].state == LIVE and scope.covers(entries[j])
        ]
        if left:
            out = [_side(k, c.identity, c.front, c.back_html) for k, c in enumerate(scope.beyond)]
            beyond_rows = {j for _k, j in _pairs(out, row_sides(left))}

    used: set[str] | None = None  # the GUIDs taken: worked out for the first new card
    # What this run's Link fields are made from; a card whose link was made otherwise (by a
    # run with another vault name, root or links) has its Link field changed.
    written = Written(layout.vault_name, layout.links, ledger.root)
    written_before = ledger.written
    same_vault = written_before == written
    # The cards whose links were last made otherwise than the ledger's header says (a run
    # with another vault root could not reach them), by GUID: whether as this run makes them.
    others_now = {guid: w == written for guid, w in ledger.others.items()}
    others_after: dict[str, Written] = {}  # the same, after this run
    # A card links to its note's page (when the site is known): a page moved, its Link too.
    pages_before = ledger.pages if layout.site_url else {}
    pages: dict[str, str] = {}
    same_page, same_links = True, same_vault
    ledger_changed = not count or not same_vault
    changes: list[Change] = []
    # The ledger after this run: a row of the file read (an int, see ledger.Cards) for each
    # card as the ledger has it, else the card anew.
    refs = ledger.cards.items if isinstance(ledger.cards, Cards) else entries
    new_entries: list[int | LedgerCard] = []
    row_guids, row_stamps, row_decks, gone_rows = light[1:] if light else ((), (), (), ())
    # The same for a note's cards in a row: its Subject, Source, Date and Link fields, date
    # and subdeck.
    about: tuple[str, ...] = ()
    date = subdeck = link = ""
    last_subject: str | None = None
    last_note: str | None = None
    decks: dict[str, str] = {}  # by subject
    # Deck names by their folded form: Anki's are one deck whatever their case, and imports
    # a second spelling as another deck named with a "_". The ledger's spelling first, then
    # this run's first.
    spelled: dict[str, str] | None = None
    cloze = layout.cloze
    # Whether a cloze note the last run made may be gone while its card is not: the last run
    # made cloze notes (a ledger that does not say made none), and this one carries gone ones.
    retire_cloze = ledger.cloze is True and not layout.leave_out_gone
    # Cloze notes turned on again (the last run said it made none, after one that made
    # some): those it retired come back newer than that retirement, as an import takes only
    # a newer note.
    cloze_back = cloze and ledger.cloze is False
    # Locals, looked up for every card; the named tuples of an unchanged card are made
    # without their __new__'s Python frame (a vault holds thousands of cards).
    UNCHANGED = Kind.UNCHANGED
    make = tuple.__new__
    for i, card in enumerate(cards):
        note_path, subject = card.note, card.subject
        if note_path != last_note or subject != last_subject:
            if note_path != last_note:  # (a note's cards are together; its subjects may not be)
                link = layout.link(note_path, card.permalink)
                date = card.date.isoformat() if card.date else ""
            last_note, last_subject = note_path, subject
            about = about_fields(subject, note_path, date, link)
            same_page = True
            if layout.site_url and (card.permalink or note_path in pages_before):
                same_page = pages_before.get(note_path, "") == card.permalink
                if card.permalink:
                    pages[note_path] = card.permalink
            same_links = same_vault and same_page
            subdeck = decks.get(subject) or ""
            if not subdeck:
                if spelled is None:
                    known = set(row_decks) if light else {e.deck for e in entries}
                    # (Only a name memo2anki makes: a hand-edited row's may hold what
                    # folds away, such as a separator after it.)
                    spelled = {fold(d): d for d in sorted(known) if stored_deck(d, "") == d}
                name = deck_name(layout.deck, subject)
                subdeck = decks[subject] = spelled.setdefault(fold(name), name)
        before_entry: LedgerCard | None
        j = hits[i]
        if j >= 0:  # its key is its row's: all but the deck and state are as exported
            row_links = same_links
            if others_now:
                row_links = same_page and others_now.get(row_guids[j], same_vault)
            unchanged = row_decks[j] == subdeck and j not in gone_rows and row_links
            if unchanged:
                guid, stamp = row_guids[j], row_stamps[j]
            else:
                identities[i] = card.identity
        else:
            j = match.get(i, -1)
            before_entry = entries[j] if j >= 0 else None
            row_links = same_links
            if others_now and before_entry is not None:
                row_links = same_page and others_now.get(before_entry.guid, same_vault)
            unchanged = (
                before_entry is not None
                and before_entry.digest == digest(card)
                and before_entry.line == card.line
                and before_entry.note == note_path
                and before_entry.deck == subdeck
                and before_entry.date == date
                and before_entry.state == LIVE
                and before_entry.tags == card.tags
                and before_entry.key == card.key  # (a row from before keys is given one)
                and i not in paired  # (else its identity is another's: see pair())
                and row_links
            )
            if unchanged and before_entry is not None:
                guid, stamp = before_entry.guid, before_entry.stamp
        if unchanged:
            # The common case, kept short: a card just as the ledger has it (so it is where
            # it was too), with its old stamp (its GUID is an entry's, so taken); its row
            # stays as it is.
            fields = (card.front_html, card.back_html, *about)
            place = make(Place, (note_path, card.line, subject, card.front, subdeck))
            note = make(TargetNote, (guid, MODEL_NAME, subdeck, fields, card.tags, stamp, i))
            text = cloze_text(card.back_html) if cloze else None
            extra: TargetNote | None = None
            if text:
                extra = TargetNote(
                    cloze_guid(guid),
                    CLOZE_MODEL_NAME,
                    subdeck,
                    (text, card.front_html, *fields[2:]),
                    card.tags,
                    _later(now, stamp) if cloze_back else stamp,
                    i,
                )
            elif retire_cloze and not cloze and GONE_TAG not in card.tags:
                # Cloze notes turned off: the one its back (as last written) made is retired.
                # (Never for a card the person tagged gone: its notes could not be told apart.)
                extra = _gone_cloze(guid, fields, subdeck, card.tags, _later(now, stamp), i)
            if extra is not None:
                changes.append(Change(UNCHANGED, guid, place, place, (note, extra)))
            else:
                changes.append(make(Change, (UNCHANGED, guid, place, place, (note,))))
            new_entries.append(refs[j])
            continue
        before_entry = entries[j] if j >= 0 else None
        identity = identities[i]
        card_digest = digest(card)
        fields = (card.front_html, card.back_html, *about)
        tags = card.tags  # as Anki holds them (see make_cards)
        place = Place(note_path, card.line, subject, card.front, subdeck)
        if before_entry is None:
            kind = Kind.NEW
            guid = guid_of(identity)
            if used is None:
                used = set(light.guids) if light is not None else {e.guid for e in entries}
            attempt = 0
            while guid in used:
                attempt += 1
                guid = guid_of(identity, attempt)
            # No row: newer than any note Anki could hold for it (one imported from a lost
            # ledger's packages, or an edit made there), so an import applies it ("if newer").
            stamp = now
            before = None
        else:
            guid = before_entry.guid
            before = Place(
                before_entry.note,
                before_entry.line,
                before_entry.subject,
                before_entry.front,
                before_entry.deck,
            )
            same_note = card.note == before.note and date == before_entry.date and row_links
            if before_entry.state == GONE:
                kind = Kind.RETURNED
            elif i in paired and card.front != before.front:
                same_place = identity[:2] == before_entry.identity[:2] and subdeck == before.deck
                kind = Kind.RENAMED if same_place else Kind.MOVED
            elif card.note != before.note or subdeck != before.deck:
                kind = Kind.MOVED
            elif card_digest != before_entry.digest or not same_note:
                kind = Kind.UPDATED
            else:
                kind = Kind.UNCHANGED
            # Unchanged content keeps its time, so an edit made in Anki since survives.
            if kind is Kind.UNCHANGED or (
                kind is Kind.MOVED
                and card_digest == before_entry.digest
                and same_note
                and subject == before_entry.subject  # (else its Subject field changed)
            ):  # a move of deck only (--deck): the fields are the same
                stamp = before_entry.stamp
            else:
                stamp = _later(now, before_entry.stamp)
        if used is not None:  # (else it is an entry's, among those it will hold)
            used.add(guid)
        notes = [TargetNote(guid, MODEL_NAME, subdeck, fields, tags, stamp, i)]
        text = cloze_text(card.back_html) if layout.cloze else None
        if text:
            cloze_fields = (text, card.front_html, *fields[2:])
            cloze_stamp = stamp
            if cloze_back and before_entry is not None:
                cloze_stamp = _later(now, before_entry.stamp)  # (the card's note: its own)
            notes.append(
                TargetNote(
                    cloze_guid(guid), CLOZE_MODEL_NAME, subdeck, cloze_fields, tags, cloze_stamp, i
                )
            )
        elif (
            retire_cloze
            and before_entry is not None
            and before_entry.state == LIVE
            and (card_digest != before_entry.digest or not layout.cloze)
            and GONE_TAG not in tags
        ):
            # Its highlights removed (or cloze notes turned off): the cloze note its last back
            # made is retired, with its last fields (read only for such a card).
            gone_cloze = _gone_cloze(
                guid,
                _last_fields(ledger, before_entry, layout, pages_before),
                stored_deck(before_entry.deck, layout.deck),
                before_entry.tags,
                _later(now, before_entry.stamp),
                i,
            )
            if gone_cloze is not None:
                notes.append(gone_cloze)
        changes.append(Change(kind, guid, place, before, tuple(notes)))
        # Its row's key, when its identity is the card's own (one told apart by its folder
        # is compared column by column).
        key = card.key if identity == card.identity else ""
        if (
            before_entry is not None
            and kind is Kind.UNCHANGED
            and before_entry.line == card.line
            and before_entry.identity == identity
            and before_entry.tags == tags
            and before_entry.key == key
        ):
            # As the ledger has it (its fields stay in fields.json): nothing to make.
            new_entries.append(refs[j])
            continue
        ledger_changed = True
        new_entries.append(
            LedgerCard(
                guid,
                identity,
                card.note,
                card.line,
                card.subject,
                card.front,
                subdeck,
                date,
                LIVE,
                stamp,
                card_digest,
                tags,
                key,
                card.front_html,
                card.back_html,
            )
        )

    matched = hit_rows.union(match.values())
    carried: list[int | LedgerCard] = []
    retired: list[str] = []
    retired_when: dict[str, int] = {}
    filtered = 0
    unfielded = 0  # gone cards left out: their last fields are not known
    due = len(cards)
    left_notes: set[str] = set()  # (only needed for pages)
    for j in _rows_but(count, matched):
        entry = entries[j]
        if ledger.pages:
            left_notes.add(entry.note)
        if j in beyond_rows or not scope.covers(entry):
            filtered += entry.state == LIVE
            carried.append(refs[j])
            # Out of reach, its link is as it was: said so when not as this run's.
            if (others_now or not same_vault) and entry.state == LIVE:
                was = ledger.others.get(entry.guid, written_before)
                if was != written:
                    others_after[entry.guid] = was
            continue
        if entry.state == GONE:
            carried.append(refs[j])  # retired before: left out from now on
            retired.append(entry.guid)
            retired_when[entry.guid] = entry.stamp
            continue
        ledger_changed = True
        front_html, back_html = ledger.last_html(entry)
        before = Place(entry.note, entry.line, entry.subject, entry.front, entry.deck)
        notes = []
        stamp = entry.stamp
        # Without its last fields (fields.json lost or damaged) it is left out: carried
        # with empty ones, it would blank the note in Anki.
        if not layout.leave_out_gone and not (front_html or back_html):
            unfielded += 1
        if not layout.leave_out_gone and (front_html or back_html):
            stamp = _later(now, entry.stamp)
            fields = _last_fields(ledger, entry, layout, pages_before)
            front_html, back_html = fields[0], fields[1]
            deck = stored_deck(entry.deck, layout.deck)
            tags = (*(t for t in clean_tags(entry.tags) if t != GONE_TAG), GONE_TAG)
            notes.append(TargetNote(entry.guid, MODEL_NAME, deck, fields, tags, stamp, due))
            # Its cloze note, as the last run made it.
            if ledger.cloze:  # (else the last run made none: never one Anki did not have)
                gone_cloze = _gone_cloze(entry.guid, fields, deck, tags, stamp, due)
                if gone_cloze is not None:
                    notes.append(gone_cloze)
            due += 1
        changes.append(Change(Kind.GONE, entry.guid, None, before, tuple(notes)))
        carried.append(
            LedgerCard(
                guid=entry.guid,
                identity=entry.identity,
                note=entry.note,
                line=entry.line,
                subject=entry.subject,
                front=entry.front,
                deck=entry.deck,
                date=entry.date,
                digest=entry.digest,
                stamp=stamp,
                state=GONE,
                front_html=front_html,
                back_html=back_html,
                tags=entry.tags,
                key=entry.key,
            )
        )

    # The pages of the notes of this run's cards, and of the other notes the ledger still
    # holds cards of (out of this run's reach, or gone) as they were.
    diagnostics += fields_warnings(ledger.fields)  # (fields.json, if it was read)
    if unfielded:
        diagnostics.append(_left_out(unfielded, ledger))
    # (Those of notes out of its reach are kept by a run that links to no page: its cards'
    # links in Anki are to those pages still.)
    others = left_notes.difference(map(attrgetter("note"), cards))
    pages_after = {**{n: p for n, p in ledger.pages.items() if n in others}, **pages}
    ledger_changed = ledger_changed or pages_after != dict(ledger.pages)
    ledger_changed = ledger_changed or others_after != ledger.others
    # Whether this run made cloze notes, said once any run did (never, for a vault without).
    cloze_after = layout.cloze if layout.cloze or ledger.cloze is not None else None
    ledger_changed = ledger_changed or ledger.cloze != cloze_after
    tally = Counter(map(attrgetter("kind"), changes))
    return Plan(
        changes=tuple(changes),
        ledger=replace(
            ledger,
            vault=layout.vault_name,
            cards=Cards((*new_entries, *carried), ledger.source),
            fields=FieldsAfter(ledger.fields, partial(_unchanged_fields, changes)),
            links=layout.links,
            pages=pages_after,
            link_root=None,
            others=others_after,
            cloze=cloze_after,
        ),
        diagnostics=tuple(diagnostics),
        filtered=filtered,
        first_run=not count,
        counts={k: tally[k] for k in KINDS if tally[k]},
        ledger_changed=ledger_changed,
        scope=scope,
        layout=layout,
        retired=tuple(retired),
        retired_when=retired_when,
    )


class HeldNote(NamedTuple):
    """A note of memo2anki's note type as a target holds it: what a sync with no ledger reads
    as the ledger it would have had."""

    guid: str
    fields: tuple[str, ...]  # Front, Back, Subject, Source, Date, Link
    tags: tuple[str, ...]
    deck: str
    mod: int


def of_vault(fields: Sequence[str], deck: str, layout: Layout) -> bool:
    """Whether a note a target holds is this vault's, as far as it tells: its Link (the sixth
    field of both note types) opens a note of the vault named ``layout.vault_name``, and its
    card's deck is the run's top deck or under it. A sync with no ledger reads only those as
    its ledger: another vault's notes in the same profile are never paired with this vault's
    cards, retired or deleted by it."""
    if len(fields) < 6:
        return False
    query = urlsplit(html.unescape(fields[5])).query
    if [fold(v) for v in parse_qs(query).get("vault", [])] != [fold(layout.vault_name)]:
        return False
    top, deck = fold(deck_name(layout.deck, "")), fold(deck)
    return deck == top or deck.startswith(top + "::")


_FRONT_TAGS = re.compile(r"<[^>]*>")


def ledger_from_notes(
    notes: Sequence[HeldNote], vault_name: str, cards: Sequence[Card] = ()
) -> Ledger:
    """The ledger a target's notes make (oldest first): each note's GUID, its card's
    identity and place from its Source, Subject and Front, its deck, its content as it
    holds it (so an unchanged card is unchanged, and an edited or renamed one is paired with
    its note), and its modification time as the stamp; retired when tagged gone. Rows of the
    same front in one note are told apart by their order, as cards are. ``cards``: this
    run's cards, whose tags' order a note's same tags take (Anki keeps its own order)."""
    orders = {card.identity: card.tags for card in cards}
    rows: list[LedgerCard] = []
    seen: Counter[tuple[str, str, str]] = Counter()
    for held in notes:
        if len(held.fields) < 5:
            continue
        front_html, back_html = held.fields[0], held.fields[1]
        subject, note, date = (html.unescape(f) for f in held.fields[2:5])
        front = html.unescape(_FRONT_TAGS.sub("", front_html))
        place = (note.rpartition("/")[2], subject, front)
        ordinal = seen[place]
        seen[place] += 1
        tags = tuple(t for t in held.tags if t != GONE_TAG)
        order = orders.get((*place, ordinal))
        if order is not None and sorted(order) == sorted(tags):
            tags = order
        rows.append(
            LedgerCard(
                guid=held.guid,
                identity=(*place, ordinal),
                note=note,
                line=0,
                subject=subject,
                front=front,
                deck=held.deck,
                date=date,
                digest=content_digest(front_html, back_html, tags),
                stamp=held.mod,
                state=GONE if GONE_TAG in held.tags else LIVE,
                front_html=front_html,
                back_html=back_html,
                tags=tags,
                key="",
            )
        )
    return Ledger(vault_name, rows)
