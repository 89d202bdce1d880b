"""Which cards a note makes: each SPEC rule as small markdown beside the cards it must give."""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers import write_vault

from memo2anki.cards.make import NoteConverter
from memo2anki.cards.memo import CardFinder
from memo2anki.cards.render import make_markdown
from memo2anki.model import Note, Options

S = "# 공부 메모장\n## CKA\n"  # the usual opening of a memo section

# (id, markdown, [(subject, front, back markdown)])
CASES: list[tuple[str, str, list[tuple[str, str, str]]]] = [
    (
        "bold line then body on the next line (one paragraph)",
        S + "**Docker Network**\nNone 설정하면 통신 불가\nHost: 호스트 네임스페이스",
        [("CKA", "Docker Network", "None 설정하면 통신 불가\nHost: 호스트 네임스페이스")],
    ),
    (
        "bold line, blank line, body",
        S + "**CNI**\n\n컨테이너 네트워크 인터페이스\n",
        [("CKA", "CNI", "\n컨테이너 네트워크 인터페이스")],
    ),
    (
        "trailing spaces after the bold line",
        S + "**Docker Network**   \n본문",
        [("CKA", "Docker Network", "본문")],
    ),
    (
        "underscore bold",
        S + "__CNI__\n본문",
        [("CKA", "CNI", "본문")],
    ),
    (
        "two cards in a row",
        S + "**A**\n가\n\n**B**\n나",
        [("CKA", "A", "가"), ("CKA", "B", "나")],
    ),
    (
        "bold then text on the same line is body, not a card",
        S + "**A**\n가\n\n**etcd**는 key-value 저장소\n",
        [("CKA", "A", "가\n\n**etcd**는 key-value 저장소")],
    ),
    (
        "bold before a Korean particle, then text, is body, not a card",
        S + '**A**\n가\n\n**쿠버네티스(Kubernetes)**는 컨테이너 도구\n**"파드"**가 단위\n',
        [("CKA", "A", '가\n\n**쿠버네티스(Kubernetes)**는 컨테이너 도구\n**"파드"**가 단위')],
    ),
    (
        "a bold line ending in punctuation is a card",
        S + '**쿠버네티스(Kubernetes)**\n가\n**"파드"**\n나\n',
        [("CKA", "쿠버네티스(Kubernetes)", "가"), ("CKA", '"파드"', "나")],
    ),
    (
        "invisible characters around a bold line leave it a heading",
        S + "**A**\n가\n\n\u200b**B**\n나\n\ufeff**C**\u200e\n다\n**D**\u200b\n라\n",
        [("CKA", "A", "가"), ("CKA", "B", "나"), ("CKA", "C", "다"), ("CKA", "D", "라")],
    ),
    (
        "a bold span of invisible characters alone is not a heading",
        S + "**A**\n가\n\n**\u200b**\n나\n**\u200d\u2060 \ufeff**\n다\n",
        [("CKA", "A", "가\n\n**\u200b**\n나\n**\u200d\u2060 \ufeff**\n다")],
    ),
    (
        "two bold spans on one line is not a heading",
        S + "**A**\n가\n\n**x** **y**\n",
        [("CKA", "A", "가\n\n**x** **y**")],
    ),
    (
        "bold inside a list is body",
        S + "**A**\n- **etcd**\n- b\n",
        [("CKA", "A", "- **etcd**\n- b")],
    ),
    (
        "bold inside a quote is body",
        S + "**A**\n> **주의**\n> 내용\n",
        [("CKA", "A", "> **주의**\n> 내용")],
    ),
    (
        "bold inside a table is body",
        S + "**A**\n\n| **x** | y |\n| - | - |\n| 1 | 2 |\n",
        [("CKA", "A", "\n| **x** | y |\n| - | - |\n| 1 | 2 |")],
    ),
    (
        "bold in a sentence is body",
        S + "**A**\n이건 **중요**하다\n",
        [("CKA", "A", "이건 **중요**하다")],
    ),
    (
        "bold spanning two lines is not a heading",
        S + "**A**\n가\n\n**x\ny**\n",
        [("CKA", "A", "가\n\n**x\ny**")],
    ),
    (
        "italic line is not a heading",
        S + "**A**\n가\n\n*B*\n나\n",
        [("CKA", "A", "가\n\n*B*\n나")],
    ),
    (
        "bold inside a code fence is code",
        S + "**A**\n```\n**B**\n```\n",
        [("CKA", "A", "```\n**B**\n```")],
    ),
    (
        "a thematic break ends the back; what follows belongs to no card",
        S + "**A**\n가\n\n---\n고아 문장\n\n**B**\n나",
        [("CKA", "A", "가"), ("CKA", "B", "나")],
    ),
    (
        "text right above --- is a setext heading, as CommonMark says",
        S + "**A**\n가\n\n**B**\n나\n---\n",
        [("CKA", "A", "가")],
    ),
    (
        "a bold line right under a line of text starts a card (Obsidian shows it on its own)",
        S + "**A**\n가\n**B**\n나",
        [("CKA", "A", "가"), ("CKA", "B", "나")],
    ),
    (
        "the note's own shape: a sentence, then a bold line, in one paragraph",
        S + "**Route 53**\n단순, 가중치, 지연 시간.\n**EKS vs ECS**\nEKS는 쿠버네티스\n",
        [
            ("CKA", "Route 53", "단순, 가중치, 지연 시간."),
            ("CKA", "EKS vs ECS", "EKS는 쿠버네티스"),
        ],
    ),
    (
        "bold lines one after another: the first has nothing under it",
        S + "**A**\n**B**\n나\n**C**\n다",
        [("CKA", "B", "나"), ("CKA", "C", "다")],
    ),
    (
        "a bold last line of a paragraph takes what follows the blank line",
        S + "**A**\n가\n**B**\n\n나\n",
        [("CKA", "A", "가"), ("CKA", "B", "\n나")],
    ),
    (
        "text above the first bold line of a subject belongs to no card",
        S + "머리말\n**A**\n가",
        [("CKA", "A", "가")],
    ),
    (
        "an indented bold line inside a paragraph starts a card too",
        S + "**A**\n가\n  **B**  \n나",
        [("CKA", "A", "가"), ("CKA", "B", "나")],
    ),
    (
        "bold then text on a later line of a paragraph is body",
        S + "**A**\n가\n**etcd**는 저장소\n",
        [("CKA", "A", "가\n**etcd**는 저장소")],
    ),
    (
        "a bold line inside a list item, under its text, is body",
        S + "**A**\n- 가\n  **B**\n- 나\n",
        [("CKA", "A", "- 가\n  **B**\n- 나")],
    ),
    (
        "a bold line inside a quote, under its text, is body",
        S + "**A**\n> 가\n> **B**\n",
        [("CKA", "A", "> 가\n> **B**")],
    ),
    (
        "a bold line inside a callout is body",
        S + "**A**\n> [!tip] 팁\n> **B**\n> 나\n",
        [("CKA", "A", "> [!tip] 팁\n> **B**\n> 나")],
    ),
    (
        "a bold cell inside a table is body",
        S + "**A**\n\n| x | y |\n| - | - |\n| **B** | 2 |\n",
        [("CKA", "A", "\n| x | y |\n| - | - |\n| **B** | 2 |")],
    ),
    (
        "a bold line outside a memo section is nothing",
        "# 오전\n가\n**A**\n나\n" + S + "**B**\n다",
        [("CKA", "B", "다")],
    ),
    (
        "a subject heading ends the back and changes the subject",
        S + "**A**\n가\n## AWS SysOps\n**B**\n나",
        [("CKA", "A", "가"), ("AWS SysOps", "B", "나")],
    ),
    (
        "a deeper heading is a card front itself",
        S + "### Service 타입\nClusterIP, NodePort\n\n**B**\n나",
        [("CKA", "Service 타입", "ClusterIP, NodePort"), ("CKA", "B", "나")],
    ),
    (
        "a same-level heading ends the section",
        S + "**A**\n가\n# 내일 할 일\n**B**\n나",
        [("CKA", "A", "가")],
    ),
    (
        "a higher-level heading ends a deeper section",
        "# 일지\n## 공부 메모장\n### CKA\n**A**\n가\n# 다른 것\n**B**\n나",
        [("CKA", "A", "가")],
    ),
    (
        "nothing outside a memo section counts",
        "# 오전\n**A**\n가\n" + S + "**B**\n나",
        [("CKA", "B", "나")],
    ),
    (
        "a note can hold several memo sections",
        S + "**A**\n가\n# 오후\n**X**\n무시\n# 공부 메모장\n## AWS\n**B**\n나",
        [("CKA", "A", "가"), ("AWS", "B", "나")],
    ),
    (
        "cards before any subject have no subject",
        "# 공부 메모장\n**A**\n가\n",
        [("", "A", "가")],
    ),
    (
        "a heading with an empty back makes no card",
        S + "**A**\n\n**B**\n나",
        [("CKA", "B", "나")],
    ),
    (
        "images, lists and code all belong to the back",
        S + "**A**\n가\n![x](a.png)\n- 1\n- 2\n\n```bash\nls\n```\n\n**B**\n나",
        [("CKA", "A", "가\n![x](a.png)\n- 1\n- 2\n\n```bash\nls\n```"), ("CKA", "B", "나")],
    ),
    (
        "the front keeps inline code as text",
        S + "**`kubectl` 명령**\n가",
        [("CKA", "kubectl 명령", "가")],
    ),
    (
        "section title matching ignores surrounding space",
        "#   공부 메모장  \n## CKA\n**A**\n가",
        [("CKA", "A", "가")],
    ),
    (
        "a section title inside a code block before the section is code",
        "```\n# 공부 메모장\n**X**\n```\n# 공부 메모장\n## CKA\n**A**\n가",
        [("CKA", "A", "가")],
    ),
    (
        "an unclosed code block before the section swallows it",
        "~~~\n# 오전\n# 공부 메모장\n## CKA\n**A**\n가",
        [],
    ),
    (
        "a comment across paragraphs hides the bold lines in it",
        S + "**Visible**\nbefore %% start of comment\n\n**HiddenCard**\nhidden text\n\n"
        "end of comment %% after\n\n**Next**\nnext body",
        [
            (
                "CKA",
                "Visible",
                "before %% start of comment\n\n**HiddenCard**\nhidden text\n\n"
                "end of comment %% after",
            ),
            ("CKA", "Next", "next body"),
        ],
    ),
    (
        "a comment across the lines of a paragraph hides the bold lines in it",
        S + "**A**\na %% x\n**B**\ny %% z\n**C**\nc",
        [("CKA", "A", "a %% x\n**B**\ny %% z"), ("CKA", "C", "c")],
    ),
    (
        "a comment across paragraphs hides a subject heading",
        S + "**A**\na %% x\n\n## AWS\n**B**\ny %% z\n**C**\nc",
        [("CKA", "A", "a %% x\n\n## AWS\n**B**\ny %% z"), ("CKA", "C", "c")],
    ),
    (
        "a bold line that a comment across lines follows is a card",
        S + "**A** %% hidden\n\nstuff %%\nbody",
        [("CKA", "A", "body")],
    ),
    (
        "a bold line right after a comment across lines is a card",
        S + "**A**\n가\n%% x\n\ny %%**B**\n나\n\n%% z\n\nw %% **C**\n다",
        # (a back's source runs to the line its next card stands on)
        [("CKA", "A", "가"), ("CKA", "B", "나\n\n%% z"), ("CKA", "C", "다")],
    ),
    (
        "a bold line right after a comment is a card, as the comment shows nothing",
        S + "**A**\n가\n%%note%% **B**\n나",
        [("CKA", "A", "가"), ("CKA", "B", "나")],
    ),
    (
        "a %% in a fence neither opens nor closes a comment across paragraphs",
        S + "**A**\n```\n%% x\n```\n\n**B**\nb %% y\n\n**C**\nz %% w\n\n**D**\nd",
        [
            ("CKA", "A", "```\n%% x\n```"),
            ("CKA", "B", "b %% y\n\n**C**\nz %% w"),
            ("CKA", "D", "d"),
        ],
    ),
    (
        "setext section heading",
        "공부 메모장\n=====\n## CKA\n**A**\n가",
        [("CKA", "A", "가")],
    ),
]


def _note(text: str, name: str = "2025-04-04.md") -> Note:
    return Note(path=Path(name), relpath=name, text=text, metadata={}, date=None, mtime=0, tags=())


@pytest.fixture(scope="module")
def finder() -> CardFinder:
    return CardFinder(make_markdown())


@pytest.mark.parametrize(
    ("markdown", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_cards(finder: CardFinder, markdown: str, expected: list[tuple[str, str, str]]) -> None:
    found = finder.find(_note(markdown))
    assert [(c.subject, c.front, c.back_markdown) for c in found.cards] == expected


def test_card_knows_its_line_and_note(finder: CardFinder) -> None:
    text = "# 공부 메모장\n## CKA\n**A**\n가\n\n**B**\n나\n"
    cards = finder.find(_note(text)).cards
    assert [(c.note, c.line, c.back_line) for c in cards] == [
        ("2025-04-04.md", 3, 4),
        ("2025-04-04.md", 6, 7),
    ]


def test_bold_lines_inside_a_paragraph_know_their_lines(finder: CardFinder) -> None:
    text = "# 공부 메모장\n## CKA\n**A**\n가\n**B**\n나\n다\n**C**\n\n라\n"
    cards = finder.find(_note(text)).cards
    assert [(c.front, c.line, c.back_line) for c in cards] == [
        ("A", 3, 4),
        ("B", 5, 6),
        ("C", 8, 9),
    ]


def test_bold_lines_after_comments_know_their_lines(finder: CardFinder) -> None:
    text = S + "**A**\n가\n%% x\n\ny %%**B**\n나\n\n%% z\n\nw %% **C**\n다\n"
    cards = finder.find(_note(text)).cards
    assert [(c.front, c.line, c.back_line) for c in cards] == [
        ("A", 3, 4),
        ("B", 7, 8),
        ("C", 12, 13),
    ]


def test_empty_back_warns_with_line(finder: CardFinder) -> None:
    found = finder.find(_note(S + "\n**A**\n\n**B**\n나\n### 빈 제목\n"))
    assert [str(d) for d in found.diagnostics] == [
        "2025-04-04.md:4: 'A' has nothing under it; no card made",
        "2025-04-04.md:8: '빈 제목' has nothing under it; no card made",
    ]


def test_equal_fronts_in_one_note_are_numbered(finder: CardFinder) -> None:
    cards = finder.find(_note(S + "**A**\n1\n\n**A**\n2\n## AWS\n**A**\n3")).cards
    assert [(c.subject, c.front, c.ordinal) for c in cards] == [
        ("CKA", "A", 0),
        ("CKA", "A", 1),
        ("AWS", "A", 0),
    ]


def test_other_section_titles(finder: CardFinder) -> None:
    custom = CardFinder(make_markdown(), ("공부 메모장", "Study Notes"))
    text = "# Study Notes\n## Go\n**goroutine**\n경량 스레드"
    assert [c.front for c in custom.find(_note(text)).cards] == ["goroutine"]
    assert finder.find(_note(text)).sections == 0


def test_subject_is_a_tag_with_underscores(finder: CardFinder) -> None:
    (card,) = finder.find(_note("# 공부 메모장\n## AWS SysOps\n**A**\n가")).cards
    assert card.tags == ("AWS_SysOps",)


# (id, note, each card's tags as Anki holds them)
TAG_CASES: list[tuple[str, str, list[tuple[str, ...]]]] = [
    (
        "a tag in the front",
        S + "**Tag #front-tag**\ntag in front\n",
        [("CKA", "front-tag")],
    ),
    (
        "a tag in a heading's front",
        S + "### Service 타입 #k8s\n가\n",
        [("CKA", "k8s")],
    ),
    (
        "tags in the front, then the back, each once",
        S + "**A #x**\n가 #y #x\n\n**B**\n나\n",
        [("CKA", "x", "y"), ("CKA",)],
    ),
    (
        "a nested tag in the back is nested as in frontmatter",
        "---\ntags: [k8s/pod]\n---\n" + S + "**A**\ninline #k8s/svc here\n",
        [("CKA", "k8s::pod", "k8s::svc")],
    ),
    (
        "a nested Korean tag",
        S + "**A**\n가 #태그/하위\n",
        [("CKA", "태그::하위")],
    ),
    (
        "a nested tag in the front",
        S + "**A #k8s/svc**\n가\n",
        [("CKA", "k8s::svc")],
    ),
    (
        "a tag in the text and in frontmatter is one tag",
        "---\ntags: [k8s/svc]\n---\n" + S + "**A**\n가 #k8s//svc/\n",
        [("CKA", "k8s::svc")],
    ),
    (
        "# tags in a fence is code, not the note's tags",
        S + "**A**\n```yaml\nmetadata:\n  labels:\n# tags\n- frontend\n- prod\n```\n\n**B**\n나\n",
        [("CKA",), ("CKA",)],
    ),
    (
        "a # Tags item of two tags",
        S + "**A**\n가\n# Tags\n- #two #tags\n",
        [("CKA", "two", "tags")],
    ),
    (
        "a nested tag in the Tags list and in the text is one tag",
        S + "**A**\n가 #aws/ec2\n# Tags\n- #aws/ec2\n",
        [("CKA", "aws::ec2")],
    ),
]


@pytest.mark.parametrize(
    ("markdown", "expected"), [c[1:] for c in TAG_CASES], ids=[c[0] for c in TAG_CASES]
)
def test_card_tags(tmp_path: Path, markdown: str, expected: list[tuple[str, ...]]) -> None:
    vault = write_vault(tmp_path / "v", {"2025-04-04.md": markdown})
    result = NoteConverter(vault, Options()).convert(vault / "2025-04-04.md")
    assert result.diagnostics == ()
    assert [c.tags for c in result.cards] == expected
