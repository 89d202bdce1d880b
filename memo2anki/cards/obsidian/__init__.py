"""markdown-it-py plugins for Obsidian's own syntax, as Obsidian shows it.

Use :func:`obsidian_plugins` to apply them all; the plugins are also exported one by one.
"""

from __future__ import annotations

from markdown_it import MarkdownIt
from mdit_py_plugins.footnote import footnote_plugin

from .callouts import callouts_plugin
from .comments import comments_plugin
from .highlight import highlight_plugin
from .math import math_plugin
from .tags import tags_plugin
from .wikilinks import wikilinks_plugin

__all__ = [
    "callouts_plugin",
    "comments_plugin",
    "highlight_plugin",
    "math_plugin",
    "obsidian_plugins",
    "tags_plugin",
    "wikilinks_plugin",
]


def obsidian_plugins(md: MarkdownIt) -> MarkdownIt:
    """Apply every Obsidian plugin, task lists and footnotes to ``md``; return ``md``.

    Each plugin anchors its rules to a built-in rule, so the order of the calls below does not
    change the parse; it is kept in the order the rules run. Override render rules (such as
    ``wikilink_embed``) after this call, or the defaults here replace them.
    """
    # markdown-it-py >= 4.1 finds `- [ ]` / `- [x]` in the list rule itself, before inline
    # rules could read `[ ]` as a link or wikilink.
    md.options["tasklists"] = True
    md.use(comments_plugin)
    md.use(math_plugin)
    md.use(callouts_plugin)
    md.use(wikilinks_plugin)
    md.use(highlight_plugin)
    md.use(tags_plugin)
    # Obsidian also has inline footnotes `^[...]`.
    md.use(footnote_plugin, inline=True)
    return md
