"""``memo2anki exam`` through the real AnkiConnect add-on in the real Anki desktop (headless):
the search it opens Anki's browser on is one real Anki understands, and it finds exactly the
cards of the memos in the range. tests/test_exam.py checks the same against the stand-in, and
the collection way with Anki's library. Skipped unless MEMO2ANKI_ANKICONNECT_ADDON names the
add-on's folder (see anki_desktop.py)."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from anki.collection import Collection
from anki_desktop import AnkiDesktop, addon_or_skip
from helpers import write_vault

ADDON = addon_or_skip()  # else: one line saying how to run these
PROFILE = "사용자 1"
RANGE = ("--since", "2025-04-02", "--until", "2025-04-03")
OLD = "# 공부 메모장\n## CKA\n**CNI**\n예전에 배운 것\n"
RECENT = (
    "# 공부 메모장\n## CKA\n**etcd**\n키값 저장소\n\n**Service_타입 (NodePort)**\n노드 포트\n"
    "## AWS SAA\n**VPC**\n서브넷\n"
)
IN_RANGE = {"etcd", "Service_타입 (NodePort)", "VPC"}


def memo2anki(desktop: AnkiDesktop, *args: str | Path) -> subprocess.CompletedProcess[str]:
    """The command as a person types it, in a process of its own, into the test's Anki."""
    env = {**os.environ, "ANKI_BASE": str(desktop.base), "PYTHONIOENCODING": "utf-8"}
    return subprocess.run(
        [sys.executable, "-m", "memo2anki", *map(str, args)],
        capture_output=True,
        text=True,
        encoding="utf-8",
        env=env,
        timeout=120,
    )


@pytest.fixture(scope="module")
def desktop(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AnkiDesktop]:
    with AnkiDesktop(tmp_path_factory.mktemp("anki-desktop") / "Anki2", PROFILE, ADDON) as anki:
        yield anki


def test_the_ankiconnect_way_opens_the_browser_on_the_ranges_cards(
    desktop: AnkiDesktop, tmp_path: Path
) -> None:
    vault = write_vault(
        tmp_path / "vault",
        {"daily/2025-03-20.md": OLD, "daily/2025-04-02 (월).md": RECENT},
    )
    url = ("--ankiconnect-url", desktop.url, "--via", "ankiconnect")
    synced = memo2anki(desktop, "sync", vault, "--no-cache", *url)
    assert synced.returncode == 0, synced.stderr

    done = memo2anki(desktop, "exam", vault, "--no-cache", *RANGE, *url)
    assert done.returncode == 0, done.stderr
    assert "Anki's browser shows the deck's search: 3 cards (CKA 2, AWS SAA 1)" in done.stderr
    assert "Edit > Create Filtered Deck..." in done.stderr

    # The search exam printed, asked of the real Anki: exactly the range's cards.
    search = memo2anki(desktop, "exam", vault, "--no-cache", *RANGE, "--print-search")
    assert search.returncode == 0, search.stderr
    shown = desktop.call("guiBrowse", query=search.stdout.strip())
    assert len(shown) == 3
    with desktop.stopped() as collection:
        col = Collection(str(collection))
        try:
            fronts = {col.get_note(col.get_card(card).nid)["Front"] for card in shown}
            # AnkiConnect cannot make a filtered deck: none was made.
            assert not any(deck["dyn"] for deck in col.decks.all())
        finally:
            col.close()
    assert fronts == IN_RANGE
