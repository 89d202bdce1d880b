"""``memo2anki sync``: the plan of a build carried straight into Anki, through AnkiConnect when
Anki runs with it, else into the profile's collection file. The plan is the package's own
(same cards, GUIDs, note types, decks, tags and ledger); only the writer differs. With no
ledger, the target's own notes are the ledger (:func:`plan_against_target`)."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from memo2anki.changes.notes import MODEL_NAME
from memo2anki.changes.plan import (
    HeldNote,
    Plan,
    ledger_from_notes,
    of_vault,
    plan_changes,
)
from memo2anki.common.signals import (
    telling_if_stopped,
    telling_once_committed,
    telling_once_replaced,
)
from memo2anki.model import Diagnostic, Media, Memo2AnkiError, Result, fold
from memo2anki.targets import note_ids
from memo2anki.targets.ankiconnect import (
    DEFAULT_URL,
    AnkiConnect,
    active_profile,
    detect,
    why_not,
)
from memo2anki.targets.build import ledger_of, ledger_unsaved, save_ledger
from memo2anki.targets.profiles import find_profile
from memo2anki.targets.sync_steps import Held, Steps

COLLECTION = "collection"
ANKICONNECT = "ankiconnect"


@dataclass(frozen=True)
class Target:
    """Where a sync goes: a collection file (with its profile's backups folder), or
    AnkiConnect's address (and the profile Anki has open, when it says)."""

    way: str  # COLLECTION or ANKICONNECT
    collection: Path | None = None
    backups: Path | None = None
    url: str = DEFAULT_URL
    key: str | None = None
    profile: str | None = None
    # Why the profile could not be checked (AnkiConnect without getActiveProfile), if so.
    unchecked: str | None = None

    def __str__(self) -> str:
        """``profile '사용자 1' through AnkiConnect``, ``~/backup/collection.anki2``: where
        the sync goes and which way in."""
        if self.way == ANKICONNECT:
            at = "" if self.url == DEFAULT_URL else f" at {self.url}"
            who = f"profile '{self.profile}'" if self.profile else "the profile Anki has open"
            return f"{who} through AnkiConnect{at}"
        if self.profile:
            return f"profile '{self.profile}' ({self.collection})"
        return str(self.collection)

    def as_json(self) -> dict[str, Any]:
        return {
            "way": self.way,
            "profile": self.profile,
            "collection": str(self.collection) if self.collection is not None else None,
            "url": self.url if self.way == ANKICONNECT else None,
            "text": f"into {self}",
        }


def held_open(collection: Path) -> bool:
    """Whether a program holds the collection open (Anki desktop, while that profile is
    loaded): Anki's library then refuses to open it. Without the library, a plain read,
    which Anki desktop's lock refuses too."""
    from memo2anki.targets.write_collection import odd_file, older_format

    if not collection.is_file() or odd_file(collection) is not None:
        return False  # (opening it could wait for ever: the sync says why, never opening it)

    try:
        import anki.collection
        import anki.errors
    except ImportError:
        return _read_refused(collection)
    if older_format(collection):  # the library would upgrade it as it opens it
        return _read_refused(collection)
    try:
        col = anki.collection.Collection(str(collection))
    except anki.errors.DBError:
        return True
    except Exception:  # not a collection, or a newer one: not held, as far as can be told
        return False
    col.close()
    return False


def _read_refused(collection: Path) -> bool:
    try:
        db = sqlite3.connect(f"{collection.resolve().as_uri()}?mode=ro", uri=True, timeout=0)
    except (sqlite3.Error, ValueError):
        return False
    try:
        db.execute("select count(*) from sqlite_master").fetchall()
        return False
    except sqlite3.OperationalError as err:
        return "locked" in str(err)
    except sqlite3.Error:
        return False
    finally:
        db.close()


def choose_target(
    via: str | None,
    profile: str | None,
    collection: Path | None,
    url: str = DEFAULT_URL,
    key: str | None = None,
    answers: Callable[[str, str | None], bool] = detect,
    active: Callable[[str, str | None], str | None] = active_profile,
    why: Callable[[str, str | None], str | None] = why_not,
) -> Target:
    """AnkiConnect when it answers (or ``via`` says so), else the collection file: the one
    given, or the profile's (``profile``, else the one Anki loaded last). With ``profile``,
    AnkiConnect only when that is the profile Anki has open (another one is not locked):
    asked of AnkiConnect, or, where it cannot say (no ``getActiveProfile``), told by the
    profile's collection being held open."""
    if collection is not None and via != ANKICONNECT:
        return Target(COLLECTION, collection, collection.parent / "backups")
    if via == ANKICONNECT:
        if not answers(url, key):
            reason = why(url, key)
            raise Memo2AnkiError(
                f"AnkiConnect does not answer at {url}{f' ({reason})' if reason else ''}: start "
                "Anki with the AnkiConnect add-on (code 2055492159), or sync with Anki closed "
                "(--via collection)"
            )
        return _connect(url, key, active(url, key))
    if via is None and answers(url, key):
        open_profile = active(url, key)
        if profile is None:
            return _connect(url, key, open_profile)
        if open_profile is not None and _same(open_profile, profile):
            return Target(ANKICONNECT, url=url, key=key, profile=open_profile)
        if open_profile is None:
            found = find_profile(profile)
            if held_open(found.collection):  # Anki has that profile open
                return Target(ANKICONNECT, url=url, key=key, profile=found.name)
            return Target(COLLECTION, found.collection, found.backups, profile=found.name)
    found = find_profile(profile)
    return Target(COLLECTION, found.collection, found.backups, profile=found.name)


def _connect(url: str, key: str | None, profile: str | None) -> Target:
    unchecked = (
        None
        if profile is not None
        else "could not check which profile Anki has open (this AnkiConnect has no "
        "getActiveProfile); syncing into the one it has open"
    )
    return Target(ANKICONNECT, url=url, key=key, profile=profile, unchecked=unchecked)


def _same(a: str, b: str) -> bool:
    return fold(a) == fold(b)


@dataclass(frozen=True)
class Synced:
    """What a sync did, for the report."""

    target: Target
    steps: Steps
    backup: Path | None
    media_added: int
    ledger_warnings: tuple[Diagnostic, ...] = ()
    # Pictures found while the cards were made but gone when they were sent: left out.
    gone: tuple[Media, ...] = ()


def _held_notes(held: Iterable[tuple[str, Held]]) -> list[HeldNote]:
    """The target's memo2anki (not cloze) notes, oldest first, as the plan reads them."""
    notes = sorted(held, key=lambda item: item[1].note_id)
    return [
        HeldNote(guid, h.fields, h.tags, h.cards[0].deck if h.cards else "", h.mod or 0)
        for guid, h in notes
        if h.note_type == MODEL_NAME
    ]


def plan_against_target(
    result: Result, plan: Plan, target: Target, now: int | None = None
) -> tuple[Plan, dict[str, int]]:
    """With no ledger (deleted, a first run on this machine, another vault folder), the plan
    again against the target's own memo2anki notes, read as the ledger it would have had:
    renamed and moved cards pair with their notes there instead of arriving as new ones.
    Also the note ids by GUID (for AnkiConnect, which names no GUID: each note stands for
    the GUID its card's identity gives, found from then on by its id). Only the notes of
    this vault are read (:func:`~memo2anki.changes.plan.of_vault`): the notes of another
    vault synced into the same profile are never paired, retired or deleted."""
    if not plan.first_run or plan.layout is None:
        return plan, {}
    layout = plan.layout

    def ours(h: Held) -> bool:
        return h.note_type == MODEL_NAME and of_vault(
            h.fields, h.cards[0].deck if h.cards else "", layout
        )

    ids: dict[str, int] = {}
    if target.way == ANKICONNECT:
        from memo2anki.changes.plan import guid_of
        from memo2anki.targets.write_ankiconnect import all_held

        client = AnkiConnect(target.url, target.key)
        held = []
        for h in all_held(client):
            if not ours(h):
                continue
            row = ledger_from_notes(_held_notes([("", h)]), "").cards
            if row:
                guid = guid_of(row[0].identity)
                ids[guid] = h.note_id
                held.append((guid, h))
        notes = _held_notes(held)
    else:
        from memo2anki.targets.write_collection import held_notes, open_collection

        assert target.collection is not None
        with open_collection(target.collection) as col:
            notes = _held_notes((g, h) for g, h in held_notes(col).items() if ours(h))
    if not notes:
        return plan, {}
    ledger = ledger_from_notes(notes, layout.vault_name, result.cards)
    previous = plan.ledger
    ledger = type(previous)(
        ledger.vault,
        ledger.cards,
        previous.read_digest,
        previous.fields,
        home=previous.home,
        found=previous.found,
        root=previous.root,
        read_only=previous.read_only,
        damaged=previous.damaged,  # (kept aside before it is written over)
    )
    stamp = int(time.time()) if now is None else now
    again = plan_changes(result.cards, ledger, plan.scope, stamp, plan.layout)
    return again, ids


def run_sync(
    result: Result,
    plan: Plan,
    target: Target,
    delete_gone: bool = False,
    make_backup: bool = True,
    known_ids: dict[str, int] | None = None,
    all_written: Callable[[], None] | None = None,
) -> Synced:
    """Carry the plan into the target, then write the ledger (only after a sync that went
    through, as a build writes it only after the package), and through AnkiConnect the
    note ids met (beside the ledger). ``all_written`` is called once all is written, before this
    returns: a stop from then on is the caller's to tell (there is no moment between the
    two that would tell it as nothing written)."""
    warnings: list[Diagnostic] = []
    # What a stop while the ledger is written leaves: said so, not "nothing written".
    unsaved = f"synced into {target}" + ledger_unsaved(plan)
    ledger = ledger_of(plan, result.vault)
    if target.way == ANKICONNECT:
        from memo2anki.targets.write_ankiconnect import apply_plan as apply_connect

        home = plan.ledger.home or result.vault
        profile = target.profile or ""
        remembered, said = note_ids.load(home, profile)
        warnings += said
        ids = {**remembered, **(known_ids or {})}
        # The notes as memo2anki last wrote them, by which AnkiConnect's way finds a note
        # it never met.
        client = AnkiConnect(target.url, target.key)
        # (AnkiConnect has no transaction: a sync run again finishes what a stop cut short)
        partly = f"some changes may be in {target}: sync again to finish them"
        # (a stop while it only reads is told as nothing written)
        with telling_once_committed(partly) as changing:
            applied = apply_connect(
                client, plan, result.media, plan.ledger.as_read(), delete_gone, ids, changing
            )
        steps, backup, media_added = applied.steps, None, applied.media_added
        gone = applied.gone
        if applied.misplaced:
            warnings.append(note_ids.misplaced(len(applied.misplaced)))
        warnings += applied.warnings
        with telling_if_stopped(unsaved), telling_once_replaced(ledger, f"synced into {target}"):
            warnings += save_ledger(plan, result.vault)
            warnings += note_ids.save(home, profile, applied.ids)
            if all_written is not None:
                all_written()
    else:
        from memo2anki.targets.write_collection import apply_plan, open_collection

        assert target.collection is not None
        folder = target.backups if make_backup else None
        with telling_once_committed(unsaved) as commit_made:
            with open_collection(target.collection) as col:
                done = apply_plan(col, plan, result.media, delete_gone, folder, commit_made)
            steps, backup, media_added = done.steps, done.backup, done.media_added
            gone = done.gone
            with (
                telling_if_stopped(unsaved),
                telling_once_replaced(ledger, f"synced into {target}"),
            ):
                warnings += save_ledger(plan, result.vault)
                if all_written is not None:
                    all_written()
    return Synced(target, steps, backup, media_added, tuple(warnings), gone)
