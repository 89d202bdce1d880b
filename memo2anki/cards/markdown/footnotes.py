"""Footnotes on cards: a back shows the definitions it refers to, wherever in the note
they stand, and only those.

A note's definitions are grouped by label once (:func:`definitions_by_label`); each back
then parses only the definitions its references name (and those they name in turn), so a
note of many footnoted cards costs the size of what its cards show, not cards × footnotes.
"""

from __future__ import annotations

from collections import ChainMap
from collections.abc import Iterable, Iterator, Mapping, MutableMapping, Sequence
from copy import deepcopy
from typing import Any, cast

from markdown_it import MarkdownIt
from markdown_it.rules_core import StateCore
from markdown_it.token import Token

from memo2anki.cards.markdown.parser import core_halves


def definitions_by_label(tokens: Iterable[Token]) -> dict[str, list[Token]]:
    """The block tokens of each footnote definition (``[^label]: ...``) by label, from the
    opening to the closing token; of two with one label the last counts, as in markdown-it."""
    definitions: dict[str, list[Token]] = {}
    current: list[Token] | None = None
    for tok in tokens:
        if tok.type == "footnote_reference_open":
            current = []
        if current is not None:
            current.append(tok)
        if tok.type == "footnote_reference_close" and current is not None:
            definitions[str(current[0].meta["label"])] = current
            current = None
    return definitions


def parse_with_footnotes(
    md: MarkdownIt,
    tokens: Sequence[Token],
    env: dict[str, Any],
    definitions: Mapping[str, Sequence[Token]],
) -> list[Token]:
    """Inline-parse a back's block tokens (as
    :func:`~memo2anki.cards.markdown.parser.parse_inlines`) with the definitions it refers to
    added, for markdown-it's footnote rule to list."""
    # markdown-it's rule records each reference in "refs" (":label" -> number, -1 for
    # defined but not yet referred to); a fresh layer per back over the note's labels.
    defined = cast("MutableMapping[str, int]", _Defined(definitions))  # read, never written
    env["footnotes"] = {"refs": ChainMap({}, defined)}
    inline_rule, *after = core_halves(md)[1]
    state = StateCore("", md, env)
    state.tokens = list(tokens)
    inline_rule(state)
    used: dict[int, dict[str, Any]] = env["footnotes"].setdefault("list", {})
    seen = 0
    # A definition in the back's own tokens is listed from there: added again, its text
    # showed twice.
    own = {id(tok) for tok in tokens if tok.type == "footnote_reference_open"}
    taken = {label for label, block in definitions.items() if id(block[0]) in own}
    # References are numbered in order; a definition may refer to further ones.
    while seen < len(used):
        wanted = []
        for number in range(seen, len(used)):
            label = used[number].get("label")
            if label is not None and label not in taken and label in definitions:
                taken.add(label)
                wanted.append(label)
        seen = len(used)
        if wanted:
            extra = StateCore("", md, env)
            extra.tokens = [_unparsed(tok) for label in wanted for tok in definitions[label]]
            inline_rule(extra)
            state.tokens.extend(extra.tokens)
    for rule in after:
        rule(state)
    return state.tokens


def _unparsed(tok: Token) -> Token:
    """A copy of a definition's block token without the inline children it may have got in
    the back that holds it (rendered first): parsed again, they showed its text twice."""
    return deepcopy(tok.copy(children=None) if tok.type == "inline" else tok)


class _Defined(Mapping[str, int]):
    """``":label" -> -1`` for each defined label, without copying them for each back."""

    def __init__(self, definitions: Mapping[str, Sequence[Token]]) -> None:
        self._definitions = definitions

    def __getitem__(self, key: str) -> int:
        if key[:1] == ":" and key[1:] in self._definitions:
            return -1
        raise KeyError(key)

    def __iter__(self) -> Iterator[str]:
        return (f":{label}" for label in self._definitions)

    def __len__(self) -> int:
        return len(self._definitions)
