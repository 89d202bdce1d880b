"""Obsidian comments: ``%%hidden%%`` is removed from the output.

- Inline: ``text %%hidden%% text``, also across the lines of one paragraph.
- Block: lines from one starting with ``%%`` to one ending with ``%%`` (blank lines allowed in
  between) vanish without leaving an empty paragraph; such a block may interrupt a paragraph.
- Across blocks: Obsidian hides everything from ``%%`` to the next ``%%``, blank lines,
  headings and bold lines included (and the Digital Garden plugin publishes the note with
  all of it removed). Before the block parse, such a comment is made one the rules above
  read (:func:`_comment_spans`), every line kept where it is, so that the note shows what
  the published note (the comment taken out) shows:

  - opened after text in a paragraph (or where what follows it goes on with the paragraph),
    the lines it hides become part of one inline comment: ``before %% ...`` and
    ``... %% after`` show ``before  after`` as one line;
  - opened at the start of a line, where what follows it starts a block of its own (a
    paragraph, a heading, a list item...), the lines it hides become a block comment and
    that block starts on the line the comment closes on;
  - opened in a heading (or any other block that is not a paragraph), or closed before a
    setext underline, what follows the comment joins the line it opens on, and the lines it
    hides are left blank after it.

``%%`` inside code spans, inline math (``$a %% b$``, as :mod:`.math` reads it: outside a
comment, where the inline rules meet it first), fenced or indented code and math blocks is
text, and so is an unclosed ``%%``. Obsidian hides everything after an unclosed ``%%``; a
stray ``%%`` would then silently empty the rest of a card, so here it is shown as written
instead.
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
# opening), a dollar (inline math's), a comment's mark.
_SCAN = re.compile(r"\\[!-/:-@\[-`{-~]|`+|\$|%%")
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
    paragraph: set[int] = set()  # the lines of paragraphs
    first: set[int] = set()  # the first line of each
    for tok in probe:
        if tok.map is None:
            continue
        if tok.type in _OPAQUE:
            end = starts[tok.map[1]] if tok.map[1] < len(starts) else len(src)
            opaque.append((starts[tok.map[0]], end))
        elif tok.type == "paragraph_open":
            paragraph.update(range(*tok.map))
            first.add(tok.map[0])
    out: list[str] = []
    done = 0
    owed = 0  # line ends taken out, to be put back at the end of the line they were moved to

    def copy(end: int) -> None:
        nonlocal owed
        text = src[done:end]
        if owed and (at := text.find("\n")) >= 0:
            text = text[:at] + "\n" * owed + text[at:]
            owed = 0
        out.append(text)

    # The end of the line the last comment closed on, and whether what follows it there is
    # in a paragraph now: a comment opened on that line goes by this, not by the probe.
    last_end, last_in_paragraph = -1, False
    for opening, closing in comments(src, sorted(opaque)):
        if not _spans_lines(src, opening, closing):
            continue
        copy(opening)
        line = bisect_right(starts, opening) - 1
        hidden = src.count("\n", opening, closing)
        line_end = src.find("\n", closing)
        line_end = len(src) if line_end < 0 else line_end
        after = src[closing + len(_MARK) : line_end]
        if opening < last_end:
            in_paragraph, kind, before = last_in_paragraph, "inline", ""
        else:
            before = src[starts[line] : opening]
            # What the closing line's rest is, when it starts a line (the comment opens one).
            kind = "inline" if before.strip() else _line_kind(state.md, before + after)
            in_paragraph = line in paragraph
        last_end = line_end
        if not in_paragraph or kind == "underline":
            # What follows the comment on its closing line joins the opening line; the
            # lines it hides are left blank after it (after a heading, or a paragraph made
            # one by an underline, a blank line changes nothing).
            owed += hidden
            last_in_paragraph = False
        elif kind == "inline" or (kind == "text" and line not in first):
            # `%%`, a hidden line for each it spans, and the closing line from its `%%`: one
            # inline comment, so that what follows it goes on with the line it opens in.
            out.append(_MARK + f"\n{_HIDDEN_LINE}" * hidden)
            done = closing
            last_in_paragraph = True
            continue
        else:
            # What follows it starts a line of its own (a paragraph, a heading, a list...):
            # the lines it hides are a block comment, and that line comes after it.
            block = [_MARK, *[_HIDDEN_LINE] * (hidden - 1)]
            block[-1] += _MARK
            out.append("\n".join(block) + "\n" + before)
            last_in_paragraph = _in_paragraph(state.md, before + after)
        done = closing + len(_MARK)
    copy(len(src))
    state.src = "".join(out) + "\n" * owed


def _in_paragraph(md: MarkdownIt, line: str) -> bool:
    """Whether the end of ``line`` is paragraph text (as in a list item or a quote), not a
    heading's, a table's or a rule's."""
    tokens: list[Token] = []
    md.block.parse(line, md, {}, tokens)
    return any(tok.type == "paragraph_open" for tok in tokens)


def _line_kind(md: MarkdownIt, line: str) -> str:
    """What ``line`` is right under a line of a paragraph: ``text`` that goes on with it, the
    ``underline`` of a setext heading, or the start of a block of its ``own`` (a heading, list
    item, quote, fence or rule)."""
    tokens: list[Token] = []
    md.block.parse(f"x\n{line}", md, {}, tokens)
    if tokens and tokens[0].map == [0, 2]:
        if tokens[0].type == "paragraph_open":
            return "text"
        if tokens[0].type == "heading_open" and tokens[0].markup in {"-", "="}:
            return "underline"
    return "own"


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


def after_comments(line: str) -> str:
    """``line`` without the comments it starts with: ``%%note%% **A**`` shows ``**A**``."""
    start = pos = len(line) - len(line.lstrip())
    for opening, closing in comments(line):
        if opening != pos:
            break
        pos = closing + len(_MARK)
        pos += len(line[pos:]) - len(line[pos:].lstrip())
    return line if pos == start else line[pos:]


def comments(src: str, opaque: Sequence[tuple[int, int]] = ()) -> list[tuple[int, int]]:
    """Each closed comment in ``src``, as the index of its opening and of its closing ``%%``:
    each ``%%`` opens one that the next closes, as Obsidian reads them, but for a ``%%`` that
    is escaped (outside a comment), in a code span, in inline math opened outside a comment, or
    in the ``opaque`` ranges (code blocks, sorted)."""
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
        elif src[at] == "$":
            # Inline math, as the inline rules read it: tried before a comment's rule, so
            # outside a comment only (inside one, the comment's rule looks for ``%%`` alone).
            if opening is None and at > paragraph_end:
                blank = _BLANK_LINE.search(src, at)
                paragraph_end = blank.start() if blank else len(src)
            pos = _skip_math(src, at, paragraph_end) if opening is None else at + 1
        elif opening is None:
            opening, pos = at, match.end()
        else:
            found.append((opening, at))
            opening, pos = None, match.end()
    return found


def _skip_math(src: str, pos: int, end: int) -> int:
    """Position after the inline math (``$x$`` or ``$$x$$``) opening at ``pos``, or after its
    dollar if none opens there: the rules of :mod:`.math` (dollarmath's, no space inside the
    dollars, no digit outside them, no ASCII word character after the closer), the closer
    before ``end`` (the paragraph's end)."""
    after_opener = pos + 1
    if after_opener >= end or src[after_opener].isspace() or (pos and src[pos - 1].isdigit()):
        return after_opener
    double = src[after_opener] == "$"
    search = after_opener + double
    while True:  # the next dollar not escaped, as dollarmath finds it
        close = src.find("$", search, end)
        if close < 0:
            return after_opener
        back = close
        while back > pos and src[back - 1] == "\\":
            back -= 1
        if (close - back) % 2 or (double and not src.startswith("$", close + 1)):
            search = close + 1  # escaped, or a lone dollar where ``$$`` closes
        else:
            break
    stop = close + 1 + double
    nxt = src[stop] if stop < len(src) else ""
    if (
        (not double and src[close - 1].isspace())
        or close == after_opener + double  # nothing inside
        or nxt.isdigit()
        or (nxt.isascii() and (nxt.isalnum() or nxt == "_"))
    ):
        return after_opener
    return stop


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
