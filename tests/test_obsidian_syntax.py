"""Obsidian syntax plugins: every fixture in tests/fixtures/obsidian, plus token contracts."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest
from markdown_it import MarkdownIt
from markdown_it.token import Token
from markdown_it.utils import EnvType, OptionsDict, read_fixture_file

from memo2anki.cards.obsidian import (
    callouts_plugin,
    comments_plugin,
    highlight_plugin,
    math_plugin,
    obsidian_plugins,
    tags_plugin,
    wikilinks_plugin,
)

FIXTURES = Path(__file__).parent / "fixtures" / "obsidian"


def make_md() -> MarkdownIt:
    """The production parser: the base configuration with every Obsidian plugin."""
    md = MarkdownIt("commonmark", {"breaks": True, "html": True}).enable(["table", "strikethrough"])
    return obsidian_plugins(md)


def _fixture_cases() -> list[Any]:
    """One case per fixture, with ids like ``math:12:currency is not math``."""
    return [
        pytest.param(source, expected, id=f"{path.stem}:{line + 1}:{title}")
        for path in sorted(FIXTURES.glob("*.md"))
        for line, title, source, expected in read_fixture_file(path)
    ]


def _inline_tokens(md: MarkdownIt, source: str, env: EnvType | None = None) -> list[Token]:
    return [
        child
        for token in md.parse(source, {} if env is None else env)
        for child in token.children or ()
    ]


def test_fixture_files_exist() -> None:
    names = {path.stem for path in FIXTURES.glob("*.md")}
    assert names >= {
        "wikilinks",
        "highlight",
        "comments",
        "callouts",
        "tags",
        "math",
        "tasklists",
        "footnote",
    }


@pytest.mark.parametrize(("source", "expected"), _fixture_cases())
def test_fixture(source: str, expected: str) -> None:
    assert make_md().render(source, {}) == expected


@pytest.mark.parametrize(
    ("source", "meta"),
    [
        (
            "![[Pasted image 1.png]]",
            {"target": "Pasted image 1.png", "heading": None, "alias": None},
        ),
        ("![[img/a%20b.png|300]]", {"target": "img/a%20b.png", "width": 300, "height": None}),
        ("![[a.png|300x200]]", {"target": "a.png", "width": 300, "height": 200, "alias": None}),
        ("![[a.png\\|640]]", {"target": "a.png", "width": 640}),
        ("![[a.png|caption]]", {"target": "a.png", "alias": "caption", "width": None}),
        ("![[a.png|caption|100]]", {"alias": "caption", "width": 100}),
        ("![[Note.md#Part 1|see]]", {"target": "Note.md", "heading": "Part 1", "alias": "see"}),
        ("![[#Local]]", {"target": "", "heading": "Local"}),
    ],
)
def test_embed_token_contract(source: str, meta: dict[str, Any]) -> None:
    (token,) = _inline_tokens(make_md(), source)
    assert token.type == "wikilink_embed"
    assert set(token.meta) == {"target", "heading", "alias", "width", "height"}
    assert {key: token.meta[key] for key in meta} == meta


def test_embed_render_rule_can_be_overridden() -> None:
    md = make_md()

    def render(
        self: Any, tokens: Sequence[Token], idx: int, options: OptionsDict, env: EnvType
    ) -> str:
        meta = tokens[idx].meta
        return f'<img src="{meta["target"]}" width="{meta["width"]}">'

    md.add_render_rule("wikilink_embed", render)
    assert md.render("![[a.png|50]]") == '<p><img src="a.png" width="50"></p>\n'


def test_link_token_carries_its_parts() -> None:
    (token,) = _inline_tokens(make_md(), "[[dir/Note.md#Part|shown]]")
    assert token.type == "wikilink"
    assert token.meta == {"target": "dir/Note.md", "heading": "Part", "alias": "shown"}


def test_tags_are_collected_in_env() -> None:
    env: dict[str, Any] = {}
    make_md().render("#cka #암기 `#code` %% #hidden %% [[n#h]]\n\n- #kubernetes/net #cka", env)
    assert env["tags"] == ["cka", "암기", "kubernetes/net", "cka"]


def test_no_tags_leave_env_without_tags() -> None:
    env: dict[str, Any] = {}
    make_md().render("no tags, #1984 and a#b", env)
    assert "tags" not in env


def test_callout_tokens() -> None:
    tokens = make_md().parse("> [!FAQ]- Why?\n> Because.")
    opening = tokens[0]
    assert (opening.type, opening.tag, opening.info) == ("callout_open", "details", "faq")
    assert opening.meta == {"kind": "faq", "fold": "-", "title": "Why?"}
    assert [t.type for t in tokens][-2:] == ["callout_content_close", "callout_close"]


def test_each_plugin_works_alone() -> None:
    cases = [
        (wikilinks_plugin, "[[a|b]]", '<p><span class="wikilink">b</span></p>\n'),
        (highlight_plugin, "==a==", "<p><mark>a</mark></p>\n"),
        (comments_plugin, "a%%b%%", "<p>a</p>\n"),
        (tags_plugin, "#a", '<p><span class="tag">#a</span></p>\n'),
        (math_plugin, "$a$", "<p>\\(a\\)</p>\n"),
        (
            callouts_plugin,
            "> [!tip]",
            '<div class="callout" data-callout="tip">\n<div class="callout-title">Tip</div>\n'
            '<div class="callout-content"></div>\n</div>\n',
        ),
    ]
    for plugin, source, expected in cases:
        md = MarkdownIt("commonmark", {"breaks": True, "html": True}).enable(
            ["table", "strikethrough"]
        )
        assert md.use(plugin).render(source) == expected, plugin.__name__
