"""Obsidian wikilinks ``[[target#heading|alias]]`` and embeds ``![[target|300x200]]``.

A link renders as ``<span class="wikilink">NAME</span>``: NAME is the alias, else the
target's last path segment without ``.md`` (plus `` > heading``); ``[[#heading]]`` shows
the heading alone. Cards have no vault to navigate to, so links are text, never anchors.

An embed becomes one ``wikilink_embed`` token whose ``meta`` is::

    {"target": str, "heading": str | None, "alias": str | None,
     "width": int | None, "height": int | None}

``target`` is kept as written (no URL decoding, ``.md`` kept; ``""`` for ``![[#h]]``). A last
``|300`` or ``|300x200`` part is the size; any other text after ``|`` is the alias. The default
render rule shows ``<span class="embed-missing">NAME</span>`` (NAME without the alias);
callers override it with ``md.add_render_rule("wikilink_embed", ...)`` after this plugin.

``\\|`` is accepted as the alias separator, as Obsidian writes it inside tables (where
the table rule has already unescaped it to ``|``).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from markdown_it import MarkdownIt
from markdown_it.common.utils import escapeHtml
from markdown_it.renderer import RendererProtocol
from markdown_it.rules_inline import StateInline
from markdown_it.token import Token
from markdown_it.utils import EnvType, OptionsDict

_SEPARATOR = re.compile(r"\\?\|")
_SIZE = re.compile(r"^(\d+)(?:x(\d+))?$")
# Longest inner text searched for `]]`: bounds the work on text full of unclosed `[[`
# (file names stop at 255 bytes; headings and aliases add a little).
_MAX_INNER = 1024


@dataclass(frozen=True)
class WikiLink:
    """The parts of a wikilink's inner text."""

    target: str
    heading: str | None
    alias: str | None
    width: int | None = None
    height: int | None = None


def wikilinks_plugin(md: MarkdownIt) -> None:
    """Parse ``[[...]]`` links and ``![[...]]`` embeds.

    The rule sits before ``link`` (and so before ``image``): otherwise ``[[a]]`` would be
    tried as a reference link and ``![[a]]`` as an image.
    """
    md.inline.ruler.before("link", "wikilink", _wikilink_rule)
    md.add_render_rule("wikilink", _render_wikilink)
    md.add_render_rule("wikilink_embed", _render_embed_missing)


def parse_inner(inner: str, embed: bool) -> WikiLink | None:
    """Split ``target#heading|alias`` (or ``|size`` for embeds); None if it names nothing."""
    parts = _SEPARATOR.split(inner)
    target, _, heading = parts[0].partition("#")
    target, heading = target.strip(), heading.strip()
    if not target and not heading:
        return None
    rest = [part.strip() for part in parts[1:]]
    width = height = None
    if embed and rest and (size := _SIZE.match(rest[-1])):
        width, height = int(size.group(1)), _optional_int(size.group(2))
        rest.pop()
    alias = "|".join(rest).strip() or None
    return WikiLink(target, heading or None, alias, width, height)


def display_name(link: WikiLink, use_alias: bool = True) -> str:
    """What Obsidian shows for a link: alias, else ``name > heading``."""
    if use_alias and link.alias:
        return link.alias
    name = link.target.rstrip("/").rsplit("/", 1)[-1]
    if name.lower().endswith(".md"):
        name = name[:-3]
    # Obsidian shows nested headings `a#b#c` as `a > b > c`.
    heading = " > ".join(h.strip() for h in link.heading.split("#")) if link.heading else ""
    if name and heading:
        return f"{name} > {heading}"
    return name or heading


def _optional_int(value: str | None) -> int | None:
    return int(value) if value else None


def _wikilink_rule(state: StateInline, silent: bool) -> bool:
    """Inline rule: ``[[inner]]`` or ``![[inner]]`` on one line."""
    start = state.pos
    embed = state.src.startswith("![[", start)
    if not embed and not state.src.startswith("[[", start):
        return False
    open_end = start + (3 if embed else 2)
    close = state.src.find("]]", open_end, min(state.posMax, open_end + _MAX_INNER))
    if close < 0:
        return False
    inner = state.src[open_end:close]
    # A newline or an inner `[[` means these brackets are not one wikilink.
    if "\n" in inner or "[[" in inner:
        return False
    link = parse_inner(inner, embed)
    if link is None:
        return False
    if not silent:
        _push_token(state, link, embed, state.src[start : close + 2])
    state.pos = close + 2
    return True


def _push_token(state: StateInline, link: WikiLink, embed: bool, markup: str) -> None:
    token = state.push("wikilink_embed" if embed else "wikilink", "", 0)
    token.markup = markup
    token.content = display_name(link)
    meta: dict[str, Any] = {"target": link.target, "heading": link.heading, "alias": link.alias}
    if embed:
        meta |= {"width": link.width, "height": link.height}
    token.meta = meta


def _render_wikilink(
    self: RendererProtocol,
    tokens: Sequence[Token],
    idx: int,
    options: OptionsDict,
    env: EnvType,
) -> str:
    return f'<span class="wikilink">{escapeHtml(tokens[idx].content)}</span>'


def _render_embed_missing(
    self: RendererProtocol,
    tokens: Sequence[Token],
    idx: int,
    options: OptionsDict,
    env: EnvType,
) -> str:
    meta = tokens[idx].meta
    link = WikiLink(meta["target"], meta["heading"], None)
    return f'<span class="embed-missing">{escapeHtml(display_name(link))}</span>'
