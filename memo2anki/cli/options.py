"""What the commands share of their options: the PATHs and their settings made into the
library's :class:`~memo2anki.model.Options`, the deck's layout, the note cache,
the progress bar, and reading and planning as a build and a sync both do."""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import Any

import click

from memo2anki.cards.cache import NoteCache, default_cache_dir, options_key
from memo2anki.cards.convert import Progress, convert
from memo2anki.changes import ledger as ledger_file
from memo2anki.changes.plan import Layout, Plan
from memo2anki.cli.config import CONFIG_NAME, Config, find_config, load_config
from memo2anki.cli.output import report_diagnostics, require_cards
from memo2anki.cli.usage import deck_name, folder_problem, name_problem
from memo2anki.model import (
    DEFAULT_SECTIONS,
    BadUsage,
    DateRange,
    Options,
    Result,
    printable,
)
from memo2anki.notes.dates import date_range, parse_date
from memo2anki.notes.discover import find_vault_root, garden_of
from memo2anki.notes.garden import site_base_url
from memo2anki.targets.build import plan_build, unsaved_ledger_warnings
from memo2anki.targets.package import DEFAULT_DECK


def common_options(func: Callable[..., Any]) -> Callable[..., Any]:
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
            "above the first PATH that holds .obsidian/ or is a Digital Garden repository "
            "(src/site/notes/ and plugin-info.json or .eleventy.js), else that folder.",
        ),
        click.option(
            "--config",
            "config_path",
            type=click.Path(path_type=Path, dir_okay=False, exists=True),
            help="Settings file (deck, sections, subjects, cloze, since, until, last, "
            "garden_url, vault_name, exam_name). "
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
            callback=_named,
            help="Only cards of this subject (repeatable; case-insensitive).",
        ),
        click.option(
            "-j",
            "--jobs",
            type=Count(min=0),
            default=0,
            show_default=True,
            help="Worker processes for reading notes; 0 uses one per CPU (at most 8) when the "
            "vault is big enough to gain from it. The deck is the same either way.",
        ),
        click.option(
            "--no-cache",
            is_flag=True,
            help="Read every note again instead of reusing the cards of notes unchanged since "
            "the last run (cache: $MEMO2ANKI_CACHE_DIR, else the system's cache folder: "
            "~/.cache/memo2anki on Linux).",
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


def _named(ctx: click.Context, param: click.Parameter, value: tuple[str, ...]) -> tuple[str, ...]:
    """``--subject``: a name, never empty (no subject is: it would match no card)."""
    if any(not name.strip() for name in value):
        raise click.BadParameter("empty; give a subject's name, as in --subject CKA")
    return value


class Count(click.IntRange):
    """A whole number typed in the digits 0-9: ``int()`` would also take other scripts'
    digits (``٣``, ``３``) and underscores (``1_000``), which no one means as a count."""

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        if isinstance(value, str) and not _DIGITS.fullmatch(value):
            self.fail(f"{value!r} is not a number: write it in the digits 0-9", param, ctx)
        return super().convert(value, param, ctx)


# (a minus sign kept, so that -1 is told it is out of range, as click says)
_DIGITS = re.compile(r"-?[0-9]+")


class OutputPath(click.Path):
    """``-o``: a folder (one that exists, or a name ending in a slash, which ``Path`` would
    drop) or a name too long for a file system is bad usage, told before any note is read.
    ``example``: the file name a message suggests."""

    def __init__(self, *args: Any, example: str = "deck.apkg", **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.example = example

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        if isinstance(value, str | os.PathLike):
            if not os.fspath(value):
                self.fail("empty; give a file name", param, ctx)
            problem = name_problem(value) or folder_problem(value, self.example)
            if problem is not None:
                self.fail(problem, param, ctx)
        return super().convert(value, param, ctx)


class FilePath(click.Path):
    """A file to read or write in place (``--collection``): a name too long for a file
    system is bad usage, as click says of a folder."""

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        if isinstance(value, str | os.PathLike):
            if not os.fspath(value):  # (the current folder, to click)
                self.fail("empty; give a file name", param, ctx)
            if problem := name_problem(value):
                self.fail(problem, param, ctx)
        return super().convert(value, param, ctx)


def _date_options() -> list[Callable[[Callable[..., Any]], Callable[..., Any]]]:
    """``--since``, ``--until``, ``--last``: their values go to ``ctx.meta``, read by
    :func:`run_options` (so no command's signature needs them)."""

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
            type=Count(min=1),
            expose_value=False,
            callback=keep,
            help="Only cards of notes of the last N days (up to today, or to --until).",
        ),
    ]


def read_and_plan(
    paths: tuple[Path, ...],
    options: Options,
    layout: Layout,
    jobs: int,
    no_cache: bool,
    quiet: bool,
    dry_run: bool = False,
) -> tuple[Result, Plan]:
    """Read the notes and plan the changes against the ledger, reporting the warnings: what a
    build and a sync share. ``layout``'s vault name is filled in from the vault found. A dry
    run also gets those writing the ledger would give (of the files it reads to do so)."""
    with progress_bar(quiet) as progress:
        result = convert(paths, options, jobs, progress, note_cache(paths, options, no_cache))
    report_diagnostics(result.diagnostics, quiet, result.vault)
    require_cards(result, options)
    layout = link_layout(layout, result.vault)
    cache = None if no_cache else default_cache_dir()
    plan, plan_warnings = plan_build(result, paths, options, layout, cache)
    if dry_run:
        plan_warnings = [*plan_warnings, *unsaved_ledger_warnings(plan, result.vault)]
    report_diagnostics(plan_warnings, quiet, result.vault)
    return replace(result, diagnostics=(*result.diagnostics, *plan_warnings)), plan


def link_layout(layout: Layout, vault: Path) -> Layout:
    """``layout`` with the vault's name and what a card's Link opens: a garden note's page
    when the site's address is known (``garden_url`` in the settings file, else
    ``SITE_BASE_URL`` in the garden's ``.env``), else the note in the Obsidian vault named
    ``vault_name`` in the settings file, else the vault folder's (a garden's is not known:
    no Obsidian link)."""
    garden = garden_of(vault)
    site = layout.site_url or (site_base_url(garden.root) if garden is not None else "")
    link_vault = layout.link_vault
    if link_vault is None and garden is not None:
        link_vault = ""
    return replace(layout, vault_name=printable(vault.name), site_url=site, link_vault=link_vault)


def run_options(
    paths: tuple[Path, ...],
    vault: Path | None,
    config_path: Path | None,
    sections: tuple[str, ...],
    subjects: tuple[str, ...],
    exclude: tuple[Path, ...],
    debug: bool,
) -> tuple[Options, Config]:
    """The run's options: the command line over the vault's config over the defaults. With
    no ``--vault`` and no ``.obsidian/`` above the notes, the vault root the ledger found
    above them was last written against, when it holds the notes' folder."""
    vault = vault or ledger_root(paths)
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


def ledger_root(paths: tuple[Path, ...]) -> Path | None:
    """The vault root of the ledger found at or above the notes (see
    :func:`~memo2anki.changes.ledger.find_home`), when the root would otherwise be guessed
    (no ``.obsidian/``) and it holds the guessed one: a run on a subfolder then uses the root
    the vault's runs used, its pictures and links included."""
    if not paths:
        return None
    guessed = find_vault_root(paths, None)
    if (guessed / ".obsidian").is_dir():
        return None
    home = ledger_file.find_home([*paths, guessed])
    root = ledger_file.recorded_root(home) if home is not None else None
    if root is None or root == guessed or not guessed.is_relative_to(root):
        return None
    return root


def _dates(config: Config) -> DateRange:
    """The date range of ``--since``/``--until``/``--last``, else of the config's settings:
    any of them given on the command line replaces all three of the config's."""
    meta = click.get_current_context().meta
    given = {key: meta.get(f"memo2anki.{key}") for key in ("since", "until", "last")}
    if any(value is not None for value in given.values()):
        since, until, last, where = given["since"], given["until"], given["last"], ""
    else:
        since, until, last = config.since, config.until, config.last
        where = f"{config.where('since', 'until', 'last')}: "
    try:
        return date_range(since, until, last)
    except ValueError as err:
        raise BadUsage(f"{where}{err}") from None


def deck_option(value: str | None, option: str = "--deck") -> str | None:
    """A deck's name given with ``option``, checked as Anki takes it (else bad usage)."""
    if value is None:
        return None
    try:
        return deck_name(value)
    except ValueError as err:
        raise click.BadParameter(str(err), param_hint=option) from None


def deck_layout(
    deck: str | None, cloze: bool, config: Config, leave_out_gone: bool = False
) -> Layout:
    """How cards become notes: the deck and cloze options given, else the settings file's."""
    deck = deck or setting_deck(config, "deck") or DEFAULT_DECK
    return Layout(
        deck,
        "",
        cloze or bool(config.cloze),
        leave_out_gone,
        site_url=config.garden_url or "",
        link_vault=config.vault_name,
    )


def setting_deck(config: Config, key: str) -> str | None:
    """A deck's name from the settings file (``deck``, ``exam_name``), checked as Anki takes
    it (else bad usage naming the file and the setting)."""
    value: str | None = getattr(config, key)
    if value is None:
        return None
    try:
        return deck_name(value)
    except ValueError as err:
        raise BadUsage(f"{config.where(key)}: {key}: {err}") from None


def note_cache(paths: tuple[Path, ...], options: Options, disabled: bool) -> NoteCache | None:
    if disabled:
        return None
    root = find_vault_root(paths, options.vault)
    return NoteCache(default_cache_dir(), options_key(root, options))


# Below this many notes a run is over before a bar would help.
PROGRESS_MIN_NOTES = 200


@contextmanager
def progress_bar(quiet: bool) -> Iterator[Progress | None]:
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
