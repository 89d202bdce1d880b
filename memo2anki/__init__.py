"""memo2anki: turn the study memos in Obsidian daily notes into Anki cards."""

from .convert import Options, Result, convert
from .model import Card, Diagnostic, Media, Memo2AnkiError, Note
from .package import write_package

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
