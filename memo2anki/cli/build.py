"""The ``memo2anki [build]`` command: a deck (.apkg) from the memos, the default command."""

from __future__ import annotations

import os
from dataclasses import replace
from pathlib import Path

import click

from memo2anki import __version__
from memo2anki.changes.plan import Kind, Plan
from memo2anki.cli.dryrun import card_lines, dry_run_object
from memo2anki.cli.options import (
    OutputPath,
    common_options,
    deck_layout,
    deck_option,
    read_and_plan,
    run_options,
)
from memo2anki.cli.output import (
    cloze_notes,
    echo_json,
    echo_out,
    picture_gone,
    report_changes,
    report_diagnostics,
    report_new_ledger,
    report_vault,
    reported,
    summary,
)
from memo2anki.cli.report import changes_json, counts_line, deck_notice
from memo2anki.cli.usage import output_file
from memo2anki.common.signals import finished, telling_once_replaced
from memo2anki.model import (
    DEFAULT_SECTIONS,
    Memo2AnkiError,
    Result,
    one_line,
)
from memo2anki.model import plural as _n
from memo2anki.notes.discover import is_markdown
from memo2anki.targets.build import write_build
from memo2anki.targets.package import DEFAULT_DECK

EPILOG = f"""\b
Examples:
  memo2anki notes/ -o cka.apkg            every memo card under notes/
  memo2anki notes/ -o cka.apkg --subject CKA --deck CKA
  memo2anki notes/ -o exam.apkg --last 14 the last two weeks' notes only
  memo2anki daily/2025-04-04.md --dry-run list the cards a note makes
  memo2anki notes/ -o cka.apkg --changes  say each card renamed, moved, gone, ...
  memo2anki check notes/                  report problems only, write nothing
  memo2anki sync notes/                   straight into Anki (memo2anki sync --help)

\b
Then in Anki: File > Import the .apkg. Importing again after edits updates the
same cards and keeps their review history. What was exported is remembered in
.memo2anki/, found like .git at or above the notes (else made at the vault root).
Deleting it costs: cards renamed or moved to another note since their first
export come back as new notes (the old ones stay, with their history), cards
whose memo is gone are no longer retired, and edits made in Anki to cards whose
memo is unchanged are overwritten by the next import. memo2anki sync reads the
collection instead, and loses none of this.

\b
Exit status: 0 done (warnings allowed), 1 nothing could be made or the output
could not be written (or warnings with --strict), 2 bad usage.
Default section title: {DEFAULT_SECTIONS[0]}; default deck: {DEFAULT_DECK}."""


class _BuildContext(click.Context):
    """``build``'s messages name the program alone (``Try 'memo2anki --help'``): a bare
    ``memo2anki PATH...`` runs it, and ``memo2anki --help`` is its help."""

    @property
    def command_path(self) -> str:
        return self.parent.command_path if self.parent is not None else "memo2anki"


class _BuildCommand(click.Command):
    """``build`` is what a bare ``memo2anki PATH...`` runs; its usage line says so, and its
    help (``memo2anki --help``) lists the other commands."""

    context_class = _BuildContext

    def format_usage(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        prog = ctx.parent.command_path if ctx.parent else "memo2anki"
        formatter.write_usage(prog, "PATH... -o OUT.apkg [OPTIONS]")

    def format_epilog(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        _format_commands(ctx, formatter)
        super().format_epilog(ctx, formatter)


def _format_commands(ctx: click.Context, formatter: click.HelpFormatter) -> None:
    """The program's commands, as ``memo2anki --help`` shows them."""
    if ctx.parent is None or not isinstance(group := ctx.parent.command, click.Group):
        return
    rows = []
    for name in group.list_commands(ctx.parent):
        command = group.get_command(ctx.parent, name)
        if command is not None and not command.hidden:
            shown = f"{name} (the default)" if name == "build" else name
            rows.append((shown, command.get_short_help_str(limit=60)))
    with formatter.section("Commands (memo2anki COMMAND --help for each)"):
        formatter.write_dl(rows)


@click.command(cls=_BuildCommand, epilog=EPILOG)
@common_options
@click.option(
    "-o",
    "--output",
    type=OutputPath(path_type=Path, dir_okay=True),
    help="The .apkg file to write (required unless --dry-run).",
)
@click.option(
    "--deck",
    callback=lambda ctx, param, value: deck_option(value),
    help=f"Top deck; one subdeck per subject. Default: the config's, else '{DEFAULT_DECK}'.",
)
@click.option(
    "--dry-run", is_flag=True, help="List the cards it would make and what changes; write nothing."
)
@click.option(
    "--json",
    "as_json",
    is_flag=True,
    help="The report as one JSON object on stdout, always UTF-8 (with --dry-run, the cards too).",
)
@click.option(
    "--changes",
    "list_changes",
    is_flag=True,
    help="List each new, updated, renamed, moved or gone card.",
)
@click.option(
    "--leave-out-gone",
    is_flag=True,
    help="Leave cards whose memo is gone out of the deck (default: carried once more, tagged "
    "memo2anki::gone).",
)
@click.option("--strict", is_flag=True, help="Treat warnings as errors (exit 1, nothing written).")
@click.option(
    "--cloze",
    is_flag=True,
    help="Also make a cloze card of each back's ==highlights== (its own note type).",
)
@click.version_option(__version__, "--version", prog_name="memo2anki")
def build(
    paths: tuple[Path, ...],
    output: Path | None,
    deck: str | None,
    vault: Path | None,
    config_path: Path | None,
    sections: tuple[str, ...],
    subjects: tuple[str, ...],
    dry_run: bool,
    as_json: bool,
    list_changes: bool,
    leave_out_gone: bool,
    strict: bool,
    cloze: bool,
    jobs: int,
    no_cache: bool,
    quiet: bool,
    debug: bool,
) -> None:
    """Make an Anki deck (.apkg) from the study memos in PATH... (notes or folders).

    Every bold heading (**Docker Network**) in a '공부 메모장' section becomes a card:
    the heading on the front, what follows it (text, lists, code, tables, images) on
    the back. Headings under the section name the subject (one subdeck each).
    """
    if output is None and not dry_run:
        raise click.UsageError("give the output file with -o OUT.apkg (or use --dry-run)")
    if output is not None and is_markdown(output):
        raise click.BadParameter(
            "that is a note's name (.md); give the deck a name such as deck.apkg", param_hint="-o"
        )
    if output is not None and _links_to_note(output):
        raise click.BadParameter(
            one_line(
                f"{output} is a symbolic link to a note; the deck would replace the link "
                "and that note would be left out: give the deck a file of its own"
            ),
            param_hint="-o",
        )
    with reported(debug):
        target = output_file(output) if output is not None else None  # before any note is read
        output = target.path if target is not None else None
        exclude = (output,) if output else ()
        options, config = run_options(paths, vault, config_path, sections, subjects, exclude, debug)
        layout = deck_layout(deck, cloze, config, leave_out_gone)
        deck, cloze = layout.deck, layout.cloze
        result, plan = read_and_plan(paths, options, layout, jobs, no_cache, quiet, dry_run)
        if dry_run:
            _print_cards(result, as_json, deck, cloze, plan)
        # With --json, the list is in the JSON (stdout stays one JSON document).
        report_changes(plan, list_changes and not as_json, as_json and not dry_run)
        notice = deck_notice(plan)
        if notice and not quiet:
            click.echo(notice, err=True)
        if strict and result.diagnostics:
            count = _n(len(result.diagnostics), "warning")
            raise Memo2AnkiError(f"{count} with --strict; nothing written")
        if dry_run:
            if not (quiet or as_json):  # with --json, stdout holds it all, for a program
                report_vault(result, options.vault)
                outcome = (
                    f"{counts_line(plan)}; dry run, nothing written{cloze_notes(result, cloze)}"
                )
                click.echo(one_line(summary(result, outcome)), err=True)
            return
        assert output is not None and target is not None
        # (a stop once write_build is done comes after the deck and the ledger were written,
        # or warned of; one just before it returned, after the deck was, is told as that too)
        with telling_once_replaced(output, f"wrote {output}"):
            info, ledger_warnings = write_build(plan, result.media, result.vault, output)
            ledger_warnings = [
                *(picture_gone(m, result.vault) for m in info.missing),
                *ledger_warnings,
            ]
            report_diagnostics(ledger_warnings, quiet, result.vault)
            result = replace(result, diagnostics=(*result.diagnostics, *ledger_warnings))
            if not quiet:
                extra = sum(
                    max(0, len(c.notes) - 1 - (c.retired_cloze is not None)) for c in plan.changes
                )
                clozes = f" (with {_n(extra, 'cloze note')})" if cloze else ""
                added = " (.apkg added: Anki's import lists only .apkg files)" * target.suffix_added
                report_vault(result, options.vault)
                report_new_ledger(plan, result, options.vault)
                outcome = f"{counts_line(plan)}; wrote {info.path}{clozes}{added}"
                click.echo(one_line(summary(result, outcome)), err=True)
            finished(result, plan)  # (a stop from here on would only cut the exit short)


def _links_to_note(output: Path) -> bool:
    """Whether ``-o`` is a symbolic link to a note (or a chain of them ending at one)."""
    return output.is_symlink() and is_markdown(os.path.realpath(output))


def _print_cards(result: Result, as_json: bool, deck: str, cloze: bool, plan: Plan) -> None:
    # The plan's GUIDs and decks: a renamed or moved card keeps the GUID it had, and subjects
    # that differ only in case share a deck.
    live = [c for c in plan.changes if c.kind is not Kind.GONE and c.now is not None]
    decks = [c.now.deck for c in live if c.now is not None]
    if as_json:
        report = dry_run_object(result, deck, cloze, [c.guid for c in live], decks)
        report["changes"] = changes_json(plan)
        echo_json(report)
        return
    for line in card_lines(result, deck, cloze, decks):
        echo_out(line)
