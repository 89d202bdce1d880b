"""Obsidian math for Anki's MathJax: ``$x$`` becomes ``\\(x\\)`` and ``$$x$$`` ``\\[x\\]``.

Built on ``mdit_py_plugins.dollarmath`` (Pandoc's rules): no space just inside the dollars
(``$ x $`` stays text), no digit before the opener or after the closer (``$5 and $10``), and
``\\$`` is a literal dollar. One rule is added on top: the closer may not be followed by an
ASCII letter, digit or ``_``, so shell text such as ``$PATH:$HOME`` or ``$HOME/$USER`` stays text
(Korean particles, as in ``$n$개``, still follow math). Code spans and fences are never math.
A ``$$`` block may interrupt a paragraph, as in Obsidian.

Rendering, with the TeX HTML-escaped (MathJax reads the text, so ``&lt;`` is ``<`` to it):

- ``$x$`` -> ``\\(x\\)``
- ``$$x$$`` inside a paragraph -> ``\\[x\\]``
- ``$$`` lines ``$$`` (a block) -> ``<div class="math">\\[x\\]</div>``
"""

from __future__ import annotations

from collections.abc import Sequence
from weakref import WeakKeyDictionary

from markdown_it import MarkdownIt
from markdown_it.common.utils import escapeHtml
from markdown_it.renderer import RendererProtocol
from markdown_it.rules_block import StateBlock
from markdown_it.rules_inline import StateInline
from markdown_it.token import Token
from markdown_it.utils import EnvType, OptionsDict
from mdit_py_plugins.dollarmath import dollarmath_plugin
from mdit_py_plugins.dollarmath.index import math_block_dollar, math_inline_dollar

_INLINE = math_inline_dollar(allow_space=False, allow_digits=False, allow_double=True)
_BLOCK = math_block_dollar(allow_labels=False, allow_blank_lines=False)


def math_plugin(md: MarkdownIt) -> None:
    """Add ``$`` / ``$$`` math rendered with MathJax's ``\\(`` / ``\\[`` delimiters."""
    md.use(
        dollarmath_plugin,
        allow_labels=False,
        allow_space=False,
        allow_digits=False,
        allow_blank_lines=False,
        double_inline=True,
    )
    # Replace dollarmath's rules in place, keeping their positions (before `escape`/`fence`).
    md.inline.ruler.at("math_inline", _math_inline)
    # As in Obsidian, a `$$` line may interrupt a paragraph, like a fence.
    md.block.ruler.at(
        "math_block", _math_block, {"alt": ["paragraph", "reference", "blockquote", "list"]}
    )
    md.add_render_rule("math_inline", _render_inline)
    md.add_render_rule("math_inline_double", _render_display)
    md.add_render_rule("math_block", _render_block)


def _math_inline(state: StateInline, silent: bool) -> bool:
    """dollarmath's inline rule, refusing a closer followed by an ASCII word character."""
    start = state.pos
    if not _INLINE(state, True):
        return False
    after = state.src[state.pos] if state.pos < state.posMax else ""
    state.pos = start
    if after.isascii() and (after.isalnum() or after == "_"):
        return False
    return _INLINE(state, silent)


def _math_block(state: StateBlock, start_line: int, end_line: int, silent: bool) -> bool:
    """dollarmath's block rule, made safe and quick to call as a terminator (silent) check."""
    # The same first test as dollarmath's, without two calls for each of a note's lines.
    if not state.src.startswith("$$", state.bMarks[start_line] + state.tShift[start_line]):
        return False
    if not _closes(state, start_line, end_line):
        return False
    # dollarmath ignores `silent` and always pushes a token: called only to make one.
    return True if silent else _BLOCK(state, start_line, end_line, False)


# Per block state, the last `$$` line found never to close: (its line, the line where the
# search stopped). A paragraph asks at each of its lines whether a `$$` block starts there,
# and each search ran to the paragraph's end: `$$x` lines took time growing with their
# square. A later line inside that stretch cannot close either (no line of it ends with `$$`),
# unless the search may now pass the stopping line: it is not blank here and not the end.
_NEVER_CLOSED: WeakKeyDictionary[StateBlock, tuple[int, int]] = WeakKeyDictionary()


def _closes(state: StateBlock, start_line: int, end_line: int) -> bool:
    """Whether dollarmath's block rule (no labels, no blank lines) finds the block's end."""
    if state.is_code_block(start_line):
        return False
    start = state.bMarks[start_line] + state.tShift[start_line]
    first = state.src[start : state.eMarks[start_line]]
    if len(first) < 2:
        return False
    if len(first.strip()) > 3:
        if first.strip().endswith("$$"):
            return True
        if "$$" in first[2:]:
            return False
    known = _NEVER_CLOSED.get(state)
    if known is not None and known[0] < start_line < known[1]:
        stop = known[1]
        if stop >= end_line or not _line(state, stop).strip():
            return False
    line = start_line + 1
    while line < end_line:
        text = _line(state, line).strip()
        if text.endswith("$$"):
            return True
        if not text:
            break
        line += 1
    _NEVER_CLOSED[state] = (start_line, line)
    return False


def _line(state: StateBlock, line: int) -> str:
    return state.src[state.bMarks[line] + state.tShift[line] : state.eMarks[line]]


def _tex(token: Token) -> str:
    return escapeHtml(token.content.strip())


def _render_inline(
    self: RendererProtocol,
    tokens: Sequence[Token],
    idx: int,
    options: OptionsDict,
    env: EnvType,
) -> str:
    return f"\\({_tex(tokens[idx])}\\)"


def _render_display(
    self: RendererProtocol,
    tokens: Sequence[Token],
    idx: int,
    options: OptionsDict,
    env: EnvType,
) -> str:
    return f"\\[{_tex(tokens[idx])}\\]"


def _render_block(
    self: RendererProtocol,
    tokens: Sequence[Token],
    idx: int,
    options: OptionsDict,
    env: EnvType,
) -> str:
    return f'<div class="math">\\[{_tex(tokens[idx])}\\]</div>\n'
