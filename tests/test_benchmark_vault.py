"""The benchmark's synthetic vaults: deterministic, and memo2anki finds every card in them."""

from __future__ import annotations

from pathlib import Path

from helpers import make_vault, tree_digest

from memo2anki.convert import convert


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
