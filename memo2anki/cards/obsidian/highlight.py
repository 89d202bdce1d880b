"""Obsidian highlights: ``==text==`` renders as ``<mark>text</mark>``.

mdit-py-plugins has no ``<mark>`` plugin, so this is a port of
`markdown-it-mark <https://github.com/markdown-it/markdown-it-mark>`_ (MIT, Vitaly Puzrin,
Alex Kocharin), written like markdown-it-py's own ``~~strikethrough~~`` rule: ``==`` runs are
delimiters with CommonMark's flanking rules, so ``a == b`` stays text and marks nest with
emphasis, strikethrough and links.
"""

from __future__ import annotations

from typing import Literal

from markdown_it import MarkdownIt
from markdown_it.rules_inline import StateInline
from markdown_it.rules_inline.state_inline import Delimiter

_MARKER = "="


def highlight_plugin(md: MarkdownIt) -> None:
    """Add ``==mark==``: a delimiter rule plus its pairing post-process."""
    md.inline.ruler.before("emphasis", "mark", _tokenize)
    md.inline.ruler2.before("emphasis", "mark", _post_process)


def _tokenize(state: StateInline, silent: bool) -> bool:
    """Push each ``==`` as a text token and record it as a delimiter."""
    if silent or state.src[state.pos] != _MARKER:
        return False
    scanned = state.scanDelims(state.pos, True)
    length = scanned.length
    if length < 2:
        return False
    # An odd run keeps its first `=` as text: `===a==` is `=` + mark.
    if length % 2:
        state.push("text", "", 0).content = _MARKER
        length -= 1
    for _ in range(0, length, 2):
        state.push("text", "", 0).content = _MARKER * 2
        state.delimiters.append(
            Delimiter(
                marker=ord(_MARKER),
                length=0,  # no "rule of 3" (that is for emphasis only)
                token=len(state.tokens) - 1,
                end=-1,
                open=scanned.can_open,
                close=scanned.can_close,
            )
        )
    state.pos += scanned.length
    return True


def _post_process(state: StateInline) -> None:
    """Turn matched delimiter pairs into ``mark_open``/``mark_close`` at every nesting level."""
    _pair_marks(state, state.delimiters)
    for meta in state.tokens_meta:
        if meta and "delimiters" in meta:
            _pair_marks(state, meta["delimiters"])


def _pair_marks(state: StateInline, delimiters: list[Delimiter]) -> None:
    lone_markers: list[int] = []
    for start in delimiters:
        if start.marker != ord(_MARKER) or start.end == -1:
            continue
        end = delimiters[start.end]
        _retype(state, start.token, "mark_open", 1)
        _retype(state, end.token, "mark_close", -1)
        before_end = state.tokens[end.token - 1]
        if before_end.type == "text" and before_end.content == _MARKER:
            lone_markers.append(end.token - 1)
    # An odd run split as `=` + `==` leaves a lone `=` before the closer; it belongs after.
    while lone_markers:
        _move_after_closers(state, lone_markers.pop())


def _retype(state: StateInline, index: int, kind: str, nesting: Literal[-1, 1]) -> None:
    token = state.tokens[index]
    token.type = kind
    token.tag = "mark"
    token.nesting = nesting
    token.markup = _MARKER * 2
    token.content = ""


def _move_after_closers(state: StateInline, index: int) -> None:
    last = index + 1
    while last < len(state.tokens) and state.tokens[last].type == "mark_close":
        last += 1
    last -= 1
    if last != index:
        tokens = state.tokens
        tokens[index], tokens[last] = tokens[last], tokens[index]
