"""Files as memo2anki reads and writes them: written whole or not at all, read only when they
are regular files, never waited on."""

from __future__ import annotations

import contextlib
import errno
import os
import secrets
import stat
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO


@contextmanager
def replacing(path: Path) -> Iterator[Path]:
    """A new empty temporary file beside ``path``, to write inside the block; renamed over
    ``path`` when the block ends, removed when it fails or is stopped (Ctrl-C, a signal),
    whenever that comes: even just after the file is made.

    Its name is short and its own (``.m2a-<random>.tmp``), not ``path``'s name with more
    after it: a name near the file system's limit (255 bytes, 85 Hangul syllables) would
    pass it."""
    tmp = path.parent / f".m2a-{secrets.token_hex(6)}.tmp"
    try:
        # The name is chosen before the file is made, so the clean-up below knows it
        # whenever a stop comes; O_EXCL: never someone else's file.
        os.close(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
        yield tmp
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException as err:
        if not (isinstance(err, FileExistsError) and err.filename == os.fspath(tmp)):
            with contextlib.suppress(OSError):
                os.unlink(tmp)
        raise  # (a file of that name made by another: not ours to remove)


def open_regular(path: Path, *, follow_links: bool = False) -> BinaryIO:
    """The regular file at ``path``, opened to read without waiting (a FIFO or device opens
    at once, and is then refused unread) and, unless ``follow_links``, without following a
    symbolic link; :class:`OSError` for anything else there, its ``strerror`` saying what
    it is."""
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0)
    if not follow_links:
        flags |= getattr(os, "O_NOFOLLOW", 0)
    try:
        fd = os.open(path, flags)
    except OSError as err:
        if err.errno == errno.ELOOP and not follow_links:  # (O_NOFOLLOW's answer to a link)
            raise OSError(errno.ELOOP, "a symbolic link, not a file", str(path)) from None
        raise
    try:
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):
            what = "a folder" if stat.S_ISDIR(mode) else "not a regular file"
            raise OSError(errno.EINVAL, what, str(path))
    except BaseException:
        os.close(fd)
        raise
    return os.fdopen(fd, "rb")


def file_kind(mode: int) -> str:
    """What a file that is not a regular file is (of its ``st_mode``), as a person says it."""
    if stat.S_ISDIR(mode):
        return "a folder"
    if stat.S_ISFIFO(mode):
        return "a FIFO"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "a special file"


def read_regular(path: Path, limit: int, *, follow_links: bool = False) -> bytes:
    """The bytes of the regular file at ``path`` (see :func:`open_regular`); :class:`OSError`
    when it holds more than ``limit`` (a sparse file of gigabytes, a file that is not the one
    expected), which is never read whole."""
    with open_regular(path, follow_links=follow_links) as file:
        return read_within(file, limit, path)


def read_within(file: BinaryIO, limit: int, path: Path) -> bytes:
    """The bytes of an open regular ``file`` (found at ``path``), as :func:`read_regular`
    reads them."""
    too_large = OSError(errno.EFBIG, f"larger than {_size(limit)}", str(path))
    size = os.fstat(file.fileno()).st_size
    if size > limit:
        raise too_large
    # By the size found, never by the limit: a read of n bytes takes n bytes of memory
    # first. A file that grew since is read on, a MiB at a time, to the limit.
    data = file.read(size + 1)
    while size < len(data) <= limit and (more := file.read(1 << 20)):
        data += more
    if len(data) > limit:
        raise too_large
    return data


def _size(limit: int) -> str:
    return f"{limit >> 30} GiB" if limit >= 1 << 30 else f"{limit >> 10} KiB"


# SQLite's own files beside a database, which it opens with the database: its rollback
# journal, its write-ahead log and that log's index.
SQLITE_SIDE_FILES = ("-journal", "-wal", "-shm")


def odd_sqlite_file(database: Path) -> Path | None:
    """The first of SQLite's own files beside ``database`` that is there but is not a regular
    file (None: none is). SQLite opens them as it opens the database, beside the file a link
    leads to: a FIFO there makes that wait for ever (in C, where no signal stops it), and a
    device, folder or link makes it fail in SQLite's words, which name the database."""
    beside = database
    if os.path.islink(database):  # (named where it is, unless only a link leads there)
        try:
            beside = Path(os.path.realpath(database))
        except (OSError, RuntimeError):
            return None
    for side in SQLITE_SIDE_FILES:
        path = beside.with_name(beside.name + side)
        try:
            if not stat.S_ISREG(os.lstat(path).st_mode):
                return path
        except FileNotFoundError:
            continue
        except OSError:
            return path
    return None


def no_folder(folder: Path) -> str:
    """How a folder to write into that is not one is named: not there, or something else in
    its place (a file, a FIFO, a link to either), which "does not exist" misnamed."""
    if os.path.lexists(folder):
        return f"{folder} is not a folder"
    return f"folder {folder} does not exist"
