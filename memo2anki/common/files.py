"""Writing a file whole or not at all, as every file memo2anki writes is written."""

from __future__ import annotations

import contextlib
import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


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
