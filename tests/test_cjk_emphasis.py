"""Tests of cjk_emphasis: table-driven renders, composition with other plugins, and isolation.

Each row is markdown, the HTML a "commonmark" MarkdownIt with the plugin renders, and whether
plain CommonMark (markdown-it-py without the plugin) renders the same. Rows are written for this
project, after the cases of the CJK-friendly specification and its reference implementations.
Invisible characters (variation selectors) are written as escapes.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable
from typing import NamedTuple

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from markdown_it import MarkdownIt
from markdown_it.parser_inline import ParserInline
from markdown_it.rules_inline.state_inline import Delimiter, StateInline
from markdown_it.token import Token
from mdit_py_plugins.dollarmath import dollarmath_plugin
from mdit_py_plugins.footnote import footnote_plugin
from mdit_py_plugins.tasklists import tasklists_plugin

from memo2anki.cards.markdown.cjk_emphasis import (
    CJKFriendlyStateInline,
    cjk_friendly_plugin,
    is_cjk,
)
from memo2anki.cards.markdown.parser import make_markdown

# Taken before any plugin is used, to show the plugin leaves markdown-it-py's classes alone.
_ORIGINAL_SCAN_DELIMS = StateInline.scanDelims
_ORIGINAL_PARSE = ParserInline.parse

PLAIN = MarkdownIt("commonmark")
CJK = MarkdownIt("commonmark").use(cjk_friendly_plugin)


class Row(NamedTuple):
    src: str
    html: str  # the rendered HTML, less its final newline
    commonmark_agrees: bool  # plain CommonMark renders the same HTML


# Korean particles right after punctuation that ends bold or italic: the reason for the plugin.
KO_CLOSE = [
    Row(
        "**쿠버네티스(Kubernetes)**는 컨테이너 오케스트레이션 도구다.",
        "<p><strong>쿠버네티스(Kubernetes)</strong>는 컨테이너 오케스트레이션 도구다.</p>",
        False,
    ),
    Row(
        '**"파드"**가 가장 작은 배포 단위다.',
        "<p><strong>&quot;파드&quot;</strong>가 가장 작은 배포 단위다.</p>",
        False,
    ),
    Row("*강조.*를 넣는다.", "<p><em>강조.</em>를 넣는다.</p>", False),
    Row("*정말?*이라고 물었다.", "<p><em>정말?</em>이라고 물었다.</p>", False),
    Row(
        "**「서비스」**는 파드를 묶는다.",
        "<p><strong>「서비스」</strong>는 파드를 묶는다.</p>",
        False,
    ),
    Row("**'레이블'**로 고른다.", "<p><strong>'레이블'</strong>로 고른다.</p>", False),
    Row("***정말로?***라고", "<p><em><strong>정말로?</strong></em>라고</p>", False),
    Row(
        "**PV(PersistentVolume).**를 먼저 만든다.",
        "<p><strong>PV(PersistentVolume).</strong>를 먼저 만든다.</p>",
        False,
    ),
    Row("*(선택)*을 고른다.", "<p><em>(선택)</em>을 고른다.</p>", False),
    Row("**네임스페이스!**에서", "<p><strong>네임스페이스!</strong>에서</p>", False),
    Row('**"x"**는', "<p><strong>&quot;x&quot;</strong>는</p>", False),
]

# Korean right before an opening run that is followed by punctuation.
KO_OPEN = [
    Row(
        '이것은**"중요"**하다.',
        "<p>이것은<strong>&quot;중요&quot;</strong>하다.</p>",
        False,
    ),
    Row('이것은**"중요"**', "<p>이것은<strong>&quot;중요&quot;</strong></p>", False),
    Row("한국어*(괄호)*도 된다.", "<p>한국어<em>(괄호)</em>도 된다.</p>", False),
    Row(
        "설정 파일은**「config.yaml」**이다.",
        "<p>설정 파일은<strong>「config.yaml」</strong>이다.</p>",
        False,
    ),
    Row(
        "디플로이먼트는**(Deployment)**레플리카셋을 관리한다.",
        "<p>디플로이먼트는<strong>(Deployment)</strong>레플리카셋을 관리한다.</p>",
        False,
    ),
    Row("값은**-1**이다.", "<p>값은<strong>-1</strong>이다.</p>", False),
]

# Hangul outside the syllable block: Jamo (U+1100, and U+11A8 whose width is N but whose script
# is Hangul), compatibility Jamo, halfwidth Hangul, Jamo Extended-A and -B.
KO_JAMO = [
    Row("\u11a8**(받침)**", "<p>\u11a8<strong>(받침)</strong></p>", False),
    Row("**(초성)**\u1100", "<p><strong>(초성)</strong>\u1100</p>", False),
    Row("ㅋㅋ**(웃음)**", "<p>ㅋㅋ<strong>(웃음)</strong></p>", False),
    Row('**"ㅎ"**ㅎ', "<p><strong>&quot;ㅎ&quot;</strong>ㅎ</p>", False),
    Row("\uffa1**(반각)**", "<p>\uffa1<strong>(반각)</strong></p>", False),
    Row("\ua960**(옛한글)**", "<p>\ua960<strong>(옛한글)</strong></p>", False),
    Row("**(\ud7b0)**\ud7b0", "<p><strong>(\ud7b0)</strong>\ud7b0</p>", False),
]

JAPANESE = [
    Row("これは**重要。**です。", "<p>これは<strong>重要。</strong>です。</p>", False),
    Row(
        "太郎は**「こんにちは」**と言った。",
        "<p>太郎は<strong>「こんにちは」</strong>と言った。</p>",
        False,
    ),
    Row(
        "カッコ**（全角）**の後に文が続く。",
        "<p>カッコ<strong>（全角）</strong>の後に文が続く。</p>",
        False,
    ),
    Row("*強調！*だ", "<p><em>強調！</em>だ</p>", False),
    Row('日本語**"引用"**です', "<p>日本語<strong>&quot;引用&quot;</strong>です</p>", False),
    Row("ｶﾀｶﾅ**(半角)**ｶﾅ", "<p>ｶﾀｶﾅ<strong>(半角)</strong>ｶﾅ</p>", False),
    Row("税込**¥10,000**で入手", "<p>税込<strong>¥10,000</strong>で入手</p>", False),
    Row("正解は**④**です。", "<p>正解は<strong>④</strong>です。</p>", True),
]

CHINESE = [
    Row("**真，**她", "<p><strong>真，</strong>她</p>", False),
    Row(
        "**推荐几个框架：**React、Vue等前端框架。",
        "<p><strong>推荐几个框架：</strong>React、Vue等前端框架。</p>",
        False,
    ),
    Row("中文**（括号）**中文", "<p>中文<strong>（括号）</strong>中文</p>", False),
    Row("**真\u201d**她", "<p><strong>真\u201d</strong>她</p>", False),
    Row("真**《她**", "<p>真<strong>《她</strong></p>", False),
    Row("**真，** 她", "<p><strong>真，</strong> 她</p>", True),
]

# Variation selectors, astral code points, emoji. U+E0100 is an ideographic variation selector;
# U+FE00/U+FE0E/U+FE01 are general-use ones, judged by the character before them.
SEQUENCES = [
    Row(
        "葛\U000e0100**(かつらぎ)**城",
        "<p>葛\U000e0100<strong>(かつらぎ)</strong>城</p>",
        False,
    ),
    Row(
        "大塚\ufe00**(U+585A U+FE00)**です",
        "<p>大塚\ufe00<strong>(U+585A U+FE00)</strong>です</p>",
        False,
    ),
    Row("〽\ufe0e**(庵点)**は", "<p>〽\ufe0e<strong>(庵点)</strong>は</p>", False),
    # U+FE01 selects the fullwidth form of curly quotes, which then count as CJK punctuation.
    # Before a closing run CommonMark agrees, though only because it takes U+FE01 for a letter.
    Row(
        "**\u201c\ufe01Git\u201d\ufe01**Hub",
        "<p><strong>\u201c\ufe01Git\u201d\ufe01</strong>Hub</p>",
        True,
    ),
    Row("\u201c\ufe01**(x)**", "<p>\u201c\ufe01<strong>(x)</strong></p>", False),
    Row("**\u201cGit\u201d**Hub", "<p>**\u201cGit\u201d**Hub</p>", True),
    Row(
        "正體字。\ufe01_Traditional._",
        "<p>正體字。\ufe01<em>Traditional.</em></p>",
        False,
    ),
    Row("𠮟**(しかる)**は", "<p>𠮟<strong>(しかる)</strong>は</p>", False),
    Row("𰻞𰻞**(ビャンビャン)**麺", "<p>𰻞𰻞<strong>(ビャンビャン)</strong>麺</p>", False),
    Row("a**₩**a", "<p>a<strong>₩</strong>a</p>", False),
    Row("a**🈂**a", "<p>a<strong>🈂</strong>a</p>", False),  # CJK, though also an emoji
    Row("a**😀**a", "<p>a**😀**a</p>", True),  # wide, but an emoji: not CJK
    Row("a**🈚**a", "<p>a**🈚**a</p>", True),  # an ideograph with emoji presentation
    # The spec reads punctuation + selector as punctuation (☺ is a symbol), where CommonMark
    # sees the selector, a non-punctuation mark: here the amendment undoes a CommonMark <strong>.
    Row("**☺\ufe0e**a", "<p>**☺\ufe0e**a</p>", False),
]

MIXED = [
    Row(
        "**쿠버네티스(*Kubernetes*)**는",
        "<p><strong>쿠버네티스(<em>Kubernetes</em>)</strong>는</p>",
        False,
    ),
    Row(
        "**파드(Pod)**와 **서비스(Service)**는 *다르다(different)*.",
        "<p><strong>파드(Pod)</strong>와 <strong>서비스(Service)</strong>는 "
        "<em>다르다(different)</em>.</p>",
        False,
    ),
    Row(
        "**[파드](https://kubernetes.io/ko/docs/concepts/workloads/pods/)**는",
        '<p><strong><a href="https://kubernetes.io/ko/docs/concepts/workloads/pods/">파드</a>'
        "</strong>는</p>",
        False,
    ),
    Row(
        "**`kubectl get pods`**로 확인한다.",
        "<p><strong><code>kubectl get pods</code></strong>로 확인한다.</p>",
        False,
    ),
    Row(
        "*\u201c정말(really)?\u201d*이라고 **두 번(twice)**이나 물었다.",
        "<p><em>\u201c정말(really)?\u201d</em>이라고 <strong>두 번(twice)</strong>이나 물었다.</p>",
        False,
    ),
    Row(
        '*이것은 **"핵심"**이다*',
        "<p><em>이것은 <strong>&quot;핵심&quot;</strong>이다</em></p>",
        False,
    ),
    Row(
        "**첫째(1)**는\n**둘째(2)**는",
        "<p><strong>첫째(1)</strong>는\n<strong>둘째(2)</strong>는</p>",
        False,
    ),
    Row("## **파드(Pod)**란?", "<h2><strong>파드(Pod)</strong>란?</h2>", False),
    Row(
        "- **레플리카셋(ReplicaSet)**은 파드 수를 유지한다.",
        "<ul>\n<li><strong>레플리카셋(ReplicaSet)</strong>은 파드 수를 유지한다.</li>\n</ul>",
        False,
    ),
    # Alt text is inline-parsed on its own (image rule -> md.inline.parse), then flattened.
    Row("![**그림(figure)**은](a.png)", '<p><img src="a.png" alt="그림(figure)은" /></p>', False),
]

# Left literal by the amendment too: `_` still needs punctuation or space outside it (so
# snake_case stays literal), and ASCII letters outside a run are not CJK.
STILL_LITERAL = [
    Row('__"x"__는', "<p>__&quot;x&quot;__는</p>", True),
    Row("_강조._를", "<p>_강조._를</p>", True),
    Row("__중요__하다", "<p>__중요__하다</p>", True),
    Row("파드_이름_변수", "<p>파드_이름_변수</p>", True),
    Row("Deploy**(배포)**는", "<p>Deploy**(배포)**는</p>", True),
    Row("a**\u201c파드\u201d**b", "<p>a**\u201c파드\u201d**b</p>", True),
]

# No CJK anywhere: CommonMark decides, and the plugin must not change a thing.
ASCII = [
    Row("**foo(bar)**baz", "<p>**foo(bar)**baz</p>", True),
    Row("*foo*bar", "<p><em>foo</em>bar</p>", True),
    Row('a*"foo"*', "<p>a*&quot;foo&quot;*</p>", True),
    Row("snake_case_name", "<p>snake_case_name</p>", True),
    Row("__init__", "<p><strong>init</strong></p>", True),
    Row("foo__init__bar", "<p>foo__init__bar</p>", True),
    Row("call __init__() first", "<p>call <strong>init</strong>() first</p>", True),
    Row("*(foo)*bar", "<p>*(foo)*bar</p>", True),
    Row("_foo_bar_", "<p><em>foo_bar</em></p>", True),
    Row(
        '**foo "*bar*" foo**',
        "<p><strong>foo &quot;<em>bar</em>&quot; foo</strong></p>",
        True,
    ),
    Row("*foo**bar**baz*", "<p><em>foo<strong>bar</strong>baz</em></p>", True),
    Row("a * foo bar*", "<p>a * foo bar*</p>", True),
    Row("**foo.**bar", "<p>**foo.**bar</p>", True),
    Row("2*3*4", "<p>2<em>3</em>4</p>", True),
    Row(
        "__foo, __bar__, baz__",
        "<p><strong>foo, <strong>bar</strong>, baz</strong></p>",
        True,
    ),
    Row("foo-_(bar)_", "<p>foo-<em>(bar)</em></p>", True),
    Row("é*(x)*é", "<p>é*(x)*é</p>", True),
    Row('Ω**"x"**Ω', "<p>Ω**&quot;x&quot;**Ω</p>", True),
    Row('—**"x"**—', "<p>—<strong>&quot;x&quot;</strong>—</p>", True),
]

TABLE = {
    "ko-close": KO_CLOSE,
    "ko-open": KO_OPEN,
    "ko-jamo": KO_JAMO,
    "ja": JAPANESE,
    "zh": CHINESE,
    "sequences": SEQUENCES,
    "mixed": MIXED,
    "still-literal": STILL_LITERAL,
    "ascii": ASCII,
}
ROWS = [
    pytest.param(row, id=f"{group}-{n}")
    for group, rows in TABLE.items()
    for n, row in enumerate(rows, 1)
]


@pytest.mark.parametrize("row", ROWS)
def test_render(row: Row) -> None:
    assert CJK.render(row.src) == row.html + "\n"


@pytest.mark.parametrize("row", ROWS)
def test_commonmark_differs_only_where_marked(row: Row) -> None:
    assert (PLAIN.render(row.src) == row.html + "\n") is row.commonmark_agrees


# --- composition with other rules and plugins ---------------------------------------------


def _mark_tokenize(state: StateInline, silent: bool) -> bool:
    """A bare `==mark==` delimiter rule, written like markdown-it-py's strikethrough (and
    memo2anki's highlight): it asks state.scanDelims, so it follows the plugin."""
    if silent or state.src[state.pos] != "=":
        return False
    scanned = state.scanDelims(state.pos, True)
    if scanned.length != 2:
        return False
    state.push("text", "", 0).content = "=="
    state.delimiters.append(
        Delimiter(ord("="), 0, len(state.tokens) - 1, -1, scanned.can_open, scanned.can_close)
    )
    state.pos += 2
    return True


def _mark_pairs(state: StateInline) -> None:
    for delim in state.delimiters:
        if delim.marker != ord("=") or delim.end == -1:
            continue
        closer = state.delimiters[delim.end].token
        for index, nesting in ((delim.token, 1), (closer, -1)):
            token = state.tokens[index]
            token.type = "mark_open" if nesting == 1 else "mark_close"
            token.tag, token.markup, token.content = "mark", "==", ""
            token.nesting = 1 if nesting == 1 else -1


def _mark_plugin(md: MarkdownIt) -> None:
    md.inline.ruler.before("emphasis", "mark", _mark_tokenize)
    md.inline.ruler2.before("emphasis", "mark", _mark_pairs)


def _gfm() -> MarkdownIt:
    # linkify-it-py is not installed; the gfm-like preset would otherwise raise on a link.
    return MarkdownIt("gfm-like", {"linkify": False})


def _with_plugins() -> MarkdownIt:
    return (
        MarkdownIt("commonmark")
        .enable(["table", "strikethrough"])
        .use(footnote_plugin)
        .use(dollarmath_plugin)
        .use(tasklists_plugin)
        .use(_mark_plugin)
    )


class Composed(NamedTuple):
    make: Callable[[], MarkdownIt]
    src: str
    fragment: str  # in the plugin's HTML, and not in the HTML without it


COMPOSED = {
    "gfm-strike-ko": Composed(
        _gfm, "~~삭제(deleted)~~된 항목", "<p><s>삭제(deleted)</s>된 항목</p>"
    ),
    "gfm-strike-ja": Composed(_gfm, "あ~~()a~~a", "<p>あ<s>()a</s>a</p>"),
    "gfm-strike-zh": Composed(
        _gfm, "~~旧方法（已废弃）。~~这个句子是正确的。", "<s>旧方法（已废弃）。</s>这个"
    ),
    "gfm-table": Composed(
        _gfm,
        "| 용어 | 설명 |\n| --- | --- |\n| **파드(Pod)**는 | 최소 단위 |",
        "<td><strong>파드(Pod)</strong>는</td>",
    ),
    "mark": Composed(
        _with_plugins,
        "==PVC(PersistentVolumeClaim)==는 1:1로 bind된다",
        "<mark>PVC(PersistentVolumeClaim)</mark>는",
    ),
    "footnote-body": Composed(
        _with_plugins,
        "본문[^1]\n\n[^1]: **주석(note)**이다.",
        "<strong>주석(note)</strong>이다.",
    ),
    "footnote-inline": Composed(
        _with_plugins, "본문^[**설명(note)**이다]", "<strong>설명(note)</strong>이다"
    ),
    "dollarmath": Composed(
        _with_plugins,
        "**수식($x^2$)**은",
        '<strong>수식(<span class="math inline">x^2</span>)</strong>은',
    ),
    "dollarmath-edge": Composed(
        _with_plugins, "**$x$**은", '<strong><span class="math inline">x</span></strong>은'
    ),
    "tasklist": Composed(
        _with_plugins, "- [ ] **배포(deploy)**를 확인", "<strong>배포(deploy)</strong>를 확인"
    ),
    "strike-plugins": Composed(_with_plugins, "~~삭제(del)~~됨", "<s>삭제(del)</s>됨"),
}


@pytest.mark.parametrize("case", COMPOSED.values(), ids=COMPOSED.keys())
def test_composes_with_plugins(case: Composed) -> None:
    assert case.fragment in case.make().use(cjk_friendly_plugin).render(case.src)
    assert case.fragment not in case.make().render(case.src)


def test_plugin_order_does_not_matter() -> None:
    src = "\n\n".join(case.src for case in COMPOSED.values() if case.make is _with_plugins)
    first = MarkdownIt("commonmark").use(cjk_friendly_plugin).enable(["table", "strikethrough"])
    first.use(footnote_plugin).use(dollarmath_plugin).use(tasklists_plugin).use(_mark_plugin)
    assert first.render(src) == _with_plugins().use(cjk_friendly_plugin).render(src)


def test_memo2anki_parser_follows_the_rule_in_every_delimiter_rule() -> None:
    # memo2anki's own parser (Obsidian's ==highlight== asks scanDelims too).
    src = "==PVC(PersistentVolumeClaim)==는 **쿠버네티스(Kubernetes)**는 ~~삭제(del)~~됨"
    html = make_markdown().render(src)
    assert "<mark>PVC(PersistentVolumeClaim)</mark>는" in html
    assert "<strong>쿠버네티스(Kubernetes)</strong>는" in html
    assert "<s>삭제(del)</s>됨" in html


# --- per instance -------------------------------------------------------------------------


def test_other_instances_keep_commonmark() -> None:
    before = MarkdownIt("commonmark")
    MarkdownIt("commonmark").use(cjk_friendly_plugin)
    after = MarkdownIt("commonmark")
    src = "**쿠버네티스(Kubernetes)**는"
    for md in (before, after, PLAIN):
        assert md.render(src) == "<p>**쿠버네티스(Kubernetes)**는</p>\n"
        assert type(md.inline) is ParserInline
    assert StateInline.scanDelims is _ORIGINAL_SCAN_DELIMS
    assert ParserInline.parse is _ORIGINAL_PARSE


def test_used_twice_is_harmless() -> None:
    md = MarkdownIt("commonmark").use(cjk_friendly_plugin).use(cjk_friendly_plugin)
    assert md.render("**「서비스」**는") == "<p><strong>「서비스」</strong>는</p>\n"


def test_direct_inline_parse_uses_the_cjk_friendly_state() -> None:
    # memo2anki parses a card back's inline source with md.inline.parse directly.
    md = MarkdownIt("commonmark").use(cjk_friendly_plugin)
    states: list[StateInline] = []

    def spy(state: StateInline, silent: bool) -> bool:
        states.append(state)
        return False

    md.inline.ruler.before("text", "spy", spy)
    tokens: list[Token] = []
    md.inline.parse("**파드(Pod)**는", md, {}, tokens)
    assert [token.type for token in tokens if token.content or token.nesting] == [
        "strong_open",
        "text",
        "strong_close",
        "text",
    ]
    assert states and all(type(state) is CJKFriendlyStateInline for state in states)


def test_refuses_a_foreign_inline_parser() -> None:
    class OtherParserInline(ParserInline):
        pass

    md = MarkdownIt("commonmark")
    md.inline = OtherParserInline()
    with pytest.raises(TypeError):
        cjk_friendly_plugin(md)


def test_lone_surrogates_do_not_break_parsing() -> None:
    # A surrogateescape'd byte reaches the parser as a lone surrogate; it is neither CJK nor
    # punctuation (the spec leaves such runs unspecified), and nothing raises.
    assert CJK.render("**\udc80**는") == PLAIN.render("**\udc80**는")


# --- the character class ------------------------------------------------------------------

CJK_CHARS = "가힣가ᇿㄱㆎꥠힰퟻ漢字𠮟𰻞あゖアヿｱﾡ！。、「」『』（）〽〰㊗🈂₩"
NOT_CJK = "aZ0(\"'.~é—\u2018\u201c\u00a5😀🈚🈁\ufe00\ufe01\ufe0f\U000e0100\u3097\u0000"


@pytest.mark.parametrize("char", CJK_CHARS)
def test_is_cjk(char: str) -> None:
    assert is_cjk(ord(char))


@pytest.mark.parametrize("char", NOT_CJK)
def test_is_not_cjk(char: str) -> None:
    assert not is_cjk(ord(char))


# --- the rule itself, against the specification's wording ---------------------------------

_WHITESPACE = " \t\n\u00a0\u3000"
_SELECTORS = "\ufe00\ufe01\ufe0e"  # general-use variation selectors
_IVS = "\U000e0100"
_QUOTES = "\u2018\u2019\u201c\u201d"


def _punct(char: str) -> bool:
    return unicodedata.category(char)[0] in "PS"


def _spec_flags(before2: str, before: str, after: str, marker: str) -> tuple[bool, bool]:
    """(can open, can close) for a run of `marker`, read straight off the amendment's 6.2 and
    CommonMark's rules 1-8, with "" for the start or end of the line."""
    base, selector = (before2, before) if before in _SELECTORS else (before, "")
    before_space = base == "" or base in _WHITESPACE
    after_space = after == "" or after in _WHITESPACE
    # A CJK sequence: CJK character (+ selector). A CJK ambiguous punctuation sequence (curly
    # quote + U+FE01) counts with the CJK punctuation sequences, so not as non-CJK punctuation.
    before_cjk = not before_space and (
        is_cjk(ord(base)) or (selector == "\ufe01" and base in _QUOTES)
    )
    before_punct = not before_space and _punct(base)  # a Unicode punctuation sequence
    before_non_cjk_punct = before_punct and not before_cjk
    before_ivs = base == _IVS
    after_cjk = not after_space and is_cjk(ord(after))
    after_punct = not after_space and _punct(after)
    after_non_cjk_punct = after_punct and not after_cjk
    left = not after_space and (
        not after_non_cjk_punct or before_space or before_non_cjk_punct or before_cjk or before_ivs
    )
    right = not before_space and (
        not before_non_cjk_punct or after_space or after_non_cjk_punct or after_cjk
    )
    if marker == "_":
        return left and (not right or before_punct), right and (not left or after_punct)
    return left, right


_NEIGHBOURS = [
    "", " ", "\n", "\u3000", "a", "é", "1", "(", ")", '"', ".", "-", "☺", "∇", "😀", "🈚", "🈂",
    "가", "\u1161", "ㅎ", "字", "𠮟", "あ", "ｱ", "。", "「", "」", "～", "！", "₩",
    *_QUOTES, *_SELECTORS, _IVS, "\ufe0f",
]  # fmt: skip


def _specified(before2: str, before: str, after: str) -> bool:
    # The spec leaves unspecified a selector after whitespace, the line start or a selector;
    # and the implementers' notes leave IVS + selector to the implementation.
    if before in _SELECTORS:
        return not (before2 == "" or before2 in _WHITESPACE or before2 in _SELECTORS + _IVS)
    return True


@pytest.mark.parametrize("marker", ["*", "_", "~"])
def test_scan_delims_matches_the_specification_text(marker: str) -> None:
    md = MarkdownIt("commonmark")
    checked = 0
    for before2 in _NEIGHBOURS:
        for before in _NEIGHBOURS:
            if before == "" and before2 != "":
                continue
            for after in _NEIGHBOURS:
                if not _specified(before2, before, after):
                    continue
                src = before2 + before + marker * 2 + after
                state = CJKFriendlyStateInline(src, md, {}, [])
                scanned = state.scanDelims(len(before2 + before), marker != "_")
                flags = _spec_flags(before2, before, after, "_" if marker == "_" else "*")
                assert (scanned.can_open, scanned.can_close) == flags, repr(src)
                assert scanned.length == 2
                checked += 1
    assert checked > 10_000


# --- no CJK, no change ----------------------------------------------------------------------

# Markup and neighbours of every kind CommonMark distinguishes, but no CJK character and no
# variation selector (the amendment reads punctuation + selector as punctuation on purpose).
_NON_CJK_TEXT = st.text(
    alphabet=st.sampled_from(
        [*"*_~=()[]\"'.,!?-`$\\ \n\tabcxyzAZ09", *"éΩ—«»∇😀🈚\u00a0\u2018\u201d\ufe0f"]
    ),
    max_size=40,
)


@settings(max_examples=400, deadline=None)
@given(_NON_CJK_TEXT)
def test_without_cjk_the_output_is_commonmark(src: str) -> None:
    assert CJK.render(src) == PLAIN.render(src)
    gfm = _gfm()
    assert gfm.use(cjk_friendly_plugin).render(src) == _gfm().render(src)
