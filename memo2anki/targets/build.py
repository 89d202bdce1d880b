"""A build against the ledger: what changed since the last export, then the package and the
ledger written in that order. The CLI (and the sync writers) call these; they print nothing."""

from __future__ import annotations

import os
import time
import unicodedata
from collections.abc import Sequence
from pathlib import Path

from memo2anki.changes import ledger as ledger_file
from memo2anki.changes.plan import Layout, Plan, Scope, plan_changes
from memo2anki.common.signals import telling_if_stopped
from memo2anki.model import Diagnostic, Media, Options, Result, fold
from memo2anki.notes.discover import notes_root
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
    plan = plan_changes(
        result.cards, ledger, scope, int(time.time()) if now is None else now, layout
    )
    return plan, [*warnings, *plan.diagnostics]


def write_build(
    plan: Plan, media: Sequence[Media], vault: Path, out: Path
) -> tuple[PackageInfo, list[Diagnostic]]:
    """Write the package, then (only once it is written) the ledger. A ledger that cannot be
    written is a warning: the deck is there all the same."""
    info = write_plan(plan, media, out)
    with telling_if_stopped(
        f"wrote {out}, but not the ledger (the next run reports these changes again)"
    ):
        return info, save_ledger(plan, vault)


def save_ledger(plan: Plan, vault: Path) -> list[Diagnostic]:
    """Write the ledger after the plan was carried out (see :func:`ledger.save`), where it
    was found (or is made: ``plan.ledger.home``; else in ``vault``)."""
    home = plan.ledger.home or vault
    return ledger_file.save(home, plan.ledger, plan.ledger.read_digest, plan.ledger_changed)
