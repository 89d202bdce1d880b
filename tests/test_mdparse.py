"""Headings are parsed one at a time, most of them through a shortcut for plain text: it must
give exactly the tokens markdown-it's own inline parse gives, or leave the text to it."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from markdown_it import MarkdownIt

from memo2anki.cards.markdown.parser import _plain_inline, inline_children, make_markdown

MD = make_markdown()


def parsed(md: MarkdownIt, source: str) -> list[dict[str, object]]:
    children: list = []  # type: ignore[type-arg]
    md.inline.parse(source, md, {}, children)
    return [t.as_dict() for t in children]


@pytest.mark.parametrize(
    ("source", "shortcut"),
    [
        ("CKA", True),
        ("AWS SysOps", True),
        ("쿠버네티스 Pod 생성 (kubectl run).", True),
        ("**Docker Network**", True),
        ("**Docker Network** ", True),
        ("**Route 53 라우팅 정책**  ", True),
        ("**(괄호) 먼저**", True),
        # Anything a rule could start on goes to markdown-it.
        ("", False),
        ("kube-proxy", False),
        ("**kube-proxy**", False),
        ("**a **", False),
        ("** a**", False),
        ("**a** b", False),
        ("**a*b**", False),
        ("==중요==", False),
        ("[[링크]]", False),
        ("#태그", False),
        ("a_b", False),
        ("탭\t문자", False),
    ],
)
def test_plain_headings_take_the_shortcut_with_the_same_tokens(source: str, shortcut: bool) -> None:
    assert (_plain_inline(source) is not None) is shortcut
    assert [t.as_dict() for t in inline_children(MD, source)] == parsed(MD, source)


HEADING_TEXT = st.text(
    alphabet=st.sampled_from(list("ab Zz09가나 \t*_().,/'\"?;:-[]!#=$%~`<>&\\")), max_size=12
)


@given(text=HEADING_TEXT, bold=st.booleans(), trailing=st.sampled_from(["", " ", "  "]))
@settings(max_examples=2000, deadline=None)
def test_shortcut_agrees_with_markdown_it(text: str, bold: bool, trailing: str) -> None:
    source = f"**{text}**{trailing}" if bold else text + trailing
    quick = _plain_inline(source)
    if quick is not None:
        assert [t.as_dict() for t in quick] == parsed(MD, source)
