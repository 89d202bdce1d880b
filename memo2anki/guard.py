"""Warnings, by file and line, for what a card's fields cannot hold as written.

The fields are made safe when the package is written (:mod:`memo2anki.fields`); this says
where the note asked for something else: characters Anki's format reserves, and text that
would act when the card is shown (see :mod:`memo2anki.inert`).
"""

from __future__ import annotations

import re

from .fields import RESERVED, reserved_names
from .inert import inert
from .model import Card, Diagnostic, Note

_ESCAPE = re.compile(r"\\(?=[!-/:-@\[-`{-~])")  # a markdown backslash escape
_ANKI_TAGS = {
    "[latex]": "runs LaTeX",
    "[$]": "runs LaTeX",
    "[$$]": "runs LaTeX",
    "[sound:": "plays a sound",
    "[anki:tts": "speaks it",
}


def _reserved(names: list[str], where: str) -> str:
    listed = ", ".join(names)
    return f"{where} holds {listed}, which Anki's format reserves; left out of the card"


def _acting(name: str, where: str) -> str:
    if name in _ANKI_TAGS:
        return f"{where} holds {name}, which Anki {_ANKI_TAGS[name]} on; shown as text"
    what = "loads code or fonts" if name in {"\\require", "\\unicode"} else "links or styles"
    return f"{where} holds {name}, which Anki's MathJax {what} with; shown as text"


def note_warnings(note: Note) -> list[Diagnostic]:
    """What the note's file name (its cards' Source) and tags cannot hold as written."""
    warnings = []
    if names := reserved_names(note.relpath):
        warnings.append(Diagnostic(note.relpath, None, _reserved(names, "the file name")))
    for name in inert(note.relpath)[1]:
        warnings.append(Diagnostic(note.relpath, None, _acting(name, "the file name")))
    tag_names = reserved_names("".join(note.tags))
    if tag_names:
        warnings.append(Diagnostic(note.relpath, 1, _reserved(tag_names, "a tag")))
    return warnings


def subject_warnings(card: Card) -> list[Diagnostic]:
    """What a subject heading cannot hold as written (for its first card's line)."""
    where = f"the subject '{RESERVED.sub('', card.subject)}'"
    warnings = []
    if names := reserved_names(card.subject):
        warnings.append(Diagnostic(card.note, card.line, _reserved(names, where)))
    for name in inert(card.subject)[1]:
        warnings.append(Diagnostic(card.note, card.line, _acting(name, where)))
    return warnings


def card_warnings(card: Card) -> list[Diagnostic]:
    """What a rendered card's front and back cannot hold as written, each at the line of the
    note that holds it (the heading's, when it came from elsewhere: an embedded note, a
    character reference)."""
    warnings: list[Diagnostic] = []
    lines = card.back_markdown.split("\n") if RESERVED.search(card.back_markdown) else []
    for offset, line in enumerate(lines):
        if names := reserved_names(line):
            warnings.append(
                Diagnostic(card.note, card.back_line + offset, _reserved(names, "the line"))
            )
    if names := reserved_names(card.front):
        warnings.append(Diagnostic(card.note, card.line, _reserved(names, "the heading")))
    if not warnings and (names := reserved_names(card.front_html + card.back_html)):
        warnings.append(Diagnostic(card.note, card.line, _reserved(names, "the card")))
    for name in dict.fromkeys((*inert(card.front_html)[1], *inert(card.back_html)[1])):
        warnings.append(Diagnostic(card.note, _line_of(card, name), _acting(name, "the card")))
    return warnings


def _line_of(card: Card, name: str) -> int:
    """The first line of the card's source that holds ``name`` (any case, as markdown shows
    it: ``[\\$]`` is ``[$]``), else the heading's."""
    wanted = name.lower()
    for offset, line in enumerate(card.back_markdown.lower().split("\n")):
        if wanted in line or wanted in _ESCAPE.sub("", line):
            return card.back_line + offset
    return card.line
