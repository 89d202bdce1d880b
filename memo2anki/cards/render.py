"""Render a card's markdown to the HTML Anki shows, as Obsidian would show it."""

from __future__ import annotations

import html
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from types import MethodType
from typing import Any, cast
from urllib.parse import unquote

from markdown_it import MarkdownIt
from markdown_it.renderer import RendererHTML
from markdown_it.token import Token
from markdown_it.utils import OptionsDict

from memo2anki.cards.checks.sanitize import MAX_DEPTH, sanitize, too_deep
from memo2anki.cards.markdown.footnotes import parse_with_footnotes
from memo2anki.cards.markdown.parser import finish_inline, make_markdown, parse_inlines
from memo2anki.cards.obsidian.tags import TAG_TOKEN
from memo2anki.cards.pictures.media import (
    MAX_PICTURE_BYTES,
    NOT_REGULAR,
    MediaResolver,
    MediaStore,
    PictureTooLarge,
    is_image,
    names_image,
    picture_size,
)
from memo2anki.cards.pictures.svg import svg_problem
from memo2anki.model import Diagnostic, Media, Memo2AnkiError, Note, file_version
from memo2anki.notes.reader import read_note

# `<image>` too: an HTML parser reads it as `<img>`.
_IMG_TAG = re.compile(r"<(?:img|image)\b[^>]*>", re.IGNORECASE)
_SIZE = re.compile(r"^(\d{1,5})(?:x(\d{1,5}))?$")


@dataclass(frozen=True)
class Rendered:
    """A rendered back: its HTML, the media it embeds, inline tags and warnings."""

    html: str
    media: tuple[Media, ...]
    tags: tuple[str, ...]
    diagnostics: tuple[Diagnostic, ...]


@dataclass
class _Context:
    note_path: Path
    relpath: str
    depth: int = 0  # 1 inside an embedded note, where further note embeds are not expanded
    raw_html: bool = False  # whether raw HTML from the note was rendered
    raw_html_line: int | None = None  # the line of the first, when known
    media: dict[str, Media] = field(default_factory=dict)
    diagnostics: list[Diagnostic] = field(default_factory=list)

    @property
    def note_dir(self) -> Path:
        return self.note_path.parent

    def warn(self, line: int | None, message: str) -> None:
        self.diagnostics.append(Diagnostic(self.relpath, line, message))


class CardRenderer:
    """Renders backs; build once per run (parser, lexers and media index are reused)."""

    def __init__(self, resolver: MediaResolver, store: MediaStore, md: MarkdownIt | None = None):
        self.resolver = resolver
        self.store = store
        self.md = md or make_markdown()
        self.html = cast(RendererHTML, self.md.renderer)
        # Embedded notes of the note whose cards are being made: see _embedded.
        self._embeds: dict[tuple[str, str | None, int, int], tuple[bool, Rendered | str | None]]
        self._embeds = {}
        # Each embedded file as read (or why it could not be), with its headings, by state.
        self._embedded_notes: dict[tuple[str, int, int], tuple[Note, Headings] | str] = {}
        # Set directly: add_render_rule would rebind these methods to the renderer.
        overrides = {
            "image": self._render_image,
            "wikilink_embed": self._render_embed,
            "html_inline": self._render_html,
            "html_block": self._render_html,
        }
        for name, rule in overrides.items():
            self.html.rules[name] = cast(MethodType, rule)

    def render(
        self, markdown: str, note_path: Path, relpath: str, first_line: int, _depth: int = 0
    ) -> Rendered:
        """Render ``markdown`` (which starts at ``first_line`` of the note at ``note_path``)."""
        ctx = _Context(note_path=note_path, relpath=relpath, depth=_depth)
        env: dict[str, Any] = {"m2a": ctx}
        tokens = self.md.parse(markdown, env)
        return self._finish(tokens, first_line, env)

    def render_tokens(
        self,
        tokens: list[Token],
        note_path: Path,
        relpath: str,
        footnotes: Mapping[str, Sequence[Token]] | None = None,
    ) -> Rendered:
        """Render block tokens of a note (from
        :func:`~memo2anki.cards.markdown.parser.parse_blocks`).

        ``footnotes`` are the note's footnote definitions by label (see
        :func:`~memo2anki.cards.markdown.footnotes.definitions_by_label`), wherever they stand: a
        back that refers to one shows it at its end, as the note does; only those are parsed.
        """
        env: dict[str, Any] = {"m2a": _Context(note_path=note_path, relpath=relpath)}
        if footnotes:
            parsed = parse_with_footnotes(self.md, tokens, env, footnotes)
        else:
            parsed = parse_inlines(self.md, tokens, env)
        return self._finish(parsed, 1, env)

    def render_front(
        self, children: list[Token], note_path: Path, relpath: str, line: int
    ) -> Rendered:
        """Render a card's front from its inline tokens (a heading's, from the card finder),
        which stand on ``line``: images are embedded and raw HTML sanitized as in a back.
        Its ``#tags`` are the card's too: they were parsed with the finder's tokens, so they
        are taken from those."""
        env: dict[str, Any] = {"m2a": _Context(note_path=note_path, relpath=relpath)}
        tags = [tok.content for tok in children if tok.type == TAG_TOKEN]
        if tags:
            env["tags"] = tags
        inline = Token("inline", "", 0, map=[0, 1], children=children)
        # The core rules after the inline parse, as a back gets them: text_join makes an
        # escape (`\[`) or entity (`&lt;`) text, which the renderer has no rule for otherwise
        # (it wrote each as `<>`).
        return self._finish(finish_inline(self.md, [inline], env), line, env)

    def _finish(self, tokens: list[Token], first_line: int, env: dict[str, Any]) -> Rendered:
        ctx: _Context = env["m2a"]
        _number_lines(tokens, first_line)
        body = self.html.render(tokens, self.md.options, env)
        # Only raw HTML from the note can carry anything unsafe: every other token is
        # escaped by the renderer (and its links checked by markdown-it's validateLink).
        if ctx.raw_html:
            if too_deep(body):
                deep = f"HTML nested deeper than {MAX_DEPTH} elements: shown as text"
                ctx.warn(ctx.raw_html_line or first_line, deep)
            body = sanitize(body)
        return Rendered(
            html=body.strip(),
            media=tuple(ctx.media.values()),
            tags=tuple(dict.fromkeys(env.get("tags", []))),
            diagnostics=tuple(ctx.diagnostics),
        )

    def _render_image(
        self, tokens: Sequence[Token], idx: int, _options: OptionsDict, env: dict[str, Any]
    ) -> str:
        tok = tokens[idx]
        alt, width, height = _split_size(
            self.html.renderInlineAsText(tok.children or [], self.md.options, env)
        )
        return self._image(str(tok.attrGet("src") or ""), alt, width, height, tok, env)

    def _render_embed(
        self, tokens: Sequence[Token], idx: int, _options: OptionsDict, env: dict[str, Any]
    ) -> str:
        tok = tokens[idx]
        target = str(tok.meta.get("target") or "")
        if names_image(target):
            width, height = tok.meta.get("width"), tok.meta.get("height")
            return self._image(target, "", width, height, tok, env)
        return self._embed_note(tok, env["m2a"])

    def _embed_note(self, tok: Token, ctx: _Context) -> str:
        """Show an embedded note (or one heading's section of it), one level deep."""
        target = str(tok.meta.get("target") or "")
        heading = tok.meta.get("heading")
        label = html.escape(str(tok.meta.get("alias") or tok.content or target))
        line = tok.meta.get("line")

        def not_shown(message: str) -> str:
            ctx.warn(line, message)
            return f'<span class="m2a-embed-missing">{label}</span>'

        suffix = PurePosixPath(target).suffix.lower()
        if suffix and suffix != ".md":
            return not_shown(f"embedded file not shown: ![[{target}]]")
        if ctx.depth >= 1:  # one level deep; this also cuts any cycle of embeds
            return f'<span class="m2a-embed-name">{label}</span>'
        path: Path | None = ctx.note_path
        problem = None
        if target:
            lookup = self.resolver.resolve(target if suffix else f"{target}.md", ctx.note_dir)
            path, problem = lookup.path, lookup.problem
        if path is None:
            if problem is not None and problem.endswith(NOT_REGULAR):
                return not_shown(f"embedded note {problem}")
            return not_shown(f"embedded note not found: ![[{target}]]")
        inner = self._embedded(path, str(heading) if heading else None)
        if isinstance(inner, str):
            return not_shown(f"embedded note not shown: {inner}")
        if inner is None:
            return not_shown(f"heading not found in embedded note: ![[{target}#{heading}]]")
        ctx.media.update((m.name, m) for m in inner.media)
        ctx.diagnostics.extend(inner.diagnostics)
        return (
            f'<div class="m2a-embed"><div class="m2a-embed-title">{label}</div>{inner.html}</div>'
        )

    def start_note(self) -> None:
        """Let go of the embedded notes kept for the last note's cards (see _embedded)."""
        self._embeds.clear()
        self._embedded_notes.clear()

    def _embedded(self, path: Path, heading: str | None) -> Rendered | str | None:
        """An embedded note (or its section under ``heading``) rendered one level deep; why
        it cannot be read; or None if it has no such heading.

        Kept while one note's cards are made (see :meth:`start_note`), per file state, each
        file read and its headings found once: each of a note's `![[#part]]` read and parsed
        the whole note again, time growing with the square of their number.
        """
        try:
            stat = path.stat()
            key: tuple[str, str | None, int, int] | None = (
                str(path),
                heading,
                file_version(stat),
                stat.st_size,
            )
        except OSError:
            key = None  # read_note says why
        if key is not None and key in self._embeds:
            read, result = self._embeds[key]
        else:
            read, result = self._embed_uncached(path, heading, key)
            if key is not None:
                self._embeds[key] = (read, result)
        if (read or key is not None) and self.resolver.journal is not None:
            # The stamp taken before it was read: a change made meanwhile is seen next run;
            # and one that could not be read (too big, not text) is looked at again when it
            # changes.
            stamp = (key[3], key[2]) if key is not None else (-1, -1)
            self.resolver.journal.files.append((str(path), *stamp))
        return result

    def _embed_uncached(
        self, path: Path, heading: str | None, key: tuple[str, str | None, int, int] | None
    ) -> tuple[bool, Rendered | str | None]:
        file_key = (key[0], key[2], key[3]) if key is not None else None
        known = self._embedded_notes.get(file_key) if file_key is not None else None
        if known is None:
            try:
                note, _ = read_note(path, self.resolver.notes, garden=self.resolver.pages)
                known = (note, headings_of(self.md, note.text))
            except Memo2AnkiError as err:
                known = str(err)
            if file_key is not None:
                self._embedded_notes[file_key] = known
        if isinstance(known, str):
            return False, known
        note, headings = known
        part = section_of(self.md, note.text, heading, headings) if heading else (note.text, 1)
        if part is None:
            return True, None
        return True, self.render(part[0], path, note.relpath, part[1], _depth=1)

    def _image(
        self,
        src: str,
        alt: str,
        width: int | None,
        height: int | None,
        tok: Token,
        env: dict[str, Any],
    ) -> str:
        ctx: _Context = env["m2a"]
        line = tok.meta.get("line")
        lookup = self.resolver.resolve(src, ctx.note_dir)
        if lookup.remote:
            label = html.escape(alt or src)
            return f'<a class="m2a-remote" href="{html.escape(src, quote=True)}">{label}</a>'
        if lookup.path is None:
            ctx.warn(line, lookup.problem or f"image not found: {src}")
            return _missing(src)
        # A shared deck carries pictures only, never whatever file an image link names.
        if not is_image(lookup.path.name):
            ctx.warn(line, f"not an image; not embedded: {src}")
            return _missing(src)
        if lookup.path.suffix.lower() == ".svg" and (problem := self._svg_problem(lookup.path)):
            ctx.warn(line, f"{problem}; not embedded: {src}")
            return _missing(src)
        try:
            media = self.store.add(lookup.path)
        except PictureTooLarge as err:
            ctx.warn(
                line,
                f"image larger than {MAX_PICTURE_BYTES >> 20} MiB ({picture_size(err.size)}), "
                f"which Anki cannot sync; left out: {src}",
            )
            return _missing(src)
        except OSError as err:
            ctx.warn(line, f"cannot read image {src}: {err.strerror or err}")
            return _missing(src)
        ctx.media[media.name] = media
        attrs = f'src="{media.name}" alt="{html.escape(alt, quote=True)}"'
        if width:
            attrs += f' width="{width}"'
        if height:
            attrs += f' height="{height}"'
        return f"<img {attrs}>"

    def _svg_problem(self, path: Path) -> str | None:
        """Why an SVG may not go into the deck (see :mod:`memo2anki.cards.pictures.svg`), or
        None."""
        problem, stamp = svg_problem(path)
        if problem and self.resolver.journal is not None:
            # The cached result depends on the file, as it was before it was read: a cleaned
            # SVG is embedded next run.
            self.resolver.journal.files.append(stamp)
        return problem

    def _render_html(
        self, tokens: Sequence[Token], idx: int, _options: OptionsDict, env: dict[str, Any]
    ) -> str:
        tok = tokens[idx]
        ctx: _Context = env["m2a"]
        if not ctx.raw_html:
            ctx.raw_html, ctx.raw_html_line = True, tok.meta.get("line")

        def embed(match: re.Match[str]) -> str:
            tag = match.group(0)
            src = _attr(tag, "src")
            if src is None:
                return ""
            width, height = _int(_attr(tag, "width")), _int(_attr(tag, "height"))
            return self._image(src, _attr(tag, "alt") or "", width, height, tok, env)

        # Past the last `>` no tag can close: without this bound each unclosed `<img` was
        # searched to the end of the block, time growing with the square of their number.
        content = tok.content
        end = content.rfind(">") + 1
        return _IMG_TAG.sub(embed, content[:end]) + content[end:]


# A note's top-level headings: (level, first line, line after it, title folded), 0-based.
Headings = list[tuple[int, int, int, str]]


def headings_of(md: MarkdownIt, text: str) -> Headings:
    """The top-level headings of a note's markdown, in order."""
    tokens = md.parse(text, {})
    return [
        (
            int(tok.tag[1:]),
            tok.map[0],
            tok.map[1],
            " ".join(tokens[i + 1].content.split()).casefold(),
        )
        for i, tok in enumerate(tokens)
        if tok.type == "heading_open" and tok.level == 0 and tok.map is not None
    ]


def section_of(
    md: MarkdownIt, text: str, heading: str, headings: Headings | None = None
) -> tuple[str, int] | None:
    """The markdown under ``heading`` (to the next heading of its level or higher) and the
    1-based line it starts on; None if the note has no such heading. ``headings``: the
    note's (:func:`headings_of`), when known."""
    wanted = " ".join(heading.split()).casefold()
    start: int | None = None
    level = 0
    lines = text.split("\n")
    for this_level, first, after, title in headings_of(md, text) if headings is None else headings:
        if start is not None and this_level <= level:
            return "\n".join(lines[start:first]), start + 1
        if start is None and title == wanted:
            start, level = after, this_level
    return ("\n".join(lines[start:]), start + 1) if start is not None else None


def _number_lines(tokens: Sequence[Token], first_line: int) -> None:
    """Give inline tokens the file line they stand on, for warnings."""
    for tok in tokens:
        if tok.map is None:
            continue
        line = first_line + tok.map[0]
        tok.meta["line"] = line
        for child in tok.children or ():
            child.meta["line"] = line
            if child.type in {"softbreak", "hardbreak"}:
                line += 1
            elif child.type == "obsidian_comment":  # a comment spanning lines
                line += child.meta["lines"]


def _split_size(alt: str) -> tuple[str, int | None, int | None]:
    """Obsidian's ``![alt|300](...)`` and ``![alt|300x200](...)`` sizes."""
    text, sep, size = alt.rpartition("|")
    match = _SIZE.match(size.strip()) if sep else None
    if match is None:
        return alt, None, None
    return text, int(match.group(1)), _int(match.group(2))


def _attr(tag: str, name: str) -> str | None:
    pattern = rf"""(?<![\w-]){name}\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>]+))"""
    match = re.search(pattern, tag, re.IGNORECASE)
    if match is None:
        return None
    return html.unescape(next(g for g in match.groups() if g is not None))


def _int(value: str | None) -> int | None:
    return int(value) if value and value.isdigit() else None


def _missing(src: str) -> str:
    name = html.escape(unquote(src).replace("\\", "/").rsplit("/", 1)[-1])
    return f'<span class="m2a-missing">[missing image: {name}]</span>'
