"""Settings kept in the vault: ``.memo2anki.toml`` at its root, so a vault builds the same deck
with a bare ``memo2anki notes/ -o deck.apkg``. Command-line options win over it."""

from __future__ import annotations

import datetime as dt
import re
import stat
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from memo2anki.common.gcpause import cycle_collection_paused
from memo2anki.model import BadUsage, Memo2AnkiError
from memo2anki.notes.dates import parse_date

CONFIG_NAME = ".memo2anki.toml"


@dataclass(frozen=True)
class Config:
    """What a config file may set; None (or empty) where it says nothing."""

    path: Path | None = None
    deck: str | None = None
    sections: tuple[str, ...] = ()
    subjects: tuple[str, ...] = ()
    cloze: bool | None = None
    since: dt.date | None = None
    until: dt.date | None = None
    last: int | None = None
    exam_name: str | None = None  # the name of `memo2anki exam`'s filtered deck
    # What a card's Link opens: the published site (a Digital Garden's pages), and the
    # Obsidian vault's name (when not the vault folder's, or for a garden).
    garden_url: str | None = None
    vault_name: str | None = None
    # Where each setting given is set (``file:line``), for messages about its value.
    lines: dict[str, str] = field(default_factory=dict, compare=False)

    def where(self, *keys: str) -> str:
        """``file:line`` of the first of ``keys`` set (the file alone if none is)."""
        return next((self.lines[k] for k in keys if k in self.lines), str(self.path))


KNOWN = (
    "deck",
    "sections",
    "subjects",
    "cloze",
    "since",
    "until",
    "last",
    "garden_url",
    "vault_name",
    "exam_name",
)


# A settings file is a few lines; past this it is not one (and tomllib's time grows with the
# square of a dotted key's length: 200 KB of one took minutes).
MAX_CONFIG_BYTES = 64 * 1024


def load_config(path: Path) -> Config:
    """Read a config file; a broken, misspelled or mistyped one is an error naming the file
    and line (and column, for broken TOML)."""
    import tomllib  # here: most vaults have no config file, and every run would import it

    try:
        # A pipe or a device is never opened: reading one could wait, or never end.
        if not stat.S_ISREG(path.stat().st_mode):
            raise BadUsage(f"{path}: not a settings file: not a regular file")
        with path.open("rb") as f:
            raw = f.read(MAX_CONFIG_BYTES + 1)
    except OSError as err:
        raise Memo2AnkiError(f"{path}: cannot read config: {err.strerror or err}") from err
    if len(raw) > MAX_CONFIG_BYTES:
        raise BadUsage(
            f"{path}: not a settings file: larger than {MAX_CONFIG_BYTES // 1024} KiB "
            "(settings take a few lines)"
        )
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        line = raw[: err.start].count(b"\n") + 1
        raise BadUsage(
            f"{path}:{line}: broken config: not UTF-8 (byte 0x{raw[err.start]:02x}); "
            "save it as UTF-8"
        ) from None
    try:
        # Without the cycle collector: a collection started deep in a nested file's recursion
        # runs other objects' finalizers there, whose errors then print past the one line.
        with cycle_collection_paused():
            data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as err:
        raise BadUsage(_broken(path, text, str(err))) from err
    except RecursionError:  # tomllib parses nested arrays and tables by recursion
        where = _at(path, _deep_line(text))
        raise BadUsage(f"{where}: broken config: nested too deeply") from None
    unknown = sorted(set(data) - set(KNOWN))
    if unknown:
        where = _at(path, _line_of(text, unknown[0]))
        raise BadUsage(f"{where}: unknown setting {unknown[0]!r} (known: {', '.join(KNOWN)})")
    try:
        return Config(
            path=path,
            deck=_text(data, "deck"),
            sections=_texts(data, "sections"),
            subjects=_texts(data, "subjects"),
            cloze=_flag(data, "cloze"),
            since=_date(data, "since"),
            until=_date(data, "until"),
            last=_days(data, "last", _written(text, "last")),
            exam_name=_text(data, "exam_name"),
            garden_url=_text(data, "garden_url"),
            vault_name=_text(data, "vault_name"),
            lines={key: _at(path, _line_of(text, key)) for key in data},
        )
    except _WrongType as err:
        raise BadUsage(f"{_at(path, _line_of(text, err.key))}: {err.message}") from None


def find_config(vault: Path) -> Config:
    """The vault's ``.memo2anki.toml``, or an empty config when there is none."""
    path = vault / CONFIG_NAME
    # (one there that is not a file is not ignored: load_config says what it is)
    return load_config(path) if path.exists() or path.is_symlink() else Config()


def _broken(path: Path, text: str, error: str) -> str:
    """A TOML syntax error as ``file:line:column: broken config: what``, with a hint for the
    usual slip: a string without quotes (``deck = CKA``)."""
    match = re.search(r"\(at line (\d+), column (\d+)\)", error)
    if match:
        line, column = int(match.group(1)), int(match.group(2))
        where = f"{path}:{line}:{column}"
    else:
        line, column = text.rstrip("\n").count("\n") + 1, 0
        where = f"{path}:{line}"
    message = re.sub(r"\s*\(at (line \d+, column \d+|end of document)\)", "", error)
    source = text.split("\n")[line - 1] if line <= text.count("\n") + 1 else ""
    bare = re.match(r"\s*([\w-]+)\s*=\s*([^\s\[{\"'#\d+-][^#]*?)\s*(#.*)?$", source)
    if message == "Invalid value" and bare and column:
        key, value = bare.group(1), bare.group(2).replace("\\", "\\\\").replace('"', '\\"')
        quoted = f'strings need quotes, as in {key} = "{value}"'
        message = f"{message}: {_HINTS.get(key, quoted)}"
    return f"{where}: broken config: {message}"


# What a bare word after these keys should have been instead.
_HINTS = {
    "cloze": "cloze = true or cloze = false",
    "since": "a date, as in since = 2025-04-01",
    "until": "a date, as in until = 2025-04-14",
    "last": "a number of days, as in last = 14",
}


def _at(path: Path, line: int | None) -> str:
    return f"{path}:{line}" if line is not None else str(path)


def _setting(key: str) -> str:
    """A pattern of the start of a line that sets the top-level setting ``key``: ``key =``,
    a dotted key (``key.x =``) or a table's header (``[key]``, ``[[key.x]]``), the key bare
    or quoted. tomllib tells no key's line; a key written with escapes is not found."""
    name = re.escape(key)
    return rf"^[ \t]*(?:\[\[?[ \t]*)?(?:{name}|\"{name}\"|'{name}')[ \t]*"


def _line_of(text: str, key: str) -> int | None:
    """The line that first sets ``key`` (see :func:`_setting`), if one is found."""
    match = re.search(_setting(key) + r"[=.\]]", text, re.MULTILINE)
    return text.count("\n", 0, match.start()) + 1 if match else None


def _written(text: str, key: str) -> str | None:
    """The text of ``key``'s value where it is set as ``key = value`` on one line."""
    match = re.search(_setting(key) + r"=[ \t]*([^#\n]*)", text, re.MULTILINE)
    return match.group(1).strip() if match else None


def _deep_line(text: str) -> int | None:
    """The line where a text's arrays and tables nest deeper than any setting's could."""
    depth, line = 0, 1
    for c in text:  # (a bracket in a string counts too: no setting nests so deep)
        line += c == "\n"
        depth += (c in "[{") - (c in "]}")
        if depth > 100:
            return line
    return None


class _WrongType(Exception):
    def __init__(self, key: str, message: str) -> None:
        super().__init__(message)
        self.key, self.message = key, message


def _text(data: dict[str, Any], key: str) -> str | None:
    value = data.get(key)
    if value is None:
        return None
    if not isinstance(value, str) or not value.strip():
        raise _WrongType(key, f"'{key}' must be a non-empty string, as in {key} = \"CKA\"")
    return value.strip()


def _texts(data: dict[str, Any], key: str) -> tuple[str, ...]:
    value = data.get(key, [])
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        shown = f'["{value}"]' if isinstance(value, str) else '["CKA"]'
        raise _WrongType(key, f"'{key}' must be a list of strings, as in {key} = {shown}")
    return tuple(v.strip() for v in value if v.strip())


def _flag(data: dict[str, Any], key: str) -> bool | None:
    value = data.get(key)
    if value is not None and not isinstance(value, bool):
        raise _WrongType(key, f"'{key}' must be true or false")
    return value


def _date(data: dict[str, Any], key: str) -> dt.date | None:
    value = data.get(key)
    if value is None:
        return None
    if isinstance(value, str):
        try:
            return parse_date(value)
        except ValueError:
            pass
    elif isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        return value
    raise _WrongType(key, f"'{key}' must be a date, as in {key} = 2025-04-01")


def _days(data: dict[str, Any], key: str, written: str | None) -> int | None:
    """``written``: the value's text, which must be digits 0-9 alone, as an option's must
    (TOML also takes ``1_000``, ``+14`` and ``0x0E``)."""
    value = data.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise _WrongType(key, f"'{key}' must be a number of days, 1 or more, as in {key} = 14")
    if written is not None and not re.fullmatch(r"[0-9]+", written.split("#")[0].strip()):
        raise _WrongType(key, f"'{key}' must be written in the digits 0-9, as in {key} = 14")
    return value
