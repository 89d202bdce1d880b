"""What a sync does for each kind of change, given what the collection holds: table-driven,
on plain data (the end-to-end outcomes are in test_sync_collection.py)."""

from __future__ import annotations

import unicodedata
from pathlib import Path

import pytest

from memo2anki.cards.identity import cloze_guid
from memo2anki.changes.ledger import Ledger
from memo2anki.changes.notes import CLOZE_MODEL_NAME, MODEL_NAME, TargetNote
from memo2anki.changes.plan import GONE_TAG, Change, Kind, Place, Plan, kept_suspended_tag
from memo2anki.model import Media
from memo2anki.targets.sync_steps import (
    Held,
    HeldCard,
    Steps,
    Update,
    pictures_lacking,
    sync_steps,
)

OLD, NEW, MINE = "공부 메모장::CKA", "공부 메모장::K8s", "My deck"
FIELDS = ("<b>etcd</b>", "back", "CKA", "daily/a.md", "2025-04-01", "obsidian://x")
EDITED = ("<b>etcd</b>", "back, edited", *FIELDS[2:])


def target(
    deck: str = OLD, fields: tuple[str, ...] = FIELDS, tags: tuple[str, ...] = ("CKA",)
) -> TargetNote:
    return TargetNote("g1", MODEL_NAME, deck, fields, tags, 100, 0)


def place(deck: str) -> Place:
    return Place("daily/a.md", 3, "CKA", "etcd", deck)


def held(
    deck: str = OLD,
    fields: tuple[str, ...] = FIELDS,
    tags: tuple[str, ...] = ("CKA",),
    suspended: bool = False,
    mod: int | None = None,
) -> Held:
    return Held(7, fields, tags, (HeldCard(70, deck, suspended),), mod)


def change(
    kind: Kind, now: str | None = OLD, before: str | None = OLD, fields: tuple[str, ...] = FIELDS
) -> Change:
    """A change of the card ``g1``: now in deck ``now`` (None: gone), before in ``before``."""
    notes = (target(now, fields),) if now else ()
    return Change(kind, "g1", place(now) if now else None, place(before) if before else None, notes)


CASES = [
    # (what, change, held, delete_gone, expected steps)
    ("new, not in Anki: added", change(Kind.NEW, before=None), None, False, Steps(add=(target(),))),
    (
        "new, imported before, same fields: nothing",
        change(Kind.NEW, before=None),
        held(),
        False,
        Steps(),
    ),
    (
        "new, imported before, other fields: updated",
        change(Kind.NEW, before=None),
        held(fields=EDITED),
        False,
        "update",
    ),
    (
        "unchanged, edited in Anki: left alone",
        change(Kind.UNCHANGED),
        held(fields=EDITED),
        False,
        Steps(),
    ),
    (
        "unchanged but deleted in Anki: added back",
        change(Kind.UNCHANGED),
        None,
        False,
        Steps(add=(target(),)),
    ),
    ("updated: updated", change(Kind.UPDATED, fields=EDITED), held(), False, "update"),
    (
        "updated to what Anki holds already: nothing",
        change(Kind.UPDATED, fields=EDITED),
        held(fields=EDITED),
        False,
        Steps(),
    ),
    ("moved deck: moved", change(Kind.MOVED, now=NEW), held(), False, Steps(move=((NEW, (70,)),))),
    (
        "moved deck, moved by hand: left",
        change(Kind.MOVED, now=NEW),
        held(deck=MINE),
        False,
        "hand",
    ),
    (
        "moved deck, already there: nothing",
        change(Kind.MOVED, now=NEW),
        held(deck=NEW),
        False,
        Steps(),
    ),
    (
        "moved deck, its old deck renamed in Anki to another case: moved",
        change(Kind.MOVED, now=NEW),
        held(deck="공부 메모장::cka"),
        False,
        Steps(move=((NEW, (70,)),)),
    ),
    (
        "moved deck, its old deck in NFD in the ledger, NFC in Anki: moved",
        change(Kind.MOVED, now=NEW, before=unicodedata.normalize("NFD", OLD)),
        held(deck=OLD),
        False,
        Steps(move=((NEW, (70,)),)),
    ),
    (
        "moved deck, already there as Anki spells it: nothing",
        change(Kind.MOVED, now=unicodedata.normalize("NFD", NEW)),
        held(deck="공부 메모장::k8S"),
        False,
        Steps(),
    ),
    # With the note's modification time (whole seconds) against the card's stamp (100): the
    # plan keeps the stamp of a card whose fields did not change (unchanged, moved to another
    # deck only), and gives a changed one this run's time.
    (
        "moved deck only, edited in Anki since memo2anki wrote it: moved, the edit kept",
        change(Kind.MOVED, now=NEW),
        held(fields=EDITED, tags=("CKA", "mine"), mod=150),
        False,
        Steps(move=((NEW, (70,)),)),
    ),
    (
        "moved deck only, older than memo2anki's last write (never got it): moved and updated",
        change(Kind.MOVED, now=NEW),
        held(fields=EDITED, mod=50),
        False,
        Steps(update=(Update(7, target(NEW)),), move=((NEW, (70,)),)),
    ),
    (
        "moved deck only, edited in Anki in the second of the stamp: the edit kept",
        change(Kind.MOVED, now=NEW),
        held(fields=EDITED, mod=100),
        False,
        Steps(move=((NEW, (70,)),)),
    ),
    (
        "moved deck only, the target cannot say when: moved and updated",
        change(Kind.MOVED, now=NEW),
        held(fields=EDITED),
        False,
        Steps(update=(Update(7, target(NEW)),), move=((NEW, (70,)),)),
    ),
    (
        "updated, edited in Anki before the memo changed: updated",
        change(Kind.UPDATED, fields=EDITED),
        held(tags=("CKA", "mine"), mod=50),
        False,
        "update",
    ),
    (
        "moved to another subject, written by a run in the second of its new stamp: updated",
        Change(
            Kind.MOVED,
            "g1",
            place(NEW)._replace(subject="K8s"),
            place(OLD),
            (target(NEW, fields=(*FIELDS[:2], "K8s", *FIELDS[3:])),),
        ),
        held(mod=100),
        False,
        Steps(
            update=(Update(7, target(NEW, fields=(*FIELDS[:2], "K8s", *FIELDS[3:]))),),
            move=((NEW, (70,)),),
        ),
    ),
    (
        "updated, written by a run in the second of its new stamp: updated",
        change(Kind.UPDATED, fields=EDITED),
        held(mod=100),
        False,
        "update",
    ),
    (
        "renamed, edited in Anki before: updated",
        change(Kind.RENAMED, fields=EDITED),
        held(mod=50),
        False,
        "update",
    ),
    (
        "unchanged, edited in Anki in the second of the stamp: left alone",
        change(Kind.UNCHANGED),
        held(fields=EDITED, mod=100),
        False,
        Steps(),
    ),
    (
        "unchanged, older than memo2anki's last write: updated",
        change(Kind.UNCHANGED),
        held(fields=EDITED, mod=50),
        False,
        "update",
    ),
    (
        "gone: tagged and suspended",
        change(Kind.GONE, now=None),
        held(),
        False,
        Steps(tag_gone=(7,), suspend=(70,)),
    ),
    (
        "gone again, already retired: nothing",
        change(Kind.GONE, now=None),
        held(tags=("CKA", GONE_TAG), suspended=True),
        False,
        Steps(),
    ),
    ("gone, deleted in Anki: nothing", change(Kind.GONE, now=None), None, False, Steps()),
    (
        "gone with --delete-gone: deleted",
        change(Kind.GONE, now=None),
        held(),
        True,
        Steps(delete=(7,)),
    ),
    (
        "returned: untagged and unsuspended",
        change(Kind.RETURNED),
        held(tags=("CKA", GONE_TAG), suspended=True),
        False,
        "returned",
    ),
]


@pytest.mark.parametrize(
    ("what", "the_change", "have", "delete_gone", "expected"), CASES, ids=[c[0] for c in CASES]
)
def test_steps(
    what: str, the_change: Change, have: Held | None, delete_gone: bool, expected: object
) -> None:
    plan = Plan(changes=(the_change,), ledger=Ledger())
    steps = sync_steps(plan, {"g1": have} if have else {}, delete_gone)
    if expected == "update":
        assert [u.note_id for u in steps.update] == [7] and not steps.add
        assert steps.update[0].note == the_change.notes[0]
    elif expected == "hand":
        assert not steps.move and [h.deck for h in steps.hand_moved] == [MINE]
    elif expected == "returned":
        assert [u.note_id for u in steps.update] == [7]
        assert GONE_TAG not in steps.update[0].note.tags
        assert steps.unsuspend == (70,)
    else:
        assert steps == expected


def test_a_gone_card_left_out_of_the_plans_notes_is_still_retired_with_its_cloze() -> None:
    gone = Change(Kind.GONE, "g1", None, place(OLD), ())
    cloze = Held(8, FIELDS, ("CKA",), (HeldCard(80, OLD, False), HeldCard(81, OLD, False)))
    steps = sync_steps(Plan((gone,), Ledger()), {"g1": held(), cloze_guid("g1"): cloze})
    assert steps.tag_gone == (7, 8) and steps.suspend == (70, 80, 81)


RETIRED = held(tags=("CKA", GONE_TAG), suspended=True)
RETIRED_CLOZE = Held(8, FIELDS, ("CKA", GONE_TAG), (HeldCard(80, OLD, True),))
# (what, the cards the plan says earlier runs retired, what the collection holds by GUID,
# the notes --delete-gone deletes)
DELETE_CASES = [
    ("retired by an earlier run: deleted", ("g2",), {"g2": RETIRED}, (7,)),
    ("with its cloze note", ("g2",), {"g2": RETIRED, cloze_guid("g2"): RETIRED_CLOZE}, (7, 8)),
    ("retired, its gone tag removed in Anki: kept", ("g2",), {"g2": held()}, ()),
    ("retired, deleted in Anki already: nothing", ("g2",), {}, ()),
    ("tagged gone, not retired by this ledger (another vault's): kept", (), {"g3": RETIRED}, ()),
]


@pytest.mark.parametrize(
    ("what", "retired", "have", "deleted"), DELETE_CASES, ids=[c[0] for c in DELETE_CASES]
)
def test_delete_gone_deletes_what_earlier_runs_of_this_ledger_retired(
    what: str, retired: tuple[str, ...], have: dict[str, Held], deleted: tuple[int, ...]
) -> None:
    """Besides the notes gone now, --delete-gone deletes exactly the notes of the cards the
    plan says earlier runs retired (the ledger's gone rows in reach) that still carry the
    gone tag: never a gone-tagged note the ledger does not know, such as another vault's."""
    plan = Plan(changes=(), ledger=Ledger(), retired=retired)
    steps = sync_steps(plan, have, delete_gone=True)
    assert steps.delete == deleted and steps.retired_deleted == len(deleted)
    assert sync_steps(plan, have, delete_gone=False).empty


def kept(card_id: int) -> str:
    return kept_suspended_tag(card_id)


CLOZE = cloze_guid("g1")
CLOZE_NOTE = TargetNote(CLOZE, CLOZE_MODEL_NAME, OLD, FIELDS, ("CKA",), 100, 0)


def cloze(tags: tuple[str, ...], *cards: tuple[int, bool]) -> Held:
    """The cloze note of ``g1`` (note 8), with its cards as (card id, suspended)."""
    return Held(8, FIELDS, tags, tuple(HeldCard(cid, OLD, s) for cid, s in cards))


GONE = ("CKA", GONE_TAG)
# (what, the change's kind, what the collection holds by GUID, the tags added beside the gone
# tag, the cards suspended, the cards unsuspended)
SUSPENDED_CASES = [
    (
        "gone, suspended by the person: tagged as theirs, nothing to suspend",
        Kind.GONE,
        {"g1": held(suspended=True)},
        ((7, kept(70)),),
        (),
        (),
    ),
    ("gone, not suspended: suspended, no tag of theirs", Kind.GONE, {"g1": held()}, (), (70,), ()),
    (
        "gone, tagged gone before (suspended by whom, not known): nothing",
        Kind.GONE,
        {"g1": held(tags=GONE, suspended=True)},
        (),
        (),
        (),
    ),
    (
        "gone cloze note, one card suspended by the person: that one tagged, the others suspended",
        Kind.GONE,
        {CLOZE: cloze(("CKA",), (80, False), (81, True), (82, False))},
        ((8, kept(81)),),
        (80, 82),
        (),
    ),
    (
        "returned, suspended by the person: left suspended",
        Kind.RETURNED,
        {"g1": held(tags=(*GONE, kept(70)), suspended=True)},
        (),
        (),
        (),
    ),
    (
        "returned, suspended by memo2anki: unsuspended",
        Kind.RETURNED,
        {"g1": held(tags=GONE, suspended=True)},
        (),
        (),
        (70,),
    ),
    (
        "returned, unsuspended by the person while gone: nothing to unsuspend",
        Kind.RETURNED,
        {"g1": held(tags=(*GONE, kept(70)), suspended=False)},
        (),
        (),
        (),
    ),
    (
        "came back before a sync saw it go, suspended by the person: left suspended",
        Kind.UNCHANGED,
        {"g1": held(tags=(*GONE, kept(70)), suspended=True)},
        (),
        (),
        (),
    ),
    (
        "returned cloze note: only the card memo2anki suspended unsuspended",
        Kind.RETURNED,
        {
            "g1": held(tags=GONE, suspended=True),
            # 80 suspended by memo2anki, 81 by the person, 82 unsuspended by them while gone
            CLOZE: cloze((*GONE, kept(81), kept(82)), (80, True), (81, True), (82, False)),
        },
        (),
        (),
        (70, 80),
    ),
]


@pytest.mark.parametrize(
    ("what", "kind", "have", "tagged", "suspended", "unsuspended"),
    SUSPENDED_CASES,
    ids=[c[0] for c in SUSPENDED_CASES],
)
def test_a_card_suspended_by_the_person_stays_suspended_when_its_memo_returns(
    what: str,
    kind: Kind,
    have: dict[str, Held],
    tagged: tuple[tuple[int, str], ...],
    suspended: tuple[int, ...],
    unsuspended: tuple[int, ...],
) -> None:
    """Retiring a note tags each card the person had suspended as theirs; a return unsuspends
    only the others (memo2anki's, a note retired by an older version's too), and its update
    drops those tags with the gone tag. Per card: a cloze note's cards each keep their own."""
    if kind is Kind.GONE:
        the_change = Change(kind, "g1", None, place(OLD), ())
    else:
        the_change = Change(kind, "g1", place(OLD), place(OLD), (target(), CLOZE_NOTE))
    steps = sync_steps(Plan(changes=(the_change,), ledger=Ledger()), have)
    assert steps.tag_kept == tagged
    assert steps.suspend == suspended and steps.unsuspend == unsuspended
    tagged_gone = tuple(h.note_id for h in have.values() if GONE_TAG not in h.tags)
    assert steps.tag_gone == (tagged_gone if kind is Kind.GONE else ())
    # Back: each note tagged gone written with the memo's tags, the kept ones dropped too.
    written = {h.note_id for h in have.values() if GONE_TAG in h.tags and kind is not Kind.GONE}
    assert {u.note_id for u in steps.update} == written
    assert all(u.note.tags == ("CKA",) for u in steps.update)


PIC, OTHER = "m2a-00000000000000000001.png", "m2a-00000000000000000002.png"
VAULT_MEDIA = {n: Media(Path(n), n, "") for n in (PIC, OTHER)}


def showing(kind: Kind, guid: str = "g1", picture: str = PIC) -> Change:
    """A change of the card ``guid``, whose note shows ``picture``."""
    fields = (FIELDS[0], f'back <img src="{picture}">', *FIELDS[2:])
    shown = TargetNote(guid, MODEL_NAME, OLD, fields, ("CKA",), 100, 0)
    now = None if kind is Kind.GONE else place(OLD)
    return Change(kind, guid, now, place(OLD), (shown,))


# (what, the plan's changes, the media names the target holds, delete_gone, the pictures put
# back)
PICTURE_CASES = [
    (
        "unchanged, its picture lost from Anki: put back",
        (showing(Kind.UNCHANGED),),
        {OTHER},
        False,
        [PIC],
    ),
    ("unchanged, its picture there: nothing", (showing(Kind.UNCHANGED),), {PIC}, False, []),
    ("updated, its picture lost: put back", (showing(Kind.UPDATED),), set(), False, [PIC]),
    ("moved, its picture lost: put back", (showing(Kind.MOVED),), set(), False, [PIC]),
    ("new: its picture added", (showing(Kind.NEW),), set(), False, [PIC]),
    ("gone, tagged (still in Anki): put back", (showing(Kind.GONE),), set(), False, [PIC]),
    ("gone with --delete-gone (deleted): nothing", (showing(Kind.GONE),), set(), True, []),
    (
        "shown by two notes: put back once",
        (showing(Kind.UNCHANGED), showing(Kind.UNCHANGED, "g2")),
        set(),
        False,
        [PIC],
    ),
    (
        "a picture the vault has not: nothing",
        (showing(Kind.UNCHANGED, picture="m2a-not-in-the-vault.png"),),
        set(),
        False,
        [],
    ),
]


@pytest.mark.parametrize(
    ("what", "changes", "have", "delete_gone", "put_back"),
    PICTURE_CASES,
    ids=[c[0] for c in PICTURE_CASES],
)
def test_every_picture_a_note_of_the_plan_shows_and_the_target_lacks_is_put_back(
    what: str, changes: tuple[Change, ...], have: set[str], delete_gone: bool, put_back: list[str]
) -> None:
    """Whatever the note's change (not only an added or updated note's): a picture emptied
    from Anki's media folder comes back at the next sync. Each picture asked about once, of
    the target's media names (one listing)."""
    asked: list[str] = []

    def holds(name: str) -> bool:
        asked.append(name)
        return name in have

    plan = Plan(changes=changes, ledger=Ledger())
    lacking = pictures_lacking(plan, VAULT_MEDIA, holds, delete_gone)
    assert [m.name for m in lacking] == put_back
    assert len(asked) == len(set(asked))


@pytest.mark.parametrize(
    ("what", "kind", "fields", "tags_in_anki", "written_tags"),
    [
        ("edited memo: written with Anki's tags", Kind.UPDATED, EDITED, ("CKA", "marked"),
         ("CKA", "marked")),
        ("edited memo: leech too, any case", Kind.UPDATED, EDITED, ("Leech", "CKA", "marked"),
         ("CKA", "Leech", "marked")),
        ("imported before, only marked in Anki: nothing to write", Kind.NEW, FIELDS,
         ("CKA", "marked"), None),
        ("a tag of the person's own is not Anki's: the memo's tags", Kind.UPDATED, EDITED,
         ("CKA", "mine"), ("CKA",)),
    ],
)  # fmt: skip
def test_tags_anki_gave_a_note_stay_when_it_is_written(
    what: str,
    kind: Kind,
    fields: tuple[str, ...],
    tags_in_anki: tuple[str, ...],
    written_tags: tuple[str, ...] | None,
) -> None:
    # Mark Note (Ctrl+K) and Anki's leech tag are the person's and Anki's, not the memo's: a
    # memo edited wrote the note with the memo's tags alone, and they were lost.
    the_change = change(kind, before=None if kind is Kind.NEW else OLD, fields=fields)
    plan = Plan(changes=(the_change,), ledger=Ledger())
    steps = sync_steps(plan, {"g1": held(tags=tags_in_anki)})
    if written_tags is None:
        assert steps == Steps()
    else:
        (update,) = steps.update
        assert update.note.tags == written_tags and update.note.fields == fields


@pytest.mark.parametrize(
    ("what", "have", "expected"),
    [
        ("untagged, older than its retiring: retired now", held(mod=150),
         Steps(tag_gone=(7,), suspend=(70,))),
        ("untagged, suspended by the person: retired, theirs kept", held(mod=150, suspended=True),
         Steps(tag_gone=(7,), tag_kept=((7, kept_suspended_tag(70)),))),
        ("untagged since its retiring (by the person): left alone", held(mod=250), Steps()),
        ("the target cannot say when: left alone", held(), Steps()),
        ("tagged gone already (the package imported): nothing",
         held(tags=("CKA", GONE_TAG), mod=150, suspended=True), Steps()),
    ],
)  # fmt: skip
def test_a_note_a_package_retired_that_this_collection_never_got_so_is_retired(
    what: str, have: Held, expected: Steps
) -> None:
    # A memo gone, a package built (for another collection, or not imported): the ledger's
    # row is gone from then on, and a sync saw no gone card, so the card stayed due here.
    plan = Plan(changes=(), ledger=Ledger(), retired=("g1",), retired_when={"g1": 200})
    assert sync_steps(plan, {"g1": have}) == expected


@pytest.mark.parametrize(
    ("what", "have", "deleted"),
    [
        ("untagged, older than its retiring: deleted", held(mod=150), (7,)),
        ("untagged since its retiring (by the person): left alone", held(mod=250), ()),
        ("tagged gone: deleted, as before", held(tags=("CKA", GONE_TAG), mod=250), (7,)),
    ],
)
def test_delete_gone_deletes_a_note_a_package_retired_that_this_collection_never_got_so(
    what: str, have: Held, deleted: tuple[int, ...]
) -> None:
    plan = Plan(changes=(), ledger=Ledger(), retired=("g1",), retired_when={"g1": 200})
    steps = sync_steps(plan, {"g1": have}, delete_gone=True)
    assert steps.delete == deleted and not steps.tag_gone and not steps.suspend


def _of_the_other_type(tags: tuple[str, ...] = ("CKA",), mod: int | None = 50) -> Held:
    """g1's GUID on a note of memo2anki's cloze type (the person changed it in Anki)."""
    return Held(7, EDITED, tags, (HeldCard(70, OLD, False),), mod, CLOZE_MODEL_NAME, "내 클로즈")


# (what, the plan, delete_gone, the note at g1, whether the card is named as not added)
OTHER_TYPE_CASES = [
    ("edited", Plan((change(Kind.UPDATED),), Ledger()), False, _of_the_other_type(), True),
    ("new", Plan((change(Kind.NEW, before=None),), Ledger()), False, _of_the_other_type(), True),
    (
        "returned, tagged gone",
        Plan((change(Kind.RETURNED, before=None),), Ledger()),
        False,
        _of_the_other_type(tags=("CKA", GONE_TAG)),
        True,
    ),
    ("gone", Plan((change(Kind.GONE, now=None),), Ledger()), False, _of_the_other_type(), False),
    (
        "gone, --delete-gone",
        Plan((Change(Kind.GONE, "g1", None, place(OLD), ()),), Ledger()),
        True,
        _of_the_other_type(),
        False,
    ),
    (
        "retired earlier, --delete-gone",
        Plan((), Ledger(), retired=("g1",)),
        True,
        _of_the_other_type(tags=("CKA", GONE_TAG)),
        False,
    ),
    (
        "retired by a package not imported",
        Plan((), Ledger(), retired_when={"g1": 100}),
        False,
        _of_the_other_type(),
        False,
    ),
]


@pytest.mark.parametrize(
    ("what", "plan", "delete_gone", "have", "named"),
    OTHER_TYPE_CASES,
    ids=[c[0] for c in OTHER_TYPE_CASES],
)
def test_a_note_of_memo2ankis_other_note_type_at_a_cards_guid_is_left_alone(
    what: str, plan: Plan, delete_gone: bool, have: Held, named: bool
) -> None:
    """A card's GUID on a note of memo2anki's other note type (a cloze note where the card is
    not cloze, or the other way) is the person's: never written (its fields are the other
    type's), retired nor deleted; a card that would be added or written is named as not
    added, by the name Anki gives that note type."""
    steps = sync_steps(plan, {"g1": have}, delete_gone)
    assert steps.empty and not steps.hand_moved, steps
    assert [(t.note.guid, t.held_by) for t in steps.taken] == (
        [("g1", "내 클로즈")] if named else []
    )
