"""Sanitize card HTML: a deck is shared, so nothing in it may run or fetch."""

from __future__ import annotations

import re

import nh3

_TAGS = set(nh3.ALLOWED_TAGS) | {"input", "section"}
_TAGS -= {"area", "map"}

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


def sanitize(html: str) -> str:
    """Keep formatting; drop scripts, event handlers, ``javascript:`` URLs, frames, forms."""
    return nh3.clean(
        html,
        tags=_TAGS,
        clean_content_tags={"script", "style", "iframe", "object", "embed", "template"},
        attributes=_ATTRIBUTES,
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
    return list(dict.fromkeys(name for name in names if name not in _TAGS))
