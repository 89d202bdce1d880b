"""What the commands share of their output: failures as one line and an exit status,
warnings, the vault line, the summary, and the change report."""

from __future__ import annotations

import json
import os
import sys
import traceback
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import NoReturn

import click

from memo2anki.changes.plan import Plan
from memo2anki.cli.report import change_lines, changes_json
from memo2anki.common.signals import Stopped, written_when_stopped
from memo2anki.model import (
    Diagnostic,
    Media,
    Memo2AnkiError,
    Options,
    Result,
    one_line,
)
from memo2anki.model import plural as _n
from memo2anki.notes.discover import garden_of, shown_path

GARDEN_PREFIX = "img/user/"  # a Digital Garden's picture link, without its leading /


@contextmanager
def reported(debug: bool) -> Iterator[None]:
    """Turn failures into one line on stderr and an exit status; no traceback unless --debug."""
    try:
        yield
    except Memo2AnkiError as err:
        click.echo(one_line(f"memo2anki: error: {err}"), err=True)
        sys.exit(err.exit_code)
    except click.exceptions.Exit:
        raise
    except KeyboardInterrupt as err:
        exit_stopped(err)
    except Exception as err:
        if debug:
            traceback.print_exc()
        else:
            click.echo(
                f"memo2anki: unexpected error: {_one_line(err)} "
                "(run again with --debug to see where)",
                err=True,
            )
        sys.exit(1)


def exit_stopped(err: KeyboardInterrupt) -> NoReturn:
    """A run stopped by Ctrl-C or a stop signal: one line saying what it had written, and
    the exit status a shell gives a process the signal ended (128 + its number)."""
    written = written_when_stopped(err)
    if isinstance(err, Stopped):
        click.echo(one_line(f"memo2anki: stopped by {err.name}; {written}"), err=True)
        sys.exit(128 + err.signum)
    click.echo(one_line(f"memo2anki: interrupted; {written}"), err=True)
    sys.exit(130)


@contextmanager
def stops_told() -> Iterator[None]:
    """A stop anywhere in the block told as :func:`exit_stopped` tells it (not click's
    "Aborted!", exit 1, as when it comes while the options are read)."""
    try:
        yield
    except KeyboardInterrupt as err:
        exit_stopped(err)


def _one_line(err: Exception) -> str:
    """An exception as one short printable line (its message may hold newlines or bytes)."""
    text = " ".join(f"{type(err).__name__}: {err}".split())
    text = text if len(text) <= 300 else f"{text[:297]}..."
    return one_line(text)


def picture_gone(media: Media, vault: Path) -> Diagnostic:
    """The warning of a picture found while the cards were made but gone (moved, deleted, no
    longer a regular file) when the deck or the sync came to it: left out, all else written."""
    message = "image moved or deleted while the deck was written; left out of the deck"
    return Diagnostic(shown_path(media.path, vault), None, message)


def report_diagnostics(
    diagnostics: Sequence[Diagnostic], quiet: bool, vault: Path | None = None
) -> None:
    if quiet:
        return
    from_here = _from_here(vault) if vault is not None else None
    for diagnostic in diagnostics:
        click.echo(f"{from_here(diagnostic) if from_here else diagnostic}", err=True)


def _from_here(vault: Path) -> Callable[[Diagnostic], Diagnostic] | None:
    """Warnings name files vault-relative (a Digital Garden's notes relative to its notes
    folder, as in the vault); when the vault is below the current folder (a person runs
    memo2anki from its parent) or holds it, the path that opens from here is more use, to
    click in a terminal or editor. None when the two are apart."""
    here = Path.cwd()
    garden = garden_of(vault)
    bases = (garden.notes, vault) if garden is not None else (vault,)
    if (vault == here and garden is None) or not (
        vault.is_relative_to(here) or here.is_relative_to(vault)
    ):
        return None

    def shown(diagnostic: Diagnostic) -> Diagnostic:
        if os.path.isabs(diagnostic.path):
            return diagnostic  # a file given outside the vault, already named from here
        base = next((b for b in bases if os.path.lexists(b / diagnostic.path)), None)
        if base is None:
            return diagnostic
        path = Path(os.path.relpath(base / diagnostic.path, here)).as_posix()
        return replace(diagnostic, path=path)

    return shown


# From this many missing images on, the summary names the vault root they were looked up in.
MANY_MISSING_IMAGES = 3
# Missing images tried in the folders above the vault root, for one that holds them.
_TRIED_MISSING = 20
_NOT_FOUND = "image not found: "


def report_vault(result: Result, vault: Path | None) -> None:
    """One line naming the vault root when it was guessed (no ``.obsidian/`` above the notes,
    and no Digital Garden) or when images were not found in it: with the folder above that
    would have found them, when there is one."""
    missing = [
        d.message[len(_NOT_FOUND) :] for d in result.diagnostics if d.message.startswith(_NOT_FOUND)
    ]
    guessed = (
        vault is None
        and not (result.vault / ".obsidian").is_dir()
        and garden_of(result.vault) is None
    )
    better = _folder_finding(missing, result.vault) if missing else None
    if not guessed and len(missing) < MANY_MISSING_IMAGES and better is None:
        return
    if missing:
        why = f"{_n(len(missing), 'image')} not found in it"
        if better is not None:
            hint = f"--vault {better} finds them"
        else:
            why += ", nor in a folder above it"
            hint = "give the folder that holds them with --vault DIR"
    else:
        why = "no .obsidian/ folder above the notes, so their folder"
        hint = "give another with --vault DIR"
    click.echo(one_line(f"memo2anki: vault root {result.vault} ({why}; {hint})"), err=True)


def _folder_finding(missing: Sequence[str], vault: Path) -> Path | None:
    """The nearest folder above ``vault`` that, as the vault root, finds the first missing
    images (as memo2anki looks them up there), if any: the vault root the person meant. A
    Digital Garden repository above comes first: it finds its ``/img/user/`` links and names
    its notes as the vault does."""
    # (Not a path that names a file from the file system's root: that is no vault's.)
    tried = [
        m.strip().lstrip("/")
        for m in missing[:_TRIED_MISSING]
        if not (m.strip().startswith("/") and os.path.isfile(m.strip()))
    ]
    garden_refs = [r[len(GARDEN_PREFIX) :] for r in tried if r.startswith(GARDEN_PREFIX)]
    if garden_refs:
        for folder in vault.parents:
            garden = garden_of(folder)
            if garden is not None and any((garden.pictures / r).is_file() for r in garden_refs):
                return folder
    plain = [*tried, *garden_refs]  # (a vault looks /img/user/X up as X too)
    for folder in vault.parents:
        if folder == Path(folder.anchor):
            break  # the file system's root is no one's vault
        if any((folder / ref).is_file() for ref in plain):
            return folder
    return None


def report_new_ledger(plan: Plan, result: Result, vault: Path | None) -> None:
    """One line naming where a new ledger was made, when none was found at or above the
    notes and the vault root was guessed (or the ledger is not at the vault root): the next
    runs find it there, whatever their vault root."""
    home = plan.ledger.home
    if home is None or plan.ledger.found or not (home / ".memo2anki").is_dir():
        return
    guessed = vault is None and not (result.vault / ".obsidian").is_dir()
    if guessed or home != result.vault:
        click.echo(
            one_line(
                f"memo2anki: new ledger in {home / '.memo2anki'} (none was found at or above "
                "the notes; later runs find this one)"
            ),
            err=True,
        )


def require_cards(result: Result, options: Options) -> None:
    if result.cards:
        return
    titles = ", ".join(f"'{t}'" for t in options.sections)
    if result.notes == 0:
        raise Memo2AnkiError("no markdown notes found")
    if result.notes_with_section == 0:
        raise Memo2AnkiError(
            f"no memo section in {_n(result.notes, 'note')}: looked for headings titled {titles} "
            "(name yours with --section)"
        )
    if result.dated_out:
        raise Memo2AnkiError(
            f"no cards of notes dated {options.dates.describe()}: "
            f"{_n(result.dated_out, 'card')} of other dates (or of none) left out"
        )
    if options.subjects:
        wanted = ", ".join(options.subjects)
        found = ", ".join(sorted((s or "(no subject)" for s in result.subjects), key=str.casefold))
        found_text = f"; subjects found: {found}" if found else ""
        raise Memo2AnkiError(
            f"no cards of subject {wanted} in {_n(result.notes, 'note')}{found_text}"
        )
    raise Memo2AnkiError(
        f"{_n(result.notes_with_section, 'memo section')} found but no cards: a card starts at a "
        "line that is only bold text (**Heading**) or at a heading below the subject"
    )


def summary(result: Result, outcome: str, more_warnings: int = 0) -> str:
    """The summary line; ``more_warnings``: those a command printed beyond the notes' (a
    sync's, of what it found in Anki and of its files)."""
    per_subject = Counter(card.subject or "(no subject)" for card in result.cards)
    subjects = ", ".join(f"{name} {count}" for name, count in per_subject.items())
    warnings = len(result.diagnostics) + more_warnings
    return (
        f"memo2anki: {_n(len(result.cards), 'card')} ({subjects}) from "
        f"{_notes(result)}, {_n(len(result.media), 'image')}, "
        f"{_n(warnings, 'warning')}; {outcome}"
    )


def _notes(result: Result) -> str:
    """``7 notes``, and how many held memos when not all did; with a date range, how many
    cards it left out; and the Digital Garden repository they were read from, if so."""
    garden = garden_of(result.vault)
    where = f" of the Digital Garden {result.vault}" if garden is not None else ""
    about = []
    if result.notes_with_section != result.notes:
        about.append(f"{result.notes_with_section} with memos")
    if result.dated_out:
        about.append(f"{_n(result.dated_out, 'card')} of other dates left out")
    return _n(result.notes, "note") + (f" ({'; '.join(about)})" if about else "") + where


def cloze_notes(result: Result, cloze: bool) -> str:
    """`` (with 2 cloze notes)``, the cloze notes a dry run would add (as a build says)."""
    if not cloze:
        return ""
    from memo2anki.changes.notes import cloze_text

    count = sum(cloze_text(card.back_html) is not None for card in result.cards)
    return f" (with {_n(count, 'cloze note')})"


def report_changes(plan: Plan, listed: bool, as_json: bool, package: bool = True) -> None:
    """The change report beside a build's or a sync's summary (``package``: a build's):
    each change with ``--changes`` (stdout), the report as JSON with ``--json``."""
    if listed:
        for line in change_lines(plan, package):
            echo_out(line)
    if as_json:
        echo_json({"changes": changes_json(plan)})


def echo_json(data: object) -> None:
    text = json.dumps(data, ensure_ascii=False, indent=2)
    # Bytes: UTF-8 whatever the console's encoding (a program reads it, not a person).
    echo_out(text.encode("utf-8"))


def echo_out(message: str | bytes) -> None:
    """A line of the report on stdout. A reader that stopped reading (``| head -1``) is no
    failure: the run goes on and writes what it writes, and the rest of the report goes
    nowhere (stdout is pointed at the null device, so no later write or flush fails)."""
    try:
        click.echo(message)
    except BrokenPipeError:
        null = os.open(os.devnull, os.O_WRONLY)
        try:
            os.dup2(null, sys.stdout.fileno())
        finally:
            os.close(null)
