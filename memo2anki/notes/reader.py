"""Read a note: decode its bytes, split off the frontmatter, find its date and tags."""

from __future__ import annotations

import codecs
import datetime as dt
import os
import re
import stat as stat_mode
import unicodedata
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any, BinaryIO

import yaml
from frontmatter.default_handlers import YAMLHandler

from memo2anki.cards.markdown.parser import ATX_HEADING
from memo2anki.cards.obsidian.wikilinks import display_name, parse_inner
from memo2anki.model import Diagnostic, Memo2AnkiError, Note, plural, printable
from memo2anki.notes.discover import real_path
from memo2anki.notes.garden import Pages, frontmatter_text, unpublish, vault_metadata
from memo2anki.notes.tags import inline_tags, normalize_tag

MAX_NOTE_BYTES = 8 * 1024 * 1024

_FRONTMATTER = re.compile(r"\A---[ \t]*\n(.*?\n)?---[ \t]*(?:\n|\Z)", re.DOTALL)
_DATE_IN_NAME = re.compile(r"(\d{4})-(\d{2})-(\d{2})")
# Both on a stripped line, each a single scan: `\s+(.*\S)\s*$` on a line of spaces, or
# `\[\[([^\]]+)` on a run of `[[`, tried every start and took time growing with its square.
_LIST_ITEM = re.compile(r"(?:[-*+]|\d+[.)])\s+(?:\[.\]\s+)?(.+)")
_WIKILINK = re.compile(r"\[\[((?:(?!\[\[)[^\]])+)\]\]")
_THEMATIC_BREAK = re.compile(r" {0,3}([-*_])(?:\s*\1){2,}\s*")
# UTF-32 first: its little-endian mark starts with UTF-16's.
_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)


def _read_bounded(f: BinaryIO, size: int) -> bytes:
    """At most one byte past the size limit, even if the file grew after it was measured;
    asking for the file's own size first, as read(n) sets n bytes aside before reading."""
    raw = f.read(min(size, MAX_NOTE_BYTES) + 1)
    if len(raw) > size and len(raw) <= MAX_NOTE_BYTES:  # it grew: read on, bounded
        raw += f.read(MAX_NOTE_BYTES + 1 - len(raw))
    return raw


def read_note(
    path: Path,
    vault: Path,
    real_folders: dict[str, str] | None = None,
    garden: Pages | None = None,
) -> tuple[Note, list[Diagnostic]]:
    """Read one note; raises :class:`Memo2AnkiError` if it cannot be used at all.
    ``vault``: the folder note paths are relative to. ``real_folders``: see
    :func:`vault_relpath`. ``garden``: the pages of the Digital Garden the note was
    published to, which is read as the vault's note it was published from
    (:mod:`memo2anki.notes.garden`); None for a vault's note."""
    relpath = vault_relpath(path, vault, real_folders)
    try:
        stat = path.stat()
        # A pipe or device named .md would block the run or never end.
        if not stat_mode.S_ISREG(stat.st_mode):
            raise Memo2AnkiError(f"{relpath}: skipped, not a regular file")
        with path.open("rb") as f:  # read-only: notes are never modified
            raw = _read_bounded(f, stat.st_size)
    except OSError as err:
        raise Memo2AnkiError(f"{relpath}: cannot read: {err.strerror or err}") from err
    if len(raw) > MAX_NOTE_BYTES:
        raise Memo2AnkiError(
            f"{relpath}: skipped, larger than {MAX_NOTE_BYTES // (1024 * 1024)} MiB"
        )
    text, warnings = decode(raw, relpath)
    permalink = ""
    if garden is not None and (head := _FRONTMATTER.match(text)):
        text = frontmatter_text(head.group(0)) + text[head.end() :]
    text, metadata, fm_warnings = split_frontmatter(text, relpath)
    if garden is not None:
        metadata, permalink = vault_metadata(metadata)
        text = unpublish(text, garden.note_of)
    tags, tag_warnings = frontmatter_tags(metadata, relpath)
    warnings += fm_warnings + tag_warnings
    note = Note(
        path=path,
        relpath=relpath,
        text=text,
        metadata=metadata,
        date=note_date(path, metadata),
        mtime=int(stat.st_mtime),
        tags=tuple(dict.fromkeys(tags + tags_section(text))),
        permalink=permalink,
    )
    return note, warnings


def vault_relpath(path: Path, vault: Path, real_folders: dict[str, str] | None = None) -> str:
    """The note's path inside the vault (posix, NFC), or its plain path if outside; a name
    that is not valid UTF-8 shows its odd bytes as ``\\xb0`` (see :func:`printable`).

    ``real_folders``: see :func:`~memo2anki.notes.discover.real_path`."""
    try:
        resolved = real_path(path, real_folders)
    except (OSError, RuntimeError):  # it cannot be resolved (a symlink loop)
        resolved = os.path.abspath(path)
    # On strings, not pathlib: this names every note of a run.
    root = os.path.join(vault, "")
    if os.path.normcase(resolved).startswith(os.path.normcase(root)):
        rel = resolved[len(root) :].replace(os.sep, "/")
    else:
        rel = path.as_posix()
    return unicodedata.normalize("NFC", printable(rel))


def decode(raw: bytes, relpath: str) -> tuple[str, list[Diagnostic]]:
    """Bytes to text with LF line ends. UTF-8 (with or without BOM) is read silently; UTF-16
    or UTF-32 (with a BOM, or UTF-16 without one), CP949 and anything else detected are read
    with a warning naming the encoding, since Obsidian itself reads only UTF-8. A few bad
    places in any of them are shown as U+FFFD, with a warning at the line of the first."""
    bom = next((name for mark, name in _BOMS if raw.startswith(mark)), None)
    if bom is None and b"\x00" in raw:
        bom = _utf16_without_bom(raw)
    if bom is not None:
        text, warning = _read_as(raw, bom, relpath)
    else:
        try:
            text, warning = raw.decode("utf-8-sig"), None
        except UnicodeDecodeError:
            text, warning = _not_utf8(raw, relpath)
    warnings = [warning] if warning is not None else []
    if "\x00" in text:
        text, nul_warning = _nul_places(text, relpath)
        warnings.append(nul_warning)
    text = text.lstrip("\ufeff").replace("\r\n", "\n").replace("\r", "\n")
    return text, warnings


_NUL_RUN = re.compile("\x00+")
# What no text holds: NUL and the control characters but tab, line ends and escape (terminal
# output pasted keeps its escapes), and the bad places shown as U+FFFD.
_NOT_TEXT = re.compile("[\x00-\x08\x0e-\x1a\x1c-\x1f\ufffd]+")
# A run of NUL bytes in a note (a block of zeros a crash left, a byte a bad sync put there) is
# a bad place, shown as U+FFFD as the other bad places are. A binary file named .md (a picture,
# a database) holds such places all through: more than one to this many characters of text.
_TEXT_PER_BAD_PLACE = 16


def _nul_places(text: str, relpath: str) -> tuple[str, Diagnostic]:
    """``text`` with each run of NUL characters shown as one U+FFFD, and the warning at the
    line of the first; skipped when its places that are not text are too many for a text
    file's."""
    places = sum(1 for _ in _NOT_TEXT.finditer(text))
    if places * _TEXT_PER_BAD_PLACE > len(_NOT_TEXT.sub("", text)):
        raise Memo2AnkiError(f"{relpath}: skipped, not a text file")
    runs = [found.start() for found in _NUL_RUN.finditer(text)]
    message = f"NUL bytes (not text) in {plural(len(runs), 'place')}, shown as \ufffd"
    return _NUL_RUN.sub("\ufffd", text), Diagnostic(relpath, _line_at(text, runs[0]), message)


# A UTF-8 note with a few bad bytes (a broken copy, a truncated sync, a character cut in two,
# a surrogate written as CESU-8) is still UTF-8: its characters are valid multi-byte sequences,
# many to each bad place. A note in a legacy encoding (CP949) read as UTF-8 has a bad place
# at nearly every character, and its chance-valid sequences are fewer than its bad places.
_GOOD_PER_BAD_PLACE = 4
# Fewer bytes outside ASCII than this tell a detector nothing it can trust: such a note is
# read as UTF-8, as Obsidian reads it (unless its bytes are CP949's Hangul).
_FEW_HIGH_BYTES = 32
_BAD_RUN = re.compile("[\udc80-\udcff]+")
_ASCII = bytes(range(128))


def _not_utf8(raw: bytes, relpath: str) -> tuple[str, Diagnostic]:
    """The text of a note that is not valid UTF-8, and the warning saying how it was read:
    as UTF-8 with its bad places shown as U+FFFD when most of it is UTF-8, or too little of
    it is not to say what else it is; as CP949 when its letters are Hangul (unless the
    detector names another CJK code page, for a reading as CP949 that leaves doubt); else as
    detected, and as UTF-8 again when nothing is. Skipped only when it is not text at all."""
    escaped = raw.decode("utf-8", errors="surrogateescape")
    places = sum(1 for _ in _BAD_RUN.finditer(escaped))  # runs of bad bytes
    bad_bytes = sum(1 for char in escaped if "\udc80" <= char <= "\udcff")
    good = sum(1 for char in escaped if char >= "\x80") - bad_bytes
    if good >= _GOOD_PER_BAD_PLACE * places:
        return _as_utf8(raw, escaped, places, relpath)
    few_high_bytes = len(raw.translate(None, _ASCII)) < _FEW_HIGH_BYTES
    body = raw.removeprefix(codecs.BOM_UTF8)
    korean = _korean_legacy(body)  # (its NUL bytes, if any, are told after)
    if b"\x00" in raw and (korean is None or "\ufffd" in korean) and not few_high_bytes:
        # (A code page the detector would find in a binary file's bytes is not guessed.)
        raise Memo2AnkiError(f"{relpath}: skipped, not a text file")
    if korean is not None:
        # Chinese and Japanese code pages read as CP949 are mostly Hangul too: the detector
        # tells them apart (Korean is among its likeliest for Korean however short).
        other = _detected(body.replace(b"\x00", b""))
        if other is None or not other.startswith(_OTHER_CJK):
            return _told(korean, "cp949", relpath)
        return _told(body.decode(other, errors="replace"), other, relpath)
    if few_high_bytes:
        return _as_utf8(raw, escaped, places, relpath)
    found = _detected(body)
    if found is not None:
        return _told(body.decode(found, errors="replace"), found, relpath)
    if bad_bytes * 4 > len(raw):  # mostly bytes no encoding reads: not text
        raise Memo2AnkiError(f"{relpath}: skipped, not a text file (unknown encoding)")
    return _as_utf8(raw, escaped, places, relpath)


# Korean notes that are not UTF-8 are almost always CP949, a superset of EUC-KR; decoding with
# it keeps the extended Hangul the detector's EUC-KR guess would lose.
_KOREAN = {"euc_kr", "cp949", "johab"}


def _detected(raw: bytes) -> str | None:
    """The encoding the detector finds ``raw`` in (None: none), CP949 for Korean, and for it
    too when it is among the likeliest (a short note fits several code pages as well)."""
    # Imported here: it is only needed for the rare note that is not UTF-8.
    from charset_normalizer import from_bytes

    found = from_bytes(raw)
    best = found.best()
    if best is None:
        return None
    if best.encoding in _KOREAN or any(
        match.encoding in _KOREAN and match.chaos <= best.chaos for match in found
    ):
        return "cp949"
    return str(best.encoding)


# The detector's names of the Chinese and Japanese code pages.
_OTHER_CJK = ("gb", "hz", "big5", "cp932", "cp950", "shift_jis", "euc_j", "iso2022_jp")


def _as_utf8(raw: bytes, escaped: str, places: int, relpath: str) -> tuple[str, Diagnostic]:
    """The text read as Obsidian reads it (each bad sequence as U+FFFD), with a warning at
    the line of the first bad byte (``escaped``: the bytes decoded with surrogateescape)."""
    text = raw.decode("utf-8-sig", errors="replace")
    first = _BAD_RUN.search(escaped)
    assert first is not None
    # (a place: a run of bad bytes, shown as one \ufffd or more, as Obsidian shows it)
    message = (
        f"not valid UTF-8 in {plural(places, 'place')}, shown as \ufffd (as Obsidian shows them)"
    )
    return text, Diagnostic(relpath, _line_at(escaped, first.start()), message)


def _read_as(raw: bytes, encoding: str, relpath: str) -> tuple[str, Diagnostic]:
    """The text in ``encoding`` (UTF-16 or UTF-32) and its warning; a few bad places, a lone
    surrogate or an odd byte at the end, as in UTF-8; skipped when it is mostly bad."""
    try:
        return _told(raw.decode(encoding), encoding, relpath)
    except UnicodeDecodeError as err:
        text = raw.decode(encoding, errors="replace")
        if text.count("\ufffd") * _GOOD_PER_BAD_PLACE > len(text):
            raise Memo2AnkiError(f"{relpath}: skipped, not a text file ({err.reason})") from err
        return _told(text, encoding, relpath)


def _told(text: str, encoding: str, relpath: str) -> tuple[str, Diagnostic]:
    """``text`` read in ``encoding``, and the warning that says so (and where it was not
    valid, each bad place shown as U+FFFD)."""
    name = encoding.upper().replace("_", "-")
    bad = text.count("\ufffd")
    if not bad:
        return text, Diagnostic(relpath, None, f"not UTF-8; read as {name}")
    message = f"read as {name}, not valid in {plural(bad, 'place')}, shown as \ufffd"
    return text, Diagnostic(relpath, _line_at(text, text.index("\ufffd")), message)


def _line_at(text: str, index: int) -> int:
    """The 1-based line of ``text[index]``, whatever its line ends (LF, CRLF or CR)."""
    before = text[:index]
    return before.count("\n") + before.count("\r") - before.count("\r\n") + 1


def _utf16_without_bom(raw: bytes) -> str | None:
    """``utf-16-le`` or ``utf-16-be`` when ``raw`` looks like UTF-16 written without a BOM
    (as some Windows tools do): a NUL at one side of many of its pairs (ASCII: line ends,
    spaces, markdown) and next to none at the other; else None."""
    low, high = raw[0::2].count(0), raw[1::2].count(0)
    if high * 8 >= len(raw) and low * 8 <= high:
        return "utf-16-le"
    if low * 8 >= len(raw) and high * 8 <= low:
        return "utf-16-be"
    return None


# CP949 with more bad places than one to this many of its Hangul syllables is not CP949.
_HANGUL_PER_BAD_PLACE = 4


def _korean_legacy(raw: bytes) -> str | None:
    """The text of a note in CP949 (EUC-KR), a few bad places shown as U+FFFD: the bytes
    decode as CP949 (but for those few), and most of the letters that are not ASCII are the
    2,350 common Hangul syllables of EUC-KR. A short note is this or nothing for the
    detector, which guesses a single-byte code page for it; Chinese or Japanese text that
    passes (read as CP949, it is Hangul and Hanja) is told apart by the detector then."""
    text = raw.decode("cp949", errors="replace")
    # (Hanja, written beside Hangul in Korean, count neither way: a Chinese code page's text
    # read as CP949 is one the detector then tells apart.)
    letters = [char for char in text if char >= "\x80" and char.isalpha() and not _hanja(char)]
    common = 0
    for char in letters:
        if "\uac00" <= char <= "\ud7a3":
            try:
                char.encode("euc-kr")
            except UnicodeEncodeError:
                continue
            common += 1
    bad = text.count("\ufffd")
    if not letters or common * 2 <= len(letters) or bad * _HANGUL_PER_BAD_PLACE > common:
        return None
    return text


def _hanja(char: str) -> bool:
    return "\u4e00" <= char <= "\u9fff" or "\uf900" <= char <= "\ufaff"


def split_frontmatter(text: str, relpath: str) -> tuple[str, dict[str, Any], list[Diagnostic]]:
    """Parse YAML frontmatter and blank its lines, so line numbers still match the file."""
    match = _FRONTMATTER.match(text)
    if not match:
        return text, {}, []
    blanked = "\n" * match.group(0).count("\n") + text[match.end() :]
    if not match.group(0).endswith("\n"):
        blanked += "\n"
    try:
        data = YAMLHandler().load(match.group(1) or "")
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        line = mark.line + 2 if mark is not None else 1
        problem = getattr(err, "problem", None) or "invalid YAML"
        return blanked, {}, [Diagnostic(relpath, line, f"broken frontmatter ignored: {problem}")]
    # YAML's value constructors raise more than YAMLError (`date: 2025-13-45` is a
    # ValueError, deep nesting a RecursionError); none of it may stop the note.
    except Exception as err:
        problem = " ".join(str(err).split()) or type(err).__name__
        return blanked, {}, [Diagnostic(relpath, 1, f"broken frontmatter ignored: {problem}")]
    if data is None:
        return blanked, {}, []
    if not isinstance(data, dict):
        warning = Diagnostic(relpath, 1, "frontmatter ignored: it is not a mapping of keys")
        return blanked, {}, [warning]
    return blanked, {str(k): v for k, v in data.items()}, []


def note_date(path: Path, metadata: dict[str, Any]) -> dt.date | None:
    """The note's date: from its file name (daily notes), else frontmatter date/created."""
    match = _DATE_IN_NAME.search(path.stem)
    if match:
        try:
            return dt.date(*(int(g) for g in match.groups()))
        except ValueError:
            pass
    for key in ("date", "created"):
        value = metadata.get(key)
        if isinstance(value, dt.datetime):
            return value.date()
        if isinstance(value, dt.date):
            return value
        if isinstance(value, str):
            match = _DATE_IN_NAME.search(value)
            if match:
                try:
                    return dt.date(*(int(g) for g in match.groups()))
                except ValueError:
                    continue
    return None


# Tag values taken as text: YAML reads `2025` as a number and `2025-04-04` as a date.
_TAG_VALUE = (str, int, float, dt.date)


def frontmatter_tags(metadata: dict[str, Any], relpath: str) -> tuple[list[str], list[Diagnostic]]:
    """Tags from frontmatter ``tags``/``tag``: a list, or a comma/space separated string.
    Mappings and nested lists are left out with a warning, and never turned into text
    (through YAML aliases that text could be huge)."""
    raw = metadata.get("tags", metadata.get("tag"))
    if raw is None:
        return [], []
    if isinstance(raw, _TAG_VALUE):
        labels = re.split(r"[,\s]+", str(raw))
    elif isinstance(raw, list):
        labels = [str(item) for item in raw if isinstance(item, _TAG_VALUE)]
    else:
        labels = []
    tags = [t for t in map(normalize_tag, labels) if t]
    values = raw if isinstance(raw, list) else [raw]
    if all(item is None or isinstance(item, _TAG_VALUE) for item in values):
        return tags, []
    warning = "frontmatter tags: a mapping or nested list is not a tag; left out"
    return tags, [Diagnostic(relpath, 1, warning)]


def tags_section(text: str) -> list[str]:
    """Tags listed under a ``# Tags`` heading: ``[[03 - Tags/2025-04\\|2025-04]]`` gives
    ``2025-04``; an item of ``#tags`` gives each (``- #two #tags``: ``two`` and ``tags``), as
    Obsidian sees them; other items are taken as written. A ``# Tags`` line in fenced code or
    a comment is no heading, and an item there is none."""
    tags: list[str] = []
    inside = False
    for line in _shown_lines(text):
        heading = ATX_HEADING.match(line)
        if heading:
            inside = heading.group(1).strip().lower() == "tags"
            continue
        if not inside:
            continue
        if _THEMATIC_BREAK.fullmatch(line):
            inside = False
            continue
        item = _LIST_ITEM.fullmatch(line.strip())
        if not item:
            continue
        content = item.group(1)
        links = _WIKILINK.findall(content)
        labels = [_link_label(link) for link in links] if links else tag_labels(content)
        tags.extend(t for t in (normalize_tag(label) for label in labels) if t)
    return tags


def tag_labels(item: str) -> list[str]:
    """The tags one item of a ``# Tags`` list (with no link) names: its ``#tags`` if it holds
    any, else the item as written."""
    return inline_tags(item) or [item]


# A fence opens a line, or a list item; a backtick fence's info holds no backtick (else the
# line is inline code). It closes at a line of at least as many of its character alone.
_FENCE_OPEN = re.compile(r"[ \t]*(?:(?:[-*+]|\d{1,9}[.)])[ \t]+)*(`{3,}|~{3,})")
_FENCE_CLOSE = re.compile(r"[ \t]*(`{3,}|~{3,})[ \t]*")
# What opens a comment, and a code span's backticks, in which nothing does.
_COMMENT_MARK = re.compile(r"%%|<!--|`+")
_COMMENT_END = {"%%": "%%", "<!--": "-->"}


def _shown_lines(text: str) -> Iterator[str]:
    """The lines of ``text`` that may be a heading or list item as Obsidian shows the note:
    none in fenced code (``` or ~~~, of any length: the rest of the note if never closed), nor
    one that starts in a ``%%comment%%`` or ``<!-- comment -->``; a line's own comments taken
    out. A comment mark that is never closed, or stands in a code span, is text, as the cards'
    renderer reads it. One pass: each mark's end is searched for once."""
    if "```" not in text and "~~~" not in text and "%%" not in text and "<!--" not in text:
        yield from text.split("\n")
        return
    fence: str | None = None
    hidden_to = 0  # where the comment open at the line's start ends
    unclosed: set[str] = set()  # ends searched for to the end of the text, in vain
    end = -1
    for line in text.split("\n"):
        start, end = end + 1, end + 1 + len(line)
        if fence is not None:
            close = _FENCE_CLOSE.fullmatch(line)
            if close and close.group(1)[0] == fence[0] and len(close.group(1)) >= len(fence):
                fence = None
            continue
        if start < hidden_to:  # in a comment: nothing here shows, but one may open after it
            if hidden_to < end:
                hidden_to = _comments_end(text, hidden_to, end, unclosed, [])
            continue
        opened = _FENCE_OPEN.match(line)
        if opened and not (opened.group(1)[0] == "`" and "`" in line[opened.end() :]):
            fence = opened.group(1)
            continue
        if "%%" not in line and "<!--" not in line:
            yield line
            continue
        shown: list[str] = []
        hidden_to = _comments_end(text, start, end, unclosed, shown)
        yield "".join(shown)


def _comments_end(text: str, start: int, end: int, unclosed: set[str], shown: list[str]) -> int:
    """Read ``text[start:end]`` (one line, or the rest of it) for comments: the text outside
    them is appended to ``shown``. Returns where a comment that goes on past ``end`` ends,
    else ``start``."""
    marks = list(_COMMENT_MARK.finditer(text, start, end))
    # Each backtick run's closing run: the next of its length (a code span).
    closing: dict[int, int] = {}
    later: dict[int, int] = {}
    for index in range(len(marks) - 1, -1, -1):
        run = len(marks[index].group())
        if marks[index].group()[0] == "`":
            if run in later:
                closing[index] = later[run]
            later[run] = index
    shown_from, index = start, 0
    while index < len(marks):
        mark = marks[index]
        if mark.group()[0] == "`":
            index = closing.get(index, index) + 1
            continue
        ender = _COMMENT_END[mark.group()]
        close = -1 if ender in unclosed else text.find(ender, mark.end())
        if close < 0:  # never closed: text
            unclosed.add(ender)
            index += 1
            continue
        shown.append(text[shown_from : mark.start()])
        shown_from = close + len(ender)
        if shown_from > end:
            return shown_from
        while index < len(marks) and marks[index].start() < shown_from:
            index += 1
    shown.append(text[shown_from:end])
    return start


def _link_label(inner: str) -> str:
    """The tag a ``[[inner]]`` names: its alias, else its target's name (never a heading)."""
    link = parse_inner(inner, embed=False)
    return display_name(replace(link, heading=None)) if link else ""
