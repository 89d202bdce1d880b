"""Plain data passed between the stages: notes in, cards and media out."""

from __future__ import annotations

import datetime as dt
import os
import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

# The title of the section that holds the memos (`# 공부 메모장`); more can be configured.
DEFAULT_SECTIONS = ("공부 메모장",)


class Memo2AnkiError(Exception):
    """A problem the user can fix; the CLI prints it as one line and exits non-zero."""

    exit_code = 1


class BadUsage(Memo2AnkiError):
    """A problem with what was asked (an option, a setting): exit status 2, as for a
    mistyped option."""

    exit_code = 2


def printable(text: str) -> str:
    """``text`` safe to print, store or encode as UTF-8: the bytes of a file name that is not
    valid UTF-8 (which Python keeps as lone surrogates) shown as ``\\xb0``, so that each
    name stays distinct."""
    try:
        return text.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
    except UnicodeEncodeError:  # a lone surrogate that does not stand for a byte
        return text.encode("utf-8", "backslashreplace").decode("utf-8")


# What a terminal would act on rather than show: C0 and C1 controls (escape sequences, line
# breaks that forge a second line), DEL, Unicode line breaks, and the bidirectional controls
# that make a line read in another order.
_CONTROLS = {
    **{code: f"\\x{code:02x}" for code in (*range(0x20), *range(0x7F, 0xA0))},
    **{code: f"\\u{code:04x}" for code in (0x2028, 0x2029, *range(0x202A, 0x202F))},
    **{code: f"\\u{code:04x}" for code in range(0x2066, 0x206A)},
    ord("\n"): "\\n",
    ord("\r"): "\\r",
    ord("\t"): "\\t",
}


def fold(name: str) -> str:
    """A name (a subject, a profile) as names are compared: NFC, without the spaces around
    it, casefolded."""
    return unicodedata.normalize("NFC", name).strip().casefold()


def plural(count: int, noun: str) -> str:
    """``1 card``, ``2 cards``."""
    return f"{count} {noun}{'s' * (count != 1)}"


def one_line(text: str) -> str:
    """``text`` as one clean printable line: :func:`printable`, with every control character
    shown as an escape (``\\x1b``, ``\\n``) instead of acting on the terminal."""
    return printable(text).translate(_CONTROLS)


@dataclass(frozen=True, order=True)
class Diagnostic:
    """A warning about one place in one file, printed as ``path:line: message``."""

    path: str
    line: int | None
    message: str

    def __str__(self) -> str:
        where = f"{self.path}:{self.line}" if self.line else self.path
        return one_line(f"{where}: {self.message}")


@dataclass(frozen=True)
class Note:
    """One markdown file as read: decoded text with its frontmatter blanked out."""

    path: Path
    relpath: str  # vault-relative, posix separators, NFC
    text: str  # frontmatter lines replaced by empty lines, so line numbers match the file
    metadata: dict[str, Any]
    date: dt.date | None
    mtime: int  # whole seconds, used as the Anki note's modification time
    tags: tuple[str, ...] = ()  # from frontmatter and the note's `# Tags` list
    # A Digital Garden note's page, as its frontmatter names it ("/06-full-notes/x/"); "" for
    # a vault's note or a page with none.
    permalink: str = ""


# A picture's name in the package, made from its content: the same picture is stored once,
# and a card shows no picture memo2anki did not put there (see sanitize).
MEDIA_NAME = re.compile(r"m2a-[0-9a-f]{20}(?:\.[a-z0-9]{1,10})?")
_PLAIN_SUFFIX = re.compile(r"\.[a-z0-9]{1,10}")


def media_name(sha256: str, suffix: str) -> str:
    """The package name of a file of this content (its suffix kept when a plain one)."""
    suffix = suffix.lower()
    return f"m2a-{sha256[:20]}{suffix if _PLAIN_SUFFIX.fullmatch(suffix) else ''}"


@dataclass(frozen=True)
class Media:
    """A local file embedded in the package under a content-derived name."""

    path: Path
    name: str  # the plain name stored in the package, e.g. ``m2a-1f2e3d4c5b6a7980.png``
    sha256: str
    # The file hashed (``st_dev``, ``st_ino``): a writer takes no other file found at ``path``
    # later (its folder made a link out of the vault, say). None: not checked.
    file_id: tuple[int, int] | None = field(default=None, compare=False)


# Slots: a run reads a few fields of every card of the vault, pass after pass, and a slotted
# card's fields are read about twice as fast as from an instance dictionary.
@dataclass(frozen=True, slots=True)
class Card:
    """One memo card: a heading (front) and the markdown that followed it (back)."""

    note: str  # vault-relative path of the note
    subject: str
    front: str  # plain text of the heading
    front_html: str
    back_markdown: str
    line: int  # 1-based line of the heading in the note
    back_line: int  # 1-based line where the back's markdown starts
    date: dt.date | None
    tags: tuple[str, ...]
    ordinal: int = 0  # position among cards with the same subject and front in this note
    back_html: str = ""
    media: tuple[Media, ...] = field(default=())
    mtime: int = 0
    # A digest of the front, back and tags (identity.content_digest), worked out once the same
    # way, for the ledger to tell a changed card; empty: worked out when needed.
    digest: str = ""
    # A digest of all that the ledger's plan compares of a card with its row (identity.row_key):
    # the same key, the same card, unchanged; empty: compared column by column.
    key: str = ""
    # Its note's published page (Note.permalink): the card's link when the site is known.
    permalink: str = ""

    @property
    def identity(self) -> tuple[str, str, str, int]:
        """What makes this card the same card across exports (never its back): its note's
        file name (not its folder, so moving a note or taking another folder as the vault
        root keeps it, as Obsidian's links do), subject, front, and order among equal fronts."""
        return (self.note.rpartition("/")[2], self.subject, self.front, self.ordinal)


@dataclass(frozen=True)
class NoteResult:
    """The cards of one note, with the warnings met."""

    cards: tuple[Card, ...] = ()
    diagnostics: tuple[Diagnostic, ...] = ()
    has_section: bool = False
    # What `check` reports beyond the warnings: syntax that a card shows unlike Obsidian.
    lint: tuple[Diagnostic, ...] = ()
    # Every subject the note's cards have, kept by --subject or not (named when none is).
    subjects: tuple[str, ...] = ()
    # What the result depends on (for the cache); None when the note could not be read.
    journal: Journal | None = field(default=None, compare=False)


@dataclass(frozen=True)
class Lookup:
    """The outcome of resolving one reference: a file, or why there is none."""

    path: Path | None = None
    problem: str | None = None  # set when path is None
    remote: bool = False


def file_version(stat: os.stat_result) -> int:
    """A number that changes whenever a file is written or replaced: of its modification
    time, its change time (which a tool that puts the modification time back cannot set) and
    its inode (a file swapped for another by renaming), so that a cache keyed by it is never
    stale (a file only touched, moved across disks or copied costs a read, no more)."""
    return hash((stat.st_mtime_ns, stat.st_ctime_ns, stat.st_ino))


@dataclass
class Journal:
    """What rendering one note looked at, so that a cached result can be checked later:
    every lookup and its outcome, every file read (path, size, :func:`file_version`), and in a
    Digital Garden every page looked up (permalink, text embedded of it, note found)."""

    lookups: list[tuple[str, str, Lookup]] = field(default_factory=list)
    files: list[tuple[str, int, int]] = field(default_factory=list)
    pages: list[tuple[str, str, str | None]] = field(default_factory=list)

    def record_file(self, path: Path) -> tuple[str, int, int]:
        """Note a file whose content goes into the result (before reading it: a change made
        while it is read is then seen by the next run)."""
        try:
            stat = path.stat()
            file = (str(path), stat.st_size, file_version(stat))
        except OSError:  # gone: the stamp of no file, so that the next run looks again
            file = (str(path), -1, -1)
        self.files.append(file)
        return file


@dataclass(frozen=True)
class DateRange:
    """The days a run keeps, both ends included; an end that is None is open."""

    since: dt.date | None = None
    until: dt.date | None = None

    @property
    def limited(self) -> bool:
        """Whether the range leaves anything out (an undated note, at least)."""
        return self.since is not None or self.until is not None

    def keeps(self, date: dt.date | None) -> bool:
        """Whether a card of a note with this date is kept. An undated note is kept only
        when the range is open at both ends: no one can say it is in a range."""
        if date is None:
            return not self.limited
        return (self.since is None or date >= self.since) and (
            self.until is None or date <= self.until
        )

    def describe(self) -> str:
        """The range as a person would say it: ``2025-04-01 to 2025-04-14``."""
        if self.since and self.until:
            return f"{self.since} to {self.until}"
        if self.since:
            return f"{self.since} on"
        if self.until:
            return f"up to {self.until}"
        return "all dates"


@dataclass(frozen=True)
class Options:
    """What to read and which cards to keep."""

    vault: Path | None = None
    sections: tuple[str, ...] = DEFAULT_SECTIONS
    subjects: tuple[str, ...] = ()  # keep only these subjects (case-insensitive); all if empty
    exclude: tuple[Path, ...] = ()  # files never read as notes (the output)
    # A bug met in one note: skip that note with a warning (True), or raise (False), so that
    # a run still makes every other card and a debugging run still sees the traceback.
    skip_on_bug: bool = False
    # Keep only cards of notes dated in this range (--since, --until, --last); both ends
    # included, None is open. With either end, undated notes are left out.
    since: dt.date | None = None
    until: dt.date | None = None

    @property
    def dates(self) -> DateRange:
        """The date range, whose ``keeps(date)`` says whether a note's cards are kept."""
        return DateRange(self.since, self.until)

    def keeps_date(self, date: dt.date | None) -> bool:
        """Whether the cards of a note with this date (None: undated) are kept."""
        return self.dates.keeps(date)


@dataclass(frozen=True)
class Result:
    """Everything a run found: cards in study order, distinct media, warnings."""

    vault: Path
    notes: int
    notes_with_section: int
    cards: tuple[Card, ...]
    media: tuple[Media, ...]
    diagnostics: tuple[Diagnostic, ...] = field(default=())
    # Syntax the cards show unlike Obsidian (reported by `check`, not by a build).
    lint: tuple[Diagnostic, ...] = field(default=())
    # Every subject met, kept by --subject or not, in order of first appearance.
    subjects: tuple[str, ...] = field(default=())
    # Cards left out because their note's date is outside --since/--until (or unknown).
    dated_out: int = 0
