"""What a person asked for, checked before any note is read: the file to write and the deck's
name. A mistake here is bad usage, told in one line that says what to type instead."""

from __future__ import annotations

import os
import re
import stat
from dataclasses import dataclass
from pathlib import Path

from memo2anki.cards.fields import RESERVED
from memo2anki.common.files import no_folder
from memo2anki.model import BadUsage, Memo2AnkiError

PACKAGE_SUFFIX = ".apkg"


@dataclass(frozen=True)
class OutputFile:
    """The package to write, and whether ``.apkg`` was added to the name given."""

    path: Path
    suffix_added: bool = False


def output_file(given: str | os.PathLike[str]) -> OutputFile:
    """The file ``-o`` names. A folder (one that exists, or any name ending in a slash) is bad
    usage; a name without ``.apkg`` gets it, since Anki's import dialog lists no other names;
    a folder to write into that does not exist is an error."""
    text = os.fspath(given)
    problem = folder_problem(text)
    if problem is not None:
        raise BadUsage(f"-o {problem}")
    path = Path(text)
    # (A pipe or a device would be replaced by the deck, or get .apkg added: /dev/null.apkg.)
    if (kind := _not_a_file(path)) is not None:
        raise BadUsage(f"-o {text}: {kind}, not a file; give a file name, such as deck.apkg")
    added = path.suffix.lower() != PACKAGE_SUFFIX
    if added:
        path = path.with_name(path.name + PACKAGE_SUFFIX)
        if (problem := name_problem(path)) is not None:
            raise BadUsage(f"-o {text}: with .apkg added, {problem}")
        if path.is_dir():
            raise BadUsage(f"-o {text}: {path} is a folder; give another file name")
        if (kind := _not_a_file(path)) is not None:
            raise BadUsage(f"-o {text}: {path} is {kind}, not a file; give another file name")
    folder = path.parent
    if not folder.is_dir():
        raise Memo2AnkiError(f"{path}: {no_folder(folder)}")
    return OutputFile(path, added)


def _not_a_file(path: Path) -> str | None:
    """What ``path`` is when it is there but neither a regular file nor a folder (None: it
    is one, or nothing is there), followed through links."""
    try:
        mode = path.stat().st_mode
    except (OSError, ValueError):
        return None
    if stat.S_ISREG(mode) or stat.S_ISDIR(mode):
        return None
    return "a pipe" if stat.S_ISFIFO(mode) else "a device or socket"


# The longest name most file systems take (ext4, APFS, NTFS: 255 bytes or characters).
NAME_MAX = 255


def name_problem(given: str | os.PathLike[str]) -> str | None:
    """What is wrong with ``given`` as a path to make: a name in it longer than a file system
    takes (each Korean syllable is 3 bytes of a name), which every call on it would fail."""
    for part in Path(given).parts:
        size = len(os.fsencode(part))
        if size > NAME_MAX:
            shown = part if len(part) <= 40 else f"{part[:20]}…{part[-15:]}"
            return f"the name {shown!r} is {size} bytes long; a file system takes {NAME_MAX}"
    return None


def folder_problem(given: str | os.PathLike[str], example: str = "deck.apkg") -> str | None:
    """What is wrong with ``given`` as the file to write when it names a folder: one that
    exists, or any name ending in a slash (``-o decks/``), with ``example`` the name to
    suggest in it. None for a file name."""
    text = os.fspath(given)
    if not (text.endswith(("/", os.sep)) or os.path.isdir(text)):
        return None
    suggested = Path(text.rstrip("/" + os.sep) or text) / example
    return f"{text} is a folder; give a file name, such as {suggested}"


# Tab and line ends: text in a field, but not in a deck name (Anki drops them from one).
_LINE_CONTROLS = re.compile("[\t\n\r]")


def deck_name(text: str) -> str:
    """A deck name with the spaces around each ``::`` part trimmed (Anki shows ``a :: b`` as
    parts named with spaces). ValueError for an empty part: Anki would name it ``blank``."""
    parts = [part.strip() for part in text.split("::")]
    if not any(parts):
        raise ValueError("the deck name is empty")
    if RESERVED.search(text) or _LINE_CONTROLS.search(text):
        raise ValueError("the deck name holds a control character")
    if not all(parts):
        shown = "::".join(part or "?" for part in parts)
        raise ValueError(
            f"{text!r} has an empty part ({shown}); name every part between '::', "
            "as in 'CKA::Network'"
        )
    return "::".join(parts)
