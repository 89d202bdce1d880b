"""``memo2anki exam``: the cards of a range of memos as one filtered deck in Anki.

What the deck holds is an Anki search (:func:`exam_search`) over fields memo2anki writes and
that stay as they are between syncs: the note type's id and the notes' ``Source`` (and, when
the run keeps only some subjects, ``Subject``). Anki keeps the search with the deck, so its
Rebuild finds the same cards later, wherever the person moved them. With Anki closed the deck
is made in the collection with Anki's library (:func:`make_in_collection`: lock, backup, one
transaction, the schema mark checked); with Anki open, AnkiConnect cannot make filtered decks,
so its browser is opened on the search (:func:`browse_in_anki`).
"""

from __future__ import annotations

import html
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from memo2anki.changes.notes import NOTE_TYPES, TargetNote
from memo2anki.changes.plan import GONE_TAG, Plan
from memo2anki.model import Memo2AnkiError
from memo2anki.targets.ankiconnect import BATCH, AnkiConnect

EXAM_SUFFIX = " · 시험 대비"

# The most cards a filtered deck's search takes (the largest limit Anki's dialog offers): the
# search alone says which cards, so a Rebuild after more memos were synced takes them too.
LIMIT = 99999

# The fields a search names, at the same place in both of memo2anki's note types.
SOURCE, SUBJECT, FRONT = "Source", "Subject", "Front"

# Where to make a filtered deck from the browser's search: Browse > Edit since Anki 2.1.41
# (aqt/forms/browser.ui, unchanged through 26.x); before it, only Tools in the main window.
BROWSER_MENU = "Edit > Create Filtered Deck... (Ctrl+G; Cmd+G on a Mac)"
TOOLS_MENU = "Tools > Create Filtered Deck... (F)"
ORDER_ADDED = "Order added"
RESCHEDULE = "Reschedule cards based on my answers in this deck"


@dataclass(frozen=True)
class ExamCard:
    """One card of the range, as the collection holds it (or will, once synced)."""

    guid: str
    note_type: str
    source: str  # the Source field as written (escaped text)
    subject_field: str  # the Subject field as written (escaped text)
    front_field: str  # the Front field as written (HTML)
    subject: str  # as the memo names it (plain text)
    front: str  # plain text, for messages
    where: str  # note:line, for messages


@dataclass(frozen=True)
class Exam:
    """The filtered deck to make: its name, its search, whether answers reschedule, and the
    cards of the range it should hold (in study order)."""

    name: str
    search: str
    reschedule: bool
    cards: tuple[ExamCard, ...]

    @property
    def subjects(self) -> Counter[str]:
        return Counter(card.subject for card in self.cards)


# What Rust's regex syntax (Anki's) gives a meaning: escaped, each stands for itself.
_REGEX_META = frozenset("\\.+*?()|[]{}^$#&-~")


def regex_literal(text: str) -> str:
    """``text`` as a regular expression (Rust's syntax) matching exactly it. White space but
    a plain space is written by its number: Anki's search parser reads a tab, a no-break or
    an ideographic space inside quotes as a plain space, and the term would match nothing."""
    return "".join(
        f"\\{c}" if c in _REGEX_META else f"\\x{{{ord(c):x}}}" if c.isspace() and c != " " else c
        for c in text
    )


def field_is_any(field: str, values: Iterable[str]) -> str:
    """A search term matching notes whose ``field`` is exactly one of ``values`` (as written
    in the field, so HTML-escaped text as memo2anki writes it; like every field search in
    Anki, case-insensitive). One regular expression, ``"Field:re:^(?:a|b)$"``, not an OR of
    terms: Anki makes SQL of a search, and SQLite refuses an expression nested 1000 deep (an
    OR of 1000 field terms). Inside the quotes only ``"`` needs escaping for Anki's parser;
    spaces, parentheses, colons, Korean and Anki's wildcards ``*`` ``_`` mean nothing there."""
    alternatives = "|".join(regex_literal(v) for v in dict.fromkeys(values))
    term = f"{field}:re:^(?:{alternatives})$".replace('"', '\\"')
    return f'"{term}"'


# How every search memo2anki gives a filtered deck starts: its note types.
_OURS = f"({' OR '.join(f'mid:{model_id}' for model_id, _ in NOTE_TYPES.values())})"


def _made_by_memo2anki(deck: dict[str, Any]) -> bool:
    """Whether a filtered deck's search is one memo2anki gave it (else it is the person's)."""
    terms = deck.get("terms") or []
    return bool(terms) and all(
        isinstance(term, list) and str(term[0]).startswith(_OURS) for term in terms
    )


def exam_search(cards: Sequence[ExamCard], by_subject: bool) -> str:
    """Anki's search for memo2anki's cards of these cards' notes (of their subjects only, with
    ``by_subject``), gone ones and suspended ones left out."""
    parts = [_OURS, field_is_any(SOURCE, (c.source for c in cards))]
    if by_subject:
        parts.append(field_is_any(SUBJECT, (c.subject_field for c in cards)))
    parts += ["-is:suspended", f"-tag:{GONE_TAG}"]
    return " ".join(parts)


def _field(note: TargetNote, name: str) -> str:
    return note.fields[NOTE_TYPES[note.note_type][1].index(name)]


def exam_of(plan: Plan, name: str, reschedule: bool, by_subject: bool) -> Exam:
    """The exam deck of a run's plan: every card (and cloze note) of its memos, none gone."""
    cards = []
    for change in plan.changes:
        if change.now is None:
            continue
        for note in change.notes:
            if note is change.retired_cloze:
                continue  # (gone)
            cards.append(
                ExamCard(
                    note.guid,
                    note.note_type,
                    _field(note, SOURCE),
                    _field(note, SUBJECT),
                    _field(note, FRONT),
                    change.now.subject,
                    change.now.front,
                    change.now.where,
                )
            )
    if not cards:
        raise Memo2AnkiError("no cards of these memos to study")
    return Exam(name, exam_search(cards, by_subject), reschedule, tuple(cards))


@dataclass(frozen=True)
class Missing:
    """Cards of the range the deck does not hold, by why."""

    not_synced: tuple[ExamCard, ...] = ()  # not in Anki, or not as the memos are now
    suspended: tuple[ExamCard, ...] = ()  # suspended or buried by the person
    elsewhere: tuple[tuple[ExamCard, str], ...] = ()  # in another filtered deck (its name)


@dataclass(frozen=True)
class Made:
    """What ``exam`` made in the collection."""

    deck_id: int
    replaced: bool  # a filtered deck of that name was there, and was made again
    by_subject: dict[str, int]  # cards the deck holds, per subject (as the cards name it)
    missing: Missing
    backup: Path | None

    @property
    def total(self) -> int:
        return sum(self.by_subject.values())


def _anki_errors() -> Any:
    import anki.errors

    return anki.errors


def make_in_collection(
    col: Any,
    exam: Exam,
    backup_folder: Path | None = None,
    committed: Callable[[], None] | None = None,
) -> Made:
    """Make the exam's filtered deck in the open collection, from scratch: a filtered deck of
    that name is emptied and built again with the new search (same deck id); a normal deck
    of that name is left alone and is an error. One transaction, after a backup (unless
    ``backup_folder`` is None); the schema mark never moves. ``committed`` is called once the
    transaction went through, before any stop that came meanwhile is raised."""
    from anki.decks import FilteredDeckConfig

    from memo2anki.targets.write_collection import backup, schema_mark, transact_whole

    existing = col.decks.by_name(exam.name)
    if existing is not None and not existing.get("dyn"):
        raise Memo2AnkiError(
            f"'{exam.name}' is a deck of your own, not a filtered deck; nothing changed "
            "(give the exam deck another name with --name)"
        )
    if existing is not None and not _made_by_memo2anki(existing):
        raise Memo2AnkiError(
            f"'{existing['name']}' is a filtered deck of your own (its search is not one "
            "memo2anki made); nothing changed (give the exam deck another name with --name)"
        )
    parts = exam.name.split("::")
    for end in range(1, len(parts)):
        parent = col.decks.by_name("::".join(parts[:end]))
        if parent is not None and parent.get("dyn"):
            raise Memo2AnkiError(
                f"'{parent['name']}' is a filtered deck, and Anki puts no deck in one; nothing "
                "changed (give the exam deck another name with --name)"
            )
    if not col.find_cards(exam.search):
        raise Memo2AnkiError(_none_found(col, exam))
    saved = backup(col, backup_folder) if backup_folder is not None else None
    before = schema_mark(col)
    made: list[int] = []

    def work() -> None:
        deck = col.sched.get_or_create_filtered_deck(existing["id"] if existing else 0)
        deck.name = exam.name
        config = deck.config
        del config.search_terms[:]  # a second, empty term would take every card
        config.search_terms.append(
            FilteredDeckConfig.SearchTerm(
                search=exam.search, limit=LIMIT, order=FilteredDeckConfig.SearchTerm.ADDED
            )
        )
        config.reschedule = exam.reschedule
        try:
            made.append(col.sched.add_or_update_filtered_deck(deck).id)
        except _anki_errors().FilteredDeckError as err:  # every card buried, elsewhere, ...
            raise Memo2AnkiError(_none_found(col, exam)) from err
        if schema_mark(col) != before:
            raise Memo2AnkiError(
                "making the deck would force a one-way full sync with AnkiWeb; nothing changed"
            )

    transact_whole(col, work, committed)
    deck_id = made[0]
    by_subject = _held_by_subject(col, deck_id)
    return Made(deck_id, existing is not None, by_subject, _missing(col, exam, deck_id), saved)


def _none_found(col: Any, exam: Exam) -> str:
    """Why no card of the range can go in the deck; nothing was changed."""
    missing = _missing(col, exam, 0)
    why = []
    if missing.not_synced:
        why.append(f"{len(missing.not_synced)} not in Anki yet (run memo2anki sync first)")
    if missing.elsewhere:
        decks = ", ".join(f"'{d}'" for d in dict.fromkeys(deck for _, deck in missing.elsewhere))
        why.append(f"{len(missing.elsewhere)} in another filtered deck ({decks}: empty it first)")
    if missing.suspended:
        why.append(f"{len(missing.suspended)} suspended or buried")
    return (
        f"no card of these memos can go in the deck '{exam.name}': {'; '.join(why)}; "
        "nothing changed"
    )


def _held_by_subject(col: Any, deck_id: int) -> dict[str, int]:
    index = NOTE_TYPES["memo2anki"][1].index(SUBJECT)
    counts: Counter[str] = Counter()
    for (flds,) in col.db.execute(
        "select n.flds from cards c join notes n on n.id = c.nid where c.did = ?", deck_id
    ):
        counts[html.unescape(flds.split("\x1f")[index])] += 1
    return dict(sorted(counts.items(), key=lambda item: (-item[1], item[0])))


def _missing(col: Any, exam: Exam, deck_id: int) -> Missing:
    """Which of the range's cards the deck does not hold, and why."""
    by_guid = {card.guid: card for card in exam.cards}
    held: dict[str, list[tuple[int, int, int, str]]] = {}
    guids = list(by_guid)
    for start in range(0, len(guids), 500):
        chunk = guids[start : start + 500]
        marks = ",".join("?" * len(chunk))
        for guid, did, odid, queue, tags in col.db.execute(
            "select n.guid, c.did, c.odid, c.queue, n.tags from cards c "
            f"join notes n on n.id = c.nid where n.guid in ({marks})",
            *chunk,
        ):
            held.setdefault(guid, []).append((did, odid, queue, tags))
    names = {d.id: d.name for d in col.decks.all_names_and_ids()}
    not_synced, suspended, elsewhere = [], [], []
    for guid, card in by_guid.items():
        cards = held.get(guid, [])
        if any(did == deck_id for did, _, _, _ in cards):
            continue
        other = next((did for did, odid, _, _ in cards if odid), None)
        if other is not None:
            elsewhere.append((card, names.get(other, str(other))))
        elif not cards or any(GONE_TAG in tags.split() for *_, tags in cards):
            not_synced.append(card)  # not in Anki, or gone there while its memo is back
        elif all(queue < 0 for _, _, queue, _ in cards):
            suspended.append(card)
        else:
            not_synced.append(card)  # its Source or Subject in Anki is not the memo's now
    return Missing(tuple(not_synced), tuple(suspended), tuple(elsewhere))


@dataclass(frozen=True)
class Browsed:
    """What ``exam`` found in Anki through AnkiConnect, with its browser opened on the search."""

    by_subject: dict[str, int]
    not_synced: tuple[ExamCard, ...]
    shown: int  # cards the browser shows

    @property
    def total(self) -> int:
        return sum(self.by_subject.values())


def browse_in_anki(client: AnkiConnect, exam: Exam) -> Browsed:
    """Count the search's cards through AnkiConnect (per subject; which cards of the range it
    misses, by the note type, Source, Subject and Front memo2anki wrote) and open Anki's
    browser on it. AnkiConnect has no way to make a filtered deck."""
    card_ids = client.call("findCards", query=exam.search) or []
    infos = [
        info
        for start in range(0, len(card_ids), BATCH)
        for info in client.call("cardsInfo", cards=card_ids[start : start + BATCH])
    ]
    counts: Counter[str] = Counter()
    found = set()
    for info in infos:
        fields = {name: value.get("value", "") for name, value in info.get("fields", {}).items()}
        counts[html.unescape(fields.get(SUBJECT, ""))] += 1
        found.add((fields.get(SOURCE), fields.get(SUBJECT), fields.get(FRONT)))
    wanted = {(c.source, c.subject_field, c.front_field): c for c in exam.cards}
    not_synced = tuple(c for key, c in wanted.items() if key not in found)
    shown = client.call("guiBrowse", query=exam.search)
    by_subject = dict(sorted(counts.items(), key=lambda item: (-item[1], item[0])))
    return Browsed(by_subject, not_synced, len(shown) if isinstance(shown, list) else len(infos))
