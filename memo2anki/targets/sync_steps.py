"""A plan carried into a live Anki collection: the steps each change takes there.

The plan says what changed in the memos; what a sync must do about it also depends on what
the collection holds now (a note the person deleted, a card they moved by hand, a note already
imported from a package). :func:`sync_steps` works that out as plain data, the same for every
live target, and each writer (the collection file, AnkiConnect) only carries the steps out.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

from memo2anki.cards.identity import cloze_guid
from memo2anki.changes.notes import (
    CLOZE_MODEL_NAME,
    IMG,
    MODEL_NAME,
    NOTE_TYPES,
    HeldNoteType,
    TargetNote,
)
from memo2anki.changes.plan import GONE_TAG, Change, Kind, Plan, kept_suspended_tag
from memo2anki.model import Diagnostic, Media, Memo2AnkiError, fold


@dataclass(frozen=True)
class HeldCard:
    """One card of a note in the collection."""

    card_id: int
    deck: str  # the card's home deck (its original deck while in a filtered deck)
    suspended: bool


@dataclass(frozen=True)
class Held:
    """A note memo2anki made, as the collection holds it now."""

    note_id: int
    fields: tuple[str, ...]
    tags: tuple[str, ...]
    cards: tuple[HeldCard, ...]
    # When it was last modified (whole seconds; None: the target does not say): older than
    # memo2anki's last write of it, it never got that write (a package not imported).
    mod: int | None = None
    note_type: str = ""  # MODEL_NAME or CLOZE_MODEL_NAME ("": not said)
    type_name: str = ""  # the name Anki gives that note type ("": note_type's)


@dataclass(frozen=True)
class Update:
    note_id: int
    note: TargetNote


@dataclass(frozen=True)
class HandMoved:
    """A card left where the person put it: not in the deck memo2anki last put it in."""

    change: Change
    deck: str


@dataclass(frozen=True)
class Taken:
    """A note not added: a note of another note type in the collection holds its GUID (the
    person changed memo2anki's note to another type, or copied it); that note is theirs."""

    change: Change
    note: TargetNote
    held_by: str  # the other note's type ('' where the target cannot say)
    # The notes Anki's import (through AnkiConnect, which cannot see GUIDs beforehand) changed
    # from another type to memo2anki's rather than add this one (empty: none).
    converted: tuple[int, ...] = ()
    # Why Anki's import refused this note (its words), when it did: a note of the other kind
    # of note type (cloze, or not) holds its GUID, and the import cannot merge the two.
    refused: str = ""

    def warning(self) -> Diagnostic | None:
        """The warning naming the card and the note type that holds its id."""
        place = self.change.now
        if place is None:
            return None
        kind = "cloze card" if self.note.note_type != MODEL_NAME else "card"
        holder = f"a '{self.held_by}' note" if self.held_by else "a note of another note type"
        if self.refused:
            words = self.refused if len(self.refused) <= 120 else f"{self.refused[:120]}…"
            message = (
                f"{kind} '{place.front}' not added: Anki's import refused it ({words}): a note "
                "in Anki of the other kind of note type (a cloze type where memo2anki's is "
                "not, or the other way) has its id; that note is left as it is (delete it, "
                "or change it back to memo2anki's type, and sync again)"
            )
        elif self.converted:
            message = (
                f"{kind} '{place.front}' not added: {holder} in Anki had its id, and Anki's "
                "import changed that note to memo2anki's note type instead, putting this "
                "card's fields in it unless it was edited since the memo (in Anki's browser, "
                f"'nid:{','.join(map(str, self.converted))}' finds it; Notes > Change Note "
                "Type changes it back)"
            )
        elif self.held_by:
            message = (
                f"{kind} '{place.front}' not added: {holder} in Anki has its id (changed "
                "from memo2anki's note type there?); that note is left as it is (delete it, or "
                "change it back to memo2anki's type, and sync again)"
            )
        else:  # (through AnkiConnect, which cannot say which note, nor of which type)
            message = (
                f"{kind} '{place.front}' not added: a note in Anki has its id that memo2anki "
                "cannot tell its own (of another note type, or edited in Anki since); that "
                "note is left as it is (delete it, or change it back to memo2anki's type, and "
                "sync again)"
            )
        return Diagnostic(place.note, place.line, message)


@dataclass(frozen=True)
class Steps:
    """What one sync does in the collection, in the order it is done."""

    add: tuple[TargetNote, ...] = ()
    update: tuple[Update, ...] = ()
    move: tuple[tuple[str, tuple[int, ...]], ...] = ()  # (deck, card ids)
    tag_gone: tuple[int, ...] = ()  # note ids
    # (note id, tag): with the gone tag, the tag of each card the person had suspended (see
    # KEPT_SUSPENDED), so that its return leaves it suspended.
    tag_kept: tuple[tuple[int, str], ...] = ()
    suspend: tuple[int, ...] = ()  # card ids
    unsuspend: tuple[int, ...] = ()
    delete: tuple[int, ...] = ()  # note ids
    hand_moved: tuple[HandMoved, ...] = field(default=())
    # Of ``delete``, the notes retired by earlier runs (tagged memo2anki::gone before).
    retired_deleted: int = 0
    taken: tuple[Taken, ...] = field(default=())  # (not added; never part of `empty`)

    @property
    def empty(self) -> bool:
        return not (
            self.add
            or self.update
            or self.move
            or self.tag_gone
            or self.tag_kept
            or self.suspend
            or self.unsuspend
            or self.delete
        )


def note_guids(change: Change) -> list[str]:
    """The GUIDs of the Anki notes a change is about: its notes', and for a gone card its
    card's and cloze note's whatever the plan carries (a cloze note the collection holds
    goes with its card)."""
    guids = [n.guid for n in change.notes]
    if change.kind is Kind.GONE:
        guids.extend(g for g in (change.guid, cloze_guid(change.guid)) if g not in guids)
    return guids


def sync_steps(
    plan: Plan,
    held: Mapping[str, Held],
    delete_gone: bool = False,
    taken: Mapping[str, str] | None = None,
) -> Steps:
    """The steps that make the collection match ``plan``, given what it holds (by GUID) and
    which GUIDs notes of other note types hold (``taken``: GUID to that note type's name).

    - A note the collection lacks is added (new, or deleted in Anki while still in a memo),
      unless a note of another type holds its GUID: that one is left alone, and named.
    - A note is updated when it differs from what the memo makes of it, unless the memo is
      unchanged since memo2anki last wrote it and the note was edited in Anki since (see
      :func:`_needs_update`): an edit made in Anki survives until the memo itself changes,
      a card moved to another deck only (a new --deck) too. Tags Anki gave it (``marked``,
      ``leech``) are kept when it is written.
    - A card whose deck changed moves, unless it is not in the deck memo2anki last put it in
      (moved by hand, and left there); deck names are compared as Anki does, whatever their
      case or Unicode form (:func:`~memo2anki.model.fold`).
    - A gone note is tagged ``memo2anki::gone`` and its cards suspended, or deleted with
      ``delete_gone`` (so is the cloze note a card's memo no longer makes, the change's
      ``retired_cloze``, while the card lives on); a card that comes back is untagged (its
      new tags) and unsuspended.
      A card the person had suspended when its note was tagged gone is tagged as theirs
      (:func:`~memo2anki.changes.plan.kept_suspended_tag`), and stays suspended when it comes
      back: only what memo2anki suspended is unsuspended (a note retired before that tag
      existed has none, so all its cards are).
    - With ``delete_gone``, every note retired by earlier runs (or packages) of this ledger
      within the run's reach is deleted too: the plan's ``retired`` cards (the ledger's gone
      rows), when their notes still carry ``memo2anki::gone``. Never a note the ledger does
      not know as retired: another vault's, or one memo2anki cannot name.
    - A note a package retired (the ledger's gone row) that this collection never got so (a
      package built for elsewhere, or not imported: the note untagged and older than the
      row's stamp) is retired as if gone now; one touched since is the person's.
    """
    add: list[TargetNote] = []
    update: list[Update] = []
    moves: dict[str, list[int]] = {}
    tag_gone: list[int] = []
    tag_kept: list[tuple[int, str]] = []
    suspend: list[int] = []
    unsuspend: list[int] = []
    delete: list[int] = []
    hand_moved: list[HandMoved] = []
    used: set[str] = set()
    not_added: list[Taken] = []
    held, of_other_type = _of_their_types(plan, held)
    taken = {**(taken or {}), **of_other_type}
    for change in plan.changes:
        used.update(note_guids(change))
        if change.kind is Kind.GONE:
            for guid in note_guids(change):
                have = held.get(guid)
                if have is None:
                    continue  # deleted in Anki already, or never imported: nothing to retire
                if delete_gone:
                    delete.append(have.note_id)
                    continue
                _retire(have, tag_gone, tag_kept, suspend)
            continue
        retiring = change.retired_cloze
        for note in change.notes:
            have = held.get(note.guid)
            if note is retiring:  # (never added: it is the last run's, if Anki has it)
                if have is not None:
                    if delete_gone:
                        delete.append(have.note_id)
                    else:
                        _retire(have, tag_gone, tag_kept, suspend)
                continue
            if have is None:
                if note.guid in taken:
                    not_added.append(Taken(change, note, taken[note.guid]))
                else:
                    add.append(note)
                continue
            note = with_anki_tags(note, have)
            if _needs_update(change, note, have):
                update.append(Update(have.note_id, note))
            if change.kind is Kind.RETURNED or GONE_TAG in have.tags:
                # The update above writes the memo's tags, which drops the kept tags too.
                unsuspend.extend(
                    c.card_id
                    for c in have.cards
                    if c.suspended and kept_suspended_tag(c.card_id) not in have.tags
                )
            if change.before is None or not change.deck_changed:
                continue
            # Deck names compared folded: Anki's are one deck whatever their case, and kept in
            # NFC (the ledger keeps a subject's as written, NFD from macOS).
            wanted, last = fold(note.deck), fold(change.before.deck)
            for card in have.cards:
                held_in = fold(card.deck)
                if held_in == wanted:
                    continue
                if held_in == last:
                    moves.setdefault(note.deck, []).append(card.card_id)
                else:
                    hand_moved.append(HandMoved(change, card.deck))
    # Retired by a package not imported here (built for another collection, or not yet):
    # the note Anki holds never got that write (older than the row's stamp, and untagged),
    # and is retired now (deleted with delete_gone). One the person touched since (untagged
    # by hand, say) is theirs, and left alone.
    never_got: set[int] = set()
    for guid, when in plan.retired_when.items():
        for g in (guid, cloze_guid(guid)):
            have = held.get(g)
            if (
                have is not None
                and g not in used
                and GONE_TAG not in have.tags
                and have.mod is not None
                and have.mod < when
            ):
                never_got.add(have.note_id)
                if not delete_gone:
                    _retire(have, tag_gone, tag_kept, suspend)
    retired = 0
    if delete_gone:
        for guid in retired_guids(plan):
            have = held.get(guid)
            if (
                guid not in used
                and have is not None
                and (GONE_TAG in have.tags or have.note_id in never_got)
                and have.note_id not in delete
            ):
                delete.append(have.note_id)
                retired += 1
    return Steps(
        add=tuple(add),
        update=tuple(update),
        move=tuple((deck, tuple(ids)) for deck, ids in moves.items()),
        tag_gone=tuple(tag_gone),
        tag_kept=tuple(tag_kept),
        suspend=tuple(suspend),
        unsuspend=tuple(unsuspend),
        delete=tuple(delete),
        hand_moved=tuple(hand_moved),
        retired_deleted=retired,
        taken=tuple(not_added),
    )


def _of_their_types(
    plan: Plan, held: Mapping[str, Held]
) -> tuple[Mapping[str, Held], dict[str, str]]:
    """``held`` without the notes of memo2anki's other note type than their card's (a card's
    GUID on a cloze note, a cloze card's on a note that is not cloze: the person changed the
    note type in Anki), and those apart, as GUIDs another note type holds: such a note is the
    person's, never written, retired nor deleted (its fields are another type's)."""
    wanted: dict[str, str] = {}
    for change in plan.changes:
        for note in change.notes:
            wanted[note.guid] = note.note_type
    gone = (c.guid for c in plan.changes if c.kind is Kind.GONE or not c.notes)
    for guid in [*gone, *plan.retired, *plan.retired_when]:
        wanted.setdefault(guid, MODEL_NAME)
        wanted.setdefault(cloze_guid(guid), CLOZE_MODEL_NAME)
    other = {
        guid: have.type_name or have.note_type
        for guid, have in held.items()
        if have.note_type and wanted.get(guid, have.note_type) != have.note_type
    }
    if not other:
        return held, {}
    return {g: h for g, h in held.items() if g not in other}, other


def _retire(
    have: Held, tag_gone: list[int], tag_kept: list[tuple[int, str]], suspend: list[int]
) -> None:
    """The steps that retire a note: tagged gone, its cards suspended."""
    if GONE_TAG not in have.tags:
        tag_gone.append(have.note_id)
        # (Only as it is tagged gone: on a note tagged before, a suspended card may be one
        # memo2anki suspended, which must come back.)
        tag_kept.extend(
            (have.note_id, kept_suspended_tag(c.card_id)) for c in have.cards if c.suspended
        )
    suspend.extend(c.card_id for c in have.cards if not c.suspended)


def retired_guids(plan: Plan) -> list[str]:
    """The GUIDs of the notes of the cards earlier runs retired within the run's reach (each
    card's note and its cloze note)."""
    return [g for guid in plan.retired for g in (guid, cloze_guid(guid))]


# Tags Anki itself gives a note (Mark Note; a card that keeps failing): the person's, never
# the memo's, so a note written again keeps them.
ANKI_TAGS = frozenset({"marked", "leech"})


def with_anki_tags(note: TargetNote, have: Held) -> TargetNote:
    """``note`` with the tags Anki gave the note it holds (:data:`ANKI_TAGS`, any case) added
    to the memo's."""
    kept = [t for t in have.tags if t.casefold() in ANKI_TAGS and t not in note.tags]
    return note._replace(tags=(*note.tags, *kept)) if kept else note


def _needs_update(change: Change, note: TargetNote, have: Held) -> bool:
    """Whether the note Anki holds must be written: it differs from what the memo makes of
    it, and either the memo changed since memo2anki last wrote it, or the note in Anki is
    older than that write (it never got it: a package that was not imported, a ledger made
    elsewhere). A note edited in Anki since, its memo unchanged, is left as the person made
    it, but for the tag of a card that came back before this sync saw it go.

    The card's stamp tells which, whatever its change: the plan gives a card whose fields
    changed this run's time, and keeps the stamp of one whose fields did not (unchanged, or
    moved to another deck only, as a new --deck moves every card), so a note Anki modified
    since that stamp was edited there. Where the target does not say when the note was
    modified, every changed card is written."""
    differs = tuple(have.fields) != tuple(note.fields) or sorted(have.tags) != sorted(note.tags)
    if not differs:
        return False
    if GONE_TAG in have.tags:
        return True
    if have.mod is None:
        return change.kind is not Kind.UNCHANGED
    if have.mod != note.mtime:
        return have.mod < note.mtime
    # Modified in the very second of the stamp (whole seconds): when the stamp is this run's,
    # by an earlier run (the memo changed since, within that second); else by the person.
    return _stamped_now(change)


def _stamped_now(change: Change) -> bool:
    """Whether the plan gave the card this run's stamp (its fields changed): any change but
    an unchanged card and, as far as its places tell, a move of deck only (the same note,
    subject and heading)."""
    if change.kind is Kind.UNCHANGED:
        return False
    now, before = change.now, change.before
    if change.kind is not Kind.MOVED or now is None or before is None:
        return True
    return (now.note, now.subject, now.front) != (before.note, before.subject, before.front)


def referenced_media(notes: Sequence[TargetNote]) -> set[str]:
    """The file names the notes' fields show as images."""
    return {name for n in notes for f in n.fields for name in IMG.findall(f) if name}


def media_to_add(
    notes: Sequence[TargetNote], media: Mapping[str, Media], have: Callable[[str], bool]
) -> list[Media]:
    """The files of ``media`` (by name) that the notes show and the target lacks (``have``
    says which it holds), in name order."""
    return [media[n] for n in sorted(referenced_media(notes)) if n in media and not have(n)]


def pictures_lacking(
    plan: Plan, media: Mapping[str, Media], have: Callable[[str], bool], delete_gone: bool = False
) -> list[Media]:
    """The files of ``media`` that any note of the plan shows and the target lacks, whatever
    the note's change: a new or edited card's picture, and one the collection lost since (a
    file emptied from its media folder, which Check Media lists missing). Not those of the gone
    notes ``delete_gone`` deletes. ``have`` should answer from one listing of the target's
    media names: it is asked about every picture of the vault."""
    notes = [
        n
        for c in plan.changes
        if not (delete_gone and c.kind is Kind.GONE)
        for n in c.notes
        if not (delete_gone and n is c.retired_cloze)
    ]
    return media_to_add(notes, media, have)


def held_note_type(
    model_id: int,
    name: str,
    fields: Sequence[str],
    templates: tuple[tuple[str, str, str], ...],
    css: str,
) -> HeldNoteType:
    """One of memo2anki's note types (by ``model_id``) as the target holds it, once its fields
    are memo2anki's: one whose fields the person changed in Anki is theirs, and nothing is
    synced (:func:`fields_changed`)."""
    wanted = next(names for mid, names in NOTE_TYPES.values() if mid == model_id)
    if list(fields) != list(wanted):
        raise fields_changed(name, fields, wanted)
    return HeldNoteType(model_id, name, templates, css)


def fields_changed(name: str, fields: Sequence[str], wanted: Sequence[str]) -> Memo2AnkiError:
    """The error of a memo2anki note type whose fields the person changed in Anki."""
    return Memo2AnkiError(
        f"the note type '{name}' in this collection has the fields {', '.join(fields)}, not "
        f"memo2anki's {', '.join(wanted)}; nothing changed (restore its fields in Anki's "
        "Manage Note Types, or sync into another profile)"
    )


def decks_filled(steps: Steps) -> list[str]:
    """The decks the steps put cards in (new notes', moved cards'), once each, in order."""
    return list(dict.fromkeys([*(n.deck for n in steps.add), *(deck for deck, _ in steps.move)]))


def deck_and_above(deck: str) -> list[str]:
    """``A::B::C`` and each deck above it, top first: ``A``, ``A::B``, ``A::B::C``."""
    parts = deck.split("::")
    return ["::".join(parts[:end]) for end in range(1, len(parts) + 1)]


def check_no_filtered_deck(steps: Steps, filtered: Callable[[str], str | None]) -> None:
    """Raise :func:`into_filtered_deck` when a deck the steps put cards in is one of the
    person's filtered decks, or under one; ``filtered`` says of a deck name whether it is one
    (its name as Anki has it; None: it is not)."""
    for deck in decks_filled(steps):
        for name in deck_and_above(deck):
            if (found := filtered(name)) is not None:
                raise into_filtered_deck(deck, found)


def into_filtered_deck(deck: str, filtered: str) -> Memo2AnkiError:
    """The error of a deck the sync would put cards in that is one of the person's filtered
    decks, or under one (``filtered``, as Anki names it): Anki puts no card in a filtered deck
    but by its search (its import makes a deck of another name; a move fails), and no deck
    under one."""
    where = "in it" if fold(deck) == fold(filtered) else f"in a deck under it ('{deck}')"
    return Memo2AnkiError(
        f"'{filtered}' is a filtered deck of yours: memo2anki cannot put cards {where}; nothing "
        "changed (rename or delete that filtered deck in Anki, or change the subject or --deck)"
    )
