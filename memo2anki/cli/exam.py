"""The ``memo2anki exam`` command: options in, the report out (the work is in
:mod:`memo2anki.targets.exam`)."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

import click

from memo2anki.cli.anki_options import anki_options
from memo2anki.cli.options import (
    common_options,
    deck_layout,
    deck_option,
    read_and_plan,
    run_options,
    setting_deck,
)
from memo2anki.cli.output import echo_out, reported, summary
from memo2anki.common.signals import finished, telling_once_committed
from memo2anki.model import BadUsage, one_line
from memo2anki.model import plural as _n
from memo2anki.targets.ankiconnect import AnkiConnect
from memo2anki.targets.exam import (
    BROWSER_MENU,
    EXAM_SUFFIX,
    ORDER_ADDED,
    RESCHEDULE,
    TOOLS_MENU,
    Browsed,
    Exam,
    ExamCard,
    Made,
    browse_in_anki,
    exam_of,
    make_in_collection,
)
from memo2anki.targets.package import DEFAULT_DECK
from memo2anki.targets.sync import ANKICONNECT, Target, choose_target

EPILOG = f"""\b
Examples:
  memo2anki exam notes/ --last 14         the last two weeks' cards, one deck
  memo2anki exam notes/ --last 14 --subject CKA --no-reschedule
  memo2anki exam notes/ --since 2025-04-01 --print-search

\b
With Anki closed, the filtered deck is made in the collection (the profile
Anki loaded last, --profile, or --collection). With Anki running and the
AnkiConnect add-on, which cannot make filtered decks, Anki's browser opens on
the deck's search: make it there with
{BROWSER_MENU}.
The deck is named --name, else the settings' exam_name, else the top deck's
name with '{EXAM_SUFFIX.strip()}' ('{DEFAULT_DECK}{EXAM_SUFFIX}').

\b
Exit status: 0 done (warnings allowed), 1 nothing could be made, 2 bad usage."""

# Names of cards a one-line message shows before "and N more".
SHOWN = 3


@click.command(epilog=EPILOG)
@common_options
@anki_options("make the deck in")
@click.option(
    "--name",
    metavar="DECK",
    callback=lambda ctx, param, value: deck_option(value, "--name"),
    help="The filtered deck's name. Default: the settings' exam_name, else the top deck's "
    f"name with '{EXAM_SUFFIX.strip()}'.",
)
@click.option(
    "--deck",
    callback=lambda ctx, param, value: deck_option(value),
    help=f"The top deck the default name is made from (default: the settings', else "
    f"'{DEFAULT_DECK}').",
)
@click.option(
    "--no-reschedule",
    is_flag=True,
    help="A cram: answers in the deck leave every card's schedule as it was "
    "(default: they count as reviews, as Anki's own default).",
)
@click.option(
    "--print-search",
    is_flag=True,
    help="Print the deck's Anki search (for Tools > Create Filtered Deck...) and touch nothing.",
)
def exam(
    paths: tuple[Path, ...],
    vault: Path | None,
    config_path: Path | None,
    sections: tuple[str, ...],
    subjects: tuple[str, ...],
    jobs: int,
    no_cache: bool,
    quiet: bool,
    debug: bool,
    name: str | None,
    deck: str | None,
    no_reschedule: bool,
    print_search: bool,
    profile: str | None,
    collection: Path | None,
    via: str | None,
    no_backup: bool,
    ankiconnect_url: str,
    ankiconnect_key: str | None,
) -> None:
    """A filtered deck in Anki of the cards of the memos in PATH... dated in a range
    (--last N, --since, --until) or of some subjects (--subject): to study them before the
    exam, wherever the cards are, made again from scratch each time."""
    if profile is not None and collection is not None:
        raise click.UsageError("give --profile or --collection, not both")
    if via == ANKICONNECT and (profile is not None or collection is not None):
        raise click.UsageError("--via ankiconnect uses the profile Anki has open")
    with reported(debug):
        options, config = run_options(paths, vault, config_path, sections, subjects, (), debug)
        if options.since is None and options.until is None and not options.subjects:
            raise BadUsage(
                "which memos? give a range (--last N, --since DATE, --until DATE) or "
                "--subject NAME, or set last, since, until or subjects in the settings"
            )
        layout = deck_layout(deck, False, config)
        deck_name_ = name or setting_deck(config, "exam_name") or f"{layout.deck}{EXAM_SUFFIX}"
        result, plan = read_and_plan(paths, options, layout, jobs, no_cache, quiet)
        exam_ = exam_of(plan, deck_name_, not no_reschedule, bool(options.subjects))
        if print_search:
            echo_out(exam_.search)
            if not quiet:
                click.echo(one_line(summary(result, "the search above")), err=True)
                click.echo(
                    one_line(
                        f"memo2anki: in Anki: {_by_hand(exam_, TOOLS_MENU, 'paste the search')}"
                    ),
                    err=True,
                )
            return
        target = choose_target(via, profile, collection, ankiconnect_url, ankiconnect_key)
        # (Through AnkiConnect, Anki's browser shows the search: nothing is made.) A stop
        # once the deck's transaction is committed is told as after it, however soon.
        with telling_once_committed(f"made the deck '{exam_.name}' in {target}") as made_it:
            if target.way == ANKICONNECT:
                browsed = browse_in_anki(AnkiConnect(target.url, target.key), exam_)
                lines = _browsed(exam_, browsed)
            else:
                made = _make(exam_, target, no_backup, made_it)
                lines = _made(exam_, target, made)
            if not quiet:
                click.echo(one_line(summary(result, f"exam deck '{exam_.name}'")), err=True)
                for line in lines:
                    click.echo(one_line(line), err=True)
            finished(result, plan)  # (a stop from here on would only cut the exit short)


def _make(exam_: Exam, target: Target, no_backup: bool, commit_made: Callable[[], None]) -> Made:
    from memo2anki.targets.write_collection import open_collection

    assert target.collection is not None
    folder = None if no_backup else target.backups
    with open_collection(target.collection) as col:
        return make_in_collection(col, exam_, folder, commit_made)


def _counts(by_subject: Mapping[str, int]) -> str:
    return ", ".join(
        f"{subject or '(no subject)'} {count}" for subject, count in by_subject.items()
    )


def _names(cards: Sequence[ExamCard]) -> str:
    """A few cards by front and place, and how many more."""
    shown = ", ".join(f"'{card.front}' ({card.where})" for card in cards[:SHOWN])
    more = len(cards) - SHOWN
    return f"{shown} and {more} more" if more > 0 else shown


def _not_synced(cards: Sequence[ExamCard]) -> list[str]:
    if not cards:
        return []
    are = "is" if len(cards) == 1 else "are"
    return [
        f"memo2anki: {_n(len(cards), 'card')} of these memos {are} not in Anki yet, or not as "
        f"the memos are now: {_names(cards)}; run memo2anki sync first, then exam again"
    ]


def _how_to_study(exam_: Exam) -> str:
    if exam_.reschedule:
        answers = "your answers count as reviews, as in the cards' own decks"
    else:
        answers = "a cram: your answers leave every card's schedule as it was"
    return (
        f"memo2anki: study: in Anki, click '{exam_.name}' in the deck list ({answers}); "
        "oldest note first. Empty it when done (the cards go back to their decks); run "
        "memo2anki exam again to make it anew"
    )


def _made(exam_: Exam, target: Target, made: Made) -> list[str]:
    again = "made again" if made.replaced else "made"
    backup = f"; backup: {made.backup}" if made.backup else ""
    lines = [
        f"memo2anki: filtered deck '{exam_.name}' {again} in {target}: "
        f"{_n(made.total, 'card')} ({_counts(made.by_subject)}){backup}",
        *_not_synced(made.missing.not_synced),
    ]
    if made.missing.elsewhere:
        decks = ", ".join(
            f"'{d}'" for d in dict.fromkeys(deck for _, deck in made.missing.elsewhere)
        )
        cards = [card for card, _ in made.missing.elsewhere]
        lines.append(
            f"memo2anki: {_n(len(cards), 'card')} left in another filtered deck ({decks}): "
            f"{_names(cards)}; empty it and run exam again to have them here"
        )
    if made.missing.suspended:
        lines.append(
            f"memo2anki: {_n(len(made.missing.suspended), 'card')} suspended or buried in "
            f"Anki, left out: {_names(made.missing.suspended)}"
        )
    lines.append(_how_to_study(exam_))
    return lines


def _by_hand(exam_: Exam, menu: str, search: str) -> str:
    """How to make the deck from its search in Anki's own dialog, in one line."""
    cram = f"untick '{RESCHEDULE}'" if not exam_.reschedule else f"keep '{RESCHEDULE}' ticked"
    return (
        f"{menu}, {search}, name '{exam_.name}', Limit to {len(exam_.cards)} or more, "
        f"order '{ORDER_ADDED}', {cram}, then Build"
    )


def _browsed(exam_: Exam, browsed: Browsed) -> list[str]:
    return [
        f"memo2anki: Anki's browser shows the deck's search: {_n(browsed.total, 'card')} "
        f"({_counts(browsed.by_subject)})",
        *_not_synced(browsed.not_synced),
        f"memo2anki: AnkiConnect cannot make a filtered deck; in the browser: "
        f"{_by_hand(exam_, BROWSER_MENU, 'the search filled in')} "
        f"(Anki before 2.1.41: {TOOLS_MENU} with the search of --print-search)",
    ]
