"""One note in, its cards out: read it, find its memo cards, render each to card HTML.

Kept apart from :mod:`memo2anki.cards.convert` because it needs the markdown parser, which a
re-export whose notes all come from the cache never loads.
"""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from memo2anki.cards.checks.guard import note_warnings, safe_card, subject_warnings
from memo2anki.cards.checks.lint import unsupported_syntax
from memo2anki.cards.fields import tags as clean_tags
from memo2anki.cards.identity import content_digest, row_key
from memo2anki.cards.markdown.parser import make_markdown
from memo2anki.cards.memo import CardFinder, empty_front, shows_nothing
from memo2anki.cards.pictures.media import MediaResolver, MediaStore
from memo2anki.cards.render import CardRenderer, Rendered
from memo2anki.common.signals import default_signals_in_worker, ending_with_parent
from memo2anki.model import Card, Diagnostic, Journal, Memo2AnkiError, NoteResult, fold
from memo2anki.notes.reader import read_note, vault_relpath
from memo2anki.notes.tags import normalize_tag

if TYPE_CHECKING:
    from memo2anki.model import Options


class NoteConverter:
    """Reads notes and makes their cards; build once per run and per worker process."""

    def __init__(
        self,
        vault: Path,
        options: Options,
        journal: bool = True,
        resolver: MediaResolver | None = None,
    ) -> None:
        self.vault = vault
        self.options = options
        self.journal = journal  # record what each result depends on (for the cache)
        md = make_markdown()
        self.finder = CardFinder(md, options.sections)
        self.resolver = resolver or MediaResolver(vault)
        # A garden's note paths are relative to its notes folder, as in the vault.
        self.notes_root = self.resolver.notes
        self.pages = self.resolver.pages
        self.store = MediaStore()
        self.renderer = CardRenderer(self.resolver, self.store, md)
        self._subjects = {fold(s) for s in options.subjects}
        self._real_folders: dict[str, str] = {}  # see vault_relpath

    def convert(self, path: Path) -> NoteResult:
        """One note's cards, rendered; a note that cannot be read becomes a warning."""
        journal = Journal() if self.journal else None
        self.resolver.journal = self.store.journal = journal
        if self.resolver.pages is not None:
            self.resolver.pages.journal = journal
        self.renderer.start_note()
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
            return NoteResult(diagnostics=(Diagnostic(self._relpath(path), None, message),))
        finally:
            self.resolver.journal = self.store.journal = None
            if self.resolver.pages is not None:
                self.resolver.pages.journal = None

    def _relpath(self, path: Path) -> str:
        return vault_relpath(path, self.notes_root, self._real_folders)

    def _convert(self, path: Path, journal: Journal | None) -> NoteResult:
        try:
            note, diagnostics = read_note(path, self.notes_root, self._real_folders, self.pages)
        except Memo2AnkiError as err:
            return NoteResult(diagnostics=(Diagnostic(self._relpath(path), None, _reason(err)),))
        found = self.finder.find(note)
        diagnostics += found.diagnostics
        if found.cards:
            diagnostics += note_warnings(note)
        subjects_seen: set[str] = set()
        cards: list[Card] = []
        lint: list[Diagnostic] = []
        for index, (card, front_tokens, tokens) in enumerate(
            zip(found.cards, found.fronts, found.tokens, strict=True)
        ):
            # Rendering gives a back's tokens their inline children: let go of each card's
            # once it is made, or a big note holds the token tree of all its cards at once.
            found.tokens[index] = found.fronts[index] = []
            if self._subjects and fold(card.subject) not in self._subjects:
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
            lint += unsupported_syntax(tokens, note.relpath)  # tokens now rendered
            media = {m.name: m for m in (*front.media, *rendered.media)}
            card = replace(
                card,
                front_html=front.html,
                back_html=rendered.html,
                media=tuple(media.values()),
                tags=tuple(dict.fromkeys((*card.tags, *inline_tags(front, rendered)))),
            )
            # What the fields cannot hold as written, said here and made safe (the subject
            # and source when the package is written: they are part of the card's identity).
            card, warnings = safe_card(card)
            diagnostics += warnings
            if card.subject not in subjects_seen:
                subjects_seen.add(card.subject)
                diagnostics += subject_warnings(card)
            # Tags as Anki holds them, and the digest the ledger compares, of what is written.
            tags = clean_tags(card.tags)
            digest = content_digest(card.front_html, card.back_html, tags)
            card = replace(card, tags=tags, digest=digest)
            cards.append(replace(card, key=row_key(card)))
        diagnostics.sort(key=lambda d: d.line or 0)  # in file order (stable: ties keep theirs)
        subjects = tuple(dict.fromkeys(c.subject for c in found.cards))
        return NoteResult(
            tuple(cards), tuple(diagnostics), found.sections > 0, tuple(lint), subjects, journal
        )


def inline_tags(*texts: Rendered) -> list[str]:
    """The ``#tags`` of a card's own text (its front, then its back) as the note's other
    tags are made: ``#k8s/svc`` is ``k8s::svc``, as ``tags: [k8s/svc]`` is."""
    return [t for t in (normalize_tag(label) for text in texts for label in text.tags) if t]


_TAG = re.compile(r"<[^>]*>")


def _visible(html: str) -> bool:
    """Whether card HTML shows anything: some text, or an image."""
    # Tags end at the last `>`: past it, a stray `<` would be searched to the end each time.
    end = html.rfind(">") + 1
    return "<img" in html or bool((_TAG.sub("", html[:end]) + html[end:]).strip())


def _reason(err: Memo2AnkiError) -> str:
    # The error text starts with the note's path; the Diagnostic carries the path itself.
    text = str(err)
    _, sep, rest = text.partition(": ")
    return rest if sep else text


_worker: NoteConverter | None = None


def start_worker(vault: Path, options: Options, journal: bool, parent: int | None = None) -> None:
    """Set up a worker process: its own converter, used for every note it is given; with
    ``parent`` (the process id of the run that started it), it ends soon after that run is
    gone, even killed outright."""
    global _worker
    default_signals_in_worker()
    if parent is not None:
        ending_with_parent(parent)
    _worker = NoteConverter(vault, options, journal)


def convert_in_worker(path: Path) -> NoteResult:
    """One note's cards, in a worker process set up by :func:`start_worker`."""
    assert _worker is not None, "worker not started"
    return _worker.convert(path)
