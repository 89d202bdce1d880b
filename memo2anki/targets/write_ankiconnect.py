"""The AnkiConnect way: a plan carried into the running Anki through the AnkiConnect add-on.

AnkiConnect cannot see a note's GUID, nor give a note or note type an id of its choosing. So
new notes arrive as a package Anki imports (``importPackage``: their GUIDs and memo2anki's
note types, exactly as File > Import would bring them), and the notes already there are found
by the fields memo2anki last wrote into them: note type, Source (the memo's note), Subject
and Front. Every other step is one AnkiConnect action.
"""

from __future__ import annotations

import base64
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from memo2anki.cards.identity import cloze_guid
from memo2anki.changes.ledger import Ledger, LedgerCard
from memo2anki.changes.notes import CLOZE_MODEL_NAME, MODEL_NAME, NOTE_TYPES, TargetNote
from memo2anki.changes.plan import GONE_TAG, Kind, Plan
from memo2anki.model import Media
from memo2anki.targets.ankiconnect import AnkiConnect
from memo2anki.targets.package_notes import notes_package
from memo2anki.targets.sync_steps import (
    Held,
    HeldCard,
    Steps,
    fields_changed,
    media_to_add,
    note_guids,
    sync_steps,
)

BATCH = 500  # ids per notesInfo/cardsInfo request: one answer stays a few megabytes
FIELD_NAMES = {name: fields for name, (_id, fields) in NOTE_TYPES.items()}

Key = tuple[str, str, str, str]  # (note type, Source, Subject, Front)


def _key(note_type: str, fields: Mapping[str, str]) -> Key:
    return (note_type, fields.get("Source", ""), fields.get("Subject", ""), fields.get("Front", ""))


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


def held_notes(client: AnkiConnect, plan: Plan, previous: Ledger) -> dict[str, Held]:
    """memo2anki's notes in Anki, by the GUID of the plan's note each one is."""
    nids = client.call("findNotes", query=f'"note:{MODEL_NAME}" OR "note:{CLOZE_MODEL_NAME}"')
    infos = [i for chunk in _chunks(nids) for i in client.call("notesInfo", notes=chunk) if i]
    card_ids = [c for info in infos for c in info["cards"]]
    # Decks and suspension rather than cardsInfo, which renders every card's question and
    # answer on the way.
    cards: dict[int, HeldCard] = {}
    for chunk in _chunks(card_ids):
        decks, suspended = client.multi(
            [("getDecks", {"cards": chunk}), ("areSuspended", {"cards": chunk})]
        )
        deck_of = {cid: deck for deck, ids in decks.items() for cid in ids}
        for cid, is_suspended in zip(chunk, suspended, strict=True):
            if cid in deck_of:
                cards[cid] = HeldCard(cid, deck_of[cid], bool(is_suspended))
    by_key: dict[Key, list[Held]] = {}
    for info in sorted(infos, key=lambda i: i["noteId"]):  # oldest first: the order added
        ordered = sorted(info["fields"].items(), key=lambda kv: kv[1]["order"])
        values = {name: value["value"] for name, value in ordered}
        held = Held(
            info["noteId"],
            tuple(values.values()),
            tuple(info["tags"]),
            tuple(cards[c] for c in info["cards"] if c in cards),
            info["mod"] if isinstance(info.get("mod"), int) else None,
        )
        by_key.setdefault(_key(info["modelName"], values), []).append(held)

    # A card whose content is as the ledger has it is found by its target fields; any other
    # by the fields memo2anki last wrote (read only for those: most syncs change few cards).
    entries = {e.guid: e for e in previous.cards}
    found: dict[str, Held] = {}
    for change in plan.changes:
        guids = note_guids(change)
        targets = {n.guid: n for n in change.notes}
        entry = entries.get(change.guid)
        keys = (
            _ledger_keys(previous, entry)
            if entry is not None and change.kind not in (Kind.NEW, Kind.UNCHANGED)
            else {}
        )
        for guid in guids:
            key = keys.get(guid) or (_target_key(targets[guid]) if guid in targets else None)
            candidates = by_key.get(key) if key else None
            if candidates:
                found[guid] = candidates.pop(0)  # a front twice in one note: in order
    return found


def _chunks(ids: list[int]) -> Iterable[list[int]]:
    for start in range(0, len(ids), BATCH):
        yield ids[start : start + BATCH]


@dataclass(frozen=True)
class Applied:
    steps: Steps
    media_added: int


def apply_plan(
    client: AnkiConnect,
    plan: Plan,
    media: Iterable[Media],
    previous: Ledger,
    delete_gone: bool = False,
) -> Applied:
    """Carry ``plan`` into Anki through AnkiConnect. Not one transaction (the add-on has
    none): each step is done in order, and a sync run again after a failure finishes it."""
    present = client.call("modelNames")
    for name, expected in FIELD_NAMES.items():
        if name in present:
            fields = client.call("modelFieldNames", modelName=name)
            if list(fields) != list(expected):
                raise fields_changed(name, fields, expected)
    steps = sync_steps(plan, held_notes(client, plan, previous), delete_gone)
    if steps.empty:
        return Applied(steps, 0)
    by_name = {m.name: m for m in media}
    have = set(client.call("getMediaFilesNames", pattern="m2a-*"))
    added = 0
    if steps.add:
        missing = media_to_add(steps.add, by_name, have.__contains__)
        with notes_package(steps.add, missing) as package:
            client.call("importPackage", path=str(package))
        added += len(missing)
        have.update(m.name for m in missing)
    actions: list[tuple[str, dict[str, Any]]] = []
    for item in media_to_add([u.note for u in steps.update], by_name, have.__contains__):
        data = base64.b64encode(item.path.read_bytes()).decode("ascii")
        actions.append(("storeMediaFile", {"filename": item.name, "data": data}))
        added += 1
    for update in steps.update:
        names = FIELD_NAMES[update.note.note_type]
        fields = dict(zip(names, update.note.fields, strict=True))
        note = {"id": update.note_id, "fields": fields, "tags": list(update.note.tags)}
        actions.append(("updateNote", {"note": note}))
    for deck, card_ids in steps.move:
        actions.append(("changeDeck", {"cards": list(card_ids), "deck": deck}))
    if steps.tag_gone:
        actions.append(("addTags", {"notes": list(steps.tag_gone), "tags": GONE_TAG}))
    if steps.suspend:
        actions.append(("suspend", {"cards": list(steps.suspend)}))
    if steps.unsuspend:
        actions.append(("unsuspend", {"cards": list(steps.unsuspend)}))
    if steps.delete:
        actions.append(("deleteNotes", {"notes": list(steps.delete)}))
    client.multi(actions)
    return Applied(steps, added)
