"""The markdown parser, and parsing in two halves.

A note is block-parsed once to find its cards; only the tokens of each card's back then get
their inline parse. This keeps the cost of a note near one parse of it, instead of a full parse
to find the cards plus another of every back to render it.
"""

from __future__ import annotations

import re
from typing import Any

from markdown_it import MarkdownIt
from markdown_it.rules_core import StateCore
from markdown_it.token import Token

from memo2anki.cards.markdown.cjk_emphasis import cjk_friendly_plugin
from memo2anki.cards.markdown.code import highlight_code
from memo2anki.cards.obsidian import obsidian_plugins

# CommonMark's preset stops at 20 levels of nesting and skips what is deeper: fine inline
# (where more levels only cost time on runs of `[`), but a list item takes two block levels,
# so an outline nested 10 deep would swallow the rest of the note. Blocks get more.
MAX_NESTING = 100


# One line that is an ATX heading (`## 제목`); group 1 is its text. For quick scans of a note's
# lines where a full parse is not needed. The text is taken a word at a time (spaces, then a
# non-space): a plain `(.*?)` tried the closing part at every character of a run of spaces,
# time growing with the square of the run.
ATX_HEADING = re.compile(r"^ {0,3}#{1,6}[ \t]+((?:[ \t]*[^ \t\n])*?)(?:[ \t]+#+)?[ \t]*$")


def make_markdown() -> MarkdownIt:
    """The one parser configuration: CommonMark, Obsidian's line breaks and syntax, and
    emphasis that closes before a Korean particle (the CJK-friendly rule)."""
    md = MarkdownIt(
        "commonmark",
        {"breaks": True, "html": True, "xhtmlOut": False, "highlight": highlight_code},
    ).enable(["table", "strikethrough"])
    return obsidian_plugins(md).use(cjk_friendly_plugin)


def core_halves(md: MarkdownIt) -> tuple[list[Any], list[Any]]:
    """markdown-it's core rules before its inline parse, and from it (the inline rule first)."""
    names = md.core.ruler.get_active_rules()
    rules = md.core.ruler.getRules("")
    split = names.index("inline")
    return rules[:split], rules[split:]


def parse_blocks(md: MarkdownIt, text: str, env: dict[str, Any]) -> list[Token]:
    """Block tokens of ``text``; ``inline`` tokens keep their source but no children yet.
    Lists and quotes may nest :data:`MAX_NESTING` levels deep."""
    state = StateCore(text, md, env)
    inline_nesting = md.options["maxNesting"]
    md.options["maxNesting"] = MAX_NESTING
    try:
        for rule in core_halves(md)[0]:
            rule(state)
    finally:
        md.options["maxNesting"] = inline_nesting
    return state.tokens


def parse_inlines(md: MarkdownIt, tokens: list[Token], env: dict[str, Any]) -> list[Token]:
    """Finish block tokens from :func:`parse_blocks`: inline parse and the core rules after it."""
    state = StateCore("", md, env)
    state.tokens = tokens
    for rule in core_halves(md)[1]:
        rule(state)
    return state.tokens


def finish_inline(md: MarkdownIt, tokens: list[Token], env: dict[str, Any]) -> list[Token]:
    """Run the core rules after the inline parse on tokens whose ``inline`` tokens already have
    their children (such as :func:`inline_children`): markdown-it's ``text_join`` turns escapes
    and entities (``text_special``) into text, which the renderer has no rule for."""
    state = StateCore("", md, env)
    state.tokens = tokens
    for rule in core_halves(md)[1][1:]:
        rule(state)
    return state.tokens


def inline_children(md: MarkdownIt, source: str) -> list[Token]:
    """The inline tokens of one piece of inline source, parsed on its own."""
    quick = _plain_inline(source)
    if quick is not None:
        return quick
    children: list[Token] = []
    md.inline.parse(source, md, {}, children)
    return children


# Text in which no inline rule can start: letters and digits of any script, spaces, and
# punctuation that is not one of markdown-it's rule characters. Every heading is parsed on
# its own, and most are such text, plain or wholly `**bold**`: their parses took a tenth of a
# first export, and gave the very tokens made here (a property test compares them).
_PLAIN = re.compile(r"(?:[^\W_]|[ (),./'\"?;])+")
_BOLD = re.compile(r"\*\*([^\s*][^*]*)\*\*( *)")


def _plain_inline(source: str) -> list[Token] | None:
    if _PLAIN.fullmatch(source):
        return [_text(source, 0)]
    bold = _BOLD.fullmatch(source)
    if bold is None or bold.group(1)[-1] == " " or not _PLAIN.fullmatch(bold.group(1)):
        return None
    return [
        _text("", 0),
        Token("strong_open", "strong", 1, markup="**"),
        _text(bold.group(1), 1),
        Token("strong_close", "strong", -1, markup="**"),
        _text(bold.group(2), 0),
    ]


def _text(content: str, level: int) -> Token:
    return Token("text", "", 0, content=content, level=level)
