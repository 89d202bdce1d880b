"""Settings kept in the vault: ``.memo2anki.toml`` at its root, so a vault builds the same deck
with a bare ``memo2anki notes/ -o deck.apkg``. Command-line options win over it."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .model import Memo2AnkiError

CONFIG_NAME = ".memo2anki.toml"


@dataclass(frozen=True)
class Config:
    """What a config file may set; None (or empty) where it says nothing."""

    path: Path | None = None
    deck: str | None = None
    sections: tuple[str, ...] = ()
    subjects: tuple[str, ...] = ()
    cloze: bool | None = None


def load_config(path: Path) -> Config:
    """Read a config file; a broken or misspelled one is an error naming the file and line."""
    import tomllib  # here: most vaults have no config file, and every run would import it

    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as err:
        raise Memo2AnkiError(f"{path}: cannot read config: {err}") from err
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as err:
        match = re.search(r"\(at line (\d+), column \d+\)", str(err))
        line = match.group(1) if match else str(text.rstrip("\n").count("\n") + 1)
        where = f"{path}:{line}"
        message = re.sub(r"\s*\(at (line \d+, column \d+|end of document)\)", "", str(err))
        raise Memo2AnkiError(f"{where}: broken config: {message}") from err
    unknown = sorted(set(data) - {"deck", "sections", "subjects", "cloze"})
    if unknown:
        known = "deck, sections, subjects, cloze"
        raise Memo2AnkiError(f"{path}: unknown setting {unknown[0]!r} (known: {known})")
    return Config(
        path=path,
        deck=_text(data, "deck", path),
        sections=_texts(data, "sections", path),
        subjects=_texts(data, "subjects", path),
        cloze=_flag(data, "cloze", path),
    )


def find_config(vault: Path) -> Config:
    """The vault's ``.memo2anki.toml``, or an empty config when there is none."""
    path = vault / CONFIG_NAME
    return load_config(path) if path.is_file() else Config()


def _text(data: dict[str, Any], key: str, path: Path) -> str | None:
    value = data.get(key)
    if value is None:
        return None
    if not isinstance(value, str) or not value.strip():
        raise Memo2AnkiError(f"{path}: '{key}' must be a non-empty string")
    return value.strip()


def _texts(data: dict[str, Any], key: str, path: Path) -> tuple[str, ...]:
    value = data.get(key, [])
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise Memo2AnkiError(f"{path}: '{key}' must be a list of strings")
    return tuple(v.strip() for v in value if v.strip())


def _flag(data: dict[str, Any], key: str, path: Path) -> bool | None:
    value = data.get(key)
    if value is not None and not isinstance(value, bool):
        raise Memo2AnkiError(f"{path}: '{key}' must be true or false")
    return value
