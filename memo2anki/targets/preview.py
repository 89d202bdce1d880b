"""Every card of a plan on one HTML page, to read before importing and to study from: grouped
by subject then by note date, a table of contents, each front with its back folded under it
(``<details>``: no script), the cards' own stylesheet in light and dark, a print stylesheet
(backs open, no card split between pages), and its pictures inside the page (``data:``
URIs) or, past :data:`INLINE_LIMIT`, in a folder beside it.

The page fetches nothing and runs nothing: a Content-Security-Policy allows no script and no
network, only pictures inside the page (and, in the folder case, beside it). Card fields are
the deck's own (sanitized when the card was made); every text of the page's own is escaped
here. Math stays as its TeX source: Anki typesets it with MathJax, a script.
"""

from __future__ import annotations

import base64
import datetime as dt
import filecmp
import html
import mimetypes
import os
import re
import stat
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

from memo2anki.cards.pictures.media import read_media
from memo2anki.changes.notes import IMG, MODEL_NAME
from memo2anki.changes.plan import Change, Kind, Plan
from memo2anki.common.files import replacing
from memo2anki.model import MEDIA_NAME, Media, Memo2AnkiError, plural, printable

# Pictures up to this many bytes in all go inside the page (as data: URIs, a third larger than
# their files, one each time a card shows the picture); past it they go in a folder beside
# the page, which then shows them only with that folder beside it.
INLINE_LIMIT = 20 * 1024 * 1024

# The kinds marked on a card with --changes (unchanged cards carry no mark).
MARKED = (Kind.NEW, Kind.UPDATED, Kind.RENAMED, Kind.MOVED, Kind.RETURNED)

# What a picture's suffix says it is, beyond what `mimetypes` knows on every platform.
_TYPES = {".svg": "image/svg+xml", ".webp": "image/webp", ".avif": "image/avif"}

_MATH = re.compile(r"\\\(|\\\[")


def _css(name: str) -> str:
    return Path(__file__).with_name("templates").joinpath(name).read_text(encoding="utf-8")


@dataclass(frozen=True)
class PreviewCard:
    """One card of the page: its note's fields as the deck holds them, where it is, and what
    happened to it since the last export (None: not asked)."""

    number: int  # 1-based, in study order
    guid: str
    fields: tuple[str, ...]  # Front, Back, Subject, Source, Date, Link (see changes.notes)
    subject: str  # plain text
    date: dt.date | None
    line: int
    kind: Kind | None
    was: str = ""  # plain text: the old front of a renamed card, where a moved card was


@dataclass(frozen=True)
class Gone:
    """A card whose memo is gone since the last export: plain text, as the ledger had it."""

    front: str
    where: str  # note:line
    deck: str


@dataclass(frozen=True)
class PreviewInfo:
    """What was written."""

    path: Path
    cards: int
    size: int  # bytes of the page
    pictures: int
    folder: Path | None  # where the pictures went, when not inside the page
    # Pictures found while the cards were made but gone when the page was written.
    missing: tuple[Media, ...] = ()


def preview_cards(plan: Plan, changes: bool) -> tuple[list[PreviewCard], list[Gone]]:
    """The plan's cards in study order (and, with ``changes``, each one's kind and the gone
    cards). Cloze notes are left out: they are the same cards' highlights."""
    cards: list[PreviewCard] = []
    gone: list[Gone] = []
    for change in plan.changes:
        if change.kind is Kind.GONE:
            if changes and change.before is not None:
                gone.append(Gone(change.before.front, change.before.where, change.before.deck))
            continue
        note = next((n for n in change.notes if n.note_type == MODEL_NAME), None)
        if note is None or change.now is None:
            continue
        date = _date(note.fields[4])
        cards.append(
            PreviewCard(
                number=len(cards) + 1,
                guid=change.guid,
                fields=note.fields,
                subject=change.now.subject,
                date=date,
                line=change.now.line,
                kind=change.kind if changes else None,
                was=_was(change) if changes else "",
            )
        )
    return cards, gone


def _date(text: str) -> dt.date | None:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        return None


def _was(change: Change) -> str:
    now, before = change.now, change.before
    if now is None or before is None:
        return ""
    if change.kind is Kind.RENAMED:
        return f"was '{before.front}'"
    if change.kind is Kind.MOVED:
        if now.note != before.note:
            return f"from {before.where}"
        if now.subject != before.subject:
            return f"from subject '{before.subject}'"
        return f"from deck {before.deck}"
    if change.kind is Kind.RETURNED:
        return f"was gone (last at {before.where})"
    return ""


def picture_uses(cards: Iterable[PreviewCard]) -> Counter[str]:
    """How many times the cards' backs show each picture (by its package name)."""
    return Counter(
        name for card in cards for name in IMG.findall(card.fields[1]) if MEDIA_NAME.fullmatch(name)
    )


def inline_size(size: int) -> int:
    """The bytes a file of ``size`` bytes takes in a page as base64 (a data: URI)."""
    return (size + 2) // 3 * 4


def write_preview(
    plan: Plan,
    media: Sequence[Media],
    out: Path,
    *,
    title: str,
    changes: bool = False,
    inline_limit: int = INLINE_LIMIT,
) -> PreviewInfo:
    """Write the page of ``plan``'s cards to ``out`` (atomically), its pictures from
    ``media`` inside it, or in ``out``'s ``NAME_files/`` folder when inside it they would
    come to more than ``inline_limit`` bytes (a picture counted each time a card shows it:
    a page cannot show one data: URI twice without a script). ``changes``: mark each card's
    kind and list the gone ones."""
    cards, gone = preview_cards(plan, changes)
    uses = picture_uses(cards)
    used = [m for m in {m.name: m for m in media}.values() if m.name in uses]
    sizes = {m.name: _size(m.path) for m in used}
    missing = tuple(m for m in used if sizes[m.name] is None)
    present = [m for m in used if sizes[m.name] is not None]
    total = sum(inline_size(sizes[m.name] or 0) * uses[m.name] for m in present)
    folder: Path | None = None
    sources: dict[str, str] = {}
    beside = out.with_name(f"{out.stem}_files")
    if total > inline_limit:
        folder = beside
        sources, gone_meanwhile = _copy_pictures(present, folder)
        missing += gone_meanwhile
    else:
        # An earlier page's pictures beside it: this page shows none of them.
        _remove_pictures(beside, keep=set())
        for m in present:
            uri = _data_uri(m)
            if uri is None:
                missing += (m,)
            else:
                sources[m.name] = uri
    page = render_page(
        cards, gone, sources, title=title, changes=changes, first_run=plan.first_run,
        beside=folder is not None,
    )  # fmt: skip
    data = page.encode("utf-8")
    _write_atomic(out, data)
    return PreviewInfo(out, len(cards), len(data), len(sources), folder, missing)


def _size(path: Path) -> int | None:
    try:
        return path.stat().st_size
    except OSError:
        return None


def _mime(name: str) -> str:
    suffix = os.path.splitext(name)[1].lower()
    return _TYPES.get(suffix) or mimetypes.guess_type(name)[0] or "application/octet-stream"


def _data_uri(media: Media) -> str | None:
    try:
        data = read_media(media)
    except OSError:  # (gone, or no longer a regular file: shown as missing, never waited on)
        return None
    return f"data:{_mime(media.name)};base64,{base64.b64encode(data).decode('ascii')}"


def _copy_pictures(
    pictures: Sequence[Media], folder: Path
) -> tuple[dict[str, str], tuple[Media, ...]]:
    """Copy the pictures into ``folder`` (made if need be) under their package names, and
    remove the pictures of an earlier page there that this one no longer shows; the sources
    of those copied, and the pictures that could not be read (gone since found, no longer a
    regular file, or larger than Anki takes: shown as missing, as a package leaves them
    out). Names are
    made from the content, so a file already there of that name is kept when it is a
    regular file holding the picture's bytes (not a link, nor one damaged since)."""
    # Never written through a link: it may lead anywhere, and old pictures there are removed.
    if folder.is_symlink():
        raise Memo2AnkiError(
            f"{folder} is a symbolic link; the pictures go in a folder of their own there: "
            "move it away"
        )
    if folder.exists() and not folder.is_dir():
        raise Memo2AnkiError(f"{folder} is not a folder; the pictures go there: move it away")
    try:
        folder.mkdir(exist_ok=True)
    except OSError as err:
        raise Memo2AnkiError(
            f"{folder}: cannot make the pictures' folder ({_reason(err)})"
        ) from None
    prefix = quote(folder.name)
    sources: dict[str, str] = {}
    missing: list[Media] = []
    for media in pictures:
        target = folder / media.name
        if _holds(target, media.path):
            sources[media.name] = f"{prefix}/{media.name}"
            continue
        # (read as every writer reads a picture: never waited on, never past Anki's limit)
        try:
            data = read_media(media)
        except OSError:
            missing.append(media)
            continue
        try:
            with replacing(target) as tmp:
                tmp.write_bytes(data)
        except OSError as err:
            raise Memo2AnkiError(f"{target}: cannot copy the picture ({_reason(err)})") from None
        sources[media.name] = f"{prefix}/{media.name}"
    _remove_pictures(folder, keep=set(sources))
    return sources, tuple(missing)


def _holds(target: Path, picture: Path) -> bool:
    """Whether ``target`` is a regular file (not a link) with the bytes of ``picture``: read
    to tell, as a copy would read them, and not written again."""
    try:
        if not stat.S_ISREG(os.lstat(target).st_mode):
            return False
        return filecmp.cmp(target, picture, shallow=False)
    except OSError:
        return False


def _remove_pictures(folder: Path, keep: set[str]) -> None:
    """Remove the pictures an earlier page put in ``folder`` but those named in ``keep``
    (only files named as memo2anki names pictures), and the folder once nothing else is in
    it. Never through a link, nor in a folder that is not one."""
    if folder.is_symlink() or not folder.is_dir():
        return
    try:
        for old in folder.iterdir():
            if MEDIA_NAME.fullmatch(old.name) and old.name not in keep:
                old.unlink(missing_ok=True)
        if not keep:
            folder.rmdir()
    except OSError:
        pass  # (a file of the person's there, or a folder not ours to change: left as it is)


def _reason(err: OSError) -> str:
    return err.strerror or str(err)


def _write_atomic(out: Path, data: bytes) -> None:
    try:
        with replacing(out) as tmp:
            tmp.write_bytes(data)
    except OSError as err:
        raise Memo2AnkiError(f"{out}: cannot write the page ({_reason(err)})") from None


# --- the page ------------------------------------------------------------------------------


def _e(text: str) -> str:
    """The page's own text, escaped (card fields are the deck's, already safe); the bytes of
    a file name that is not UTF-8 shown as ``\\xb0`` (as the CLI shows them)."""
    return html.escape(printable(text), quote=True)


def csp(beside: bool) -> str:
    """The page's Content-Security-Policy: nothing but inline style and its own pictures."""
    pictures = "data: 'self'" if beside else "data:"
    return f"default-src 'none'; img-src {pictures}; style-src 'unsafe-inline'"


def render_page(
    cards: Sequence[PreviewCard],
    gone: Sequence[Gone],
    sources: Mapping[str, str],
    *,
    title: str,
    changes: bool = False,
    first_run: bool = False,
    beside: bool = False,
) -> str:
    """The page itself. ``sources``: each picture's package name to what the page's
    ``<img src>`` says instead (a data: URI, or its path beside the page)."""
    groups = _groups(cards)
    parts = [
        '<!doctype html>\n<html>\n<head>\n<meta charset="utf-8">\n',
        f'<meta http-equiv="Content-Security-Policy" content="{csp(beside)}">\n',
        '<meta name="referrer" content="no-referrer">\n',
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n',
        '<meta name="color-scheme" content="light dark">\n',
        f"<title>{_e(title)}</title>\n<style>\n{page_css()}</style>\n</head>\n",
        '<body class="card m2a-preview">\n<header class="m2a-head">\n',
        f"<h1>{_e(title)}</h1>\n<p>{_e(_about(cards, groups))}</p>\n",
    ]
    if changes:
        parts.append(f"<p>{_e(_changes_line(cards, gone, first_run))}</p>\n")
    if any(_MATH.search(card.fields[1]) for card in cards):
        parts.append(
            '<p class="m2a-note">Math is shown as its TeX source, <code>\\( … \\)</code>: '
            "Anki typesets it, this page runs no script.</p>\n"
        )
    parts.append("</header>\n")
    parts.append(_toc(groups, bool(gone)))
    parts.append('<main class="m2a-cards">\n')
    for s, (subject, days) in enumerate(groups, 1):
        count = sum(len(day_cards) for _, day_cards in days)
        parts.append(
            f'<section class="m2a-group" id="s{s}">\n<h2>{_e(subject or "(no subject)")} '
            f'<span class="m2a-count">{_e(plural(count, "card"))}</span></h2>\n'
        )
        for d, (day, day_cards) in enumerate(days, 1):
            parts.append(
                f'<section class="m2a-day" id="s{s}-d{d}">\n<h3>{_e(_day(day))} '
                f'<span class="m2a-count">{_e(plural(len(day_cards), "card"))}</span></h3>\n'
            )
            parts.extend(_card(card, sources) for card in day_cards)
            parts.append("</section>\n")
        parts.append("</section>\n")
    if gone:
        parts.append(_gone(gone))
    parts.append("</main>\n</body>\n</html>\n")
    return "".join(parts)


Groups = list[tuple[str, list[tuple[dt.date | None, list[PreviewCard]]]]]


def _groups(cards: Sequence[PreviewCard]) -> Groups:
    """Subjects in the order they first come (study order: oldest note first), each one's
    days oldest first, undated last."""
    by_subject: dict[str, dict[dt.date | None, list[PreviewCard]]] = {}
    for card in cards:
        by_subject.setdefault(card.subject, {}).setdefault(card.date, []).append(card)
    return [
        (subject, sorted(days.items(), key=lambda item: (item[0] is None, item[0] or dt.date.min)))
        for subject, days in by_subject.items()
    ]


def _day(day: dt.date | None) -> str:
    return day.isoformat() if day else "undated"


def _about(cards: Sequence[PreviewCard], groups: Groups) -> str:
    dates = sorted({card.date for card in cards if card.date})
    span = f", {dates[0]} to {dates[-1]}" if len(dates) > 1 else f", {dates[0]}" if dates else ""
    return f"{plural(len(cards), 'card')} in {plural(len(groups), 'subject')}{span}"


def _changes_line(cards: Sequence[PreviewCard], gone: Sequence[Gone], first_run: bool) -> str:
    if first_run:
        return "Nothing exported before: every card is new."
    counts = {kind: sum(card.kind is kind for card in cards) for kind in MARKED}
    said = [f"{count} {kind}" for kind, count in counts.items() if count]
    if gone:
        said.append(f"{len(gone)} gone (listed at the end)")
    since = ", ".join(said) if said else "nothing changed"
    return f"Since the last export: {since}."


def _toc(groups: Groups, gone: bool) -> str:
    parts = ['<nav class="m2a-toc">\n<h2>Contents</h2>\n<ol>\n']
    for s, (subject, days) in enumerate(groups, 1):
        count = sum(len(day_cards) for _, day_cards in days)
        parts.append(
            f'<li><a href="#s{s}">{_e(subject or "(no subject)")}</a> '
            f'<span class="m2a-count">{count}</span>\n<ol class="m2a-days">'
        )
        parts.extend(
            f'<li><a href="#s{s}-d{d}">{_e(_day(day))}</a> '
            f'<span class="m2a-count">{len(day_cards)}</span></li>'
            for d, (day, day_cards) in enumerate(days, 1)
        )
        parts.append("</ol></li>\n")
    if gone:
        parts.append('<li><a href="#gone">Gone since the last export</a></li>\n')
    parts.append("</ol>\n</nav>\n")
    return "".join(parts)


def _pictures(back: str, sources: Mapping[str, str]) -> str:
    """The back with each picture's package name replaced by its source on this page."""

    def source(match: re.Match[str]) -> str:
        name = match.group(1)
        found = sources.get(name)
        if found is None:
            return match.group(0)  # missing: the browser shows a broken picture, as Anki would
        text, at = match.group(0), match.start(0)
        return f"{text[: match.start(1) - at]}{found}{text[match.end(1) - at :]}"

    return IMG.sub(source, back)


def _card(card: PreviewCard, sources: Mapping[str, str]) -> str:
    front, back, _subject, source, date, link = card.fields[:6]
    mark = ""
    if card.kind in MARKED:
        was = f' <span class="m2a-was">{_e(card.was)}</span>' if card.was else ""
        mark = f' <span class="m2a-kind m2a-kind-{card.kind}">{card.kind}</span>{was}'
    dated = f'<span class="m2a-date">{date}</span> · ' if date else ""
    return (
        f'<article class="m2a-card" id="c{card.number}" data-guid="{_e(card.guid)}">\n'
        f'<details>\n<summary><span class="m2a-num">{card.number}</span>'
        f'<span class="m2a-front">{front}</span>{mark}</summary>\n'
        f'<div class="m2a-back">{_pictures(back, sources)}</div>\n'
        f'<div class="m2a-source">{dated}<a class="m2a-open" href="{link}">{source}</a>'
        f":{card.line}</div>\n</details>\n</article>\n"
    )


def _gone(gone: Sequence[Gone]) -> str:
    items = "".join(
        f'<li><span class="m2a-front">{_e(g.front)}</span> '
        f'<span class="m2a-was">was {_e(g.where)}, {_e(g.deck)}</span></li>\n'
        for g in gone
    )
    return (
        '<section class="m2a-group m2a-gone" id="gone">\n'
        f"<h2>Gone since the last export "
        f'<span class="m2a-count">{_e(plural(len(gone), "card"))}</span></h2>\n'
        f"<p>Their memos are no longer in the notes; the next export retires them.</p>\n"
        f"<ul>\n{items}</ul>\n</section>\n"
    )


# --- its stylesheet --------------------------------------------------------------------------

_RULE = re.compile(r"([^{}]+)\{([^{}]*)\}")
_NIGHT = re.compile(r"\.(?:nightMode|night_mode)(?=[.\s])\s*")


def night_rules(card_css: str) -> str:
    """The card stylesheet's night-mode rules without their night class (Anki's clients set
    it; a page without script cannot), for ``prefers-color-scheme: dark``."""
    rules = []
    for match in _RULE.finditer(re.sub(r"/\*.*?\*/", "", card_css, flags=re.DOTALL)):
        selectors = [s.strip() for s in match.group(1).split(",")]
        night = [s for s in selectors if s.startswith(".nightMode")]
        if not night:
            continue
        plain = list(dict.fromkeys(_NIGHT.sub("", s) for s in night))
        rules.append(f"{', '.join(plain)} {{{match.group(2)}}}")
    return "\n".join(rules)


PAGE_CSS = """
/* --- the page around the cards ------------------------------------------------------------ */
body.m2a-preview { margin: 0; padding: 1.5em 1em 4em; }
.m2a-preview > * { box-sizing: border-box; max-width: 46em; margin-left: auto;
  margin-right: auto; }
.m2a-head h1 { font-size: 1.6em; line-height: 1.3; margin: 0 0 0.3em; }
.m2a-head p { margin: 0.2em 0; color: var(--m2a-muted); }
.m2a-count { font-size: 0.7em; font-weight: 400; color: var(--m2a-muted); }
.m2a-toc { margin-top: 1.2em; padding: 0.6em 1em; border: 1px solid var(--m2a-border);
  border-radius: 8px; background: var(--m2a-soft); }
.m2a-toc h2 { font-size: 1em; margin: 0.2em 0 0.4em; }
.m2a-toc ol { margin: 0; padding-left: 1.2em; }
.m2a-toc .m2a-days { display: flex; flex-wrap: wrap; gap: 0 1em; padding: 0; list-style: none;
  font-size: 0.85em; }
.m2a-preview a { color: var(--m2a-link); text-decoration: none; }
.m2a-group > h2 { font-size: 1.35em; margin: 1.6em 0 0.4em; padding-bottom: 0.2em;
  border-bottom: 2px solid var(--m2a-accent); }
.m2a-day > h3 { font-size: 1em; margin: 1.2em 0 0.4em; color: var(--m2a-muted); }
.m2a-card { border: 1px solid var(--m2a-border); border-radius: 8px; margin: 0 0 0.6em;
  background: var(--m2a-bg); }
.m2a-card summary { cursor: pointer; padding: 0.5em 0.8em; list-style: none;
  display: flex; flex-wrap: wrap; align-items: baseline; gap: 0 0.6em; }
.m2a-card summary::-webkit-details-marker { display: none; }
.m2a-card summary::before { content: "\\25B8"; color: var(--m2a-muted); }
.m2a-card details[open] > summary::before { content: "\\25BE"; }
.m2a-card .m2a-front { font-size: 1.1em; margin: 0; flex: 1 1 auto; min-width: 50%; }
.m2a-num { font-size: 0.75em; color: var(--m2a-muted); min-width: 1.8em; }
.m2a-card .m2a-back { padding: 0.2em 1em 0.4em; border-top: 1px solid var(--m2a-border); }
.m2a-card .m2a-back > :first-child { margin-top: 0.6em; }
.m2a-card .m2a-source { width: auto; max-width: none; margin: 0; padding: 0.4em 1.3em 0.6em; }
.m2a-kind { font-size: 0.72em; font-weight: 600; border-radius: 999px; padding: 0.05em 0.7em;
  color: #fff; background: rgb(var(--m2a-gray)); }
.m2a-kind-new { background: rgb(var(--m2a-green)); }
.m2a-kind-updated { background: rgb(var(--m2a-blue)); }
.m2a-kind-renamed, .m2a-kind-moved { background: rgb(var(--m2a-orange)); }
.m2a-kind-returned { background: rgb(var(--m2a-purple)); }
.m2a-was { font-size: 0.8em; color: var(--m2a-muted); }
.m2a-gone li { margin: 0.3em 0; }
.m2a-note { font-size: 0.85em; }

/* Printed: every back open, light, and no card cut in two by a page break. */
@media print {
  body.m2a-preview { padding: 0; font-size: 12pt; }
  .m2a-toc { break-after: page; }
  .m2a-card { break-inside: avoid; page-break-inside: avoid; }
  .m2a-group > h2, .m2a-day > h3 { break-after: avoid; page-break-after: avoid; }
  .m2a-card details::details-content { content-visibility: visible; display: block; }
  .m2a-card summary::before { content: none; }
  .m2a-back pre, .m2a-back table { overflow: visible; }
}
"""


def page_css() -> str:
    """The card stylesheet, its night rules for a dark screen, and the page's own rules."""
    card_css = _css("card.css")
    dark = night_rules(card_css)
    return f"{card_css}\n@media screen and (prefers-color-scheme: dark) {{\n{dark}\n}}\n{PAGE_CSS}"
