"""A build against the ledger: what changed since the last export, then the package and the
ledger written in that order. The CLI (and the sync writers) call these; they print nothing."""

from __future__ import annotations

import os
import time
import unicodedata
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

from memo2anki.changes import ledger as ledger_file
from memo2anki.changes.plan import Kind, Layout, Plan, Scope, plan_changes
from memo2anki.common.signals import telling_if_stopped, telling_once_replaced
from memo2anki.model import Diagnostic, Media, Options, Result, fold
from memo2anki.notes.discover import find_notes, notes_root
from memo2anki.targets.package import PackageInfo, write_plan


def scope_for(paths: Sequence[Path], vault: Path, options: Options) -> Scope:
    """What a run with these PATHs and options can see of the vault (of a Digital Garden:
    of its notes folder, which note paths are relative to)."""
    given = []
    notes = notes_root(vault)
    root = os.path.join(notes, "")
    for path in paths:
        # As reader.vault_relpath names notes (not imported: it loads the parser).
        resolved = os.path.realpath(path)
        if os.path.join(resolved, "") == root or (
            notes != vault and notes.resolve().is_relative_to(resolved)
        ):  # the notes folder or a folder holding it (the garden's): every note
            given.append("")
            continue
        if not resolved.startswith(root):
            continue  # outside the vault: no ledger card is there
        rel = unicodedata.normalize("NFC", resolved[len(root) :].replace(os.sep, "/"))
        given.append(f"{rel}/" if os.path.isdir(resolved) else rel)
    subjects = tuple(map(fold, options.subjects))
    return Scope(
        subjects=subjects,
        # PATHs all outside the vault: a path no note has, so no ledger card is in reach.
        paths=() if "" in given else tuple(given) or ("\0",),
        since=getattr(options, "since", None),
        until=getattr(options, "until", None),
    )


def plan_build(
    result: Result,
    paths: Sequence[Path],
    options: Options,
    layout: Layout,
    cache: Path | None = None,
    now: int | None = None,
) -> tuple[Plan, list[Diagnostic]]:
    """The plan of this run against the vault's ledger (read, never written, here), and the
    warnings about the ledger and the cards' identities. The ledger is the nearest one at or
    above the PATHs (and the vault root); with none, one is to be made (see
    :func:`ledger.new_home`). ``cache``: the folder where what
    is read of the ledger is remembered for the next run (None: nowhere)."""
    home = ledger_file.find_home([*paths, result.vault])
    found = home is not None
    if home is None:
        home = ledger_file.new_home(result.vault, paths)
    ledger, warnings = ledger_file.load(home, layout.vault_name, cache, result.vault, found)
    scope = scope_for(paths, result.vault, options)
    now = int(time.time()) if now is None else now
    plan = plan_changes(result.cards, ledger, scope, now, layout)
    if plan.counts.get(Kind.GONE) and (scope.subjects or scope.paths or scope.since or scope.until):
        # (Only then: a run that retires nothing reads no note again and walks no vault.)
        wider = out_of_reach(plan, result.vault, options, cache)
        if wider.beyond or wider.moved_out:
            plan = plan_changes(result.cards, ledger, wider, now, layout)
    return plan, [*warnings, *plan.diagnostics]


def out_of_reach(plan: Plan, vault: Path, options: Options, cache: Path | None = None) -> Scope:
    """The plan's scope with what left the run's reach during it, of the cards the plan
    retires (:attr:`Scope.beyond`, :attr:`Scope.moved_out`): every card of the vault that
    the run leaves out (another subject, date or note: the whole vault read again, through
    the note cache in ``cache`` when given, since a card may have moved to any note), and the
    notes of retired cards that are not where the ledger says but in the vault outside the
    PATHs (a note of the same file name is there: a note's identity is its file name)."""
    from memo2anki.cards.cache import NoteCache, options_key
    from memo2anki.cards.convert import convert  # (it loads the parser)

    scope = plan.scope
    gone = [
        c.before.note
        for c in plan.changes
        if c.kind is Kind.GONE and c.before and not os.path.isabs(c.before.note)
    ]  # (the notes of a hand-edited ledger are read only in the vault)
    root = notes_root(vault)
    every = replace(options, vault=vault, subjects=(), since=None, until=None)
    # (The cache keeps rows per set of options: a --subject run's are not replaced.)
    known_notes = NoteCache(cache, options_key(vault, every)) if cache is not None else None
    read = convert([root], every, jobs=0, cache=known_notes)
    beyond = tuple(
        c
        for c in read.cards
        if not scope.reaches(c.note, c.subject, c.date.isoformat() if c.date else "")
    )
    moved_out: frozenset[str] = frozenset()
    missing = [note for note in dict.fromkeys(gone) if not (root / note).is_file()]
    if scope.paths and missing:
        from memo2anki.notes.reader import vault_relpath

        given = Scope(paths=scope.paths)
        notes, _problems = find_notes([root], options.exclude, vault)
        # A note the ledger knows where it is was there already: not the one that moved.
        known = {card.note for card in plan.ledger.cards}
        names = {
            rel.rpartition("/")[2]
            for rel in (vault_relpath(note, root) for note in notes)
            if not given.reaches(rel, "", "") and rel not in known
        }
        moved_out = frozenset(n for n in missing if n.rpartition("/")[2] in names)
    return replace(scope, beyond=beyond, moved_out=moved_out)


def write_build(
    plan: Plan, media: Sequence[Media], vault: Path, out: Path
) -> tuple[PackageInfo, list[Diagnostic]]:
    """Write the package, then (only once it is written) the ledger. A ledger that cannot be
    written is a warning: the deck is there all the same. A stop is told by what was written
    when it came (the deck, the ledger: each once renamed into place)."""
    unsaved = f"wrote {out}" + ledger_unsaved(plan)
    with telling_once_replaced(out, unsaved):
        info = write_plan(plan, media, out)
        with (
            telling_if_stopped(unsaved),
            telling_once_replaced(ledger_of(plan, vault), f"wrote {out}"),
        ):
            return info, save_ledger(plan, vault)


def unsaved_ledger_warnings(plan: Plan, vault: Path) -> list[Diagnostic]:
    """For a dry run: the warnings :func:`save_ledger` would give of the files it reads."""
    home = plan.ledger.home or vault
    return ledger_file.unwritten_warnings(
        home, plan.ledger, plan.ledger.read_digest, plan.ledger_changed
    )


def save_ledger(plan: Plan, vault: Path) -> list[Diagnostic]:
    """Write the ledger after the plan was carried out (see :func:`ledger.save`), where it
    was found (or is made: ``plan.ledger.home``; else in ``vault``)."""
    home = plan.ledger.home or vault
    return ledger_file.save(home, plan.ledger, plan.ledger.read_digest, plan.ledger_changed)


def ledger_unsaved(plan: Plan) -> str:
    """What a stop before the ledger is saved loses, as said after what was written: nothing
    when the ledger read already holds this run's."""
    if ledger_file.holds_run(plan.ledger, plan.ledger.read_digest, plan.ledger_changed):
        return ""
    return ", but not the ledger (the next run reports these changes again)"


def ledger_of(plan: Plan, vault: Path) -> Path:
    """The ledger file :func:`save_ledger` writes (the last of its files it writes)."""
    return ledger_file.ledger_path(plan.ledger.home or vault)
