"""Obsidian inline tags: ``#tag``, ``#nested/tag``, ``#암기``.

A tag is ``#`` at the start of the text or after whitespace, then letters (any script),
digits, ``_``, ``-`` and ``/``, with at least one non-digit (``#1984`` is no tag). Each tag is
rendered as ``<span class="tag">#tag</span>`` and appended, without ``#``, to the list
``env["tags"]`` (once per occurrence, in order), so pass an ``env`` dict to collect them.

Headings, code, links' URLs, ``[[note#heading]]``, ``\\#escaped`` and ``http://x/#a`` never
reach this rule as a tag: other rules consume them, or the ``#`` follows a non-space.
"""

from __future__ import annotations

from collections.abc import Sequence

from markdown_it import MarkdownIt
from markdown_it.common.utils import escapeHtml
from markdown_it.renderer import RendererProtocol
from markdown_it.rules_inline import StateInline
from markdown_it.token import Token
from markdown_it.utils import EnvType, OptionsDict

from memo2anki.notes.tags import TAG_NAME, is_tag_name

TAG_TOKEN = "obsidian_tag"  # the type of a tag's token; its content is the tag, without ``#``


def tags_plugin(md: MarkdownIt) -> None:
    """Parse ``#tags`` and collect them in ``env["tags"]``."""
    md.inline.ruler.after("emphasis", TAG_TOKEN, _tag_rule)
    md.add_render_rule(TAG_TOKEN, _render_tag)


def _tag_rule(state: StateInline, silent: bool) -> bool:
    """Inline rule: ``#tag`` preceded by the start of the text or whitespace."""
    start = state.pos
    if state.src[start] != "#" or (start > 0 and not state.src[start - 1].isspace()):
        return False
    match = TAG_NAME.match(state.src, start, state.posMax)
    if match is None or not is_tag_name(match.group(1)):
        return False
    if not silent:
        tag = match.group(1)
        token = state.push(TAG_TOKEN, "", 0)
        token.content = tag
        token.markup = "#"
        state.env.setdefault("tags", []).append(tag)
    state.pos = match.end()
    return True


def _render_tag(
    self: RendererProtocol,
    tokens: Sequence[Token],
    idx: int,
    options: OptionsDict,
    env: EnvType,
) -> str:
    return f'<span class="tag">#{escapeHtml(tokens[idx].content)}</span>'
