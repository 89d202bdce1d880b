"""The ``memo2anki sync`` command: options in, the report out (the work is in
:mod:`memo2anki.targets.sync`)."""

from __future__ import annotations

from pathlib import Path

import click

from memo2anki.changes.plan import GONE_TAG
from memo2anki.cli.anki_options import anki_options
from memo2anki.cli.options import (
    common_options,
    deck_layout,
    deck_option,
    read_and_plan,
    run_options,
)
from memo2anki.cli.output import (
    echo_json,
    picture_gone,
    report_changes,
    report_diagnostics,
    report_new_ledger,
    reported,
    summary,
)
from memo2anki.cli.report import changes_json, counts_line
from memo2anki.common.signals import finished, telling_once_committed
from memo2anki.model import Diagnostic, one_line
from memo2anki.model import plural as _n
from memo2anki.targets.package import DEFAULT_DECK
from memo2anki.targets.sync import (
    ANKICONNECT,
    COLLECTION,
    Synced,
    choose_target,
    plan_against_target,
    run_sync,
)
from memo2anki.targets.sync_steps import Steps

EPILOG = """\b
Examples:
  memo2anki sync notes/                   into the profile Anki loaded last
  memo2anki sync notes/ --profile "사용자 1"
  memo2anki sync notes/ --collection path/to/collection.anki2
  memo2anki sync notes/ --dry-run         the plan; nothing changed

\b
With Anki running and the AnkiConnect add-on (code 2055492159) installed, sync
goes through it; otherwise into the collection file, which needs Anki closed.

\b
Exit status: 0 done (warnings allowed), 1 nothing could be made or synced, 2 bad usage."""

NEXT = {
    COLLECTION: "next: open Anki and sync it to send the changes to AnkiWeb and your phone",
    ANKICONNECT: "next: sync Anki (the round arrows) to send the changes to AnkiWeb and your phone",
}


@click.command(epilog=EPILOG)
@common_options
@anki_options("sync into")
@click.option(
    "--deck",
    callback=lambda ctx, param, value: deck_option(value),
    help=f"Top deck; one subdeck per subject. Default: the config's, else '{DEFAULT_DECK}'.",
)
@click.option("--cloze", is_flag=True, help="Also sync cloze cards of each back's ==highlights==.")
@click.option("--dry-run", is_flag=True, help="Show what would change; change nothing.")
@click.option("--changes", "list_changes", is_flag=True, help="List each change (path:line: what).")
@click.option("--json", "as_json", is_flag=True, help="The change report as JSON on stdout.")
@click.option(
    "--delete-gone",
    is_flag=True,
    help="Delete gone cards (after the backup) instead of tagging and suspending them, and "
    "the cards earlier runs retired (tagged memo2anki::gone).",
)
def sync(
    paths: tuple[Path, ...],
    vault: Path | None,
    config_path: Path | None,
    sections: tuple[str, ...],
    subjects: tuple[str, ...],
    jobs: int,
    no_cache: bool,
    quiet: bool,
    debug: bool,
    profile: str | None,
    collection: Path | None,
    via: str | None,
    deck: str | None,
    cloze: bool,
    dry_run: bool,
    list_changes: bool,
    as_json: bool,
    delete_gone: bool,
    no_backup: bool,
    ankiconnect_url: str,
    ankiconnect_key: str | None,
) -> None:
    """Sync the study memos in PATH... straight into Anki: new cards added, changed ones
    updated, moved ones moved, gone ones tagged memo2anki::gone and suspended."""
    if profile is not None and collection is not None:
        raise click.UsageError("give --profile or --collection, not both")
    if via == ANKICONNECT and (profile is not None or collection is not None):
        raise click.UsageError("--via ankiconnect syncs into the profile Anki has open")
    with reported(debug):
        options, config = run_options(paths, vault, config_path, sections, subjects, (), debug)
        layout = deck_layout(deck, cloze, config)
        result, plan = read_and_plan(paths, options, layout, jobs, no_cache, quiet, dry_run)
        if dry_run:
            report_changes(
                plan, list_changes and not as_json, as_json, package=False
            )  # (--json: all)
            if not quiet:
                outcome = f"{counts_line(plan)}; nothing changed (--dry-run)"
                click.echo(one_line(summary(result, outcome)), err=True)
            return
        target = choose_target(via, profile, collection, ankiconnect_url, ankiconnect_key)
        if target.unchecked and not quiet:
            click.echo(one_line(f"memo2anki: {target.unchecked}"), err=True)
        # With no ledger, the collection's own notes are the ledger it would have had.
        plan, ids = plan_against_target(result, plan, target)
        report_changes(plan, list_changes and not as_json, False, package=False)
        with telling_once_committed(f"synced into {target}") as all_written:
            synced = run_sync(result, plan, target, delete_gone, not no_backup, ids, all_written)
            if as_json:
                echo_json({"changes": changes_json(plan), **_synced_json(synced)})
            taken = (t.warning() for t in synced.steps.taken)
            warnings = [
                *_hand_moved(synced.steps),
                *(w for w in taken if w is not None),
                *(picture_gone(m, result.vault) for m in synced.gone),
                *synced.ledger_warnings,
            ]
            report_diagnostics(warnings, quiet, result.vault)
            if not quiet:
                report_new_ledger(plan, result, options.vault)
                outcome = f"{counts_line(plan)}; synced into {synced.target}"
                click.echo(one_line(summary(result, outcome, len(warnings))), err=True)
                for line in _done(synced):
                    click.echo(one_line(line), err=True)
            finished(result, plan)  # (a stop from here on would only cut the exit short)


def _hand_moved(steps: Steps) -> list[Diagnostic]:
    out = []
    for moved in steps.hand_moved:
        place = moved.change.now
        if place is None:
            continue
        message = (
            f"'{place.front}' stays in deck '{moved.deck}', where it was moved by hand "
            f"(its memo's deck is '{place.deck}')"
        )
        out.append(Diagnostic(place.note, place.line, message))
    return out


def _synced_json(synced: Synced) -> dict[str, object]:
    """Where the sync went and what it did there, for ``--json``."""
    steps = synced.steps
    return {
        "target": synced.target.as_json(),
        "synced": {
            "added": len(steps.add),
            "updated": len(steps.update),
            "moved": sum(len(ids) for _, ids in steps.move),
            "suspended": len(steps.suspend),
            "unsuspended": len(steps.unsuspend),
            "deleted": len(steps.delete),
            "deleted_retired_before": steps.retired_deleted,
            "images_added": synced.media_added,
            "backup": str(synced.backup) if synced.backup else None,
        },
    }


def _done(synced: Synced) -> list[str]:
    """What the sync did in Anki, and what to do next."""
    steps = synced.steps
    if steps.empty and steps.taken and not synced.media_added:
        return [f"memo2anki: into {synced.target}: nothing changed"]
    if steps.empty and not synced.media_added:
        return [f"memo2anki: into {synced.target}: it already matches the memos; nothing changed"]
    retired = f" ({steps.retired_deleted} retired by earlier runs)" * bool(steps.retired_deleted)
    parts = [
        _n(len(steps.add), "note") + " added" if steps.add else "",
        _n(len(steps.update), "note") + " updated" if steps.update else "",
        _n(sum(len(ids) for _, ids in steps.move), "card") + " moved" if steps.move else "",
        _n(len(steps.suspend), "card") + " suspended" if steps.suspend else "",
        _n(len(steps.unsuspend), "card") + " unsuspended" if steps.unsuspend else "",
        _n(len(steps.delete), "note") + f" deleted{retired}" if steps.delete else "",
        _n(len(steps.tag_gone), "note") + f" tagged {GONE_TAG}" if steps.tag_gone else "",
        _n(synced.media_added, "image") + " added" if synced.media_added else "",
    ]
    backup = f"; backup: {synced.backup}" if synced.backup else ""
    done = ", ".join(p for p in parts if p)
    return [
        f"memo2anki: into {synced.target}: {done}{backup}",
        f"memo2anki: {NEXT[synced.target.way]}",
    ]
