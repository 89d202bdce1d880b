"""A file of one JSON row per line, as memo2anki writes its ledger files: where each row
lies in the bytes read, and writing one again with the rows kept as read copied in runs,
never split into rows nor joined again (a vault's ledger holds thousands). Files are read only
when they are regular files (:func:`read_regular`): a FIFO, device or link there is refused,
never waited on or followed."""

from __future__ import annotations

import codecs
import errno
import hashlib
import json
import os
import stat
from array import array
from collections.abc import Callable, Sequence
from itertools import accumulate, chain, compress, pairwise, repeat
from operator import add, is_not, ne
from pathlib import Path
from typing import Any, BinaryIO, NamedTuple

from memo2anki.common import files
from memo2anki.common.files import replacing

END = b"\n]}\n"
BREAK = b",\n"  # between rows
# What an editor may put before a file's text (read past; never written).
BOM = codecs.BOM_UTF8

# A file's bytes to write, in pieces (rows kept as read are views of the file read).
Chunks = list[bytes | memoryview]
# JSON as memo2anki writes its rows: no spaces, text as it is.
compact_json = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode


class Body:
    """The rows of a file as memo2anki writes them, one per line (``,\\n`` between them): its
    bytes, and each row's length with the line break after it (worked out, by splitting the
    bytes, when not known)."""

    def __init__(
        self, data: bytes | memoryview, count: int, lengths: array[int] | None = None
    ) -> None:
        self.data = data
        self.count = count
        if lengths is not None and not (
            len(lengths) == count
            and (not count or (min(lengths) > 2 and sum(lengths) == len(data) + 2))
        ):
            lengths = None  # (not this body's: worked out again)
        self._lengths = lengths
        self._nexts: list[int] | None = None

    @classmethod
    def of(
        cls, data: bytes | memoryview | None, count: int, lengths: array[int] | None = None
    ) -> Body | None:
        """The body of ``count`` rows, if ``data`` holds that many (``lengths``: its rows',
        if known)."""
        if data is None:
            return None
        body = cls(data, count, lengths)
        return body if body._lengths is not None or body.lengths_found() else None

    def lengths_found(self) -> bool:
        """Work out each row's length; False if the bytes do not hold ``count`` rows, one
        per line. (A row is an array none of whose items, at any depth, is an array right
        after another: so every line break between rows follows a ``],`` and comes before
        a ``[``, and none inside a row does.)"""
        data = bytes(self.data)
        if self.count and not (
            data.startswith(b"[")
            and data.endswith(b"]")
            and data.count(b",\n") == data.count(b"],\n[") == self.count - 1
        ):
            return False
        rows = data.split(b",\n") if self.count else []
        if len(rows) != self.count:
            return False
        self._lengths = array("q", [len(row) + 2 for row in rows])
        self._nexts = None
        return True

    @property
    def lengths_unknown(self) -> bool:
        """Whether the lengths given were not this body's (and are not worked out yet)."""
        return self._lengths is None

    @property
    def lengths(self) -> array[int]:
        """Each row's length, with the line break after it."""
        assert self._lengths is not None
        return self._lengths

    def start(self, k: int) -> int:
        """Where row ``k`` starts."""
        if self._nexts is None:
            self._nexts = list(accumulate(self.lengths))
        return self._nexts[k - 1] if k else 0

    def end(self, k: int) -> int:
        """Where row ``k`` ends (before the line break after it)."""
        return self.start(k + 1) - 2

    def row(self, k: int) -> bytes:
        return bytes(self.data[self.start(k) : self.end(k)])

    def is_run(self, first: int, last: int) -> bool:
        """Whether rows ``first`` to ``last`` lie where their lengths say (a line break
        before and after them, which no row holds)."""
        start, end, data = self.start(first), self.end(last), self.data
        return (not first or data[start - 2 : start] == b",\n") and (
            data[end : end + 2] == b",\n" if last < self.count - 1 else end == len(data)
        )


# The rows of a file to write, as runs of rows of the file read (each written again as read,
# at once) and rows made anew: (first item, past its last, its first row; -1: made anew).
Segments = list[tuple[int, int, int]]


def segments(items: Sequence[object]) -> Segments:
    """The segments of a file's rows, given each as a row of the file read (an ``int``) or
    anything else (a row made anew)."""
    n = len(items)
    # A segment starts wherever an item does not continue the run of rows before it (found
    # in C: a vault has thousands of cards); -2 stands for a card made anew.
    rows: list[Any] = list(items)
    for k in compress(range(n), map(is_not, map(type, items), repeat(int))):
        rows[k] = -2
    after = map(add, rows[:-1], repeat(1))
    starts = [*compress(range(n), chain((True,), map(ne, rows[1:], after))), n] if n else [0]
    return [(start, stop, max(rows[start], -1)) for start, stop in pairwise(starts)]


class _Misplaced(Exception):
    """Rows are not where their lengths say."""


def rows_out(
    segments: Segments, kept: Body | None, encode: Callable[[int], bytes]
) -> tuple[Chunks, array[int]]:
    """The body of a file being written, and each row's length: a run of rows of ``kept`` as
    they were read, at once, and any other row made by ``encode`` (given its position)."""
    try:
        return _copy_rows(segments, kept, encode)
    except _Misplaced:  # (the lengths remembered were wrong)
        assert kept is not None
        return _copy_rows(segments, kept if kept.lengths_found() else None, encode)


def _copy_rows(
    segments: Segments, kept: Body | None, encode: Callable[[int], bytes]
) -> tuple[Chunks, array[int]]:
    pieces: Chunks = []  # the rows, with the line breaks between them
    lengths = array("q")
    for start, stop, first in segments:
        if first < 0 or kept is None:
            for k in range(start, stop):
                row = encode(k)
                pieces += (row, BREAK)
                lengths.append(len(row) + 2)
            continue
        last = first + stop - start - 1
        if not kept.is_run(first, last):
            raise _Misplaced
        pieces += (kept.data[kept.start(first) : kept.end(last)], BREAK)
        lengths.extend(kept.lengths[first : last + 1])
    return pieces[:-1], lengths


def utf8(text: str) -> bytes:
    """A row's text as written (a lone surrogate as its escape, not an error)."""
    return text.encode("utf-8", "backslashreplace")


def file_chunks(head: dict[str, Any], key: str, body: Chunks, count: int, vouch: bool) -> Chunks:
    """A file of ``count`` rows, one per line (``body``), as the bytes to write: ``head``
    first (with the digest of the rows as ``rows`` if ``vouch``)."""
    if vouch:
        head = {**head, "rows": digest(body)}
    text = json.dumps(head, ensure_ascii=False)[:-1]
    if not count:
        return [utf8(f'{text}, "{key}": []}}\n')]
    return [utf8(f'{text}, "{key}": [\n'), *body, END]


def rows_of(raw: bytes, rows_digest: object = None) -> memoryview | None:
    """The rows of a file as :func:`file_chunks` writes it, one per line (a view of ``raw``: not
    copied); with ``rows_digest``, only if they are as written (the digest its header holds
    of them)."""
    start = raw.find(b"\n") + 1
    if not start or not raw.endswith(END):
        return None
    body = memoryview(raw)[start : -len(END)]
    if rows_digest is not None and hashlib.sha256(body).hexdigest() != rows_digest:
        return None
    return body


# The lines git puts in a file it could not merge (conflict markers): the first side's
# start, the common ancestor's (merge.conflictStyle diff3), the second side's, the end.
_OURS, _BASE, _THEIRS, _END_MARK = b"<<<<<<<", b"|||||||", b"=======", b">>>>>>>"


def marker(line: bytes) -> bytes | None:
    """The conflict marker a line is (None: it is none). No line memo2anki writes starts
    with one of these characters."""
    mark = line[:7]
    if mark in (_OURS, _BASE, _THEIRS, _END_MARK) and (len(line) == 7 or line[7:8] == b" "):
        return mark
    return None


class Lines(NamedTuple):
    """A file of rows one per line, read line by line past what git leaves in one it merged:
    its lines but the last (``]}``), each with its line number (the header first, then each
    row without the ``,`` after it, or another side's header), whether git's conflict
    markers were in it, and whether it was cut short (its last line is not ``]}``)."""

    lines: list[tuple[int, bytes]]
    conflict: bool
    cut: bool = False


def lines_of(text: bytes) -> Lines | None:
    """The lines of a file laid out as :func:`file_chunks` writes it, but for what a git
    merge leaves in it: conflict markers (skipped, with the common ancestor's lines between
    ``|||||||`` and ``=======``: both sides are read, the first one first), a header line
    for each side and a row without its ``,`` (a union merge's), line ends of ``\r\n``.
    None when it is not laid out so (not a header first, ending with its rows' ``[``).
    A file cut short (a copy or a write stopped, a disk full) is read to where it ends."""
    kept: list[tuple[int, bytes]] = []
    conflict = base = False
    for number, line in enumerate(text.split(b"\n"), 1):
        line = line.removesuffix(b"\r")
        mark = marker(line)
        if mark is not None:
            conflict, base = True, mark == _BASE
        elif not base:
            kept.append((number, line))
    if kept and kept[-1][1] == b"":
        kept.pop()  # (after the last line break)
    if len(kept) < 2 or not kept[0][1].startswith(b"{") or not kept[0][1].endswith(b"["):
        return None
    cut = kept[-1][1] != END.strip()
    rows = kept[1:] if cut else kept[1:-1]
    return Lines([kept[0], *((n, line.removesuffix(b",")) for n, line in rows)], conflict, cut)


def digest(pieces: Chunks) -> str:
    """The SHA-256 of the bytes in pieces, in hex."""
    h = hashlib.sha256()
    for piece in pieces:
        h.update(piece)
    return h.hexdigest()


# No file memo2anki writes comes near this (a vault of 100,000 cards writes about 75 MiB of
# ledger): past it a file is not one of them, and is never read whole (a sparse file of
# gigabytes took more than ten times its size in memory, or ended the run).
MAX_BYTES = 1 << 30
TOO_LARGE = f"larger than {MAX_BYTES >> 30} GiB, not a file memo2anki wrote"


def read_regular(path: Path) -> bytes:
    """The bytes of the regular file at ``path`` (see :func:`open_regular`); :class:`OSError`
    too when it is larger than :data:`MAX_BYTES`."""
    try:
        return files.read_regular(path, MAX_BYTES)
    except OSError as err:
        if err.errno == errno.EFBIG:
            raise OSError(errno.EFBIG, TOO_LARGE, str(path)) from None
        raise


def open_regular(path: Path) -> BinaryIO:
    """The regular file at ``path``, opened to read without following a symbolic link and
    without waiting (a FIFO or device opens at once, and is then refused unread);
    :class:`OSError` for anything else there, its ``strerror`` saying what it is."""
    return files.open_regular(path)


def in_the_way(path: Path) -> str | None:
    """Why ``path`` must not be written over (None: it is a regular file memo2anki may have
    written, not a link to one, or nothing at all): ``not a regular file``, or too large to
    be one memo2anki wrote."""
    try:
        found = os.lstat(path)
    except FileNotFoundError:
        return None
    except OSError:
        return "not a regular file"
    if not stat.S_ISREG(found.st_mode):
        return "not a regular file"
    if found.st_size > MAX_BYTES:
        return TOO_LARGE
    return None


def replace_atomically(path: Path, data: Chunks) -> None:
    """Write a file whole or not at all: to a temporary file beside it, then renamed over it."""
    with replacing(path) as tmp, open(tmp, "wb") as f:
        f.writelines(data)
