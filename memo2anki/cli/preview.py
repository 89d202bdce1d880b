"""The ``memo2anki preview`` command: every card a build would make, on one HTML page."""

from __future__ import annotations

from pathlib import Path

import click

from memo2anki.cli.options import (
    OutputPath,
    common_options,
    deck_layout,
    deck_option,
    read_and_plan,
    run_options,
)
from memo2anki.cli.output import report_diagnostics, report_vault, reported, summary
from memo2anki.cli.report import counts_line
from memo2anki.cli.usage import name_problem
from memo2anki.common.files import no_folder
from memo2anki.common.signals import finished, telling_once_replaced
from memo2anki.model import BadUsage, Diagnostic, Memo2AnkiError, one_line
from memo2anki.model import plural as _n
from memo2anki.notes.discover import is_markdown, shown_path
from memo2anki.targets.package import DEFAULT_DECK
from memo2anki.targets.preview import INLINE_LIMIT, PreviewInfo, write_preview

PAGE_SUFFIXES = (".html", ".htm")

EPILOG = f"""\b
Examples:
  memo2anki preview notes/ -o cards.html            every card, to read or print
  memo2anki preview notes/ -o exam.html --last 14   the last two weeks' cards
  memo2anki preview notes/ -o cards.html --changes  what changed since the export

\b
The page opens in any browser, offline: it runs no script and fetches nothing.
Its pictures are inside it, unless that would make more than {INLINE_LIMIT // 2**20} MB
of them: then they go in a folder beside it (cards_files/ for cards.html), to
be kept with it. Math shows as its TeX source. Nothing is exported; what
memo2anki remembers (.memo2anki/) is only read."""


@click.command(epilog=EPILOG, short_help="Every card on one HTML page, to check or print.")
@common_options
@click.option(
    "-o",
    "--output",
    type=OutputPath(path_type=Path, dir_okay=True, example="cards.html"),
    required=True,
    help="The page to write (.html is added to a name without it).",
)
@click.option(
    "--deck",
    callback=lambda ctx, param, value: deck_option(value),
    help=f"Top deck, as for a build (the page's title). Default: the config's, else "
    f"'{DEFAULT_DECK}'.",
)
@click.option(
    "--changes",
    "list_changes",
    is_flag=True,
    help="Mark each card new, updated, renamed or moved since the last export, and list the "
    "gone ones at the end.",
)
def preview(
    paths: tuple[Path, ...],
    output: Path,
    deck: str | None,
    vault: Path | None,
    config_path: Path | None,
    sections: tuple[str, ...],
    subjects: tuple[str, ...],
    list_changes: bool,
    jobs: int,
    no_cache: bool,
    quiet: bool,
    debug: bool,
) -> None:
    """Write every card a build would make to one HTML page: grouped by subject and
    date, each front with its back folded under it, to check before importing and to
    study from (on screen or printed)."""
    if is_markdown(output):
        raise click.BadParameter(
            "that is a note's name (.md); give the page a name such as cards.html",
            param_hint="-o",
        )
    with reported(debug):
        out, added = _page_file(output)
        options, config = run_options(paths, vault, config_path, sections, subjects, (), debug)
        layout = deck_layout(deck, False, config)
        result, plan = read_and_plan(paths, options, layout, jobs, no_cache, quiet)
        title = layout.deck
        if options.dates.limited:
            title = f"{title} · {options.dates.describe()}"
        # (a stop once the page is renamed into place is told as written, even one just
        # before write_preview returned)
        with telling_once_replaced(out, f"wrote {out}"):
            info = write_preview(plan, result.media, out, title=title, changes=list_changes)
            warnings = [_gone(media.path, result.vault) for media in info.missing]
            report_diagnostics(warnings, quiet, result.vault)
            if not quiet:
                report_vault(result, vault)
                outcome = f"wrote {info.path}{' (.html added)' * added} ({_what(info)})"
                if list_changes:
                    outcome = f"{counts_line(plan)} since the last export; {outcome}"
                click.echo(one_line(summary(result, outcome)), err=True)
            finished(result, plan)  # (a stop from here on would only cut the exit short)


def _page_file(given: Path) -> tuple[Path, bool]:
    """The page to write: ``.html`` added to a name without it (a browser opens it then)."""
    added = given.suffix.lower() not in PAGE_SUFFIXES
    path = given.with_name(f"{given.name}.html") if added else given
    # (its pictures may go in NAME_files/ beside it: that name must fit too)
    if (problem := name_problem(path.with_name(f"{path.stem}_files"))) is not None:
        raise BadUsage(f"-o {given}: for the page's picture folder, {problem}")
    if path.is_dir():
        raise Memo2AnkiError(f"-o {given}: {path} is a folder; give another file name")
    if not path.parent.is_dir():
        raise Memo2AnkiError(f"{path}: {no_folder(path.parent)}")
    return path, added


def _what(info: PreviewInfo) -> str:
    size = f"{info.size / 2**20:.1f} MB" if info.size >= 2**20 else f"{info.size // 1024 + 1} KB"
    if info.folder is not None:
        pictures = _n(info.pictures, "picture")
        where = f"{pictures} in {info.folder.name}/ beside it: keep the two together"
    elif info.pictures:
        where = f"{_n(info.pictures, 'picture')} inside it"
    else:
        where = "no pictures"
    return f"{size}, {where}"


def _gone(path: Path, vault: Path) -> Diagnostic:
    message = "image moved or deleted while the page was written; shown as missing"
    return Diagnostic(shown_path(path, vault), None, message)
