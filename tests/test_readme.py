"""The users' guides keep their promises: the README and its Korean twin show the same set-up
commands (the two the project promises among them), and every link between the guides, the
docs and the contributors' notes leads to a file that exists."""

from __future__ import annotations

import re

import pytest
from helpers import REPO

GUIDES = ("README.md", "README.ko.md")
SETUP = {"README.md": "Set-up", "README.ko.md": "설치"}  # each guide's set-up heading
PROMISED = (
    "pip install . && memo2anki samples/ -o samples.apkg",
    'pip install -e ".[test]" && pytest',
)


def _setup_commands(guide: str) -> list[str]:
    """The commands of a guide's set-up section: its indented code lines up to the next
    heading, comments dropped."""
    text = (REPO / guide).read_text(encoding="utf-8")
    section = text.split(f"\n## {SETUP[guide]}\n", 1)[1].split("\n## ", 1)[0]
    return [
        line.strip().split("  #")[0].rstrip()
        for line in section.splitlines()
        if line.startswith("    ") and line.strip()
    ]


def test_both_guides_show_the_same_setup_commands() -> None:
    english, korean = (_setup_commands(guide) for guide in GUIDES)
    assert english == korean
    for command in PROMISED:
        assert command in english


@pytest.mark.parametrize(
    "page",
    [
        *GUIDES,
        "CONTRIBUTING.md",
        *(p.relative_to(REPO).as_posix() for p in (REPO / "docs").glob("*.md")),
    ],
)
def test_every_link_leads_somewhere(page: str) -> None:
    path = REPO / page
    text = re.sub(r"```.*?```|`[^`\n]*`", "", path.read_text("utf-8"), flags=re.S)  # code: no links
    links = re.findall(r"\]\(([^)#\s]+)(?:#[^)]*)?\)|src=\"([^\"]+)\"", text)
    targets = [a or b for a, b in links if not (a or b).startswith(("http://", "https://"))]
    missing = [t for t in targets if not (path.parent / t).exists()]
    assert missing == []


def test_the_guides_link_each_other_from_their_first_lines() -> None:
    english, korean = ((REPO / g).read_text("utf-8").splitlines()[:4] for g in GUIDES)
    assert any("README.ko.md" in line for line in english)
    assert any("README.md" in line for line in korean)
