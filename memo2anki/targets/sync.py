"""``memo2anki sync``: the plan of a build carried straight into Anki, through AnkiConnect when
Anki runs with it, else into the profile's collection file. The plan is the package's own
(same cards, GUIDs, note types, decks, tags and ledger); only the writer differs."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from memo2anki.changes.plan import Plan
from memo2anki.model import Diagnostic, Memo2AnkiError, Result, fold
from memo2anki.targets.ankiconnect import DEFAULT_URL, AnkiConnect, active_profile, detect
from memo2anki.targets.build import save_ledger
from memo2anki.targets.profiles import find_profile
from memo2anki.targets.sync_steps import Steps

COLLECTION = "collection"
ANKICONNECT = "ankiconnect"


@dataclass(frozen=True)
class Target:
    """Where a sync goes: a collection file (with its profile's backups folder), or
    AnkiConnect's address."""

    way: str  # COLLECTION or ANKICONNECT
    collection: Path | None = None
    backups: Path | None = None
    url: str = DEFAULT_URL
    key: str | None = None
    profile: str | None = None

    def __str__(self) -> str:
        if self.way == ANKICONNECT:
            who = f"profile '{self.profile}' of " if self.profile else ""
            return f"{who}Anki through AnkiConnect ({self.url})"
        who = f"profile '{self.profile}', " if self.profile else ""
        return f"{who}{self.collection}"


def choose_target(
    via: str | None,
    profile: str | None,
    collection: Path | None,
    url: str = DEFAULT_URL,
    key: str | None = None,
    answers: Callable[[str, str | None], bool] = detect,
    active: Callable[[str, str | None], str | None] = active_profile,
) -> Target:
    """AnkiConnect when it answers (or ``via`` says so), else the collection file: the one
    given, or the profile's (``profile``, else the one Anki loaded last). With ``profile``,
    AnkiConnect only when that is the profile Anki has open (another one is not locked)."""
    if collection is not None and via != ANKICONNECT:
        return Target(COLLECTION, collection, collection.parent / "backups")
    if via == ANKICONNECT:
        if not answers(url, key):
            raise Memo2AnkiError(
                f"AnkiConnect does not answer at {url}: start Anki with the AnkiConnect add-on "
                "(code 2055492159), or sync with Anki closed (--via collection)"
            )
        return Target(ANKICONNECT, url=url, key=key)
    if via is None and answers(url, key):
        open_profile = active(url, key) if profile is not None else None
        if profile is None or (open_profile is not None and _same(open_profile, profile)):
            return Target(ANKICONNECT, url=url, key=key, profile=open_profile)
    found = find_profile(profile)
    return Target(COLLECTION, found.collection, found.backups, profile=found.name)


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


def run_sync(
    result: Result,
    plan: Plan,
    target: Target,
    delete_gone: bool = False,
    make_backup: bool = True,
) -> Synced:
    """Carry the plan into the target, then write the ledger (only after a sync that went
    through, as a build writes it only after the package)."""
    if target.way == ANKICONNECT:
        from memo2anki.targets.write_ankiconnect import apply_plan as apply_connect

        # The notes as memo2anki last wrote them, by which AnkiConnect's way finds them.
        client = AnkiConnect(target.url, target.key)
        applied = apply_connect(client, plan, result.media, plan.ledger.as_read(), delete_gone)
        steps, backup, media_added = applied.steps, None, applied.media_added
    else:
        from memo2anki.targets.write_collection import apply_plan, open_collection

        assert target.collection is not None
        folder = target.backups if make_backup else None
        with open_collection(target.collection) as col:
            done = apply_plan(col, plan, result.media, delete_gone, folder)
        steps, backup, media_added = done.steps, done.backup, done.media_added
    return Synced(target, steps, backup, media_added, tuple(save_ledger(plan, result.vault)))
