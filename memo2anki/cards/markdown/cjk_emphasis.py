"""CJK-friendly emphasis for markdown-it-py.

Implements the *CommonMark CJK-friendly Amendments Specification* (tats-u/markdown-cjk-friendly,
``specification.md``; character data from its ``ranges.md``, Unicode 17). CommonMark will not
close ``**`` after punctuation when a letter follows, so ``**쿠버네티스(Kubernetes)**는`` and
``**"파드"**가`` keep their asterisks. The amendment lets a CJK character (Hangul, Han, Kana,
fullwidth forms, CJK punctuation) on either side of a delimiter run stand in for the space that
CommonMark wants there; text without CJK characters parses as before.

Usage: ``MarkdownIt("commonmark").use(cjk_friendly_plugin)``. Only that instance changes: its
inline parser builds a :class:`CJKFriendlyStateInline`, whose ``scanDelims`` decides flanking.
Every rule that asks ``state.scanDelims`` follows the amendment: ``*``/``_`` emphasis,
``~~`` strikethrough and plugins written like it (e.g. an ``==highlight==`` rule).
"""

from __future__ import annotations

from bisect import bisect_right

from markdown_it import MarkdownIt
from markdown_it.common.utils import isMdAsciiPunct, isPunctChar, isWhiteSpace
from markdown_it.parser_inline import ParserInline
from markdown_it.rules_inline.state_inline import Scanned, StateInline
from markdown_it.token import Token
from markdown_it.utils import EnvType

__all__ = ["CJKFriendlyStateInline", "cjk_friendly_plugin", "is_cjk"]

# The spec's "CJK character": East Asian Width W, F or H and not a default-emoji-presentation
# character, or Script=Hangul (which adds the N-width Jamo U+1160-U+11FF). Inclusive ranges as
# listed in the spec's ranges.md for Unicode 17, unassigned W code points included; a fixed
# table rather than `unicodedata`, whose Unicode version follows the Python release and which
# knows neither emoji presentation nor scripts.
_CJK_RANGES: tuple[tuple[int, int], ...] = (
    (0x1100, 0x11FF), (0x20A9, 0x20A9), (0x2329, 0x232A), (0x2630, 0x2637), (0x268A, 0x268F),
    (0x2E80, 0x2E99), (0x2E9B, 0x2EF3), (0x2F00, 0x2FD5), (0x2FF0, 0x303E), (0x3041, 0x3096),
    (0x3099, 0x30FF), (0x3105, 0x312F), (0x3131, 0x318E), (0x3190, 0x31E5), (0x31EF, 0x321E),
    (0x3220, 0x3247), (0x3250, 0xA48C), (0xA490, 0xA4C6), (0xA960, 0xA97C), (0xAC00, 0xD7A3),
    (0xD7B0, 0xD7C6), (0xD7CB, 0xD7FB), (0xF900, 0xFAFF), (0xFE10, 0xFE19), (0xFE30, 0xFE52),
    (0xFE54, 0xFE66), (0xFE68, 0xFE6B), (0xFF01, 0xFFBE), (0xFFC2, 0xFFC7), (0xFFCA, 0xFFCF),
    (0xFFD2, 0xFFD7), (0xFFDA, 0xFFDC), (0xFFE0, 0xFFE6), (0xFFE8, 0xFFEE), (0x16FE0, 0x16FE4),
    (0x16FF0, 0x16FF6), (0x17000, 0x18CD5), (0x18CFF, 0x18D1E), (0x18D80, 0x18DF2),
    (0x1AFF0, 0x1AFF3), (0x1AFF5, 0x1AFFB), (0x1AFFD, 0x1AFFE), (0x1B000, 0x1B122),
    (0x1B132, 0x1B132), (0x1B150, 0x1B152), (0x1B155, 0x1B155), (0x1B164, 0x1B167),
    (0x1B170, 0x1B2FB), (0x1D300, 0x1D356), (0x1D360, 0x1D376), (0x1F200, 0x1F200),
    (0x1F202, 0x1F202), (0x1F210, 0x1F219), (0x1F21B, 0x1F22E), (0x1F230, 0x1F231),
    (0x1F237, 0x1F237), (0x1F23B, 0x1F23B), (0x1F240, 0x1F248), (0x1F260, 0x1F265),
    (0x20000, 0x3FFFD),
)  # fmt: skip

# The ranges flattened to [start0, end0 + 1, start1, end1 + 1, ...]: a code point is inside a
# range exactly when bisect_right finds it at an odd index. One C-level binary search, no regex.
_CJK_BOUNDS: tuple[int, ...] = tuple(b for start, end in _CJK_RANGES for b in (start, end + 1))
_FIRST_CJK = _CJK_RANGES[0][0]

# "Non-emoji general-use variation selectors": U+FE00-U+FE0E (U+FE0F asks for emoji). The spec
# judges a delimiter run by the character such a selector modifies, not by the selector.
_GENERAL_VS_FIRST = "\ufe00"
_GENERAL_VS_LAST = "\ufe0e"

# Ideographic variation selectors (U+E0100-U+E01EF) only follow ideographs, so one just before
# a run means a CJK character there (the spec's clause 2bδ of left-flanking).
_IVS_FIRST = 0xE0100
_IVS_LAST = 0xE01EF

# "CJK ambiguous punctuation sequences": quotation marks of East Asian Width A that U+FE01
# selects in their fullwidth form (StandardizedVariants.txt). They then count as CJK.
_FULLWIDTH_SELECTOR = "\ufe01"
_FULLWIDTH_SELECTABLE_QUOTES = frozenset("\u2018\u2019\u201c\u201d")


def is_cjk(code_point: int) -> bool:
    """Whether ``code_point`` is a CJK character of the spec (Unicode 17 data)."""
    # Most text around delimiters is ASCII or Latin: skip the search below U+1100.
    return code_point >= _FIRST_CJK and bisect_right(_CJK_BOUNDS, code_point) & 1 == 1


def _is_cjk_before(char: str, selector: str) -> bool:
    """Whether the run is preceded by a CJK sequence: ``char``, or ``char`` + ``selector``
    (a general-use variation selector, or "" when there is none)."""
    code_point = ord(char)
    if is_cjk(code_point):
        return True
    if selector:
        return selector == _FULLWIDTH_SELECTOR and char in _FULLWIDTH_SELECTABLE_QUOTES
    return _IVS_FIRST <= code_point <= _IVS_LAST


def _is_punct(char: str) -> bool:
    # CommonMark's Unicode punctuation (P* and S*), tested the way markdown-it-py's own
    # scanDelims does, so the ASCII case stays a set lookup.
    return isMdAsciiPunct(ord(char)) or isPunctChar(char)


class CJKFriendlyStateInline(StateInline):
    """Inline state whose delimiter runs flank by the CJK-friendly amendment."""

    def scanDelims(self, start: int, canSplitWord: bool) -> Scanned:
        """Length of the run at ``start`` and whether it can open and close.

        ``canSplitWord`` is true for ``*`` (and ``~~``, ``==``), false for ``_``, as in
        markdown-it-py. Python strings index code points, so an astral character (𠮟, 𰻞) is
        one step back, not a surrogate pair as in the JavaScript plugin.
        """
        src = self.src
        maximum = self.posMax
        marker = src[start]
        pos = start + 1
        while pos < maximum and src[pos] == marker:
            pos += 1
        count = pos - start

        # The ends of the line count as whitespace.
        next_char = src[pos] if pos < maximum else " "
        last_char = src[start - 1] if start > 0 else " "
        selector = ""
        if _GENERAL_VS_FIRST <= last_char <= _GENERAL_VS_LAST:
            # A "sequence": judge the run by the character the selector modifies. A selector
            # after whitespace or at the line start is unspecified; it reads as whitespace here.
            selector = last_char
            last_char = src[start - 2] if start > 1 else " "

        last_space = isWhiteSpace(ord(last_char))
        next_space = isWhiteSpace(ord(next_char))
        if last_space or next_space:
            # Whitespace on a side decides alone, as in CommonMark: a run can open unless
            # whitespace follows and close unless whitespace precedes, for `*` and `_` alike.
            return Scanned(not next_space, not last_space, count)

        last_punct = _is_punct(last_char)
        next_punct = _is_punct(next_char)
        if not canSplitWord:
            # `_` between two non-spaces opens only after punctuation and closes only before
            # it, which keeps snake_case literal. The amendment leaves this as it is; it only
            # lets a punctuation *sequence* (punctuation + selector) count as punctuation.
            return Scanned(last_punct, next_punct, count)
        if last_punct == next_punct:
            # Letters, or punctuation, on both sides: the run both opens and closes already.
            return Scanned(True, True, count)
        # Punctuation on exactly one side: CommonMark refuses the other role (`**(` after a
        # letter cannot open, `)**` before a letter cannot close). The amendment grants it when
        # either neighbour is CJK, since CJK text puts no spaces around emphasis.
        cjk = is_cjk(ord(next_char)) or _is_cjk_before(last_char, selector)
        return Scanned(last_punct or cjk, next_punct or cjk, count)


class _CJKFriendlyParserInline(ParserInline):
    """Inline parser that runs its rules on a :class:`CJKFriendlyStateInline`."""

    def parse(self, src: str, md: MarkdownIt, env: EnvType, tokens: list[Token]) -> list[Token]:
        # ParserInline.parse's own steps, with another state class: markdown-it-py names
        # StateInline inside parse and has no per-parser hook for it (markdown-it's JS
        # ParserInline.State). Every inline parse goes through here: the core `inline` rule,
        # image alt text, inline footnotes, memo2anki's mdparse.inline_children.
        state = CJKFriendlyStateInline(src, md, env, tokens)
        self.tokenize(state)
        for rule in self.ruler2.getRules(""):
            rule(state)
        return state.tokens


def cjk_friendly_plugin(md: MarkdownIt) -> None:
    """Make ``md``'s emphasis-like delimiters follow the CJK-friendly amendment.

    The instance's inline parser is switched to a subclass in place, so its rules, rulers and
    terminator characters, and any plugins used before or after this one, are kept; other
    MarkdownIt instances and the markdown-it-py classes are untouched. Using it twice is a no-op.
    """
    inline = md.inline
    if isinstance(inline, _CJKFriendlyParserInline):
        return
    if type(inline) is not ParserInline:
        # Its parse may do more than ours would replace; better to refuse than to drop that.
        raise TypeError(f"cjk_friendly_plugin needs a plain ParserInline, not {type(inline)!r}")
    inline.__class__ = _CJKFriendlyParserInline
