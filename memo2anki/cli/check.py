"""The ``memo2anki check`` command: the problems in the memos reported, nothing written."""

from __future__ import annotations

from pathlib import Path

import click

from memo2anki.cards.convert import convert
from memo2anki.cli.options import common_options, note_cache, progress_bar, run_options
from memo2anki.cli.output import report_diagnostics, report_vault, reported, require_cards, summary
from memo2anki.model import (
    Memo2AnkiError,
    one_line,
)
from memo2anki.model import plural as _n


@click.command(epilog="Exit status: 0 no problems, 1 problems found, 2 bad usage.")
@common_options
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

    with reported(debug):
        options, _ = run_options(paths, vault, config_path, sections, subjects, (), debug)
        with progress_bar(quiet) as progress:
            result = convert(paths, options, jobs, progress, note_cache(paths, options, no_cache))
        problems = [
            *result.diagnostics,
            *duplicate_fronts(result.cards),
            *result.lint,
        ]
        problems.sort(key=lambda d: (d.path, d.line or 0))  # each note's, in file order
        report_diagnostics(problems, False, result.vault)
        require_cards(result, options)
        if problems or not quiet:
            report_vault(result, options.vault)
        if problems:
            raise Memo2AnkiError(f"{_n(len(problems), 'problem')} in {_n(result.notes, 'note')}")
        if not quiet:
            click.echo(one_line(summary(result, "no problems")), err=True)
