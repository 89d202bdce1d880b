"""Obsidian comments: ``%%hidden%%`` is removed from the output.

- Inline: ``text %%hidden%% text``, also across the lines of one paragraph.
- Block: lines from one starting with ``%%`` to one ending with ``%%`` (blank lines allowed in
  between) vanish without leaving an empty paragraph; such a block may interrupt a paragraph.

``%%`` inside code spans, fenced or indented code is text, and so is an unclosed ``%%``.
Obsidian hides everything after an unclosed ``%%``; a stray ``%%`` would then silently empty
the rest of a card, so here it is shown as written instead.
"""

from __future__ import annotations

from markdown_it import MarkdownIt
from markdown_it.rules_block import StateBlock
from markdown_it.rules_inline import StateInline

_MARK = "%%"


def comments_plugin(md: MarkdownIt) -> None:
    """Remove ``%%comments%%``: a block rule for whole-line comments, an inline rule otherwise."""
    # Alt rules as for fences: a comment block may interrupt a paragraph, quote or list.
    md.block.ruler.before(
        "fence",
        "obsidian_comment",
        _comment_block,
        {"alt": ["paragraph", "reference", "blockquote", "list"]},
    )
    md.inline.ruler.before("backticks", "obsidian_comment", _comment_inline)


def _comment_inline(state: StateInline, silent: bool) -> bool:
    """Skip ``%%...%%``; nothing is pushed, so nothing renders."""
    start = state.pos
    if not state.src.startswith(_MARK, start):
        return False
    close = _find_closing(state.src, start + len(_MARK), state.posMax)
    if close < 0:
        return False
    state.pos = close + len(_MARK)
    return True


def _find_closing(src: str, pos: int, end: int) -> int:
    """Index of the next ``%%`` in ``src[pos:end]`` outside code spans, or -1."""
    while pos < end:
        if src.startswith(_MARK, pos):
            return pos
        if src[pos] == "`":
            pos = _skip_code_span(src, pos, end)
        else:
            pos += 1
    return -1


def _skip_code_span(src: str, pos: int, end: int) -> int:
    """Position after the code span opening at ``pos``, or after its backticks if unclosed."""
    run_end = pos
    while run_end < end and src[run_end] == "`":
        run_end += 1
    run = src[pos:run_end]
    search = run_end
    while (found := src.find(run, search, end)) >= 0:
        after = found + len(run)
        # The closer must be a run of exactly the same length.
        if after >= end or src[after] != "`":
            return after
        while after < end and src[after] == "`":
            after += 1
        search = after
    return run_end


def _comment_block(state: StateBlock, start_line: int, end_line: int, silent: bool) -> bool:
    """Consume lines from a ``%%`` line start to the line that ends with the closing ``%%``."""
    if state.is_code_block(start_line):
        return False
    pos = state.bMarks[start_line] + state.tShift[start_line]
    if not state.src.startswith(_MARK, pos):
        return False
    last = _closing_line(state, start_line, end_line, pos + len(_MARK))
    if last is None:
        return False
    if not silent:
        state.line = last + 1
    return True


def _closing_line(state: StateBlock, start_line: int, end_line: int, pos: int) -> int | None:
    """The line whose first ``%%`` closes the comment and ends it, or None."""
    line = start_line
    while line < end_line:
        end = state.eMarks[line]
        close = state.src.find(_MARK, pos, end)
        if close >= 0:
            # Text after the closer makes this an inline comment in a paragraph.
            return line if not state.src[close + len(_MARK) : end].strip() else None
        line += 1
        if line < end_line:
            pos = state.bMarks[line] + state.tShift[line]
    return None
