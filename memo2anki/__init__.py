"""memo2anki: turn the study memos in Obsidian daily notes into Anki cards."""

from memo2anki.cards.convert import convert
from memo2anki.model import Card, Diagnostic, Media, Memo2AnkiError, Note, Options, Result
from memo2anki.targets.package import write_package

__version__ = "0.1.0"

__all__ = [
    "Card",
    "Diagnostic",
    "Media",
    "Memo2AnkiError",
    "Note",
    "Options",
    "Result",
    "__version__",
    "convert",
    "write_package",
]
