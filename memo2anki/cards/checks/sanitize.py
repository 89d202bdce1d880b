"""Sanitize card HTML: a deck is shared, so nothing in it may run or fetch."""

from __future__ import annotations

import html as html_text
import re

import nh3

from memo2anki.model import MEDIA_NAME

_TAGS = set(nh3.ALLOWED_TAGS) | {"input", "section"}
# <wbr> is dropped too: MathJax reads text across it, so it could join the halves of a TeX
# command that memo2anki would not see (see inert.py).
_TAGS -= {"area", "map", "wbr"}

_ATTRIBUTES: dict[str, set[str]] = {
    "*": {"class", "style", "title", "lang", "dir"},
    "a": {"href"},
    "img": {"src", "alt", "width", "height"},
    "input": {"type", "checked", "disabled"},
    "td": {"align", "colspan", "rowspan"},
    "th": {"align", "colspan", "rowspan"},
    "ol": {"start", "type"},
    "li": {"id", "value"},
    "sup": {"id"},
    "section": {"id"},
    "details": {"open", "data-callout"},
    "div": {"data-callout"},
    "code": {"data-lang"},
}

# Inline styles come from Pygments and from people's own HTML; keep only harmless
# presentation properties (no url(), so no request can hide in a style).
_STYLE_PROPERTIES = {
    "color",
    "background-color",
    "font-weight",
    "font-style",
    "font-size",
    "text-decoration",
    "text-align",
    "vertical-align",
    "width",
    "height",
    "max-width",
    "border",
    "padding",
    "margin",
    "white-space",
}

_URL_SCHEMES = {"http", "https", "mailto", "obsidian"}

# The only pictures a card shows are those memo2anki embedded in the deck (model.MEDIA_NAME).
# Anything else (a web address, `//host/p.png`, a file of the collection it did not put
# there) is dropped, so no card fetches when shown.
# CSS functions that only compute a value; any other (url(), image-set(), image(), element(),
# expression(), ...) may fetch, and a backslash escape could spell one in disguise.
_CSS_FUNCTION = re.compile(r"([a-z-]*)\s*\(", re.IGNORECASE)
_CSS_SAFE_FUNCTIONS = {"rgb", "rgba", "hsl", "hsla", "calc", "min", "max", "clamp"}


def _style(value: str) -> str | None:
    """The declarations of a style attribute that cannot fetch (nh3 keeps only allowed
    properties, but not what their values hold: `border: 1px url(...)` passes it)."""
    kept = [
        declaration
        for declaration in value.split(";")
        if "\\" not in declaration
        and all(name.lower() in _CSS_SAFE_FUNCTIONS for name in _CSS_FUNCTION.findall(declaration))
    ]
    style = ";".join(d for d in kept if d.strip())
    return style or None


def _attribute(element: str, attribute: str, value: str) -> str | None:
    if attribute == "src":
        return value if MEDIA_NAME.fullmatch(value) else None
    if attribute == "style":
        return _style(value)
    return value


# Chromium's parser, and so Anki's card view, nests no deeper than 512 elements; nh3's parser
# takes time growing with the square of the depth (each block element looks down the stack),
# so a note or ledger nested far deeper would stall a run for minutes. HTML that may nest
# deeper than this is kept as its text alone.
MAX_DEPTH = 512
_START_OR_END = re.compile(r"<(/?)([a-zA-Z][a-zA-Z0-9-]*)")
# Elements that never hold others, or that the parser closes at the next of their kind.
_FLAT = frozenset({
    "area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source",
    "track", "wbr", "p", "li", "dt", "dd", "tr", "td", "th", "option", "optgroup", "thead",
    "tbody", "tfoot", "colgroup", "rb", "rt", "rtc", "rp",
})  # fmt: skip
_TAG = re.compile(r"<[^<>]*>")
_BLANKS = re.compile(r"[ \t]+")


def too_deep(html: str) -> bool:
    """Whether ``html`` may nest elements deeper than :data:`MAX_DEPTH` (counted from its
    tags alone in one pass, erring deep: an end tag closes only an element of its name)."""
    if html.count("<") <= MAX_DEPTH:  # nearly always
        return False
    depth = 0
    open_: dict[str, int] = {}
    for end, name in _START_OR_END.findall(html):
        name = name.lower()
        if name in _FLAT:
            continue
        if not end:
            open_[name] = open_.get(name, 0) + 1
            depth += 1
            if depth > MAX_DEPTH:
                return True
        elif open_.get(name):
            open_[name] -= 1
            depth -= 1
    return False


def sanitize(html: str) -> str:
    """Keep formatting; drop scripts, event handlers, ``javascript:`` URLs, frames, forms,
    and everything that would fetch: pictures not embedded in the deck, CSS ``url()``.
    HTML nested deeper than :data:`MAX_DEPTH` becomes its text alone (see :func:`too_deep`)."""
    if too_deep(html):
        text = _BLANKS.sub(" ", html_text.unescape(_TAG.sub(" ", html))).strip()
        return html_text.escape(text, quote=False)
    return nh3.clean(
        html,
        tags=_TAGS,
        clean_content_tags={"script", "style", "iframe", "object", "embed", "template"},
        attributes=_ATTRIBUTES,
        attribute_filter=_attribute,
        url_schemes=_URL_SCHEMES,
        filter_style_properties=_STYLE_PROPERTIES,
        link_rel="noopener noreferrer",
        strip_comments=True,
    )


# One run of spaces at most: `<\s*/?\s*` split a run between its two `\s*` every way.
_TAG_NAME = re.compile(r"<\s*(?:/\s*)?([a-zA-Z][a-zA-Z0-9-]*)")


def removed_tags(html: str) -> list[str]:
    """The tags in ``html`` that :func:`sanitize` takes out (``iframe``, ``script``, ...),
    lower-case, each once."""
    names = (name.lower() for name in _TAG_NAME.findall(html))
    # `<image>` is not taken out: the renderer reads it as the `<img>` it is to a browser.
    return list(dict.fromkeys(name for name in names if name not in _TAGS and name != "image"))
