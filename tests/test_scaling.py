"""What keeps a big vault quick and small, shown without timing anything: each picture read
and hashed once, pictures streamed into the package, a progress bar for long runs."""

from __future__ import annotations

import hashlib
import os
import pty
import subprocess
import sys
import tracemalloc
from pathlib import Path
from typing import Any

import pytest
from helpers import make_vault, memo, png, write_vault

from memo2anki import Layout, Ledger, Scope, plan_changes, write_plan
from memo2anki.cards.convert import convert
from memo2anki.model import Media


def test_each_picture_is_hashed_once_however_often_it_is_shown(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    syntaxes = [
        "![[pod.png]]",
        "![[pod.png|300]]",
        "![x](image/pod.png)",
        "![x](/img/user/image/pod.png)",
        "![x](<image/pod.png>)",
    ]
    notes = {
        f"daily/{year}/{year}-04-{day:02}.md": memo(f"**Card {day}**\n가\n{syntaxes[day % 5]}")
        for year in (2024, 2025)
        for day in range(1, 21)
    }
    vault = write_vault(tmp_path / "v", {**notes, "image/pod.png": png()})
    opened: list[str] = []
    real_open, real_os_open = Path.open, os.open

    def counting_open(self: Path, *args: Any, **kwargs: Any) -> Any:
        opened.append(self.name)
        return real_open(self, *args, **kwargs)

    def counting_os_open(path: Any, *args: Any, **kwargs: Any) -> Any:
        opened.append(os.path.basename(path))
        return real_os_open(path, *args, **kwargs)

    monkeypatch.setattr(Path, "open", counting_open)
    monkeypatch.setattr(os, "open", counting_os_open)  # (a picture is opened never to wait)
    result = convert([vault])
    assert len(result.cards) == 40 and len(result.media) == 1
    assert result.media[0].sha256 == hashlib.sha256(png()).hexdigest()
    assert opened.count("pod.png") == 1


def test_pictures_are_streamed_into_the_package_not_held_in_memory(tmp_path: Path) -> None:
    # Three 16 MiB files: writing them must not hold even one of them in memory at once.
    big = 16 * 1024 * 1024
    media = []
    for i in range(3):
        path = tmp_path / f"scan-{i}.png"
        with path.open("wb") as f:
            f.write(png(seed=i))
            f.write(os.urandom(1024) * (big // 1024))  # incompressible enough
        media.append(Media(path=path, name=f"m2a-{i:020}.png", sha256=""))
    vault = write_vault(tmp_path / "v", {"a.md": memo("**A**\n가")})
    cards = convert([vault]).cards
    plan = plan_changes(cards, Ledger(), Scope(), 1, Layout("Deck", "v"))
    tracemalloc.start()
    try:
        write_plan(plan, media, tmp_path / "o.apkg")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert (tmp_path / "o.apkg").stat().st_size > 3 * big
    assert peak < big // 4


def test_progress_bar_shows_on_a_terminal(tmp_path: Path) -> None:
    make_vault(tmp_path / "v", 210, seed=2)
    controller, terminal = pty.openpty()
    try:
        done = subprocess.run(
            [sys.executable, "-m", "memo2anki", tmp_path / "v", "-o", tmp_path / "o.apkg"],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=terminal,
            env={**os.environ, "MEMO2ANKI_CACHE_DIR": str(tmp_path / "cache")},
            timeout=120,
            check=True,
        )
        os.close(terminal)
        terminal = -1
        shown = b""
        while chunk := _read(controller):
            shown += chunk
    finally:
        os.close(controller)
        if terminal >= 0:
            os.close(terminal)
    text = shown.decode("utf-8", "replace")
    assert "reading notes" in text and "100%" in text
    assert "wrote" in text and done.stdout == b""


def _read(fd: int) -> bytes:
    try:
        return os.read(fd, 65536)
    except OSError:  # EIO: the terminal's other end is closed and all was read
        return b""
