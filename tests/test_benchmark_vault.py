"""The benchmark's synthetic vaults: deterministic, and memo2anki finds every card in them."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from helpers import make_vault, notes_of, render_memo, tree_digest, write_ankdown_input

from memo2anki.cards.convert import convert


def test_same_seed_same_tree_other_seed_other_tree(tmp_path: Path) -> None:
    make_vault(tmp_path / "a", 60, seed=7)
    make_vault(tmp_path / "b", 60, seed=7)
    make_vault(tmp_path / "c", 60, seed=8)
    assert tree_digest(tmp_path / "a") == tree_digest(tmp_path / "b")
    assert tree_digest(tmp_path / "a") != tree_digest(tmp_path / "c")


def test_memo2anki_finds_every_generated_card(tmp_path: Path) -> None:
    stats = make_vault(tmp_path / "v", 80, seed=3)
    result = convert([tmp_path / "v"])
    assert len(result.cards) == stats.cards
    assert len(result.media) == stats.distinct_images
    assert result.diagnostics == ()


def test_ankdown_input_holds_every_card_with_plain_image_links(tmp_path: Path) -> None:
    # run.py --ankdown times ankdown on these files: the same cards, images it can read.
    stats = make_vault(tmp_path / "v", 40, seed=5)
    assert write_ankdown_input(tmp_path / "v", tmp_path / "a") == stats.cards
    texts = [p.read_text(encoding="utf-8") for p in sorted((tmp_path / "a").rglob("*.md"))]
    cards = [block for text in texts for block in text.split("\n---\n")]
    assert len(cards) == stats.cards
    assert all(block.count("\n%\n") == 2 for block in cards)  # front % back % tags
    links = re.findall(r"!\[[^\]]*\]\(([^)]*)\)", "".join(texts))
    assert len(links) == stats.image_refs
    folder = {p.parent for p in (tmp_path / "a").rglob("*.md")}
    assert all(any((f / link).is_file() for f in folder) and " " not in link for link in links)
    assert "![[" not in "".join(texts)


def test_parser_alone_renders_every_memo_section(tmp_path: Path) -> None:
    # run.py's markdown-it-py column: the same notes, each memo section parsed and rendered.
    stats = make_vault(tmp_path / "v", 40, seed=6)
    notes = notes_of(tmp_path / "v")
    assert len(notes) == stats.notes
    sizes = [render_memo(note) for note in notes]
    assert sum(size > 0 for size in sizes) == stats.notes_with_memo
    html_of_all = sum(sizes)
    assert html_of_all > 200 * stats.cards  # whole sections, not only their headings


def test_benchmark_runs_and_leaves_the_vault_as_it_was(tmp_path: Path) -> None:
    # One small round of the whole benchmark: every column measured, a row per size, and the
    # note it edits for the "one note edited" re-export put back as it was.
    script = Path(__file__).resolve().parents[1] / "benchmarks" / "run.py"
    command = [sys.executable, str(script), "--sizes", "20", "--runs", "1", "--warmup", "0"]
    first = subprocess.run(
        [*command, "--workdir", str(tmp_path)], capture_output=True, text=True, check=True
    )
    vault = next(tmp_path.glob("vault-20-*"))
    before = tree_digest(vault)
    subprocess.run([*command, "--workdir", str(tmp_path)], capture_output=True, check=True)
    assert tree_digest(vault) == before
    make_vault(tmp_path / "fresh", 20, seed=0)
    assert tree_digest(tmp_path / "fresh") == before
    head, rule, row = first.stdout.split("\n\n")[1].splitlines()[:3]
    assert "re-export, one note edited s" in head and "markdown-it-py alone ratio" in head
    assert head.count("|") == rule.count("|") == row.count("|")
    assert row.startswith("| 20 | ")
