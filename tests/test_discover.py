"""Which files are notes, and which folder is the vault."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner
from helpers import memo, png, write_vault

from memo2anki.cards.convert import convert
from memo2anki.cli.main import main
from memo2anki.model import Options


@pytest.fixture
def vault(tmp_path: Path) -> Path:
    return write_vault(
        tmp_path / "vault",
        {
            "daily/2025-04-01.md": memo("**Pod**\n파드\n![](/image/pod.png)"),
            "daily/2025-04-02.MD": memo("**EC2**\n서버"),
            "daily/nested/2025-04-03.markdown": memo("**VPC**\n네트워크"),
            "daily/notes.txt": memo("**Text file**\n무시"),
            "daily/.hidden/2025-04-04.md": memo("**Hidden**\n무시"),
            ".trash/2025-01-01.md": memo("**Trashed**\n무시"),
            ".obsidian/snippets.md": memo("**Settings**\n무시"),
            "image/pod.png": png(),
        },
    )


def _fronts(*paths: Path, vault: Path | None = None) -> list[str]:
    return [c.front for c in convert(list(paths), Options(vault=vault)).cards]


def test_markdown_below_folders_and_nothing_in_dot_folders(vault: Path) -> None:
    assert _fronts(vault) == ["Pod", "EC2", "VPC"]


def test_a_note_named_directly(vault: Path) -> None:
    assert _fronts(vault / "daily/2025-04-02.MD") == ["EC2"]


def test_files_and_folders_mixed_each_note_once(vault: Path) -> None:
    assert _fronts(vault / "daily/2025-04-01.md", vault / "daily") == ["Pod", "EC2", "VPC"]


@pytest.mark.parametrize("start", ["daily", "daily/nested", "daily/2025-04-01.md"])
def test_vault_is_the_nearest_folder_holding_obsidian(vault: Path, start: str) -> None:
    result = convert([vault / start])
    assert result.vault == vault.resolve()


def test_without_obsidian_the_given_folder_is_the_vault(tmp_path: Path) -> None:
    notes = tmp_path / "plain"
    (notes / "sub").mkdir(parents=True)
    (notes / "sub/2025-01-01.md").write_text(memo("**A**\n가"), encoding="utf-8")
    assert convert([notes]).vault == notes.resolve()
    assert convert([notes / "sub/2025-01-01.md"]).vault == (notes / "sub").resolve()


def test_vault_option_decides_where_images_are_found(vault: Path) -> None:
    # From daily/ as the vault root, `/image/pod.png` is not there.
    inside = convert([vault / "daily"], Options(vault=vault / "daily"))
    assert [d.message for d in inside.diagnostics] == ["image not found: /image/pod.png"]
    assert convert([vault / "daily"], Options(vault=vault)).diagnostics == ()


def test_vault_option_must_be_a_folder(vault: Path) -> None:
    result = CliRunner().invoke(
        main, [str(vault), "--dry-run", "--vault", str(vault / "daily/2025-04-01.md")]
    )
    assert result.exit_code == 2
    assert "--vault" in result.stderr
