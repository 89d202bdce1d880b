"""Notes in, cards out: the stages put together, with every problem collected."""

from __future__ import annotations

import os
import re
import unicodedata
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field, replace
from pathlib import Path

from .cache import NoteCache
from .discover import find_notes, find_vault_root
from .mdparse import make_markdown
from .media import Journal, Lookup, MediaResolver, MediaStore
from .memo import DEFAULT_SECTIONS, CardFinder, empty_front, shows_nothing
from .model import Card, Diagnostic, Media, Memo2AnkiError
from .reader import read_note, vault_relpath
from .render import CardRenderer


@dataclass(frozen=True)
class Options:
    """What to read and which cards to keep."""

    vault: Path | None = None
    sections: tuple[str, ...] = DEFAULT_SECTIONS
    subjects: tuple[str, ...] = ()  # keep only these subjects (case-insensitive); all if empty
    exclude: tuple[Path, ...] = ()  # files never read as notes (the output)
    # A bug met in one note: skip that note with a warning (True), or raise (False), so that
    # a run still makes every other card and a debugging run still sees the traceback.
    skip_on_bug: bool = False


@dataclass(frozen=True)
class NoteResult:
    """The cards of one note, with the media they embed and the warnings met."""

    cards: tuple[Card, ...] = ()
    diagnostics: tuple[Diagnostic, ...] = ()
    has_section: bool = False
    # What the result depends on (for the cache); None when the note could not be read.
    journal: Journal | None = field(default=None, compare=False)


@dataclass(frozen=True)
class Result:
    """Everything a run found: cards in study order, distinct media, warnings."""

    vault: Path
    notes: int
    notes_with_section: int
    cards: tuple[Card, ...]
    media: tuple[Media, ...]
    diagnostics: tuple[Diagnostic, ...] = field(default=())


class NoteConverter:
    """Reads notes and makes their cards; build once per run and per worker process."""

    def __init__(self, vault: Path, options: Options, journal: bool = True) -> None:
        self.vault = vault
        self.options = options
        self.journal = journal  # record what each result depends on (for the cache)
        md = make_markdown()
        self.finder = CardFinder(md, options.sections)
        self.resolver = MediaResolver(vault)
        self.store = MediaStore()
        self.renderer = CardRenderer(self.resolver, self.store, md)
        self._subjects = {_key(s) for s in options.subjects}

    def still_resolves(self, ref: str, note_dir: str, outcome: Lookup) -> bool:
        """Whether an image or note reference still finds what it found before."""
        return self.resolver.resolve(ref, note_dir) == outcome

    def convert(self, path: Path) -> NoteResult:
        """One note's cards, rendered; a note that cannot be read becomes a warning."""
        journal = Journal() if self.journal else None
        self.resolver.journal = self.store.journal = journal
        try:
            return self._convert(path, journal)
        except Exception as err:
            if not self.options.skip_on_bug:
                raise
            message = (
                f"skipped after an unexpected error ({type(err).__name__}: "
                f"{' '.join(str(err).split())}); "
                "run again with --debug to see where"
            )
            return NoteResult(
                diagnostics=(Diagnostic(vault_relpath(path, self.vault), None, message),)
            )
        finally:
            self.resolver.journal = self.store.journal = None

    def _convert(self, path: Path, journal: Journal | None) -> NoteResult:
        try:
            note, diagnostics = read_note(path, self.vault)
        except Memo2AnkiError as err:
            return NoteResult(
                diagnostics=(Diagnostic(vault_relpath(path, self.vault), None, _reason(err)),)
            )
        found = self.finder.find(note)
        diagnostics += found.diagnostics
        cards: list[Card] = []
        for card, front_tokens, tokens in zip(found.cards, found.fronts, found.tokens, strict=True):
            if self._subjects and _key(card.subject) not in self._subjects:
                continue
            front = self.renderer.render_front(front_tokens, path, note.relpath, card.line)
            rendered = self.renderer.render_tokens(tokens, path, note.relpath, found.footnotes)
            diagnostics += (*front.diagnostics, *rendered.diagnostics)
            if not _visible(front.html):
                diagnostics.append(empty_front(note.relpath, card.line))
                continue
            if not _visible(rendered.html):
                diagnostics.append(shows_nothing(note.relpath, card.line, card.front))
                continue
            media = {m.name: m for m in (*front.media, *rendered.media)}
            cards.append(
                replace(
                    card,
                    front_html=front.html,
                    back_html=rendered.html,
                    media=tuple(media.values()),
                    tags=tuple(dict.fromkeys((*card.tags, *rendered.tags))),
                )
            )
        diagnostics.sort(key=lambda d: d.line or 0)  # in file order (stable: ties keep theirs)
        return NoteResult(tuple(cards), tuple(diagnostics), found.sections > 0, journal)


def _key(text: str) -> str:
    return unicodedata.normalize("NFC", text).strip().casefold()


_TAG = re.compile(r"<[^>]*>")


def _visible(html: str) -> bool:
    """Whether card HTML shows anything: some text, or an image."""
    return "<img" in html or bool(_TAG.sub("", html).strip())


def _reason(err: Memo2AnkiError) -> str:
    # The error text starts with the note's path; the Diagnostic carries the path itself.
    text = str(err)
    _, sep, rest = text.partition(": ")
    return rest if sep else text


def study_order(card: Card) -> tuple[bool, str, str, int]:
    """Oldest note first (undated notes last), then the card's place in its note."""
    return (card.date is None, card.date.isoformat() if card.date else "", card.note, card.line)


# Worker processes pay for themselves only past this many notes (each must start and import).
PARALLEL_MIN_NOTES = 300

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
    converter = NoteConverter(vault, options, journal=cache is not None)
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
    for index, path in enumerate(notes):
        hit = cache.get(path, converter.still_resolves) if cache is not None else None
        if isinstance(hit, NoteResult):
            finished(index, hit)
        else:
            todo.append(index)
    workers = _workers(jobs, len(todo))
    if workers > 1:
        with ProcessPoolExecutor(
            workers, initializer=_start_worker, initargs=(vault, options, cache is not None)
        ) as pool:
            chunk = max(1, min(64, len(todo) // (workers * 8)))
            fresh = pool.map(_convert_in_worker, [notes[i] for i in todo], chunksize=chunk)
            for index, result in zip(todo, fresh, strict=True):
                finished(index, result)
    else:
        for index in todo:
            finished(index, converter.convert(notes[index]))
    if cache is not None:
        cache.flush()
    return gather(vault, len(notes), [r for r in results if r is not None], diagnostics)


def _workers(jobs: int, notes: int) -> int:
    if jobs == 0:
        return min(os.cpu_count() or 1, 8) if notes >= PARALLEL_MIN_NOTES else 1
    return max(1, min(jobs, notes))


_worker: NoteConverter | None = None


def _start_worker(vault: Path, options: Options, journal: bool) -> None:
    global _worker
    _worker = NoteConverter(vault, options, journal)


def _convert_in_worker(path: Path) -> NoteResult:
    assert _worker is not None, "worker not started"
    return _worker.convert(path)


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
    )
