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
from pathlib import Path
from typing import Any

import click

from . import __version__
from .cache import NoteCache, default_cache_dir
from .config import CONFIG_NAME, Config, find_config, load_config
from .convert import Options, Progress, Result, convert
from .discover import find_vault_root, is_markdown, shown_path
from .model import DEFAULT_SECTIONS, Diagnostic, Media, Memo2AnkiError, one_line, printable
from .package import DEFAULT_DECK, write_package
from .signals import Stopped, stopping_on_signals

EPILOG = f"""\b
Examples:
  memo2anki notes/ -o cka.apkg            every memo card under notes/
  memo2anki notes/ -o cka.apkg --subject CKA --deck CKA
  memo2anki daily/2025-04-04.md --dry-run list the cards a note makes
  memo2anki check notes/                  report problems only, write nothing

\b
Then in Anki: File > Import the .apkg. Importing again after edits updates the
same cards and keeps their review history.

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


class _BuildCommand(click.Command):
    """``build`` is what a bare ``memo2anki PATH...`` runs; its usage line says so."""

    def format_usage(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        prog = ctx.parent.command_path if ctx.parent else "memo2anki"
        formatter.write_usage(prog, "PATH... -o OUT.apkg [OPTIONS]")


@click.group(cls=_DefaultGroup, context_settings={"help_option_names": ["-h", "--help"]})
def main() -> None:
    """Turn the study memos in Obsidian daily notes into Anki cards."""


def _common(func: Callable[..., Any]) -> Callable[..., Any]:
    """Options shared by ``build`` and ``check``."""
    options = [
        click.argument(
            "paths", nargs=-1, required=True, type=click.Path(path_type=Path), metavar="PATH..."
        ),
        click.option(
            "--vault",
            type=click.Path(path_type=Path, file_okay=False),
            help="Vault root where images are looked up. Default: the nearest folder "
            "above the first PATH that holds .obsidian/, else that folder.",
        ),
        click.option(
            "--config",
            "config_path",
            type=click.Path(path_type=Path, dir_okay=False, exists=True),
            help=f"Settings file (deck, sections, subjects, cloze). Default: {CONFIG_NAME} "
            "in the vault root, if there is one; options given here win over it.",
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
        click.option("-q", "--quiet", is_flag=True, help="Print errors only."),
        click.option(
            "--debug", is_flag=True, help="Show the full traceback of an unexpected error."
        ),
    ]
    for option in reversed(options):
        func = option(func)
    return func


@main.command(cls=_BuildCommand, epilog=EPILOG)
@_common
@click.option(
    "-o",
    "--output",
    type=click.Path(path_type=Path, dir_okay=True),
    help="The .apkg file to write (required unless --dry-run).",
)
@click.option(
    "--deck",
    help=f"Top deck; one subdeck per subject. Default: the config's, else '{DEFAULT_DECK}'.",
)
@click.option("--dry-run", is_flag=True, help="List the cards it would make; write nothing.")
@click.option("--json", "as_json", is_flag=True, help="With --dry-run: the list as JSON.")
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
    if as_json and not dry_run:
        raise click.UsageError("--json goes with --dry-run")
    if deck is not None and not deck.strip():
        raise click.BadParameter("the deck name is empty", param_hint="--deck")
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
        exclude = (output,) if output else ()
        options, config = _options(paths, vault, config_path, sections, subjects, exclude, debug)
        deck = (deck or config.deck or DEFAULT_DECK).strip()
        cloze = cloze or bool(config.cloze)
        with _progress(quiet) as progress:
            result = convert(paths, options, jobs, progress, _cache(paths, options, no_cache))
        _report_diagnostics(result.diagnostics, quiet)
        _require_cards(result, options)
        if dry_run:
            _print_cards(result, as_json)
        if strict and result.diagnostics:
            count = _n(len(result.diagnostics), "warning")
            raise Memo2AnkiError(f"{count} with --strict; nothing written")
        if dry_run:
            return
        assert output is not None
        vault_name = printable(result.vault.name)
        info = write_package(result.cards, result.media, output, deck, vault_name, cloze)
        _report_diagnostics([_gone(m, result.vault) for m in info.missing], quiet)
        if not quiet:
            extra = info.notes - len(result.cards)
            clozes = f" (with {_n(extra, 'cloze note')})" if cloze else ""
            click.echo(one_line(_summary(result, f"wrote {info.path}{clozes}")), err=True)


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
    from .lint import duplicate_fronts

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
        _report_diagnostics(problems, quiet=False)
        _require_cards(result, options)
        if problems:
            raise Memo2AnkiError(f"{_n(len(problems), 'problem')} in {_n(result.notes, 'note')}")
        if not quiet:
            click.echo(one_line(_summary(result, "no problems")), err=True)


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
    options = Options(
        vault=vault,
        sections=titles,
        subjects=subjects or config.subjects,
        exclude=exclude,
        skip_on_bug=not debug,  # with --debug, a bug stops the run and shows its traceback
    )
    return options, config


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
        sys.exit(1)
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


def _report_diagnostics(diagnostics: Sequence[Diagnostic], quiet: bool) -> None:
    if quiet:
        return
    for diagnostic in diagnostics:
        click.echo(f"{diagnostic}", err=True)


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
    if options.subjects:
        wanted = ", ".join(options.subjects)
        raise Memo2AnkiError(f"no cards of subject {wanted} in {_n(result.notes, 'note')}")
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
        f"{_n(result.notes, 'note')}, {_n(len(result.media), 'image')}, "
        f"{_n(warnings, 'warning')}; {outcome}"
    )


def _n(count: int, noun: str) -> str:
    return f"{count} {noun}{'s' * (count != 1)}"


def _print_cards(result: Result, as_json: bool) -> None:
    if as_json:
        click.echo(
            json.dumps(
                [
                    {
                        "note": card.note,
                        "line": card.line,
                        "date": card.date.isoformat() if card.date else None,
                        "subject": card.subject,
                        "front": card.front,
                        "tags": list(card.tags),
                        "images": [
                            printable(m.path.relative_to(result.vault).as_posix())
                            for m in card.media
                        ],
                    }
                    for card in result.cards
                ],
                ensure_ascii=False,
                indent=2,
            )
        )
        return
    for card in result.cards:
        images = f"  [{_n(len(card.media), 'image')}]" if card.media else ""
        fields = (card.subject or "-", card.front, f"{card.note}:{card.line}{images}")
        click.echo("\t".join(map(one_line, fields)))
