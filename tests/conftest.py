from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from helpers import Anki


@pytest.fixture
def anki(tmp_path: Path) -> Iterator[Anki]:
    """A fresh Anki collection."""
    collection = Anki(tmp_path / "anki")
    yield collection
    collection.close()


@pytest.fixture
def open_anki(tmp_path: Path) -> Iterator[object]:
    """Open further fresh collections by name (closed at the end)."""
    opened: list[Anki] = []

    def make(name: str) -> Anki:
        collection = Anki(tmp_path / name)
        opened.append(collection)
        return collection

    yield make
    for collection in opened:
        collection.close()


@pytest.fixture(autouse=True)
def _private_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Each test starts with an empty note cache of its own."""
    monkeypatch.setenv("MEMO2ANKI_CACHE_DIR", str(tmp_path / "memo2anki-cache"))
