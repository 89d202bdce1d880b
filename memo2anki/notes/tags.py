"""Turn the ways a note names tags into Anki tags."""

from __future__ import annotations

import re
import unicodedata

_SPACES = re.compile(r"\s+")


def normalize_tag(label: str) -> str:
    """An Anki tag from a label: no ``#``, spaces as ``_``, Obsidian's nesting ``a/b`` as
    Anki's ``a::b``. Empty if nothing is left."""
    tag = unicodedata.normalize("NFC", label).strip().lstrip("#").strip()
    tag = _SPACES.sub("_", tag)
    tag = re.sub(r"/+", "::", tag).strip(":")
    return tag
