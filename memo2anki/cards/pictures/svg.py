"""Refuse SVG pictures that are active documents, before they go into a deck.

An SVG is XML that may hold scripts, event handlers, HTML (``foreignObject``) and references
to other files or the web. Anki shows pictures through ``<img>``, where none of that runs,
but a deck is a file people share and open in other programs too: it carries no SVG that
could run or fetch. Such an SVG is refused with a warning (a picture in the card says it is
missing); one with only drawing in it is embedded as it is. Parsed with defusedxml, which
refuses entity declarations and external references (the standard library's parser
expands entities, a way to make a small file huge).
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from xml.etree.ElementTree import Element, ParseError

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring

from memo2anki.common.files import read_regular
from memo2anki.model import file_version

MAX_SVG_BYTES = 16 * 1024 * 1024

# Elements that run code, hold another document, or play or fetch something (any namespace).
_ACTIVE_ELEMENTS = frozenset(
    {
        "script",
        "foreignobject",
        "handler",
        "listener",
        "iframe",
        "embed",
        "object",
        "audio",
        "video",
        "source",
        "link",
        "meta",
        "base",
    }
)
_ANIMATIONS = frozenset({"set", "animate", "animatetransform", "animatemotion"})
_XHTML = "{http://www.w3.org/1999/xhtml}"
# A reference that stays in the file: `#id`, or a picture in a data: URL (not SVG itself).
_LOCAL_REFERENCE = re.compile(r"\s*(?:#|data:image/(?:png|jpeg|gif|webp)[;,])", re.IGNORECASE)
_CSS_URL = re.compile(r"url\s*\(\s*['\"]?\s*([^'\")\s]*)", re.IGNORECASE)
_STYLESHEET = re.compile(rb"<\?xml-stylesheet", re.IGNORECASE)

_checked: dict[tuple[str, int, int], str | None] = {}


def svg_problem(path: Path) -> tuple[str | None, tuple[str, int, int]]:
    """Why the SVG at ``path`` may not go into a deck (``"SVG holds <script>"``), or None;
    and the file's stamp (path, size, :func:`~memo2anki.model.file_version`) as it was before
    it was read. Each file is checked once per run (by that stamp)."""
    try:
        stat = os.stat(path)
    except OSError as err:
        return f"cannot read SVG: {err.strerror or err}", (str(path), -1, -1)
    key = (str(path), stat.st_size, file_version(stat))
    if key not in _checked:
        _checked[key] = _problem(path, stat.st_size)
    return _checked[key], key


def _problem(path: Path, size: int) -> str | None:
    if size > MAX_SVG_BYTES:
        return f"SVG larger than {MAX_SVG_BYTES // (1024 * 1024)} MiB"
    try:
        data = read_regular(path, MAX_SVG_BYTES, follow_links=True)  # (never waits on a FIFO)
    except OSError as err:
        return f"cannot read SVG: {err.strerror or err}"
    if _STYLESHEET.search(data):  # the parser drops processing instructions: look first
        return "SVG holds an xml-stylesheet reference"
    try:
        root = fromstring(data, forbid_dtd=True)
    except DefusedXmlException:
        return "SVG holds a DTD or entity declarations"
    except (ParseError, ValueError, RecursionError):
        return "not a well-formed SVG"
    for element in root.iter():
        problem = _element_problem(element)
        if problem is not None:
            return problem
    return None


def _local(name: str) -> str:
    return name.rsplit("}", 1)[-1].lower()


def _element_problem(element: Element) -> str | None:
    if not isinstance(element.tag, str):  # a comment
        return None
    name = _local(element.tag)
    if name in _ACTIVE_ELEMENTS or element.tag.startswith(_XHTML):
        return f"SVG holds <{name}>"
    if name == "style" and _fetches(element.text or ""):
        return "SVG holds a style that fetches"
    for attribute, value in element.attrib.items():
        local = _local(attribute)
        if local.startswith("on"):
            return f"SVG holds an event handler ({local})"
        if local in {"href", "src"} and not _LOCAL_REFERENCE.match(value):
            return f"SVG refers to another file ({local}={value[:60]!r})"
        if name in _ANIMATIONS and local == "attributename":
            target = _local(value.replace(":", "}"))
            if target in {"href", "src"} or target.startswith("on"):
                return f"SVG animates {value}"
        if _fetches(value):
            return f"SVG refers to another file ({local})"
    return None


def _fetches(css: str) -> bool:
    """Whether CSS (a style, or an attribute such as ``fill``) names anything but ``#id``."""
    if "@import" in css.lower():
        return True
    return any(not target.startswith("#") for target in _CSS_URL.findall(css))
