"""Read a note: decode its bytes, split off the frontmatter, find its date and tags."""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from pathlib import Path
from typing import Any

import yaml
from charset_normalizer import from_bytes
from frontmatter.default_handlers import YAMLHandler

from .model import Diagnostic, Memo2AnkiError, Note
from .tags import normalize_tag, wikilink_label

MAX_NOTE_BYTES = 8 * 1024 * 1024

_FRONTMATTER = re.compile(r"\A---[ \t]*\n(.*?\n)?---[ \t]*(?:\n|\Z)", re.DOTALL)
_DATE_IN_NAME = re.compile(r"(\d{4})-(\d{2})-(\d{2})")
_HEADING = re.compile(r"^ {0,3}(#{1,6})[ \t]+(.*?)[ \t#]*$")
_LIST_ITEM = re.compile(r"^\s*(?:[-*+]|\d+[.)])\s+(?:\[.\]\s+)?(.*\S)\s*$")
_WIKILINK = re.compile(r"\[\[([^\]]+)\]\]")


def read_note(path: Path, vault: Path) -> tuple[Note, list[Diagnostic]]:
    """Read one note; raises :class:`Memo2AnkiError` if it cannot be used at all."""
    relpath = vault_relpath(path, vault)
    try:
        stat = path.stat()
        if stat.st_size > MAX_NOTE_BYTES:
            raise Memo2AnkiError(
                f"{relpath}: skipped, larger than {MAX_NOTE_BYTES // (1024 * 1024)} MiB"
            )
        with path.open("rb") as f:  # read-only: notes are never modified
            raw = f.read()
    except OSError as err:
        raise Memo2AnkiError(f"{relpath}: cannot read: {err.strerror or err}") from err
    text, warnings = decode(raw, relpath)
    text, metadata, fm_warnings = split_frontmatter(text, relpath)
    warnings += fm_warnings
    note = Note(
        path=path,
        relpath=relpath,
        text=text,
        metadata=metadata,
        date=note_date(path, metadata),
        mtime=int(stat.st_mtime),
        tags=tuple(dict.fromkeys(frontmatter_tags(metadata) + tags_section(text))),
    )
    return note, warnings


def vault_relpath(path: Path, vault: Path) -> str:
    """The note's path inside the vault (posix, NFC), or its plain path if outside."""
    resolved = path.resolve()
    try:
        rel = resolved.relative_to(vault).as_posix()
    except ValueError:
        rel = path.as_posix()
    return unicodedata.normalize("NFC", rel)


def decode(raw: bytes, relpath: str) -> tuple[str, list[Diagnostic]]:
    """Bytes to text with LF line ends. UTF-8 (with or without BOM) and UTF-16 with a BOM
    are read silently; anything else is detected and read with a warning."""
    warnings: list[Diagnostic] = []
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        text = raw.decode("utf-16")
    else:
        try:
            text = raw.decode("utf-8-sig")
        except UnicodeDecodeError:
            text, encoding = _detect(raw, relpath)
            warnings.append(Diagnostic(relpath, None, f"not UTF-8; read as {encoding}"))
    if "\x00" in text:
        raise Memo2AnkiError(f"{relpath}: skipped, not a text file")
    text = text.lstrip("\ufeff").replace("\r\n", "\n").replace("\r", "\n")
    return text, warnings


def _detect(raw: bytes, relpath: str) -> tuple[str, str]:
    if b"\x00" in raw:
        raise Memo2AnkiError(f"{relpath}: skipped, not a text file")
    best = from_bytes(raw).best()
    if best is None:
        raise Memo2AnkiError(f"{relpath}: skipped, not a text file (unknown encoding)")
    encoding = best.encoding
    # Korean notes that are not UTF-8 are almost always CP949, a superset of EUC-KR;
    # decoding with it keeps the extended Hangul the detector's EUC-KR guess would lose.
    if encoding in {"euc_kr", "cp949", "johab"}:
        encoding = "cp949"
    return raw.decode(encoding, errors="replace"), encoding.upper().replace("_", "-")


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


def frontmatter_tags(metadata: dict[str, Any]) -> list[str]:
    """Tags from frontmatter ``tags``/``tag``: a list, or a comma/space separated string."""
    raw = metadata.get("tags", metadata.get("tag"))
    if raw is None:
        return []
    items = raw if isinstance(raw, list) else re.split(r"[,\s]+", str(raw))
    return [t for t in (normalize_tag(str(item)) for item in items if item is not None) if t]


def tags_section(text: str) -> list[str]:
    """Tags listed under a ``# Tags`` heading: ``[[03 - Tags/2025-04\\|2025-04]]`` gives
    ``2025-04``; plain items and ``#tag`` items are taken as written."""
    tags: list[str] = []
    inside = False
    for line in text.split("\n"):
        heading = _HEADING.match(line)
        if heading:
            inside = heading.group(2).strip().lower() == "tags"
            continue
        if not inside:
            continue
        if re.match(r"^ {0,3}([-*_])(\s*\1){2,}\s*$", line):
            inside = False
            continue
        item = _LIST_ITEM.match(line)
        if not item:
            continue
        content = item.group(1)
        links = _WIKILINK.findall(content)
        labels = [wikilink_label(link) for link in links] if links else [content]
        tags.extend(t for t in (normalize_tag(label) for label in labels) if t)
    return tags
