"""Obsidian comments: ``%%hidden%%`` is removed from the output.

- Inline: ``text %%hidden%% text``, also across the lines of one paragraph.
- Block: lines from one starting with ``%%`` to one ending with ``%%`` (blank lines allowed in
  between) vanish without leaving an empty paragraph; such a block may interrupt a paragraph.
- Across blocks: Obsidian hides everything from ``%%`` to the next ``%%``, blank lines,
  headings and bold lines included (and the Digital Garden plugin publishes the note with
  all of it removed). Before the block parse, such a comment is made one the rules above
  read (:func:`_comment_spans`), every line kept where it is: the lines it hides become part
  of one inline comment, continuing the paragraph it opens in, so ``before %% ...`` and
  ``... %% after`` show ``before  after`` as one line; opened in a heading (or any other
  block that is not a paragraph), what follows the comment joins that line and the lines it
  hides are left blank.

``%%`` inside code spans, fenced or indented code and math blocks is text, and so is an
unclosed ``%%``. Obsidian hides everything after an unclosed ``%%``; a stray ``%%`` would then
silently empty the rest of a card, so here it is shown as written instead.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Sequence

from markdown_it import MarkdownIt
from markdown_it.renderer import RendererProtocol
from markdown_it.rules_block import StateBlock
from markdown_it.rules_core import StateCore
from markdown_it.rules_inline import StateInline
from markdown_it.token import Token
from markdown_it.utils import EnvType, OptionsDict

_MARK = "%%"
# What a scan for comments stops at: a backslash escape, a run of backticks (a code span's
# opening), a comment's mark.
_SCAN = re.compile(r"\\[!-/:-@\[-`{-~]|`+|%%")
# The end of a paragraph, which no code span crosses.
_BLANK_LINE = re.compile(r"\n[ \t]*(?:\n|$)")
# What may stand before a ``%%`` that opens a whole-line (block) comment: indentation and the
# markers of the quotes and list items it is in.
_BLOCK_PREFIX = re.compile(r"(?:[ \t>]|[-+*][ \t]|\d{1,9}[.)][ \t])*")
# Blocks whose text is never read for comments.
_OPAQUE = frozenset({"fence", "code_block", "math_block"})
# What a line a comment hides becomes inside a paragraph: not blank, no block's start, no
# inline rule's; and nothing a reader would see, should it ever be shown (the word joiner).
_HIDDEN_LINE = "\u2060"


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
    md.core.ruler.after("normalize", "obsidian_comment_spans", _comment_spans)
    md.add_render_rule("obsidian_comment", _render_nothing)


def _comment_spans(state: StateCore) -> None:
    """Make each comment that spans lines, and is not a block of whole lines, one that the
    block and inline rules hide as Obsidian does (see the module's docstring); every line
    stays where it is, so line numbers do not change."""
    src = state.src
    if _MARK not in src or not any(_spans_lines(src, o, c) for o, c in comments(src)):
        return  # nearly always
    # Where code and math blocks are, and which lines are a paragraph's, from a parse of
    # the note as it is: only when a comment spans lines.
    probe: list[Token] = []
    state.md.block.parse(src, state.md, {}, probe)
    starts = [0, *(match.end() for match in re.finditer("\n", src))]
    opaque: list[tuple[int, int]] = []
    paragraph: set[int] = set()
    for tok in probe:
        if tok.map is None:
            continue
        if tok.type in _OPAQUE:
            end = starts[tok.map[1]] if tok.map[1] < len(starts) else len(src)
            opaque.append((starts[tok.map[0]], end))
        elif tok.type == "paragraph_open":
            paragraph.update(range(*tok.map))
    out: list[str] = []
    done = 0
    for opening, closing in comments(src, sorted(opaque)):
        if not _spans_lines(src, opening, closing):
            continue
        out.append(src[done:opening])
        hidden = src.count("\n", opening, closing)
        if bisect_right(starts, opening) - 1 in paragraph:
            # `%%`, a hidden line for each it spans, and the closing line from its `%%`.
            out.append(_MARK + f"\n{_HIDDEN_LINE}" * hidden)
            done = closing
        else:
            # What follows the comment on its closing line joins the opening line.
            line_end = src.find("\n", closing)
            line_end = len(src) if line_end < 0 else line_end
            out.append(src[closing + len(_MARK) : line_end] + "\n" * hidden)
            done = line_end
    state.src = "".join(out) + src[done:]


def _spans_lines(src: str, opening: int, closing: int) -> bool:
    """Whether the comment from ``opening`` to ``closing`` spans lines and is not a block of
    whole lines (which the block rule hides)."""
    if src.find("\n", opening, closing) < 0:
        return False
    line_start = src.rfind("\n", 0, opening) + 1
    line_end = src.find("\n", closing)
    after = src[closing + len(_MARK) : len(src) if line_end < 0 else line_end]
    return bool(after.strip()) or not _BLOCK_PREFIX.fullmatch(src, line_start, opening)


def shown_lines(text: str) -> list[tuple[int, int]]:
    """The lines of a paragraph's ``text`` as shown, each as its first and last line (0-based):
    a comment that spans lines makes them one."""
    count = text.count("\n") + 1
    if _MARK not in text:
        return [(k, k) for k in range(count)]
    joined: set[int] = set()  # lines whose line end a comment hides
    line = done = 0
    for opening, closing in comments(text):
        line += text.count("\n", done, opening)
        hidden = text.count("\n", opening, closing)
        joined.update(range(line, line + hidden))
        line, done = line + hidden, closing
    shown = []
    first = 0
    for k in range(count):
        if k not in joined:
            shown.append((first, k))
            first = k + 1
    return shown


def comments(src: str, opaque: Sequence[tuple[int, int]] = ()) -> list[tuple[int, int]]:
    """Each closed comment in ``src``, as the index of its opening and of its closing ``%%``:
    each ``%%`` opens one that the next closes, as Obsidian reads them, but for a ``%%`` that
    is escaped (outside a comment), in a code span, or in the ``opaque`` ranges (code blocks,
    sorted)."""
    found: list[tuple[int, int]] = []
    starts = [start for start, _ in opaque]
    opening: int | None = None
    pos = 0
    paragraph_end = -1  # where the paragraph of the last code span seen ends
    while (match := _SCAN.search(src, pos)) is not None:
        at = match.start()
        k = bisect_right(starts, at) - 1
        if k >= 0 and at < opaque[k][1]:
            pos = opaque[k][1]
        elif src[at] == "\\":
            # An escape is read outside a comment only (as the inline rules do).
            pos = match.end() if opening is None else at + 1
        elif src[at] == "`":
            if at > paragraph_end:  # found once for each paragraph, not each code span
                blank = _BLANK_LINE.search(src, at)
                paragraph_end = blank.start() if blank else len(src)
            pos = _skip_code_span(src, at, paragraph_end)
        elif opening is None:
            opening, pos = at, match.end()
        else:
            found.append((opening, at))
            opening, pos = None, match.end()
    return found


def _comment_inline(state: StateInline, silent: bool) -> bool:
    """Skip ``%%...%%``; nothing renders. One that spans lines leaves a token saying how many
    (``meta["lines"]``), so that what follows it is told on its own line in a warning."""
    start = state.pos
    if not state.src.startswith(_MARK, start):
        return False
    close = _find_closing(state.src, start + len(_MARK), state.posMax)
    if close < 0:
        return False
    if not silent and (lines := state.src.count("\n", start, close)):
        # Put before the text pending in front of it (state.push would end that text): the
        # text on both sides stays one, as if the comment were not there (a space before a
        # line break is still trimmed, two still make a hard break).
        token = Token("obsidian_comment", "", 0, level=state.level, meta={"lines": lines})
        state.tokens.append(token)
        state.tokens_meta.append(None)
    state.pos = close + len(_MARK)
    return True


def _render_nothing(
    _self: RendererProtocol,
    _tokens: Sequence[Token],
    _idx: int,
    _options: OptionsDict,
    _env: EnvType,
) -> str:
    return ""


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
