"""Highlight fenced code with Pygments, as inline styles: nothing for a card to fetch."""

from __future__ import annotations

from functools import lru_cache
from typing import Any, ClassVar

from pygments import highlight
from pygments.formatters import HtmlFormatter
from pygments.lexer import Lexer
from pygments.lexers import get_lexer_by_name
from pygments.styles.default import DefaultStyle
from pygments.token import Whitespace
from pygments.util import ClassNotFound


class _CardStyle(DefaultStyle):  # type: ignore[misc]  # pygments has no type hints
    """Pygments' default colours, without the one for whitespace: a colour on spaces shows
    nothing, and a ``<span>`` around every run of spaces made code cards an eighth bigger."""

    styles: ClassVar[dict[Any, str]] = {**DefaultStyle.styles, Whitespace: ""}


_FORMATTER = HtmlFormatter(noclasses=True, nowrap=True, style=_CardStyle)


@lru_cache(maxsize=128)
def _lexer(lang: str) -> Lexer | None:
    try:
        return get_lexer_by_name(lang, stripnl=False, ensurenl=False)
    except ClassNotFound:
        return None


def highlight_code(code: str, lang: str, _attrs: Any) -> str:
    """Highlighted HTML for markdown-it's ``highlight`` option; empty for unknown languages,
    which markdown-it then shows as plain escaped text."""
    lexer = _lexer(lang.strip().lower()) if lang.strip() else None
    if lexer is None:
        return ""
    return str(highlight(code, lexer, _FORMATTER))
