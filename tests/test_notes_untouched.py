"""memo2anki never changes a vault's notes: after builds, checks and dry runs over a messy
vault, every file in it has the same bytes, permissions and modification time as before, and
the one thing added is the ledger (``.memo2anki/ledger.json``), written by builds only."""

from __future__ import annotations

import codecs
import hashlib
import os
import unicodedata
from pathlib import Path

import pytest
from click.testing import CliRunner
from helpers import memo, png, write_vault
from sandbox import run_cli

from memo2anki.cli.main import main

Snapshot = dict[str, tuple[str, int, int]]


def snapshot(root: Path) -> Snapshot:
    """Every entry below ``root`` (hidden ones too; symlinks as links): what it holds, its
    permission bits and its modification time in nanoseconds."""
    entries: Snapshot = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for name in [*dirnames, *filenames]:
            path = os.path.join(dirpath, name)
            stat = os.lstat(path)
            if os.path.islink(path):
                content = f"link to {os.readlink(path)}"
            elif os.path.isdir(path):
                content = "folder"
            else:
                with open(path, "rb") as f:
                    content = hashlib.sha256(f.read()).hexdigest()
            entries[os.path.relpath(path, root)] = (content, stat.st_mode, stat.st_mtime_ns)
    return entries


@pytest.fixture
def messy_vault(tmp_path: Path) -> Path:
    korean = (
        "# 공부 메모장\n## 네트워크\n**서브넷**\n" + "네트워크 부분과 호스트 부분을 나눈다.\n" * 4
    )
    vault = write_vault(
        tmp_path / "vault",
        {
            ".obsidian/app.json": '{"attachmentFolderPath": "image"}',
            ".trash/old.md": memo("**Old**\n지운 메모"),
            "daily/2025-04-01.md": "---\ntags: [복습]\n---\n"
            + memo("**Pod**\n가장 작은 단위\n![[pod.png]]\n![[2025-04-02#CKA]]"),
            "daily/2025-04-02.md": memo("**Service**\n고정 주소\n![](missing.png)").replace(
                "\n", "\r\n"
            ),
            "daily/2025-04-03.md": codecs.BOM_UTF8 + memo("**BOM**\n가").encode(),
            "daily/2025-04-04.md": memo("**UTF-16**\n나").encode("utf-16"),
            "daily/2025-04-05.md": korean.encode("cp949"),
            "daily/2025-04-06.md": "---\ntags: [broken\n---\n" + memo("**Empty**"),
            unicodedata.normalize("NFD", "daily/2025-04-07 정리.md"): memo("**NFD**\n다"),
            "daily/empty.md": "",
            "daily/binary.md": png(seed=3),
            "image/pod.png": png(),
            unicodedata.normalize("NFD", "image/구성도.png"): png(seed=2),
        },
    )
    (vault / os.fsdecode(b"\xb0\xf8.md")).write_text(memo("**Odd name**\n라"))
    (vault / "daily" / "alias.md").symlink_to("2025-04-01.md")
    (vault / "daily" / "loop.md").symlink_to("loop.md")
    (vault / "decks").mkdir()
    return vault


def test_a_vault_is_never_changed(messy_vault: Path, tmp_path: Path) -> None:
    before = snapshot(messy_vault)
    out = messy_vault / "decks" / "deck.apkg"  # written inside the vault, which is allowed
    runs = [
        [messy_vault, "-o", out],
        [messy_vault, "-o", out, "--cloze", "--jobs", "2"],
        [messy_vault, "-o", tmp_path / "strict.apkg", "--strict"],
        [messy_vault / "daily", "--dry-run", "--json"],
        ["check", messy_vault],
    ]
    statuses = [CliRunner().invoke(main, [str(a) for a in args]).exit_code for args in runs]
    assert statuses == [0, 0, 1, 0, 1]
    after = snapshot(messy_vault)
    ledger = {".memo2anki", ".memo2anki/ledger.json", ".memo2anki/fields.json"}
    assert set(after) - set(before) == {"decks/deck.apkg", *ledger}
    del after["decks/deck.apkg"]
    changed = {
        path: (before[path], after.get(path))
        for path in before
        if before[path] != after.get(path) and path != "decks"  # its mtime: the new deck
    }
    assert changed == {}


def test_a_read_only_vault_builds(messy_vault: Path, tmp_path: Path) -> None:
    """On read-only storage (here: every permission to write taken away, which a child
    process without root's override respects) the deck is built all the same."""
    paths = [Path(dirpath) for dirpath, _, _ in os.walk(messy_vault)]
    files = [p for p in messy_vault.rglob("*") if p.is_file() and not p.is_symlink()]
    for path in files:
        path.chmod(0o444)
    for path in paths:
        path.chmod(0o555)
    try:
        proc = run_cli(messy_vault, "-o", tmp_path / "deck.apkg", honour_permissions=True)
    finally:
        for path in paths:
            path.chmod(0o755)
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr.splitlines()[-2:] == [
        ".memo2anki/ledger.json: cannot write the ledger (Permission denied); the deck was "
        "written, but the next run cannot tell what changed since this one",
        "memo2anki: 7 cards (CKA 6, 네트워크 1) from 10 notes (8 with memos), 1 image, "
        f"8 warnings; 7 new; wrote {tmp_path / 'deck.apkg'}",
    ]
