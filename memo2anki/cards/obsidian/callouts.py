"""Obsidian callouts: a blockquote whose first line is ``[!type]``, ``[!type] Title``,
``[!type]+ Title`` or ``[!type]- Title``.

Rendered as::

    <div class="callout" data-callout="type">
    <div class="callout-title">Title</div>
    <div class="callout-content">
    ...
    </div>
    </div>

Foldable callouts (``+`` open, ``-`` closed) become ``<details class="callout"
data-callout="type">`` (with ``open=""`` for ``+``) and a ``<summary class="callout-title">``,
so the card keeps Obsidian's fold without any script. ``data-callout`` is the type in lower
case exactly as written, like Obsidian does, so aliases (``faq``) and unknown types keep their
name and a stylesheet falls back to plain ``.callout`` for types it does not know;
:data:`CALLOUT_TYPES` maps Obsidian's aliases to their base type for such a stylesheet. The
title is inline markdown and defaults to the capitalised type. Callouts nest.

Implemented as a core rule between ``block`` and ``inline``: it rewrites blockquote tokens and
splits the marker line off the first paragraph before that paragraph is parsed inline.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from markdown_it import MarkdownIt
from markdown_it.rules_core import StateCore
from markdown_it.token import Token

from .comments import comments

# Obsidian's built-in types and aliases, alias -> base type.
CALLOUT_TYPES: dict[str, str] = {
    "note": "note",
    "abstract": "abstract",
    "summary": "abstract",
    "tldr": "abstract",
    "info": "info",
    "todo": "todo",
    "tip": "tip",
    "hint": "tip",
    "important": "tip",
    "success": "success",
    "check": "success",
    "done": "success",
    "question": "question",
    "help": "question",
    "faq": "question",
    "warning": "warning",
    "caution": "warning",
    "attention": "warning",
    "failure": "failure",
    "fail": "failure",
    "missing": "failure",
    "danger": "danger",
    "error": "danger",
    "bug": "bug",
    "example": "example",
    "quote": "quote",
    "cite": "quote",
}

_HEADER = re.compile(r"^\[!([\w-]+)\]([+-]?)[ \t]*(.*)$")


@dataclass(frozen=True)
class Callout:
    """A parsed ``[!type]fold title`` line."""

    kind: str
    fold: str
    title: str


def callouts_plugin(md: MarkdownIt) -> None:
    """Turn ``> [!type] Title`` blockquotes into callouts."""
    # markdown-it-py's GitHub alerts would claim `> [!NOTE]` first; callouts cover them.
    md.options["alerts"] = False
    md.core.ruler.after("block", "callouts", _callouts_rule)


def parse_header(line: str) -> Callout | None:
    """Parse the first line of a blockquote, or None if it is no callout marker."""
    match = _HEADER.match(line.strip())
    if match is None:
        return None
    kind = match.group(1).lower()
    title = match.group(3).strip() or kind.capitalize()
    return Callout(kind, match.group(2), title)


def _callouts_rule(state: StateCore) -> None:
    """Rebuild the token stream with callouts in place of their blockquotes."""
    if "[!" not in state.src:  # no callout marker anywhere: nothing to rebuild
        return
    out: list[Token] = []
    # One entry per open blockquote: the callout's tag, or None for a plain quote.
    stack: list[str | None] = []
    tokens = state.tokens
    i = 0
    while i < len(tokens):
        token = tokens[i]
        closing_tag = stack.pop() if token.type == "blockquote_close" else None
        # Each enclosing callout adds one level: its content div.
        token.level += sum(tag is not None for tag in stack)
        if token.type == "blockquote_open":
            callout = _header_of(tokens, i)
            stack.append(None if callout is None else _tag(callout))
            if callout is not None:
                out.extend(_open_tokens(token, callout))
                out.extend(_body_start(tokens[i + 1 : i + 4], token.level + 2))
                i += 4
                continue
        elif closing_tag is not None:
            out.extend(_close_tokens(closing_tag, token.level))
            i += 1
            continue
        out.append(token)
        i += 1
    state.tokens = out


def _header_of(tokens: list[Token], i: int) -> Callout | None:
    """The callout marker at the start of the blockquote opened at ``tokens[i]``."""
    if i + 3 >= len(tokens) or tokens[i + 1].type != "paragraph_open":
        return None
    return parse_header(_split(tokens[i + 2].content)[0])


def _tag(callout: Callout) -> str:
    return "details" if callout.fold else "div"


def _open_tokens(quote: Token, callout: Callout) -> list[Token]:
    """Callout opening, title and content opening, replacing the blockquote opening."""
    tag, title_tag = ("details", "summary") if callout.fold else ("div", "div")
    attrs: dict[str, str | int | float] = {"class": "callout", "data-callout": callout.kind}
    if callout.fold == "+":
        attrs["open"] = ""
    level = quote.level
    opening = _token("callout_open", tag, 1, level, attrs)
    opening.map = quote.map
    opening.info = callout.kind
    opening.meta = {"kind": callout.kind, "fold": callout.fold or None, "title": callout.title}
    title = _token("inline", "", 0, level + 2)
    title.content = callout.title
    title.map = [quote.map[0], quote.map[0] + 1] if quote.map else None
    title.children = []
    return [
        opening,
        _token("callout_title_open", title_tag, 1, level + 1, {"class": "callout-title"}),
        title,
        _token("callout_title_close", title_tag, -1, level + 1),
        _token("callout_content_open", "div", 1, level + 1, {"class": "callout-content"}),
    ]


def _body_start(paragraph: list[Token], level: int) -> list[Token]:
    """The first paragraph without its marker line; nothing if that line was all of it."""
    para_open, inline, para_close = paragraph
    _, rest, lines = _split(inline.content)
    if not rest.strip():
        return []
    inline.content = rest
    if para_open.map:
        para_open.map = [para_open.map[0] + lines, para_open.map[1]]
        inline.map = list(para_open.map)
    para_open.level = para_close.level = level
    inline.level = level + 1
    return [para_open, inline, para_close]


def _split(content: str) -> tuple[str, str, int]:
    """The marker line of a callout's first paragraph, the rest, and how many lines the rest
    starts after. A comment opened in the marker line and closed in a line under it (``> [!tip]
    T %% c`` / ``> inside %% out``) is taken out of both, as Obsidian hides it: the title is
    what stands before it (``T``), the rest what follows it (``out``)."""
    line, newline, rest = content.partition("\n")
    if "%%" in line:
        for opening, closing in comments(content):
            if opening > len(line):
                break
            if closing > len(line):
                lines = content.count("\n", 0, closing)
                after = content[closing + 2 :]
                first, newline, below = after.partition("\n")
                if newline and not first.strip():  # nothing follows it on its line
                    return content[:opening], below, lines + 1
                return content[:opening], after.lstrip(" \t"), lines
    return line, rest, 1


def _close_tokens(tag: str, level: int) -> list[Token]:
    """Content and callout closings, replacing the blockquote closing."""
    return [
        _token("callout_content_close", "div", -1, level + 1),
        _token("callout_close", tag, -1, level),
    ]


def _token(
    kind: str,
    tag: str,
    nesting: Literal[-1, 0, 1],
    level: int,
    attrs: dict[str, str | int | float] | None = None,
) -> Token:
    token = Token(kind, tag, nesting, attrs=attrs or {}, level=level)
    token.block = True
    return token
