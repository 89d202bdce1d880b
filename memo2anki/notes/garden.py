"""Read a note of a Digital Garden repository as the vault's own note it was published from.

The Obsidian Digital Garden plugin rewrites a note as it publishes it (its compiler,
``GardenPageCompiler.generateMarkdown``): the frontmatter becomes one line of JSON, wikilinks
name the full vault path with an automatic alias, pictures become ``/img/user/`` links, an
embedded note is written inline inside HTML, and a block id becomes a ``{ #id}`` line. This
module undoes what of that reaches a memo section, as one text pass over each garden note
before its cards are found, so a garden and the vault it was published from give the same
cards. It never runs on a vault's notes.

What cannot be undone (Dataview output, inlined SVG, the user's custom filters, text an
unclosed ``%%`` swallowed) is read as published.
"""

from __future__ import annotations

import json
import os
import re
import unicodedata
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote

from memo2anki.common.files import open_regular
from memo2anki.model import Journal

# Outside fenced code only: the plugin leaves fences alone (for links and comments).
_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})")

# --- frontmatter ---------------------------------------------------------------------------

# The plugin's own keys, and the tag it adds for the garden's home page.
_OWN_KEY = re.compile(r"^dg[-A-Z]")
HOME_TAG = "gardenEntry"
NOTE_PROPERTIES = "dg-note-properties"
# Values the plugin sets from the file itself (its times), not the user's frontmatter.
_FILE_KEYS = frozenset({"created", "updated", "permalink", "noteIcon", "tags"})


def frontmatter_text(block: str) -> str:
    """The frontmatter block made readable: a link rewritten inside it (``[[a\\|b]]``) holds
    ``\\|``, an invalid escape in JSON and YAML alike (the template reads it so too)."""
    return block.replace("\\|", "|")


def vault_metadata(published: dict[str, Any]) -> tuple[dict[str, Any], str]:
    """The note's own frontmatter from a published one, and its page's permalink ("" when
    it has none; ``/`` for the garden's home page).

    ``dg-note-properties`` (plugin 2.74 and later) is the note's frontmatter as written.
    Before, only the tags (and, with ``dgPassFrontmatter``, the other keys) were kept:
    those are taken, without the plugin's own keys, the home page's tag, or the times it
    may have taken from the file."""
    tags = published.get("tags")
    home = isinstance(tags, list) and HOME_TAG in tags
    # A permalink that is not text (a number, a list, YAML aliases made to grow) is none.
    given = published.get("permalink")
    permalink = "/" if home else given if isinstance(given, str) else ""
    own = published.get(NOTE_PROPERTIES)
    if isinstance(own, dict):
        return {str(k): v for k, v in own.items()}, permalink
    metadata = {
        k: v
        for k, v in published.items()
        if not _OWN_KEY.match(k) and k not in _FILE_KEYS and k != NOTE_PROPERTIES
    }
    if isinstance(tags, list):
        kept = [t for t in tags if t != HOME_TAG]
        if kept:
            metadata["tags"] = kept
    elif tags is not None:
        metadata["tags"] = tags
    return metadata, permalink


# --- the body ------------------------------------------------------------------------------

_EMBED_OPEN = '<div class="transclusion internal-embed is-loaded">'
_EMBED_CLOSE = "</div></div>"
_EMBED_LINK = re.compile(r'<a class="markdown-embed-link" href="([^"]*)"[^>]*>.*?</a>', re.DOTALL)
_EMBED_BODY = '<div class="markdown-embed">'
_EMBED_TITLE = re.compile(r'\A\n*<div class="markdown-embed-title">\s*(.*?)\s*</div>\n?', re.DOTALL)
_HEADING = re.compile(r" {0,3}(#{1,6})(?:[ \t]|$)")
# A block id as published: its own line after the block, then the block's line break.
_BLOCK_ID_LINE = re.compile(r"\n\{ #([\w-]+)\}\n")
_BLOCK_ID_GLUED = re.compile(r"(?<=[^\n])\{ #([\w-]+)\}\n\n")
# A picture the plugin pointed at /img/user/ (before 2.62 with its path not encoded): found
# by its link, its [alt] looked for before it (a pattern starting at each `[` would scan a
# line of them again from each).
_PICTURE_LINK = re.compile(r"\]\((/img/user/[^)\n]*)\)")
_MAX_ALT = 1024
_ALT_PARTS = re.compile(r"\\?\|")
_SIZE = re.compile(r"\d+(?:x\d+)?")
_WIKILINK = re.compile(r"(?<!!)\[\[((?:(?!\[\[)[^\]\n])+)\]\]")
_LINK_PARTS = re.compile(r"(\\?\|)")
# What a wikilink target cannot hold as written.
_NOT_IN_LINK = re.compile(r"[#|\[\]^]")

# The vault path of the note published at a permalink, told by the text embedded of it when
# several notes share that page (Korean names slug to nothing: `/02-notes//`).
NoteOfPage = Callable[[str, str], "str | None"]


def unpublish(text: str, note_of_page: NoteOfPage) -> str:
    """A garden note's body (its frontmatter already read) as the vault's note: embedded
    notes back to ``![[note#heading]]`` (``note_of_page`` names the note of a permalink),
    block ids back to `` ^id``, pictures and links back to the vault's forms."""
    if _EMBED_OPEN in text:
        text = _collapse_embeds(text, note_of_page)
    return _outside_fences(text, _unpublish_lines)


def _unpublish_lines(text: str) -> str:
    if "{ #" in text:
        text = _BLOCK_ID_LINE.sub(r" ^\1", text)
        text = _BLOCK_ID_GLUED.sub(r"\n^\1\n", text)
    if "/img/user/" in text:
        text = _pictures(text)
    if "[[" in text:
        text = _WIKILINK.sub(_wikilink, text)
    return text


def _outside_fences(text: str, change: Callable[[str], str]) -> str:
    """``change`` applied to the text outside fenced code blocks."""
    if "```" not in text and "~~~" not in text:
        return change(text)
    pieces: list[tuple[bool, list[str]]] = []  # (in a fence, lines)
    fence: str | None = None
    for line in text.split("\n"):
        match = _FENCE.match(line)
        inside = fence is not None
        if fence is None and match:
            fence, inside = match.group(1), True
        elif (
            fence is not None
            and match
            and match.group(1)[0] == fence[0]
            and len(match.group(1)) >= len(fence)
            and not line.strip()[len(match.group(1)) :]
        ):
            fence = None
        if not pieces or pieces[-1][0] != inside:
            pieces.append((inside, []))
        pieces[-1][1].append(line)
    return "\n".join(
        "\n".join(lines) if code else change("\n".join(lines)) for code, lines in pieces
    )


def _pictures(text: str) -> str:
    """Every ``[alt](/img/user/...)`` and ``![alt](/img/user/...)`` through :func:`_picture`."""
    out: list[str] = []
    done = 0
    for match in _PICTURE_LINK.finditer(text):
        end = match.start()
        line = max(done, text.rfind("\n", 0, end) + 1)
        start = text.rfind("[", max(line, end - _MAX_ALT), end)
        if start < 0 or text.find("]", start, end) >= 0:
            continue
        bang = start > line and text[start - 1] == "!"
        begin = start - bang
        out.append(text[done:begin])
        out.append(_picture("!" if bang else "", text[start + 1 : end], match.group(1)))
        done = match.end()
    out.append(text[done:])
    return "".join(out)


def _picture(bang: str, alt: str, url: str) -> str:
    """``![name.png|300](/img/user/image/name.png)`` back to the vault's picture: a picture
    ``![[name.png|300]]`` shows no alt text, so the name the plugin put there goes (its size
    stays); a path the plugin did not encode (before 2.62) is encoded."""
    path = unicodedata.normalize("NFC", unquote(url))[len("/img/user/") :]
    encoded = "/img/user/" + quote(path, safe="/")
    parts = _ALT_PARTS.split(alt)
    name = parts[0].strip()
    from_embed = bool(name) and _names(path, name)
    if not bang:  # a linked picture, [[name.png]] (plugin 2.69 and later)
        if from_embed and not _NOT_IN_LINK.search(path):
            return f"[[{path}]]" if len(parts) == 1 else f"[[{path}|{'|'.join(parts[1:])}]]"
        return f"[{alt}]({encoded})"
    if from_embed:  # an embed shows no alt text, only a size given last
        size = parts[-1].strip() if len(parts) > 1 else ""
        alt = f"|{size}" if _SIZE.fullmatch(size) else ""
    return f"![{alt}]({encoded})"


def _names(path: str, name: str) -> bool:
    """Whether ``name`` (as a link wrote it) names the file at vault path ``path``."""
    path, name = path.casefold(), unicodedata.normalize("NFC", name).casefold()
    return path == name or path.endswith("/" + name)


def _wikilink(match: re.Match[str]) -> str:
    """``[[dir/Note#H\\|Note#H]]`` back to ``[[dir/Note#H]]``: the plugin writes the link text
    as an alias when there was none, which would show ``Note#H`` instead of ``Note > H``.
    An alias the person wrote stays (its ``\\|`` too: in a table it must)."""
    inner = match.group(1)
    pieces = _LINK_PARTS.split(inner)
    if len(pieces) != 3:  # no alias, or a picture's size and alias
        return match.group(0)
    target, _, alias = pieces
    name, _, heading = target.partition("#")
    alias_name, _, alias_heading = alias.partition("#")
    if heading.strip() != alias_heading.strip():
        return match.group(0)
    if not alias_name.strip():  # [[this/note#H\|#H]]: a link to a heading of this note
        return f"[[#{heading}]]" if heading else match.group(0)
    stem = name.strip()
    stem = stem[:-3] if stem.lower().endswith(".md") else stem
    wanted = alias_name.strip()
    wanted = wanted[:-3] if wanted.lower().endswith(".md") else wanted
    return f"[[{target}]]" if _names(stem, wanted) else match.group(0)


def _heading_text(line: str) -> str | None:
    """The text of an ATX heading line (without its closing ``#``s), or None."""
    match = _HEADING.match(line)
    if match is None:
        return None
    text = line[match.end() :].strip()
    closing = text.rstrip("#")
    if closing != text and (not closing or closing[-1] in " \t"):
        text = closing.strip()
    return text or None


def _collapse_embeds(text: str, note_of_page: NoteOfPage) -> str:
    """Each embedded note the plugin wrote inline back to the ``![[...]]`` it replaced."""
    out: list[str] = []
    position = 0
    while (start := text.find("\n" + _EMBED_OPEN, position)) >= 0:
        end = _embed_end(text, start + 1)
        if end < 0:
            break
        out.append(text[position:start])
        span = text[start + 1 + len(_EMBED_OPEN) : end - len(_EMBED_CLOSE)]
        out.append(_embed(span, note_of_page))
        position = end + 1 if text.startswith("\n", end) else end
    out.append(text[position:])
    return "".join(out)


def _embed_end(text: str, start: int) -> int:
    """Where the embed opened at ``start`` ends (after its closing tags), or -1."""
    depth = 0
    position = start
    while True:
        opened = text.find(_EMBED_OPEN, position)
        closed = text.find(_EMBED_CLOSE, position)
        if closed < 0:
            return -1
        if 0 <= opened < closed:
            depth += 1
            position = opened + len(_EMBED_OPEN)
            continue
        depth -= 1
        position = closed + len(_EMBED_CLOSE)
        if depth == 0:
            return position


def _embed(span: str, note_of_page: NoteOfPage) -> str:
    """The ``![[note#heading|title]]`` an embed's inside (link, title, content) came from;
    a note not published (no link) is shown as a quote of its content, as no file of it is
    in the garden."""
    link = _EMBED_LINK.match(span)
    href = link.group(1) if link else ""
    rest = span[link.end() :] if link else span
    if rest.startswith(_EMBED_BODY):
        rest = rest[len(_EMBED_BODY) :]
    title_match = _EMBED_TITLE.match(rest)
    title = ""
    if title_match:
        title = title_match.group(1).strip()
        title = title[2:].strip() if title.startswith("# ") else title
        rest = rest[title_match.end() :]
    content = rest.strip("\n")
    page, _, fragment = href.partition("#")
    note = note_of_page(page, content) if page else None
    if note is not None and not _NOT_IN_LINK.search(note):
        target = note[:-3] if note.lower().endswith(".md") else note
        first = content.split("\n", 1)[0]
        heading = _heading_text(first)
        if fragment.startswith("^"):
            target += f"#{fragment}"
        elif fragment and heading:
            target += f"#{heading}"
        return f"![[{target}|{title}]]" if title else f"![[{target}]]"
    lines = ([f"**{title}**"] if title else []) + content.split("\n")
    return "\n" + "\n".join(f"> {line}".rstrip() for line in lines) + "\n"


# --- the pages of a garden -----------------------------------------------------------------

# What is read of a file of the garden's: only regular files, and only so much (a FIFO there
# waited for ever, a link to /dev/zero filled the memory). The JSON frontmatter is one line
# at the top, and ``.env`` a few lines; a note past the reader's limit is skipped anyway.
_HEAD_BYTES = 64 * 1024
_NOTE_BYTES = 8 * 1024 * 1024
_HINT_LINES = 3  # lines of an embed compared with each note that shares its page
_JSON_HEAD = re.compile(r"\A---[ \t]*\n(\{.*?\})[ \t]*\n---", re.DOTALL)


def page_path(permalink: str) -> str:
    """A permalink as compared: decoded, without empty segments (``/02-notes//`` and
    ``/02-notes/`` are served at one place)."""
    parts = [p for p in unquote(permalink).split("/") if p]
    return "/" + "/".join(parts)


class Pages:
    """The garden's notes by the permalink of their page, read on first need (the first
    line of each note)."""

    def __init__(self, notes: Path) -> None:
        self.notes = notes
        self._by_page: dict[str, list[str]] | None = None
        # Where the lookups of the note being read are noted (for the cache), if anywhere.
        self.journal: Journal | None = None

    def note_of(self, permalink: str, embedded: str = "") -> str | None:
        """The vault path of the note published at ``permalink``, or None. When several
        share it, the first (by path) whose text holds each line of ``embedded``, the text
        shown of it."""
        found = self._note_of(permalink, embedded)
        if self.journal is not None:
            self.journal.pages.append((permalink, embedded, found))
        return found

    def _note_of(self, permalink: str, embedded: str) -> str | None:
        if self._by_page is None:
            self._by_page = self._index()
        found = self._by_page.get(page_path(permalink), [])
        if len(found) < 2:
            return found[0] if found else None
        lines = [line for line in embedded.split("\n") if line.strip()][:_HINT_LINES]
        for note in found:
            try:
                with open_regular(self.notes / note, follow_links=True) as f:
                    text = f.read(_NOTE_BYTES).decode("utf-8-sig", errors="replace")
            except OSError:
                continue
            if all(line in text for line in lines):
                return note
        return None

    def _index(self) -> dict[str, list[str]]:
        index: dict[str, list[str]] = {}
        root = str(self.notes)
        for folder, folders, files in os.walk(root):
            folders[:] = sorted(f for f in folders if not f.startswith("."))
            for name in sorted(files):
                if not name.lower().endswith(".md"):
                    continue
                path = os.path.join(folder, name)
                permalink = _permalink_of(path)
                if permalink:
                    rel = os.path.relpath(path, root).replace(os.sep, "/")
                    index.setdefault(page_path(permalink), []).append(
                        unicodedata.normalize("NFC", rel)
                    )
        return index


def _permalink_of(path: str) -> str | None:
    try:
        with open_regular(Path(path), follow_links=True) as f:
            head = f.read(_HEAD_BYTES).decode("utf-8-sig", errors="replace")
    except OSError:
        return None
    match = _JSON_HEAD.match(head.replace("\r\n", "\n"))
    if match is None:
        return None
    try:
        data = json.loads(frontmatter_text(match.group(1)))
    except ValueError:
        return None
    value = data.get("permalink") if isinstance(data, dict) else None
    return value if isinstance(value, str) else None


# --- the site ------------------------------------------------------------------------------

_ENV_LINE = re.compile(r"^[ \t]*(?:export[ \t]+)?SITE_BASE_URL[ \t]*=(.*)$", re.MULTILINE)


def site_base_url(root: Path) -> str:
    """The published site's address, as the plugin writes it in the repository's ``.env``
    (``SITE_BASE_URL=...``; quotes allowed, as people add them); "" when not set."""
    try:
        with open_regular(root / ".env", follow_links=True) as f:
            text = f.read(_HEAD_BYTES).decode("utf-8-sig", errors="replace")
    except OSError:
        return ""
    found = _ENV_LINE.findall(text.replace("\r\n", "\n"))
    value = found[-1].strip() if found else ""
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
        value = value[1:-1]
    value = value.split(" #", 1)[0].strip()
    # The plugin leaves it empty unless the setting looks like an address.
    return value if "." in value and not any(c.isspace() for c in value) else ""
