"""The back as Obsidian shows it, and images resolved the way Obsidian finds them."""

from __future__ import annotations

import sys
import unicodedata
from collections.abc import Callable
from pathlib import Path

import pytest
from helpers import png, write_vault

from memo2anki.cards.make import NoteConverter
from memo2anki.cards.pictures.media import MediaResolver, MediaStore
from memo2anki.cards.render import CardRenderer, Rendered
from memo2anki.model import Options

Render = Callable[[str], Rendered]


@pytest.fixture
def vault(tmp_path: Path) -> Path:
    return write_vault(
        tmp_path / "vault",
        {
            "daily/2025/2025-04-04.md": "",
            "daily/2025/local.png": png(seed=1),
            "image/Pasted image 20250405165953.png": png(seed=2),
            "image/네트워크 구성도.png": png(seed=3),
            "image/a b.png": png(seed=4),
            "image/cka/arch.png": png(seed=5),
            "image/aws/arch.png": png(seed=6),
            "image/copy-of-a-b.png": png(seed=4),
            "image/upper.PNG": png(seed=7),
        },
    )


@pytest.fixture
def render(vault: Path) -> Render:
    renderer = CardRenderer(MediaResolver(vault), MediaStore())
    note = vault / "daily/2025/2025-04-04.md"

    def go(markdown: str) -> Rendered:
        return renderer.render(markdown, note, "daily/2025/2025-04-04.md", 10)

    return go


# (id, markdown, exact HTML)
HTML_CASES = [
    ("single newline is a line break", "가\n나", "<p>가<br>\n나</p>"),
    # Bold and italics close before a Korean particle (the CJK-friendly rule), in a back.
    (
        "bold closes after ) before a particle",
        "**쿠버네티스(Kubernetes)**는 도구",
        "<p><strong>쿠버네티스(Kubernetes)</strong>는 도구</p>",
    ),
    (
        "bold closes after a quote",
        '**"파드"**가 단위',
        "<p><strong>&quot;파드&quot;</strong>가 단위</p>",
    ),
    ("italic closes after a full stop", "*강조.*를 넣는다", "<p><em>강조.</em>를 넣는다</p>"),
    ("ascii keeps commonmark", "**foo(bar)**baz", "<p>**foo(bar)**baz</p>"),
    ("list", "- a\n- b", "<ul>\n<li>a</li>\n<li>b</li>\n</ul>"),
    ("ordered list", "1. a\n2. b", "<ol>\n<li>a</li>\n<li>b</li>\n</ol>"),
    ("inline code", "`kubectl get po`", "<p><code>kubectl get po</code></p>"),
    ("strikethrough", "~~old~~", "<p><s>old</s></p>"),
    ("bold in body", "**etcd**는 저장소", "<p><strong>etcd</strong>는 저장소</p>"),
    (
        "table",
        "| a | b |\n| - | :-: |\n| 1 | 2 |",
        '<table>\n<thead>\n<tr>\n<th>a</th>\n<th style="text-align:center">b</th>\n</tr>\n'
        '</thead>\n<tbody>\n<tr>\n<td>1</td>\n<td style="text-align:center">2</td>\n</tr>\n'
        "</tbody>\n</table>",
    ),
    (
        "fenced code without a language stays plain and escaped",
        "```\na < b\n```",
        "<pre><code>a &lt; b\n</code></pre>",
    ),
]


@pytest.mark.parametrize(
    ("markdown", "html"), [c[1:] for c in HTML_CASES], ids=[c[0] for c in HTML_CASES]
)
def test_html(render: Render, markdown: str, html: str) -> None:
    assert render(markdown).html == html


def test_fenced_code_is_highlighted_with_inline_styles(render: Render) -> None:
    out = render("```bash\nkubectl get pods -n kube-system | grep 'Running'\n```").html
    assert out.startswith('<pre><code class="language-bash">')
    assert "<span style=\"color: #BA2121\">'Running'</span>" in out  # a string
    assert "kubectl get pods -n kube-system " in out  # spaces are not wrapped in spans
    assert "<link" not in out and "<script" not in out


def _image_of(result: Rendered) -> str:
    assert len(result.media) == 1, result.diagnostics
    return result.media[0].path.name


# (id, markdown, the file it must find)
IMAGE_CASES = [
    (
        "digital garden prefix, url-encoded",
        "![x](/img/user/image/Pasted%20image%2020250405165953.png)",
        "Pasted image 20250405165953.png",
    ),
    (
        "wikilink embed found by name anywhere",
        "![[Pasted image 20250405165953.png]]",
        "Pasted image 20250405165953.png",
    ),
    ("wikilink embed with width", "![[네트워크 구성도.png|300]]", "네트워크 구성도.png"),
    ("angle-bracket form with spaces", "![a](<image/a b.png>)", "a b.png"),
    ("relative to the note's folder", "![l](local.png)", "local.png"),
    ("relative to the vault root", "![a](image/cka/arch.png)", "arch.png"),
    ("vault-absolute", "![a](/image/aws/arch.png)", "arch.png"),
    ("parent folder inside the vault", "![a](../../image/a%20b.png)", "a b.png"),
    (
        "Korean name url-encoded",
        "![k](image/%EB%84%A4%ED%8A%B8%EC%9B%8C%ED%81%AC%20%EA%B5%AC%EC%84%B1%EB%8F%84.png)",
        "네트워크 구성도.png",
    ),
    ("raw html img", '<img src="image/a b.png" width="200">', "a b.png"),
    ("upper-case extension", "![[upper.PNG]]", "upper.PNG"),
]


@pytest.mark.parametrize(
    ("markdown", "name"), [c[1:] for c in IMAGE_CASES], ids=[c[0] for c in IMAGE_CASES]
)
def test_image_lookup(render: Render, markdown: str, name: str) -> None:
    result = render(markdown)
    assert _image_of(result) == name
    assert f'src="{result.media[0].name}"' in result.html
    assert result.diagnostics == ()


# (id, markdown, the file it must find): a `?` in a file's name (`image/what?.png`) is part of
# the name when the reference encodes it; only a raw `?` starts a URL's query.
QUESTION_MARK_CASES = [
    ("encoded in a markdown link", "![](/image/what%3F.png)", "what?.png"),
    ("encoded in an img tag", '<img src="image/what%3F.png">', "what?.png"),
    ("encoded in a wikilink", "![[what%3F.png]]", "what?.png"),
    ("encoded, then a query", "![](image/what%3F.png?raw=1)", "what?.png"),
    ("a query after the name", "![](image/upper.PNG?v=2)", "upper.PNG"),
]


@pytest.mark.skipif(sys.platform == "win32", reason="a Windows file name holds no ?")
@pytest.mark.parametrize(
    ("markdown", "name"),
    [c[1:] for c in QUESTION_MARK_CASES],
    ids=[c[0] for c in QUESTION_MARK_CASES],
)
def test_a_question_mark_in_a_name(render: Render, vault: Path, markdown: str, name: str) -> None:
    (vault / "image/what?.png").write_bytes(png(seed=11))
    result = render(markdown)
    assert _image_of(result) == name
    assert f'src="{result.media[0].name}"' in result.html
    assert result.diagnostics == ()


# (id, markdown, the file it must find, or None: not found). Found by name, a reference with
# folders is the file whose path ends with them, as in Obsidian; never another of its name.
PATH_CASES: list[tuple[str, str, str | None]] = [
    ("wikilink with a folder", "![[aws/arch.png]]", "image/aws/arch.png"),
    ("the other folder", "![[cka/arch.png]]", "image/cka/arch.png"),
    ("markdown link with a folder", "![](aws/arch.png)", "image/aws/arch.png"),
    ("two folders", "![](image/cka/arch.png)", "image/cka/arch.png"),
    ("folders in another case", "![[AWS/Arch.PNG]]", "image/aws/arch.png"),
    ("a Korean folder decomposed on disk", "![[구성도/그림.png]]", "image/구성도/그림.png"),
    ("after ../", "![](../aws/arch.png)", "image/aws/arch.png"),
    ("a bare name: the nearest, as before", "![[arch.png]]", "image/aws/arch.png"),
    ("no such folder", "![[gcp/arch.png]]", None),
    ("markdown link, no such folder", "![](gcp/arch.png)", None),
    ("the end of a folder's name is not a folder", "![[ws/arch.png]]", None),
    ("folders in another order", "![[aws/image/arch.png]]", None),
]


@pytest.mark.parametrize(
    ("markdown", "path"), [c[1:] for c in PATH_CASES], ids=[c[0] for c in PATH_CASES]
)
def test_a_reference_with_folders_finds_the_file_they_end(
    render: Render, vault: Path, markdown: str, path: str | None
) -> None:
    folder = vault / unicodedata.normalize("NFD", "image/구성도")
    folder.mkdir()
    (folder / unicodedata.normalize("NFD", "그림.png")).write_bytes(png(seed=10))
    result = render(markdown)
    if path is None:
        ref = markdown.split("(")[-1].rstrip(")") if "(" in markdown else markdown[3:-2]
        assert result.media == ()
        assert [d.message for d in result.diagnostics] == [f"image not found: {ref}"]
        assert "m2a-missing" in result.html
    else:
        assert result.diagnostics == ()
        (media,) = result.media
        found = unicodedata.normalize("NFC", media.path.relative_to(vault.resolve()).as_posix())
        assert found == path


def test_media_names_are_plain_ascii_from_content(render: Render) -> None:
    cka = render("![](image/cka/arch.png)").media[0]
    aws = render("![](image/aws/arch.png)").media[0]
    korean = render("![[네트워크 구성도.png]]").media[0]
    assert cka.name != aws.name  # two different arch.png both survive
    for media in (cka, aws, korean):
        assert media.name.isascii() and "/" not in media.name and media.name.endswith(".png")
        assert len(media.name) < 40
    same = render("![](image/a%20b.png) ![](image/copy-of-a-b.png)")
    assert len({m.name for m in same.media}) == 1  # identical bytes: stored once


def test_sizes(render: Render) -> None:
    assert 'width="300"' in render("![[local.png|300]]").html
    both = render("![[local.png|300x200]]").html
    assert 'width="300"' in both and 'height="200"' in both
    alt = render("![그림|250](local.png)").html
    assert 'width="250"' in alt and 'alt="그림"' in alt


def test_missing_image_warns_with_line_and_shows_on_card(render: Render) -> None:
    result = render("가\n나\n![x](image/없는그림.png)")
    assert [str(d) for d in result.diagnostics] == [
        "daily/2025/2025-04-04.md:12: image not found: image/없는그림.png"
    ]
    assert '<span class="m2a-missing">[missing image: 없는그림.png]</span>' in result.html
    assert result.media == ()


@pytest.mark.parametrize(
    "ref",
    [
        "../../../outside.png",
        "/etc/passwd",
        "file:///etc/passwd",
        "C:\\Windows\\win.ini",
        "%2e%2e/%2e%2e/%2e%2e/outside.png",
    ],
)
def test_nothing_outside_the_vault_is_embedded(render: Render, vault: Path, ref: str) -> None:
    (vault.parent / "outside.png").write_bytes(png(seed=9))
    result = render(f'![x]({ref})\n<img src="{ref}">')
    assert result.media == ()
    assert "outside" not in result.html or "m2a-missing" in result.html
    assert len(result.diagnostics) >= 1


def test_symlink_out_of_the_vault_is_refused(render: Render, vault: Path) -> None:
    secret = vault.parent / "secret.png"
    secret.write_bytes(png(seed=8))
    (vault / "image/link.png").symlink_to(secret)
    result = render("![[link.png]]\n![x](image/link.png)")
    assert result.media == ()
    assert all("outside the vault" in d.message for d in result.diagnostics)


def test_remote_images_stay_links(render: Render) -> None:
    result = render("![diagram](https://example.com/x.png)")
    assert result.media == () and result.diagnostics == ()
    assert '<a class="m2a-remote" href="https://example.com/x.png"' in result.html
    assert "<img" not in result.html


def test_html_is_sanitized(render: Render) -> None:
    out = render(
        '<script>alert(1)</script><b onclick="x()">굵게</b>\n\n'
        '<a href="javascript:alert(1)">링크</a><iframe src="https://e.com"></iframe>'
    ).html
    assert "<script" not in out and "alert(1)</" not in out
    assert "onclick" not in out and "javascript:" not in out and "<iframe" not in out
    assert "<b>굵게</b>" in out


@pytest.fixture
def embed_vault(vault: Path) -> Path:
    write_vault(
        vault,
        {
            "concepts/Pod.md": "---\ntags: [x]\n---\n# Pod\n가장 작은 배포 단위\n![[local.png]]\n"
            "## 생명주기\nPending → Running\n## 기타\n무시\n",
            "concepts/Loop.md": "나를 다시 부른다 ![[Loop]]\n",
        },
    )
    (vault / "concepts/local.png").write_bytes(png(seed=11))
    return vault


def test_embedded_note_shows_its_text_and_images(render: Render, embed_vault: Path) -> None:
    result = render("![[Pod]]")
    assert '<div class="m2a-embed"><div class="m2a-embed-title">Pod</div>' in result.html
    assert "가장 작은 배포 단위" in result.html and "Pending → Running" in result.html
    assert [m.path.name for m in result.media] == ["local.png"]  # relative to the embedded note
    assert "tags: [x]" not in result.html
    assert result.diagnostics == ()


def test_embedded_heading_shows_only_that_section(render: Render, embed_vault: Path) -> None:
    result = render("![[Pod#생명주기]]")
    assert "Pending → Running" in result.html
    assert "가장 작은 배포 단위" not in result.html and "무시" not in result.html


def test_embed_cycle_is_cut(render: Render, embed_vault: Path) -> None:
    result = render("![[Loop]]")
    assert result.html.count("나를 다시 부른다") == 1
    assert '<span class="m2a-embed-name">Loop</span>' in result.html


@pytest.mark.parametrize(
    ("markdown", "message"),
    [
        ("![[없는 노트]]", "daily/2025/2025-04-04.md:10: embedded note not found: ![[없는 노트]]"),
        (
            "![[Pod#없는 제목]]",
            "daily/2025/2025-04-04.md:10: heading not found in embedded note: ![[Pod#없는 제목]]",
        ),
        (
            "![[slides.pdf]]",
            "daily/2025/2025-04-04.md:10: embedded file not shown: ![[slides.pdf]]",
        ),
    ],
)
def test_embed_that_cannot_be_shown_warns_and_names_it(
    render: Render, embed_vault: Path, markdown: str, message: str
) -> None:
    result = render(markdown)
    assert [str(d) for d in result.diagnostics] == [message]
    assert 'class="m2a-embed-missing"' in result.html


@pytest.mark.parametrize("suffix", [".jpg", ".jpeg", ".gif", ".webp", ".svg", ".JPG"])
def test_image_kinds(render: Render, vault: Path, suffix: str) -> None:
    (vault / f"image/pic{suffix}").write_bytes(b"<svg xmlns='http://www.w3.org/2000/svg'/>")
    result = render(f"![[pic{suffix}]]")
    assert len(result.media) == 1 and result.media[0].name.endswith(suffix.lower())


@pytest.mark.parametrize("lang", ["bash", "shell", "sh", "yaml", "json", "python", "go"])
def test_code_languages_are_highlighted(render: Render, lang: str) -> None:
    code = {"go": "func main() {}", "json": '{"a": 1}', "yaml": "a: 1", "python": "def f(): pass"}
    html = render(f"```{lang}\n{code.get(lang, 'echo $HOME')}\n```").html
    assert '<span style="' in html, html


def test_unknown_language_is_plain_and_keeps_indentation(render: Render) -> None:
    html = render("```nosuchlang\nif x:\n    y  <\n```").html
    assert html == '<pre><code class="language-nosuchlang">if x:\n    y  &lt;\n</code></pre>'


def _ref(n: int) -> str:
    return f'<sup class="footnote-ref"><a href="#fn{n}" id="fnref{n}">[{n}]</a></sup>'


def _footnotes(*texts: str) -> str:
    items = "".join(
        f'<li id="fn{n}" class="footnote-item"><p>{text} '
        f'<a href="#fnref{n}" class="footnote-backref">↩︎</a></p>\n</li>\n'
        for n, text in enumerate(texts, 1)
    )
    return (
        '\n<hr class="footnotes-sep">\n<section class="footnotes">\n<ol class="footnotes-list">\n'
        f"{items}</ol>\n</section>"
    )


def _callout(kind: str, title: str, content: str) -> str:
    return (
        f'<div class="callout" data-callout="{kind}">\n<div class="callout-title">{title}</div>\n'
        f'<div class="callout-content">{content}</div>\n</div>'
    )


def _missing(name: str) -> str:
    return f'<span class="m2a-missing">[missing image: {name}]</span>'


# Whole cards, as a note makes them: (id, the memo section's cards, [(front as text, Front
# field, Back field)], warnings). The note is ``S`` then the cards, so its line 3 is theirs.
S = "# 공부 메모장\n## CKA\n"
CARD_CASES: list[tuple[str, str, list[tuple[str, str, str]], list[str]]] = [
    (
        "escapes and entities in a front are text",
        S + "**\\[CKA\\] Pod 생성**\n가\n\n**&lt;none&gt; 이미지**\n나\n\n"
        "### C\\# 기초\n다\n\n**a \\*b\\* &amp; &#35;1 &#x41;**\n라\n",
        [
            ("[CKA] Pod 생성", "[CKA] Pod 생성", "<p>가</p>"),
            ("<none> 이미지", "&lt;none&gt; 이미지", "<p>나</p>"),
            ("C# 기초", "C# 기초", "<p>다</p>"),
            ("a *b* & #1 A", "a *b* &amp; #1 A", "<p>라</p>"),
        ],
        [],
    ),
    (
        "escapes and entities in a back are text",
        S + "**A**\n\\[x\\] &amp; &#35; \\*y\\* &lt;b&gt;\n",
        [("A", "A", "<p>[x] &amp; # *y* &lt;b&gt;</p>")],
        [],
    ),
    (
        "a footnote defined in the card's own back shows once",
        S + "**Only**\nkube-proxy는 iptables를 쓴다[^1].\n\n[^1]: 공식 문서 참고\n",
        [
            (
                "Only",
                "Only",
                f"<p>kube-proxy는 iptables를 쓴다{_ref(1)}.</p>{_footnotes('공식 문서 참고')}",
            )
        ],
        [],
    ),
    (
        "footnotes defined under one card show once there and under a later card",
        S + "**A**\n가[^a] 나[^b]\n\n[^a]: ay def\n[^b]: bee def\n\n**B**\n다[^a]\n",
        [
            ("A", "A", f"<p>가{_ref(1)} 나{_ref(2)}</p>{_footnotes('ay def', 'bee def')}"),
            ("B", "B", f"<p>다{_ref(1)}</p>{_footnotes('ay def')}"),
        ],
        [],
    ),
    (
        "a footnote defined under a later card, and after the section, shows in each",
        S + "**A**\n가[^a] 나[^end]\n\n**B**\n다[^a]\n\n[^a]: ay def\n# 참고\n[^end]: 끝\n",
        [
            ("A", "A", f"<p>가{_ref(1)} 나{_ref(2)}</p>{_footnotes('ay def', '끝')}"),
            ("B", "B", f"<p>다{_ref(1)}</p>{_footnotes('ay def')}"),
        ],
        [],
    ),
    (
        "a comment across paragraphs is hidden, and warnings after it name their lines",
        S + "**Visible**\nbefore %% start\n\n**HiddenCard**\nhidden text\n\nend %% after\n"
        "![](gone.png)\n\n**Next**\n![](gone2.png)\n",
        [
            ("Visible", "Visible", f"<p>before  after<br>\n{_missing('gone.png')}</p>"),
            ("Next", "Next", f"<p>{_missing('gone2.png')}</p>"),
        ],
        [
            "2025-04-04.md:10: image not found: gone.png",
            "2025-04-04.md:13: image not found: gone2.png",
        ],
    ),
    (
        "a bold line of only a comment makes no card, as ### %%...%% does, nor leaks ****",
        S + "**Card**\ncard body\n\n**%% later %%**\norphan body\n",
        [("Card", "Card", "<p>card body</p>")],
        ["2025-04-04.md:6: the heading shows no text; no card made"],
    ),
    (
        "headings that show no text, under a line of text and with nothing under them",
        S + "**Card**\ncard body\n__%%x%%__\n\n### %% h %%\n\n**B**\nb\n**%% a\n\nb %%**\n",
        [("Card", "Card", "<p>card body</p>"), ("B", "B", "<p>b</p>")],
        [f"2025-04-04.md:{line}: the heading shows no text; no card made" for line in (5, 7, 11)],
    ),
    (
        "a comment from a callout's title line into its body shows no %% mark, no hidden line",
        S + "**Callout3**\n> [!note] Title %% x\n> y %%\n\n"
        "**Tip**\n> [!tip] T %% c\n> inside %% out ![](gone.png)\n",
        [
            ("Callout3", "Callout3", _callout("note", "Title", "")),
            ("Tip", "Tip", _callout("tip", "T", f"\n<p>out {_missing('gone.png')}</p>\n")),
        ],
        ["2025-04-04.md:9: image not found: gone.png"],
    ),
    (
        "%% in inline math is no comment mark, in a comment spanning lines as in one line",
        S + "**MathSpan**\nvalue $a %% b$ text\nmore %% end\n",
        [("MathSpan", "MathSpan", "<p>value \\(a %% b\\) text<br>\nmore %% end</p>")],
        [],
    ),
]


@pytest.mark.parametrize(
    ("markdown", "cards", "warnings"),
    [c[1:] for c in CARD_CASES],
    ids=[c[0] for c in CARD_CASES],
)
def test_card_fields(
    tmp_path: Path, markdown: str, cards: list[tuple[str, str, str]], warnings: list[str]
) -> None:
    vault = write_vault(tmp_path / "vault", {"2025-04-04.md": markdown})
    result = NoteConverter(vault, Options(), journal=False).convert(vault / "2025-04-04.md")
    assert [(c.front, c.front_html, c.back_html) for c in result.cards] == cards
    assert [str(d) for d in result.diagnostics] == warnings
    assert not any("\u2060" in c.front_html + c.back_html for c in result.cards)
