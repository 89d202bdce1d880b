"""The AnkiConnect way: a plan carried into the running Anki through the AnkiConnect add-on.

AnkiConnect cannot see a note's GUID, nor give a note or note type an id of its choosing. So
new notes arrive as a package Anki imports (``importPackage``: their GUIDs and memo2anki's
note types, exactly as File > Import would bring them), and the notes already there are found
by the Anki note id remembered for their GUID (:mod:`memo2anki.targets.note_ids`), or, for a
note memo2anki never met, by the fields it last wrote into them: note type, Source (the
memo's note), Subject and Front. Every other step is one AnkiConnect action. memo2anki's note
types are found by their ids, whatever the person renamed them to, and left as Anki has them.
"""

from __future__ import annotations

import base64
import time
import unicodedata
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from memo2anki.cards.identity import cloze_guid
from memo2anki.cards.pictures.media import read_media
from memo2anki.changes.ledger import Ledger, LedgerCard
from memo2anki.changes.notes import (
    CLOZE_MODEL_NAME,
    MODEL_NAME,
    NOTE_TYPES,
    HeldNoteType,
    TargetNote,
)
from memo2anki.changes.plan import GONE_TAG, Kind, Plan, of_vault
from memo2anki.model import Diagnostic, Media, Memo2AnkiError, fold, one_line
from memo2anki.targets.ankiconnect import BATCH, AnkiConnect, Refused
from memo2anki.targets.package import card_model, cloze_model
from memo2anki.targets.package_notes import notes_package
from memo2anki.targets.sync_steps import (
    Held,
    HeldCard,
    Steps,
    Taken,
    Update,
    check_no_filtered_deck,
    deck_and_above,
    decks_filled,
    held_note_type,
    media_to_add,
    note_guids,
    pictures_lacking,
    sync_steps,
    with_anki_tags,
)

FIELD_NAMES = {name: fields for name, (_id, fields) in NOTE_TYPES.items()}
# memo2anki's name for each of its note types, by id: a note's type as this module names it,
# whatever the person renamed it to in Anki.
TYPE_NAMES = {model_id: name for name, (model_id, _fields) in NOTE_TYPES.items()}

Key = tuple[str, str, str, str]  # (note type, Source, Subject, Front)


def _key(note_type: str, fields: Mapping[str, str]) -> Key:
    """The fields a note is found by, in NFC: Anki keeps fields in NFC, and a note written on
    macOS may hold its Korean in NFD (else a note just added is never found, and each sync
    adds it again)."""
    source, subject, front = (
        unicodedata.normalize("NFC", fields.get(name, ""))
        for name in ("Source", "Subject", "Front")
    )
    return (note_type, source, subject, front)


def _target_key(note: TargetNote) -> Key:
    return _key(note.note_type, dict(zip(FIELD_NAMES[note.note_type], note.fields, strict=False)))


def _ledger_keys(previous: Ledger, entry: LedgerCard) -> dict[str, Key]:
    """The keys of the notes memo2anki last wrote for a ledger card (its note, and a cloze)."""
    front_html, _ = previous.last_html(entry)
    fields = {"Source": entry.note, "Subject": entry.subject, "Front": front_html}
    return {
        entry.guid: _key(MODEL_NAME, fields),
        cloze_guid(entry.guid): _key(CLOZE_MODEL_NAME, fields),
    }


@dataclass(frozen=True)
class Found:
    """memo2anki's notes in Anki: those of the plan's notes, by GUID; the others (notes
    memo2anki cannot name, such as ones retired long ago); and every note's id by the GUID
    it was found as."""

    held: dict[str, Held]
    unmatched: tuple[Held, ...]
    ids: dict[str, int]
    # The cards whose remembered id named another card's note (found by their fields).
    misplaced: tuple[str, ...] = ()


def _all_notes(client: AnkiConnect) -> list[dict[str, Any]]:
    """Every note of memo2anki's note types, found by the note types' ids (``mid:``), each
    with its type's name as memo2anki names it in ``modelName``."""
    type_of = {
        nid: name
        for mid, name in TYPE_NAMES.items()
        for nid in client.call("findNotes", query=f"mid:{mid}")
    }
    return [
        {**info, "modelName": type_of[info["noteId"]]}
        for chunk in _chunks(list(type_of))
        for info in client.call("notesInfo", notes=chunk)
        if info and info["noteId"] in type_of
    ]


def note_types(client: AnkiConnect, present: Mapping[str, int]) -> dict[int, HeldNoteType]:
    """memo2anki's note types Anki has (``present``: every note type's id by name), by id, as
    it has them (the person may have renamed them, restyled them, added or renamed card
    types): a sync leaves them so. One whose fields were changed in Anki is left to the
    person, and nothing is synced."""
    return {
        mid: held_note_type(mid, name, fields, templates, css)
        for mid, (name, fields, templates, css) in _type_parts(client, present).items()
    }


TypeParts = tuple[str, list[str], tuple[tuple[str, str, str], ...], str]


def _type_parts(client: AnkiConnect, present: Mapping[str, int]) -> dict[int, TypeParts]:
    """memo2anki's note types Anki has (of ``present``, every note type's id by name), by
    id: each one's name, fields, card types (name, front, back) and stylesheet."""
    by_id = {mid: name for name, mid in present.items()}
    names = {mid: by_id[mid] for mid in TYPE_NAMES if mid in by_id}
    sides = ("modelFieldNames", "modelTemplates", "modelStyling")
    asked = [(action, {"modelName": name}) for name in names.values() for action in sides]
    answers = iter(client.multi(asked))
    found: dict[int, TypeParts] = {}
    for mid, name in names.items():
        fields, templates, styling = next(answers), next(answers), next(answers)
        held = tuple((t, side["Front"], side["Back"]) for t, side in templates.items())
        found[mid] = (name, fields, held, styling["css"])
    return found


def _types_changed(
    client: AnkiConnect, held: Mapping[int, HeldNoteType], present: Mapping[str, int]
) -> str | None:
    """What Anki's import did to the note types in changing a note of another type to
    memo2anki's (it merges the two: memo2anki's gets the other's fields and card types,
    and the other is deleted when no note is left in it); None when it changed none of
    them. ``held`` and ``present`` (every note type's id by name): as they were before."""
    names = client.call("modelNamesAndIds")
    now = _type_parts(client, names)
    said = []
    fields_added = cards_added = False
    # (A note type the collection had not: the package's, as memo2anki makes it.)
    made = {m.model_id: {t["name"] for t in m.templates} for m in (card_model(), cloze_model())}
    for mid, (name, fields, templates, _css) in now.items():
        was = {w for w, *_ in held[mid].templates} if mid in held else made[mid]
        more_fields = [f for f in fields if f not in FIELD_NAMES[TYPE_NAMES[mid]]]
        more_cards = [f"'{t}'" for t, *_ in templates if t not in was]
        what = [
            f"fields {', '.join(more_fields)}" if more_fields else "",
            f"card types {', '.join(more_cards)}" if more_cards else "",
        ]
        if more_fields or more_cards:
            what_now = " and ".join(w for w in what if w)
            said.append(f"memo2anki's note type '{name}' now has that note's {what_now} too")
            fields_added = fields_added or bool(more_fields)
            cards_added = cards_added or bool(more_cards)
    gone = sorted(n for n, mid in present.items() if n not in names and mid not in TYPE_NAMES)
    said += [f"your note type '{n}' is gone (no note was left in it)" for n in gone]
    if not said:
        return None
    if fields_added:
        said.append(
            "the next sync stops until those fields are removed (Tools > Manage Note Types > "
            "Fields; they hold that note's words)"
        )
    elif cards_added:
        said.append(
            "its notes get those cards as they are next written (Tools > Manage Note Types > "
            "Cards removes them)"
        )
    return f"Anki's import, changing that note, also changed note types: {'; '.join(said)}"


def _values(info: Mapping[str, Any]) -> dict[str, str]:
    ordered = sorted(info["fields"].items(), key=lambda kv: kv[1]["order"])
    return {name: value["value"] for name, value in ordered}


def all_held(client: AnkiConnect) -> list[Held]:
    """Every memo2anki note in Anki, oldest first."""
    return [held for _key, held in _held_by_key(client, _all_notes(client))]


def _held_by_key(client: AnkiConnect, infos: list[dict[str, Any]]) -> list[tuple[Key, Held]]:
    """Each note as Anki holds it (oldest first), with the fields it is found by."""
    card_ids = [c for info in infos for c in info["cards"]]
    # Decks and suspension rather than cardsInfo, which renders every card's question and
    # answer on the way.
    cards: dict[int, HeldCard] = {}
    for chunk in _chunks(card_ids):
        decks, suspended = client.multi(
            [("getDecks", {"cards": chunk}), ("areSuspended", {"cards": chunk})]
        )
        deck_of = {cid: deck for deck, ids_ in decks.items() for cid in ids_}
        for cid, is_suspended in zip(chunk, suspended, strict=True):
            if cid in deck_of:
                cards[cid] = HeldCard(cid, deck_of[cid], bool(is_suspended))
    _home_decks(client, cards)
    out = []
    for info in sorted(infos, key=lambda i: i["noteId"]):  # oldest first: the order added
        values = _values(info)
        held = Held(
            info["noteId"],
            tuple(values.values()),
            tuple(info["tags"]),
            tuple(cards[c] for c in info["cards"] if c in cards),
            info["mod"] if isinstance(info.get("mod"), int) else None,
            info["modelName"],
        )
        out.append((_key(info["modelName"], values), held))
    return out


def _home_decks(client: AnkiConnect, cards: dict[int, HeldCard]) -> None:
    """The home deck of each card being studied in a filtered deck, in place of the filtered
    deck that AnkiConnect's getDecks names (it tells no original deck): else a card studied
    there would count as moved by hand. Anki's ``did:ID`` search finds a card by its home
    deck too, so each deck is asked which of those cards it is home to (one round trip)."""
    query = f"deck:filtered ({' OR '.join(f'mid:{mid}' for mid in TYPE_NAMES)})"
    studied = [c for c in client.call("findCards", query=query) if c in cards]
    if not studied:
        return
    filtered = {cards[c].deck for c in studied}
    decks = [(n, i) for n, i in client.call("deckNamesAndIds").items() if n not in filtered]
    for chunk in _chunks(studied):
        within = f"cid:{','.join(map(str, chunk))}"
        found = client.multi([("findCards", {"query": f"did:{i} {within}"}) for _n, i in decks])
        for (name, _id), ids in zip(decks, found, strict=True):
            for cid in ids:
                if cid in cards:
                    cards[cid] = replace(cards[cid], deck=name)


def held_notes(
    client: AnkiConnect, plan: Plan, previous: Ledger, ids: Mapping[str, int] | None = None
) -> Found:
    """memo2anki's notes in Anki, by the GUID of the plan's note each one is: by the note id
    remembered for that GUID (``ids``), else by the fields memo2anki last wrote into it."""
    by_id: dict[int, tuple[str, Held]] = {}
    by_key: dict[Key, list[Held]] = {}
    key_of: dict[int, Key] = {}
    for fields_key, held in _held_by_key(client, _all_notes(client)):
        by_id[held.note_id] = (held.note_type, held)
        by_key.setdefault(fields_key, []).append(held)
        key_of[held.note_id] = fields_key

    known = ids or {}
    found: dict[str, Held] = {}
    taken: set[int] = set()
    entries = {e.guid: e for e in previous.cards}
    # The fields each card's note is found by (see _keys_of_cards), and the cards whose they
    # are: every card of the ledger's too, worked out only for a note whose fields are not
    # its remembered card's (edited in Anki, or the id another card's).
    card_keys = _keys_of_cards(plan, previous, entries) if known else {}
    owners: dict[Key, set[str]] = {}
    every_card = False
    misplaced: list[str] = []

    def own(keys: Mapping[str, set[Key]]) -> None:
        for guid, its_keys in keys.items():
            card_keys.setdefault(guid, set()).update(its_keys)
            for its_key in its_keys:
                owners.setdefault(its_key, set()).add(guid)

    own(dict(card_keys))

    def by_its_id(guid: str, note_type: str) -> bool:
        """Take the note of the id remembered for ``guid``, unless its fields are another
        card's that is not found elsewhere by its own id (ids swapped or copied between
        cards, by hand or a merge: that card's content would go into the other's note, or
        --delete-gone delete it)."""
        nonlocal every_card
        nid = known.get(guid, 0)
        if nid not in by_id or by_id[nid][0] != note_type or nid in taken:
            return False
        if key_of[nid] not in card_keys.get(guid, ()) and not every_card:
            every_card = True
            own({e.guid: set(_ledger_keys(previous, e).values()) for e in previous.cards})
        holders = owners.get(key_of[nid], set())
        if holders and guid not in holders:
            for other in holders:
                theirs = known.get(other, 0)
                if theirs == nid or key_of.get(theirs) not in card_keys[other]:
                    misplaced.append(guid)
                    return False
        found[guid] = by_id[nid][1]
        taken.add(nid)
        return True

    # By id first: a note memo2anki added or found before, whatever its fields say now.
    types = {n.guid: n.note_type for c in plan.changes for n in c.notes}
    for change in plan.changes:
        for guid in note_guids(change):
            note_type = types.get(guid) or (MODEL_NAME if guid == change.guid else CLOZE_MODEL_NAME)
            by_its_id(guid, note_type)
    # Then, for a note never seen, by its fields: a card whose content is as the ledger has
    # it by its target fields; any other by the fields memo2anki last wrote (read only for
    # those: most syncs change few cards).
    for change in plan.changes:
        guids = [g for g in note_guids(change) if g not in found]
        if not guids:
            continue
        targets = {n.guid: n for n in change.notes}
        entry = entries.get(change.guid)
        keys = (
            _ledger_keys(previous, entry)
            if entry is not None and change.kind not in (Kind.NEW, Kind.UNCHANGED)
            else {}
        )
        for guid in guids:
            key = keys.get(guid) or (_target_key(targets[guid]) if guid in targets else None)
            candidates = [h for h in by_key.get(key, ()) if h.note_id not in taken] if key else []
            if candidates:
                found[guid] = candidates[0]  # a front twice in one note: in order
                taken.add(candidates[0].note_id)
    # Last, the notes of cards earlier runs retired (for --delete-gone): by id, else by the
    # fields memo2anki last wrote, when Link and deck say this vault's (never another's).
    layout = plan.layout
    for card_guid in plan.retired:
        entry = entries.get(card_guid)
        keys = _ledger_keys(previous, entry) if entry is not None else {}
        for guid in (card_guid, cloze_guid(card_guid)):
            note_type = MODEL_NAME if guid == card_guid else CLOZE_MODEL_NAME
            if by_its_id(guid, note_type):
                continue
            if guid not in keys or layout is None:
                continue
            for h in by_key.get(keys[guid], ()):
                deck = h.cards[0].deck if h.cards else ""
                if h.note_id not in taken and of_vault(h.fields, deck, layout):
                    found[guid] = h
                    taken.add(h.note_id)
                    break
    unmatched = tuple(h for _type, h in by_id.values() if h.note_id not in taken)
    # The ids of the notes met, the ones remembered of notes out of this plan kept.
    met = {g: nid for g, nid in known.items() if nid in by_id and nid not in taken}
    met.update({guid: held.note_id for guid, held in found.items()})
    return Found(found, unmatched, met, tuple(dict.fromkeys(misplaced)))


def _keys_of_cards(
    plan: Plan, previous: Ledger, entries: Mapping[str, LedgerCard]
) -> dict[str, set[Key]]:
    """The fields each note of the plan is found by, by GUID: as this run writes it, and for
    a card the ledger holds otherwise, as memo2anki last wrote it."""
    keys: dict[str, set[Key]] = {}
    for change in plan.changes:
        for note in change.notes:
            keys.setdefault(note.guid, set()).add(_target_key(note))
        entry = entries.get(change.guid)
        if entry is not None and change.kind not in (Kind.NEW, Kind.UNCHANGED):
            for guid, key in _ledger_keys(previous, entry).items():
                keys.setdefault(guid, set()).add(key)
    return keys


def _other_types(
    client: AnkiConnect,
    notes: Iterable[TargetNote],
    ids: Mapping[str, int],
    held_types: Mapping[int, HeldNoteType],
) -> dict[str, tuple[int, str]]:
    """Of the notes about to be added, those whose remembered Anki note is there still with
    another note type (the person changed its type, which keeps its id and GUID): that note's
    id and type, by GUID. Anki's import would change that note back to memo2anki's type, so
    the card is left out of the package and that note alone. memo2anki's note types are
    known by the names Anki has for them (``held_types``): a note of its own type, renamed,
    is none of another (another card's, named by a damaged id: the import sees to it)."""
    ours = {held.name: TYPE_NAMES[mid] for mid, held in held_types.items()}
    wanted = {ids[n.guid]: n for n in notes if n.guid in ids}
    out: dict[str, tuple[int, str]] = {}
    nids = list(wanted)
    for chunk in _chunks(nids):
        for info in client.call("notesInfo", notes=chunk):
            if not info:
                continue  # deleted in Anki: the card is added again
            note = wanted.get(info["noteId"])
            if note is not None and ours.get(info["modelName"]) != note.note_type:
                out[note.guid] = (info["noteId"], str(info["modelName"]))
    return out


def _not_imported(
    client: AnkiConnect,
    plan: Plan,
    steps: Steps,
    found: Found,
    added: Mapping[str, int],
    delete_gone: bool,
) -> tuple[Steps, dict[str, int]]:
    """``steps`` with the notes the import did not add (``added``: those it did, by GUID)
    moved from ``add``, and the ids of the notes that hold them now, by GUID. Anki's import
    does not add a package note whose GUID another note holds: it updates that note when it
    is memo2anki's and older (then found by its fields, and given the steps it would have had
    had it been found before: a returned card's unsuspended, a moved one's moved), and may
    change a note of another type to memo2anki's instead (told; found when it is the only
    one). AnkiConnect can neither see GUIDs nor say which type that note had."""
    skipped = [n for n in steps.add if n.guid not in added]
    if not skipped:
        return steps, {}
    ids = set(added.values())
    infos = _all_notes(client)
    # A note of memo2anki's that was there before and now holds a skipped note's fields.
    was = {h.note_id: h for h in found.unmatched}  # (as it was before the import)
    by_key = {_key(i["modelName"], _values(i)): i["noteId"] for i in infos if i["noteId"] in was}
    in_place = {n.guid: was[by_key[k]] for n in skipped if (k := _target_key(n)) in by_key}
    found_ids = {guid: held.note_id for guid, held in in_place.items()}
    # Written again all the same: the import took the tags Anki gave the note away.
    updated = [
        Update(in_place[n.guid].note_id, with_anki_tags(n, in_place[n.guid]))
        for n in skipped
        if n.guid in in_place
    ]
    skipped = [n for n in skipped if n.guid not in in_place]
    # A note new to memo2anki's types that is none of those added: one the import changed.
    before = {h.note_id for h in (*found.held.values(), *found.unmatched)}
    converted = tuple(
        sorted(i["noteId"] for i in infos if i["noteId"] not in before and i["noteId"] not in ids)
    )
    if len(skipped) == 1 and len(converted) == 1:  # (no other note it can be)
        found_ids[skipped[0].guid] = converted[0]
    change_of = {n.guid: c for c in plan.changes for n in c.notes}
    taken = (Taken(change_of[n.guid], n, "", converted) for n in skipped)
    # The steps of the notes updated in place, as if they had been found before the import.
    again = sync_steps(plan, {**found.held, **in_place}, delete_gone)
    cards = {c.card_id for h in in_place.values() for c in h.cards}
    changes = {change_of[guid].guid for guid in in_place}
    moves = ((deck, tuple(c for c in cids if c in cards)) for deck, cids in again.move)
    left = {n.guid for n in skipped} | set(in_place)
    steps = replace(
        steps,
        add=tuple(n for n in steps.add if n.guid not in left),
        update=(*steps.update, *updated),
        move=(*steps.move, *((deck, cids) for deck, cids in moves if cids)),
        unsuspend=(*steps.unsuspend, *(c for c in again.unsuspend if c in cards)),
        hand_moved=(*steps.hand_moved, *(m for m in again.hand_moved if m.change.guid in changes)),
        taken=(*steps.taken, *taken),
    )
    return steps, found_ids


class _Begun(Memo2AnkiError):
    """A failure once Anki may hold some of the sync's changes (the add-on has no
    transaction): said so, with how to finish them."""


def _begun(err: Memo2AnkiError) -> _Begun:
    return _Begun(
        one_line(f"{err}; some of the changes may be in Anki already: sync again to finish them")
    )


def _import(
    client: AnkiConnect,
    notes: Sequence[TargetNote],
    media: Mapping[str, Media],
    have: set[str],
    held_types: Mapping[int, HeldNoteType],
    gone: dict[str, Media],
) -> tuple[dict[str, tuple[TargetNote, str]], int, bool]:
    """Import ``notes`` (with the pictures they show that ``have`` lacks, added to it; those
    gone since found, left out, to ``gone``); the notes Anki's import refused (by GUID, with
    the add-on's words), how many pictures went in, and whether any package did. Anki's
    import refuses a whole package, and changes nothing, for one note whose GUID a note of
    another kind of note type holds (a cloze type where memo2anki's is not, or the other way:
    it merges the two note types, and cannot merge those); so the package is split in halves
    until the notes refused are found, one by one, and the rest imported. A refusal that is
    not the notes' (an empty package is refused too) is raised."""
    refused: dict[str, tuple[TargetNote, str]] = {}
    added = 0
    began = False
    groups = [list(notes)]
    while groups:
        group = groups.pop()
        missing = media_to_add(group, media, have.__contains__)
        with notes_package(group, missing, held_types) as package:
            gone.update((m.name, m) for m in package.missing)
            try:
                imported = client.call("importPackage", path=str(package.path))
            except Refused as err:
                imported = err
            except Memo2AnkiError as err:  # (it may have gone in all the same: a time out)
                raise _begun(err) from err
        if isinstance(imported, Refused):
            if len(group) == len(notes):  # (an empty package refused raises its refusal)
                with notes_package((), (), held_types) as package:
                    if client.call("importPackage", path=str(package.path)) is not True:
                        raise imported
            if len(group) == 1:
                refused[group[0].guid] = (group[0], imported.error)
            else:
                half = len(group) // 2
                groups += (group[half:], group[:half])
            continue
        if imported is not True:
            error = Memo2AnkiError(
                f"AnkiConnect at {client.url} did not import the new cards "
                "('importPackage' answered false)"
            )
            raise _begun(error) if began else error
        began = True
        went_in = [m for m in missing if m.name not in gone]
        added += len(went_in)
        have.update(m.name for m in went_in)
    return refused, added, began


def _chunks(ids: list[int]) -> Iterable[list[int]]:
    for start in range(0, len(ids), BATCH):
        yield ids[start : start + BATCH]


@dataclass(frozen=True)
class Applied:
    steps: Steps
    media_added: int
    # Every memo2anki note's id met, by GUID (those added included, those deleted left out).
    ids: dict[str, int]
    # The cards whose remembered id named another card's note (see held_notes).
    misplaced: tuple[str, ...] = ()
    warnings: tuple[Diagnostic, ...] = ()
    # Pictures found while the cards were made but gone when they were sent: left out.
    gone: tuple[Media, ...] = ()


def apply_plan(
    client: AnkiConnect,
    plan: Plan,
    media: Iterable[Media],
    previous: Ledger,
    delete_gone: bool = False,
    ids: Mapping[str, int] | None = None,
    beginning: Callable[[], None] | None = None,
) -> Applied:
    """Carry ``plan`` into Anki through AnkiConnect. Not one transaction (the add-on has
    none): each step is done in order, and a sync run again after a failure finishes it.
    ``beginning`` is called before the first request that may change Anki (those before it
    only read)."""
    present = client.call("modelNamesAndIds")
    held_types = note_types(client, present)
    found = held_notes(client, plan, previous, ids)
    steps = sync_steps(plan, found.held, delete_gone)
    met = dict(found.ids)
    if steps.add and ids:
        other = _other_types(client, steps.add, ids, held_types)
        if other:
            steps = sync_steps(
                plan, found.held, delete_gone, {g: t for g, (_n, t) in other.items()}
            )
            # Still remembered: the next sync leaves that note alone too.
            met.update({g: nid for g, (nid, _t) in other.items()})
    if not steps.empty:
        _check_decks(client, steps)
    by_name = {m.name: m for m in media}
    # One listing of memo2anki's media in Anki (its names all start so), asked for every
    # picture the plan's notes show: a picture Anki lost is put back whatever its note's change.
    have = set(client.call("getMediaFilesNames", pattern="m2a-*"))
    lacking = pictures_lacking(plan, by_name, have.__contains__, delete_gone)
    if steps.empty and not lacking:
        return Applied(steps, 0, met, found.misplaced)
    added = 0
    warnings: list[Diagnostic] = []
    gone: dict[str, Media] = {}
    began = False  # (whether Anki may hold some of the changes)
    if beginning is not None:
        beginning()
    try:
        if steps.add:
            before = {h.note_id for h in (*found.held.values(), *found.unmatched)}
            # The package's note ids are this time in ms and on, and Anki keeps them (or, taken,
            # the next free ones): a note of an id before it is one the import changed, not added.
            since = time.time_ns() // 1_000_000
            refused, added, began = _import(client, steps.add, by_name, have, held_types, gone)
            if refused:
                change_of = {n.guid: c for c in plan.changes for n in c.notes}
                steps = replace(
                    steps,
                    add=tuple(n for n in steps.add if n.guid not in refused),
                    taken=(
                        *steps.taken,
                        *(Taken(change_of[g], n, "", refused=w) for g, (n, w) in refused.items()),
                    ),
                )
            added_ids = _added_ids(client, steps.add, before, since)
            met.update(added_ids)
            steps, held_now = _not_imported(client, plan, steps, found, added_ids, delete_gone)
            met.update(held_now)
            converted = [t.change.now for t in steps.taken if t.converted and t.change.now]
            if converted and (said := _types_changed(client, held_types, present)):
                warnings.append(Diagnostic(converted[0].note, converted[0].line, said))
        pictures = [m for m in lacking if m.name not in have and m.name not in gone]
        actions = _actions(steps, pictures, gone)
        added += len([m for m in pictures if m.name not in gone])
        began = began or bool(actions)
        client.multi(actions)
    except _Begun:
        raise
    except Memo2AnkiError as err:
        if began:
            raise _begun(err) from err
        raise
    deleted = set(steps.delete)
    kept = {g: nid for g, nid in met.items() if nid not in deleted}
    return Applied(steps, added, kept, found.misplaced, tuple(warnings), tuple(gone.values()))


def _actions(
    steps: Steps, pictures: Iterable[Media], gone: dict[str, Media]
) -> list[tuple[str, dict[str, Any]]]:
    """The AnkiConnect actions of every step but the notes added, with the pictures to
    store (those gone since found left out, to ``gone``), in the order they are done."""
    actions: list[tuple[str, dict[str, Any]]] = []
    for item in pictures:
        try:
            data = base64.b64encode(read_media(item)).decode("ascii")
        except OSError:
            gone[item.name] = item
            continue
        actions.append(("storeMediaFile", {"filename": item.name, "data": data}))
    for update in steps.update:
        names = FIELD_NAMES[update.note.note_type]
        fields = dict(zip(names, update.note.fields, strict=True))
        note = {"id": update.note_id, "fields": fields, "tags": list(update.note.tags)}
        actions.append(("updateNote", {"note": note}))
    for deck, card_ids in steps.move:
        actions.append(("changeDeck", {"cards": list(card_ids), "deck": deck}))
    if steps.tag_gone:
        actions.append(("addTags", {"notes": list(steps.tag_gone), "tags": GONE_TAG}))
    for note_id, tag in steps.tag_kept:
        actions.append(("addTags", {"notes": [note_id], "tags": tag}))
    if steps.suspend:
        actions.append(("suspend", {"cards": list(steps.suspend)}))
    if steps.unsuspend:
        actions.append(("unsuspend", {"cards": list(steps.unsuspend)}))
    if steps.delete:
        actions.append(("deleteNotes", {"notes": list(steps.delete)}))
    return actions


def _check_decks(client: AnkiConnect, steps: Steps) -> None:
    """No deck the steps put cards in is a filtered deck of the person's, nor under one:
    else nothing is synced. The add-on names no filtered deck as such, but its
    ``getDeckConfig`` answers a filtered deck with the deck itself (``"dyn"`` true), a normal
    one with its options (``"dyn"`` false); it knows a deck only by its exact name, which
    Anki matches in any case: asked by the name Anki has."""
    wanted = decks_filled(steps)
    if not wanted:
        return
    names = {fold(name): name for name in client.call("deckNamesAndIds")}
    there = {
        fold(d): names[fold(d)] for deck in wanted for d in deck_and_above(deck) if fold(d) in names
    }
    asked = sorted(set(there.values()))
    answers = client.multi([("getDeckConfig", {"deck": name}) for name in asked])
    filtered = {
        fold(n): n
        for n, a in zip(asked, answers, strict=True)
        if isinstance(a, dict) and a.get("dyn")
    }
    check_no_filtered_deck(steps, lambda name: filtered.get(fold(name)))


def _added_ids(
    client: AnkiConnect, notes: Iterable[TargetNote], before: set[int], since: int
) -> dict[str, int]:
    """The ids of the notes an import just added, by GUID: the notes Anki has now and did
    not before, of ids from ``since`` on, told apart by the fields they were added with."""
    by_key: dict[Key, list[int]] = {}
    for info in _all_notes(client):
        if info["noteId"] not in before and info["noteId"] >= since:
            key = _key(info["modelName"], _values(info))
            by_key.setdefault(key, []).append(info["noteId"])
    out: dict[str, int] = {}
    for note in notes:
        nids = by_key.get(_target_key(note))
        if nids:
            out[note.guid] = nids.pop(0)
    return out
