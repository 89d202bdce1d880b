"""Turn the ways a note names tags into Anki tags."""

from __future__ import annotations

import re
import unicodedata

_SPACES = re.compile(r"\s+")
# Obsidian's inline tag after its `#`: letters of any script (`\w` is Unicode-aware), digits,
# `_`, `-` and `/`; it stands at the start of the text or after whitespace.
TAG_NAME = re.compile(r"#([\w/-]+)")
_INLINE_TAG = re.compile(r"(?<!\S)" + TAG_NAME.pattern)
_NON_DIGIT = re.compile(r"\D")


def is_tag_name(name: str) -> bool:
    """Whether what follows a ``#`` is a tag: one character at least is not a digit
    (``#1984`` is no tag)."""
    return _NON_DIGIT.search(name) is not None


def inline_tags(text: str) -> list[str]:
    """The ``#tags`` Obsidian sees in a piece of text, without ``#``, in order."""
    return [m.group(1) for m in _INLINE_TAG.finditer(text) if is_tag_name(m.group(1))]


def normalize_tag(label: str) -> str:
    """An Anki tag from a label: no ``#``, spaces as ``_``, Obsidian's nesting ``a/b`` as
    Anki's ``a::b``. Empty if nothing is left."""
    tag = unicodedata.normalize("NFC", label).strip().lstrip("#").strip()
    tag = _SPACES.sub("_", tag)
    tag = re.sub(r"/+", "::", tag).strip(":")
    return tag
