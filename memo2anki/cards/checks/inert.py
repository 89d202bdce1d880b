"""Keep card text from acting when a card is shown: MathJax commands that make links, styles,
classes or load code, and Anki's own ``[latex]`` and ``[sound:]`` tags.

Anki typesets whatever its MathJax finds between ``\\(`` and ``\\)`` (or ``\\[``, ``\\]``) in
the text of a card, wherever that text came from: ``$...$`` in a note, ``\\\\(...\\\\)`` written
out, a heading, a file name. Some of its commands are not mathematics:

- ``\\href{URL}{x}`` makes a link (``javascript:`` runs when tapped); kept only to http(s);
- ``\\style``, ``\\class``, ``\\cssId``, ``\\data``, ``\\mmlToken`` set CSS, classes, ids or
  attributes (``\\style{background:url(...)}`` fetches); ``\\bbox[...]`` too when its
  options hold CSS (a ``:``);
- ``\\unicode`` names fonts, ``\\require`` loads an extension.

Each is neutralised by a WORD JOINER (U+2060, invisible) after its backslash: MathJax then
reads an unknown one-character command and shows the TeX as text, and nothing else changes.
Only text MathJax reads is touched: after an opener in the same text run (MathJax's math never
spans an HTML tag but ``<br>``), outside ``<code>``, ``<pre>`` and the other tags it skips.

Anki itself runs LaTeX on ``[latex]...[/latex]``, ``[$]...[/$]`` and ``[$$]...[/$$]``, and
plays ``[sound:file]`` and ``[anki:tts]``, anywhere in a field (even in code): their ``[``
gets the same joiner, so they show as written.
"""

from __future__ import annotations

import re

JOINER = "\u2060"

_ACTIVE_TEX = re.compile(
    r"\\(href|style|class|cssId|data|unicode|require|mmlToken|bbox)(?![A-Za-z])"
)
# Bounded repeats: a long line of unclosed commands costs linear time, never quadratic.
_SAFE_HREF = re.compile(r"\s*\{\s*https?://[^\s{}\\]{0,2000}\s*\}", re.IGNORECASE)
_BBOX_OPTIONS = re.compile(r"\s*\[")
_BBOX_PLAIN = re.compile(r"\s*\[[^\]:;\\]{0,200}\]")  # colours and sizes, no CSS
_OPENER = re.compile(r"\\[(\[]|\\begin\s*\{")
# MathJax's skipHtmlTags: it never looks for math inside them.
_SKIPPED = frozenset(
    {"code", "pre", "script", "noscript", "style", "textarea", "annotation", "annotation-xml"}
)
_TAG = re.compile(r"<(/?)([a-zA-Z][a-zA-Z0-9-]*)[^>]*>")
# The openers of Anki's own tags (its renderer finds them case-insensitively): each is
# neutralised even without its closer, which keeps this linear.
_ANKI_TAG = re.compile(r"\[(?:latex\]|\$\$?\]|sound:|anki:tts)", re.IGNORECASE)


def inert(html: str) -> tuple[str, tuple[str, ...]]:
    """``html`` with every active MathJax command and Anki tag neutralised, and what was
    neutralised (``\\href``, ``[latex]``, ...), each once, in order."""
    if "\\" not in html and "[" not in html:  # nearly every card
        return html, ()
    found: dict[str, None] = {}
    if "[" in html:
        html = _ANKI_TAG.sub(lambda m: _anki_tag(m, found), html)
    if "\\" in html and _OPENER.search(html):
        html = _math_text(html, found)
    return html, tuple(found)


def _anki_tag(match: re.Match[str], found: dict[str, None]) -> str:
    found[match.group(0).lower()] = None
    return f"[{JOINER}{match.group(0)[1:]}"


def _math_text(html: str, found: dict[str, None]) -> str:
    """Neutralise active commands in the text runs MathJax reads."""
    out: list[str] = []
    skipped = 0  # depth inside tags MathJax skips
    run_start = 0  # where the current text run began (a <br> does not end it)
    for tag in _TAG.finditer(html):
        name = tag.group(2).lower()
        if name == "br":
            continue
        text = html[run_start : tag.start()]
        out += (text if skipped else _run(text, found), tag.group(0))
        if name in _SKIPPED:
            skipped = max(0, skipped - 1) if tag.group(1) else skipped + 1
        run_start = tag.end()
    text = html[run_start:]
    out.append(text if skipped else _run(text, found))
    return "".join(out)


def _run(text: str, found: dict[str, None]) -> str:
    """One text run, its commands neutralised from its first math opener on."""
    opener = _OPENER.search(text)
    if opener is None:
        return text
    head, tail = text[: opener.start()], text[opener.start() :]

    def neutralise(match: re.Match[str]) -> str:
        command, after = match.group(1), match.end()
        if command == "href" and _SAFE_HREF.match(tail, after):
            return match.group(0)
        if command == "bbox" and (
            not _BBOX_OPTIONS.match(tail, after) or _BBOX_PLAIN.match(tail, after)
        ):
            return match.group(0)
        found[f"\\{command}"] = None
        return f"\\{JOINER}{command}"

    return head + _ACTIVE_TEX.sub(neutralise, tail)
