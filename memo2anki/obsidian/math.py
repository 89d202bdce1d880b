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
    """dollarmath's block rule, made safe to call as a terminator (silent) check."""
    # The same first test as dollarmath's, without two calls for each of a note's lines.
    if not state.src.startswith("$$", state.bMarks[start_line] + state.tShift[start_line]):
        return False
    if not silent:
        return _BLOCK(state, start_line, end_line, False)
    # dollarmath ignores `silent` and always pushes a token; undo its effects.
    tokens, line = len(state.tokens), state.line
    found = _BLOCK(state, start_line, end_line, False)
    del state.tokens[tokens:]
    state.line = line
    return found


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
