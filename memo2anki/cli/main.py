"""The command line: parse options, run the library, report. Nothing else happens here."""

from __future__ import annotations

import gc
import json
import os
import sys
import traceback
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import Any

import click

from memo2anki import __version__
from memo2anki.cards.cache import NoteCache, default_cache_dir
from memo2anki.cards.convert import Options, Progress, Result, convert
from memo2anki.changes.plan import Kind, Layout, Plan
from memo2anki.cli.config import CONFIG_NAME, Config, find_config, load_config
from memo2anki.cli.dryrun import card_lines, dry_run_object
from memo2anki.cli.report import change_lines, changes_json, counts_line, deck_notice
from memo2anki.cli.usage import deck_name, folder_problem, output_file
from memo2anki.common.signals import Stopped, stopping_on_signals
from memo2anki.model import (
    DEFAULT_SECTIONS,
    BadUsage,
    Diagnostic,
    Media,
    Memo2AnkiError,
    one_line,
    printable,
)
from memo2anki.model import plural as _n
from memo2anki.notes.dates import DateRange, date_range, parse_date
from memo2anki.notes.discover import find_vault_root, is_markdown, shown_path
from memo2anki.targets.build import plan_build, write_build
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
same cards and keeps their review history; what was exported is remembered in
.memo2anki/ in the vault (safe to delete).

\b
Exit status: 0 done (warnings allowed), 1 nothing could be made or the output
could not be written (or warnings with --strict), 2 bad usage.
Default section title: {DEFAULT_SECTIONS[0]}; default deck: {DEFAULT_DECK}."""


class _DefaultGroup(click.Group):
    """``memo2anki PATH...`` runs ``build``; ``memo2anki check PATH...`` runs ``check``."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if not args or args[0] not in self.commands:
            args = ["build", *args]
        return super().parse_args(ctx, args)

    def format_usage(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        formatter.write_usage(ctx.command_path, "PATH... -o OUT.apkg [OPTIONS]")


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


@click.group(cls=_DefaultGroup, context_settings={"help_option_names": ["-h", "--help"]})
def main() -> None:
    """Turn the study memos in Obsidian daily notes into Anki cards."""


def _common(func: Callable[..., Any]) -> Callable[..., Any]:
    """Options shared by ``build`` and ``check``."""
    options: list[Callable[[Callable[..., Any]], Callable[..., Any]]] = [
        click.argument(
            "paths",
            nargs=-1,
            required=True,
            type=click.Path(path_type=Path, exists=True),
            metavar="PATH...",
        ),
        click.option(
            "--vault",
            type=click.Path(path_type=Path, file_okay=False, exists=True),
            help="Vault root where images are looked up. Default: the nearest folder "
            "above the first PATH that holds .obsidian/, else that folder.",
        ),
        click.option(
            "--config",
            "config_path",
            type=click.Path(path_type=Path, dir_okay=False, exists=True),
            help="Settings file (deck, sections, subjects, cloze, since, until, last). "
            f"Default: {CONFIG_NAME} in the vault root, if there is one; options given here "
            "win over it.",
        ),
        click.option(
            "--section",
            "sections",
            multiple=True,
            metavar="TITLE",
            help=f"Another heading title that opens a memo section (repeatable; "
            f"'{DEFAULT_SECTIONS[0]}' is always one).",
        ),
        click.option(
            "--subject",
            "subjects",
            multiple=True,
            metavar="NAME",
            help="Only cards of this subject (repeatable; case-insensitive).",
        ),
        click.option(
            "-j",
            "--jobs",
            type=click.IntRange(min=0),
            default=0,
            show_default=True,
            help="Worker processes for reading notes; 0 uses every CPU when the vault is "
            "big enough to gain from it. The deck is the same either way.",
        ),
        click.option(
            "--no-cache",
            is_flag=True,
            help="Read every note again instead of reusing the cards of notes unchanged since "
            "the last run (cache: $MEMO2ANKI_CACHE_DIR or ~/.cache/memo2anki).",
        ),
        *_date_options(),
        click.option("-q", "--quiet", is_flag=True, help="Print errors only."),
        click.option(
            "--debug", is_flag=True, help="Show the full traceback of an unexpected error."
        ),
    ]
    for option in reversed(options):
        func = option(func)
    return func


class _OutputPath(click.Path):
    """``-o``: a folder (one that exists, or a name ending in a slash, which ``Path`` would
    drop) is bad usage, told before any note is read."""

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        if isinstance(value, str | os.PathLike):
            problem = folder_problem(value)
            if problem is not None:
                self.fail(problem, param, ctx)
        return super().convert(value, param, ctx)


def _date_options() -> list[Callable[[Callable[..., Any]], Callable[..., Any]]]:
    """``--since``, ``--until``, ``--last``: their values go to ``ctx.meta``, read by
    :func:`_options` (so no command's signature needs them)."""

    def keep(ctx: click.Context, param: click.Parameter, value: Any) -> None:
        if value is not None:
            ctx.meta[f"memo2anki.{param.name}"] = value

    def to_date(ctx: click.Context, param: click.Parameter, value: str | None) -> None:
        if value is not None:
            try:
                keep(ctx, param, parse_date(value))
            except ValueError as err:
                raise click.BadParameter(str(err)) from None

    return [
        click.option(
            "--since",
            metavar="DATE",
            expose_value=False,
            callback=to_date,
            help="Only cards of notes dated DATE (YYYY-MM-DD) or later.",
        ),
        click.option(
            "--until",
            metavar="DATE",
            expose_value=False,
            callback=to_date,
            help="Only cards of notes dated DATE or earlier.",
        ),
        click.option(
            "--last",
            metavar="N",
            type=click.IntRange(min=1),
            expose_value=False,
            callback=keep,
            help="Only cards of notes of the last N days (up to today, or to --until).",
        ),
    ]


@main.command(cls=_BuildCommand, epilog=EPILOG)
@_common
@click.option(
    "-o",
    "--output",
    type=_OutputPath(path_type=Path, dir_okay=True),
    help="The .apkg file to write (required unless --dry-run).",
)
@click.option(
    "--deck",
    callback=lambda ctx, param, value: _deck_option(value),
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
    with _reported(debug):
        target = output_file(output) if output is not None else None  # before any note is read
        output = target.path if target is not None else None
        exclude = (output,) if output else ()
        options, config = _options(paths, vault, config_path, sections, subjects, exclude, debug)
        layout = _layout(deck, cloze, config, leave_out_gone)
        deck, cloze = layout.deck, layout.cloze
        result, plan = _read_and_plan(paths, options, layout, jobs, no_cache, quiet)
        if dry_run:
            _print_cards(result, as_json, deck, cloze, plan)
        # With --json, the list is in the JSON (stdout stays one JSON document).
        _report_changes(plan, list_changes and not as_json, as_json and not dry_run)
        notice = deck_notice(plan)
        if notice and not quiet:
            click.echo(notice, err=True)
        if strict and result.diagnostics:
            count = _n(len(result.diagnostics), "warning")
            raise Memo2AnkiError(f"{count} with --strict; nothing written")
        if dry_run:
            if not (quiet or as_json):  # with --json, stdout holds it all, for a program
                _report_vault(result, vault)
                outcome = f"{counts_line(plan)}; dry run, nothing written{_clozes(result, cloze)}"
                click.echo(one_line(_summary(result, outcome)), err=True)
            return
        assert output is not None and target is not None
        info, ledger_warnings = write_build(plan, result.media, result.vault, output)
        ledger_warnings = [*(_gone(m, result.vault) for m in info.missing), *ledger_warnings]
        _report_diagnostics(ledger_warnings, quiet, result.vault)
        result = replace(result, diagnostics=(*result.diagnostics, *ledger_warnings))
        if not quiet:
            extra = sum(max(0, len(c.notes) - 1) for c in plan.changes)
            clozes = f" (with {_n(extra, 'cloze note')})" if cloze else ""
            added = " (.apkg added: Anki's import lists only .apkg files)" * target.suffix_added
            _report_vault(result, vault)
            outcome = f"{counts_line(plan)}; wrote {info.path}{clozes}{added}"
            click.echo(one_line(_summary(result, outcome)), err=True)


@main.command(epilog="Exit status: 0 no problems, 1 problems found, 2 bad usage.")
@_common
def check(
    paths: tuple[Path, ...],
    vault: Path | None,
    config_path: Path | None,
    sections: tuple[str, ...],
    subjects: tuple[str, ...],
    jobs: int,
    no_cache: bool,
    quiet: bool,
    debug: bool,
) -> None:
    """Report problems in the memos under PATH... (missing images, empty cards, ...);
    write nothing. Exits 1 when there are any."""
    # Imported here: lint loads the HTML sanitizer, which a build from the cache never needs.
    from memo2anki.cards.checks.lint import duplicate_fronts

    with _reported(debug):
        options, _ = _options(paths, vault, config_path, sections, subjects, (), debug)
        with _progress(quiet) as progress:
            result = convert(paths, options, jobs, progress, _cache(paths, options, no_cache))
        problems = [
            *result.diagnostics,
            *duplicate_fronts(result.cards),
            *result.lint,
        ]
        problems.sort(key=lambda d: (d.path, d.line or 0))  # each note's, in file order
        _report_diagnostics(problems, False, result.vault)
        _require_cards(result, options)
        if problems or not quiet:
            _report_vault(result, vault)
        if problems:
            raise Memo2AnkiError(f"{_n(len(problems), 'problem')} in {_n(result.notes, 'note')}")
        if not quiet:
            click.echo(one_line(_summary(result, "no problems")), err=True)


def _read_and_plan(
    paths: tuple[Path, ...],
    options: Options,
    layout: Layout,
    jobs: int,
    no_cache: bool,
    quiet: bool,
) -> tuple[Result, Plan]:
    """Read the notes and plan the changes against the ledger, reporting the warnings: what a
    build and a sync share. ``layout``'s vault name is filled in from the vault found."""
    with _progress(quiet) as progress:
        result = convert(paths, options, jobs, progress, _cache(paths, options, no_cache))
    _report_diagnostics(result.diagnostics, quiet, result.vault)
    _require_cards(result, options)
    layout = replace(layout, vault_name=printable(result.vault.name))
    cache = None if no_cache else default_cache_dir()
    plan, plan_warnings = plan_build(result, paths, options, layout, cache)
    _report_diagnostics(plan_warnings, quiet, result.vault)
    return replace(result, diagnostics=(*result.diagnostics, *plan_warnings)), plan


def _options(
    paths: tuple[Path, ...],
    vault: Path | None,
    config_path: Path | None,
    sections: tuple[str, ...],
    subjects: tuple[str, ...],
    exclude: tuple[Path, ...],
    debug: bool,
) -> tuple[Options, Config]:
    """The run's options: the command line over the vault's config over the defaults."""
    config = (
        load_config(config_path)
        if config_path is not None
        else find_config(find_vault_root(paths, vault))
    )
    given = (*DEFAULT_SECTIONS, *config.sections, *sections)
    titles = tuple(dict.fromkeys(s.strip() for s in given if s.strip()))
    dates = _dates(config)
    options = Options(
        vault=vault,
        sections=titles,
        subjects=subjects or config.subjects,
        exclude=exclude,
        skip_on_bug=not debug,  # with --debug, a bug stops the run and shows its traceback
        since=dates.since,
        until=dates.until,
    )
    return options, config


def _dates(config: Config) -> DateRange:
    """The date range of ``--since``/``--until``/``--last``, else of the config's settings:
    any of them given on the command line replaces all three of the config's."""
    meta = click.get_current_context().meta
    given = {key: meta.get(f"memo2anki.{key}") for key in ("since", "until", "last")}
    if any(value is not None for value in given.values()):
        since, until, last, where = given["since"], given["until"], given["last"], ""
    else:
        since, until, last = config.since, config.until, config.last
        where = f"{config.path}: "
    try:
        return date_range(since, until, last)
    except ValueError as err:
        raise BadUsage(f"{where}{err}") from None


def _deck_option(value: str | None) -> str | None:
    if value is None:
        return None
    try:
        return deck_name(value)
    except ValueError as err:
        raise click.BadParameter(str(err), param_hint="--deck") from None


def _layout(deck: str | None, cloze: bool, config: Config, leave_out_gone: bool = False) -> Layout:
    """How cards become notes: the deck and cloze options given, else the settings file's."""
    deck = deck or _config_deck(config) or DEFAULT_DECK
    return Layout(deck, "", cloze or bool(config.cloze), leave_out_gone)


def _config_deck(config: Config) -> str | None:
    if config.deck is None:
        return None
    try:
        return deck_name(config.deck)
    except ValueError as err:
        raise BadUsage(f"{config.path}: deck {err}") from None


def _cache(paths: tuple[Path, ...], options: Options, disabled: bool) -> NoteCache | None:
    if disabled:
        return None
    # A note's cards depend on the vault root (their paths and identity come from it) and
    # on which sections and subjects count; not on the output's name.
    root = find_vault_root(paths, options.vault)
    key = repr((str(root), options.sections, options.subjects))
    return NoteCache(default_cache_dir(), key)


# Below this many notes a run is over before a bar would help.
PROGRESS_MIN_NOTES = 200


@contextmanager
def _progress(quiet: bool) -> Iterator[Progress | None]:
    """A progress bar on stderr for long runs, unless quiet or stderr is not a terminal."""
    if quiet or not sys.stderr.isatty():
        yield None
        return
    bar: Any = None

    def update(done: int, total: int) -> None:
        nonlocal bar
        if bar is None and total >= PROGRESS_MIN_NOTES:
            bar = click.progressbar(length=total, label="reading notes", file=sys.stderr)
            bar.__enter__()
        if bar is not None:
            bar.update(done - bar.pos)

    try:
        yield update
    finally:
        if bar is not None:
            bar.__exit__(None, None, None)


def run() -> None:
    """The ``memo2anki`` program (and ``python -m memo2anki``): :func:`main`, with the cycle
    collector off for the whole process, which ends with the command (forked workers too).
    A run makes next to no reference cycles (a few small objects per note, measured); the
    collector would only walk every card made so far again and again, and once more at exit:
    a fifth of a 20,000-note re-export."""
    gc.disable()
    with stopping_on_signals():  # SIGTERM, SIGHUP: cleaned up as after Ctrl-C
        main(prog_name="memo2anki")


@contextmanager
def _reported(debug: bool) -> Iterator[None]:
    """Turn failures into one line on stderr and an exit status; no traceback unless --debug."""
    try:
        yield
    except Memo2AnkiError as err:
        click.echo(one_line(f"memo2anki: error: {err}"), err=True)
        sys.exit(err.exit_code)
    except click.exceptions.Exit:
        raise
    except Stopped as err:
        click.echo(f"memo2anki: stopped by {err.name}; nothing written", err=True)
        sys.exit(128 + err.signum)
    except KeyboardInterrupt:
        click.echo("memo2anki: interrupted; nothing written", err=True)
        sys.exit(130)
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


def _one_line(err: Exception) -> str:
    """An exception as one short printable line (its message may hold newlines or bytes)."""
    text = " ".join(f"{type(err).__name__}: {err}".split())
    text = text if len(text) <= 300 else f"{text[:297]}..."
    return one_line(text)


def _report_diagnostics(
    diagnostics: Sequence[Diagnostic], quiet: bool, vault: Path | None = None
) -> None:
    if quiet:
        return
    from_here = _from_here(vault) if vault is not None else None
    for diagnostic in diagnostics:
        click.echo(f"{from_here(diagnostic) if from_here else diagnostic}", err=True)


def _from_here(vault: Path) -> Callable[[Diagnostic], Diagnostic] | None:
    """Warnings name files vault-relative; when the vault is below the current folder (a
    person runs memo2anki from its parent) or holds it, the path that opens from here is
    more use, to click in a terminal or editor. None when the two are apart."""
    here = Path.cwd()
    if vault == here or not (vault.is_relative_to(here) or here.is_relative_to(vault)):
        return None

    def shown(diagnostic: Diagnostic) -> Diagnostic:
        if os.path.isabs(diagnostic.path) or not os.path.lexists(vault / diagnostic.path):
            return diagnostic  # a file given outside the vault, already named from here
        path = Path(os.path.relpath(vault / diagnostic.path, here)).as_posix()
        return replace(diagnostic, path=path)

    return shown


# From this many missing images on, the summary names the vault root they were looked up in.
MANY_MISSING_IMAGES = 3


def _report_vault(result: Result, vault: Path | None) -> None:
    """One line naming the vault root when it was guessed (no ``.obsidian/`` above the notes)
    or when many images were not found in it: the usual cause is the wrong root."""
    missing = sum(d.message.startswith("image not found") for d in result.diagnostics)
    guessed = vault is None and not (result.vault / ".obsidian").is_dir()
    if not guessed and missing < MANY_MISSING_IMAGES:
        return
    why = (
        "no .obsidian/ folder above the notes, so their folder"
        if guessed
        else f"{_n(missing, 'image')} not found in it"
    )
    click.echo(
        one_line(f"memo2anki: vault root {result.vault} ({why}; give another with --vault DIR)"),
        err=True,
    )


def _links_to_note(output: Path) -> bool:
    """Whether ``-o`` is a symbolic link to a note (or a chain of them ending at one)."""
    return output.is_symlink() and is_markdown(os.path.realpath(output))


def _gone(media: Media, vault: Path) -> Diagnostic:
    message = "image moved or deleted while the deck was written; left out of the deck"
    return Diagnostic(shown_path(media.path, vault), None, message)


def _require_cards(result: Result, options: Options) -> None:
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


def _summary(result: Result, outcome: str) -> str:
    per_subject = Counter(card.subject or "(no subject)" for card in result.cards)
    subjects = ", ".join(f"{name} {count}" for name, count in per_subject.items())
    warnings = len(result.diagnostics)
    return (
        f"memo2anki: {_n(len(result.cards), 'card')} ({subjects}) from "
        f"{_notes(result)}, {_n(len(result.media), 'image')}, "
        f"{_n(warnings, 'warning')}; {outcome}"
    )


def _notes(result: Result) -> str:
    """``7 notes``, and how many held memos when not all did; with a date range, how many
    cards it left out."""
    about = []
    if result.notes_with_section != result.notes:
        about.append(f"{result.notes_with_section} with memos")
    if result.dated_out:
        about.append(f"{_n(result.dated_out, 'card')} of other dates left out")
    return _n(result.notes, "note") + (f" ({'; '.join(about)})" if about else "")


def _clozes(result: Result, cloze: bool) -> str:
    """`` (with 2 cloze notes)``, the cloze notes a dry run would add (as a build says)."""
    if not cloze:
        return ""
    from memo2anki.targets.package import cloze_text

    count = sum(cloze_text(card.back_html) is not None for card in result.cards)
    return f" (with {_n(count, 'cloze note')})"


def _report_changes(plan: Plan, listed: bool, as_json: bool) -> None:
    """The change report beside a build's or a sync's summary: each change with
    ``--changes`` (stdout), the report as JSON with ``--json``."""
    if listed:
        for line in change_lines(plan):
            click.echo(line)
    if as_json:
        _echo_json({"changes": changes_json(plan)})


def _echo_json(data: object) -> None:
    text = json.dumps(data, ensure_ascii=False, indent=2)
    # Bytes: UTF-8 whatever the console's encoding (a program reads it, not a person).
    click.echo(text.encode("utf-8"))


def _print_cards(result: Result, as_json: bool, deck: str, cloze: bool, plan: Plan) -> None:
    if as_json:
        # The plan's GUIDs: a renamed or moved card keeps the one it had.
        guids = [c.guid for c in plan.changes if c.kind is not Kind.GONE]
        report = dry_run_object(result, deck, cloze, guids)
        report["changes"] = changes_json(plan)
        _echo_json(report)
        return
    for line in card_lines(result, deck, cloze):
        click.echo(line)


# `sync` lives in its own module, built from the options and reports above.
from memo2anki.cli.sync import sync as _sync  # noqa: E402

main.add_command(_sync)
