"""Warnings, by file and line, for what a card's fields cannot hold as written.

The fields are made safe when the package is written (:mod:`memo2anki.cards.fields`); this says
where the note asked for something else: characters Anki's format reserves, and text that
would act when the card is shown (see :mod:`memo2anki.cards.checks.inert`).
"""

from __future__ import annotations

import re
from dataclasses import replace

from memo2anki.cards.checks.inert import inert
from memo2anki.cards.fields import RESERVED, reserved_names, scrub
from memo2anki.model import Card, Diagnostic, Note

_ESCAPE = re.compile(r"\\(?=[!-/:-@\[-`{-~])")  # a markdown backslash escape
# What showing the card would do with each, for the warning.
_ACTIONS = {
    "[latex]": "Anki would run LaTeX on it",
    "[$]": "Anki would run LaTeX on it",
    "[$$]": "Anki would run LaTeX on it",
    "[sound:": "Anki would play a file",
    "[anki:tts": "Anki would speak it",
    "\\href": "Anki's MathJax would make a link of it",
    "\\style": "Anki's MathJax would make a style of it",
    "\\bbox": "Anki's MathJax would make a style of it",
    "\\class": "Anki's MathJax would give the math a class",
    "\\cssId": "Anki's MathJax would give the math an id",
    "\\data": "Anki's MathJax would give the math attributes",
    "\\mmlToken": "Anki's MathJax would give the math attributes",
    "\\unicode": "Anki's MathJax would look up a font",
    "\\require": "Anki's MathJax would load an extension",
}


def _reserved(names: list[str], where: str) -> str:
    listed = ", ".join(names)
    return f"{where} holds {listed}, which Anki's format reserves; left out of the card"


def _acting(name: str, where: str) -> str:
    return f"{where} holds {name} ({_ACTIONS.get(name, 'Anki would act on it')}); shown as text"


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


def safe_card(card: Card) -> tuple[Card, list[Diagnostic]]:
    """The card with its front and back HTML made inert and scrubbed (as
    :func:`memo2anki.cards.fields.html_field` does), and warnings for what they held, each at the
    line of the note that holds it (the heading's, when it came from elsewhere: an embedded
    note, a character reference)."""
    front_html, front_found = inert(card.front_html)
    back_html, back_found = inert(card.back_html)
    warnings = [
        Diagnostic(card.note, _line_of(card, name), _acting(name, "the card"))
        for name in dict.fromkeys((*front_found, *back_found))
    ]
    # The rendered HTML first: what is not in it (a comment's text) needs no warning.
    if RESERVED.search(front_html) or RESERVED.search(back_html):
        warnings += _reserved_lines(card) or [
            Diagnostic(
                card.note, card.line, _reserved(reserved_names(front_html + back_html), "the card")
            )
        ]
        front_html, back_html = scrub(front_html), scrub(back_html)
    if front_html is card.front_html and back_html is card.back_html:
        return card, warnings
    return replace(card, front_html=front_html, back_html=back_html), warnings


def _reserved_lines(card: Card) -> list[Diagnostic]:
    """A warning for each line of the card's source holding reserved characters."""
    warnings = []
    if names := reserved_names(card.front):
        warnings.append(Diagnostic(card.note, card.line, _reserved(names, "the heading")))
    for offset, line in enumerate(card.back_markdown.split("\n")):
        if names := reserved_names(line):
            where = card.back_line + offset
            warnings.append(Diagnostic(card.note, where, _reserved(names, "the line")))
    return warnings


def _line_of(card: Card, name: str) -> int:
    """The first line of the card's source that holds ``name`` (any case, as markdown shows
    it: ``[\\$]`` is ``[$]``), else the heading's."""
    wanted = name.lower()
    for offset, line in enumerate(card.back_markdown.lower().split("\n")):
        if wanted in line or wanted in _ESCAPE.sub("", line):
            return card.back_line + offset
    return card.line
