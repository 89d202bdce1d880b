"""Notes in, cards out: the stages put together, with every problem collected."""

from __future__ import annotations

import datetime as dt
import os
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from memo2anki.cards.cache import NoteCache
from memo2anki.cards.pictures.media import MediaResolver
from memo2anki.common.gcpause import cycle_collection_paused
from memo2anki.model import (
    Card,
    DateRange,
    Diagnostic,
    NoteResult,
    Options,
    Result,
)
from memo2anki.notes.dates import undated_left_out
from memo2anki.notes.discover import find_notes, find_vault_root

if TYPE_CHECKING:
    from multiprocessing.context import BaseContext


def study_order(card: Card) -> tuple[bool, dt.date, str, int]:
    """Oldest note first (undated notes last), then the card's place in its note."""
    return (card.date is None, card.date or dt.date.min, card.note, card.line)


# Worker processes pay for themselves only past this many notes to read (measured on two
# cores): forked ones start with everything imported, spawned ones (macOS, Windows) import
# it all again.
PARALLEL_MIN_NOTES = {"fork": 50, "spawn": 300, "forkserver": 300}

Progress = Callable[[int, int], None]  # (notes done so far, notes in all)


def convert(
    paths: Sequence[Path],
    options: Options = Options(),
    jobs: int = 1,
    progress: Progress | None = None,
    cache: NoteCache | None = None,
) -> Result:
    """Find the notes under ``paths`` and make every card they hold.

    ``jobs`` > 1 reads notes in that many worker processes (0: one per CPU, when there are
    enough notes to pay for it); the result is the same as with one process. With a
    ``cache``, notes unchanged since an earlier run are not read again.
    """
    vault = find_vault_root(paths, options.vault)
    notes, diagnostics = find_notes(paths, options.exclude, vault)
    resolver = MediaResolver(vault)
    results: list[NoteResult | None] = [None] * len(notes)
    done = 0

    def finished(index: int, result: NoteResult) -> None:
        nonlocal done
        if cache is not None and result.journal is not None:  # fresh, not from the cache
            journal, result = result.journal, replace(result, journal=None)
            cache.put(notes[index], result, journal)
        results[index] = result
        done += 1
        if progress is not None:
            progress(done, len(notes))

    todo = []
    hits = (
        cache.get_many(notes, resolver.still_finds, resolver.still_publishes)
        if cache is not None
        else [None] * len(notes)
    )
    for index, hit in enumerate(hits):
        if isinstance(hit, NoteResult):
            finished(index, hit)
        else:
            todo.append(index)
    del hits
    if todo:
        # Imported only now: a re-export whose notes all come from the cache never parses.
        from memo2anki.cards import make as make_cards

        workers = _workers(jobs, len(todo))
        journal = cache is not None
        if workers > 1:
            from concurrent.futures import ProcessPoolExecutor

            with ProcessPoolExecutor(
                workers,
                mp_context=worker_context(),
                initializer=make_cards.start_worker,
                initargs=(vault, options, journal, os.getpid()),
            ) as pool:
                chunk = max(1, min(64, len(todo) // (workers * 8)))
                paths_todo = [notes[i] for i in todo]
                try:
                    fresh = pool.map(make_cards.convert_in_worker, paths_todo, chunksize=chunk)
                    for index, result in zip(todo, fresh, strict=True):
                        finished(index, result)
                except BaseException:  # interrupted: the notes not yet begun are not read
                    with _cancelled_futures_left_alone():
                        pool.shutdown(cancel_futures=True)
                    raise
        else:
            converter = make_cards.NoteConverter(vault, options, journal, resolver)
            for index in todo:
                finished(index, converter.convert(notes[index]))
    if cache is not None:
        cache.flush()
    with cycle_collection_paused():
        whole = gather(vault, len(notes), [r for r in results if r is not None], diagnostics)
        return keep_dates(whole, options.dates)


def keep_dates(result: Result, dates: DateRange) -> Result:
    """The result with only the cards of notes dated in ``dates``, and one warning naming
    the undated notes it left out. The warnings of a note whose cards are all left out go
    with them: before an exam, last month's missing image is no news."""
    if not dates.limited:
        return result
    kept = tuple(c for c in result.cards if dates.keeps(c.date))
    undated = list(dict.fromkeys(c.note for c in result.cards if c.date is None))
    gone = {c.note for c in result.cards} - {c.note for c in kept}
    warning = (undated_left_out(undated, dates),) if undated else ()
    return replace(
        result,
        cards=kept,
        media=tuple({m.name: m for c in kept for m in c.media}.values()),
        diagnostics=(*(d for d in result.diagnostics if d.path not in gone), *warning),
        lint=tuple(d for d in result.lint if d.path not in gone),
        dated_out=len(result.cards) - len(kept),
    )


@contextmanager
def _cancelled_futures_left_alone() -> Iterator[None]:
    """While the pool shuts down after a stop: CPython 3.11's pool thread, finding its
    workers gone (a signal to the whole process group), fails every pending future, and
    raises on one that the shutdown just cancelled (InvalidStateError, printed as a
    traceback; 3.12 skips those). That one is no news on the way out."""
    import threading
    from concurrent.futures import InvalidStateError

    previous = threading.excepthook

    def hook(args: threading.ExceptHookArgs) -> None:
        if not issubclass(args.exc_type, InvalidStateError):
            previous(args)

    threading.excepthook = hook
    try:
        yield
    finally:
        threading.excepthook = previous


def worker_start_method() -> str:
    """How worker processes start, the same on every Python version (3.14 makes forkserver
    Linux's default): fork where it is safe, as forked workers start with everything
    imported; spawn on macOS (where fork is unsafe) and Windows (where there is none)."""
    if sys.platform == "darwin" or sys.platform.startswith("win"):
        return "spawn"
    return "fork"


def worker_context() -> BaseContext:
    """The multiprocessing context of :func:`worker_start_method`."""
    import multiprocessing  # here: only a run with enough notes to read needs it

    return multiprocessing.get_context(worker_start_method())


# The most worker processes a run starts, whatever -j says: Windows' process pools allow no
# more, and far past the CPUs each one only costs memory (-j 1000000 is a typo, not a plan).
MAX_JOBS = 61


def _workers(jobs: int, notes: int) -> int:
    if jobs == 0:
        least = PARALLEL_MIN_NOTES[worker_start_method()]
        return min(os.cpu_count() or 1, 8) if notes >= least else 1
    return max(1, min(jobs, notes, MAX_JOBS))


def gather(
    vault: Path, notes: int, results: Sequence[NoteResult], diagnostics: Sequence[Diagnostic]
) -> Result:
    """Put per-note results together: study order, each medium once, all warnings."""
    cards = sorted((c for r in results for c in r.cards), key=study_order)
    media = {m.name: m for c in cards for m in c.media}
    return Result(
        vault=vault,
        notes=notes,
        notes_with_section=sum(r.has_section for r in results),
        cards=tuple(cards),
        media=tuple(media.values()),
        # Each once: a note embedded in another reports its own problems there too.
        diagnostics=tuple(
            dict.fromkeys((*diagnostics, *(d for r in results for d in r.diagnostics)))
        ),
        lint=tuple(d for r in results for d in r.lint),
        subjects=tuple(dict.fromkeys(s for r in results for s in r.subjects)),
    )
