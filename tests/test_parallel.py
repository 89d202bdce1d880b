"""Worker processes change nothing: the same deck as one process, note for note."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from helpers import Anki, make_vault

from memo2anki.cards.convert import _workers, convert
from memo2anki.cli.main import main


def test_parallel_result_equals_single_process(tmp_path: Path) -> None:
    make_vault(tmp_path / "v", 120, seed=5)
    single = convert([tmp_path / "v"], jobs=1)
    parallel = convert([tmp_path / "v"], jobs=2)
    assert parallel == single
    assert len(single.cards) > 300


def test_parallel_deck_equals_single_process_deck_in_anki(
    tmp_path: Path, open_anki: Callable[[str], Anki]
) -> None:
    make_vault(tmp_path / "v", 60, seed=6)
    decks = {}
    for jobs in ("1", "2"):
        out = tmp_path / f"j{jobs}.apkg"
        result = CliRunner().invoke(main, [str(tmp_path / "v"), "-o", str(out), "-q", "-j", jobs])
        assert result.exit_code == 0, result.output
        anki = open_anki(f"anki{jobs}")
        anki.import_package(out)
        decks[jobs] = (
            [(n.guid, n.fields, n.tags, n.deck, n.mod) for n in anki.notes()],
            sorted(anki.media_files()),
        )
    assert decks["1"] == decks["2"]
    assert len(decks["1"][0]) > 100 and len(decks["1"][1]) > 10


def test_progress_is_reported_per_note(tmp_path: Path) -> None:
    make_vault(tmp_path / "v", 30, seed=1)
    seen: list[tuple[int, int]] = []
    convert([tmp_path / "v"], progress=lambda done, total: seen.append((done, total)))
    assert seen == [(i, 30) for i in range(1, 31)]


def test_progress_bar_hidden_when_quiet_or_not_a_terminal(tmp_path: Path) -> None:
    make_vault(tmp_path / "v", 210, seed=2)
    out = tmp_path / "o.apkg"
    result = CliRunner().invoke(main, [str(tmp_path / "v"), "-o", str(out), "-j", "1"])
    assert result.exit_code == 0
    # CliRunner's stderr is not a terminal, so no bar (nor its label) clutters a log.
    assert "reading notes" not in result.stderr and "%" not in result.stderr
    quiet = CliRunner().invoke(main, [str(tmp_path / "v"), "-o", str(out), "-q", "-j", "1"])
    assert quiet.output == ""


@pytest.mark.parametrize(("platform", "least"), [("linux", 50), ("darwin", 300), ("win32", 300)])
def test_workers_are_used_where_they_pay(
    monkeypatch: pytest.MonkeyPatch, platform: str, least: int
) -> None:
    # Measured on two cores: forked workers (Linux) gain from 50 notes, spawned ones (macOS,
    # Windows: they import everything again) from 300. --jobs N is taken as given, never more
    # than the notes.
    monkeypatch.setattr(os, "cpu_count", lambda: 2)
    monkeypatch.setattr(sys, "platform", platform)
    assert [_workers(0, n) for n in (1, least - 1, least, 10 * least)] == [1, 1, 2, 2]
    assert [_workers(3, n) for n in (1, 2, 100)] == [1, 2, 3]


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="fork is Linux's method")
@pytest.mark.parametrize("default", ["fork", "spawn", "forkserver"])
def test_workers_start_the_same_way_whatever_pythons_default(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, default: str
) -> None:
    # Python 3.14 makes forkserver Linux's default; the threshold above is measured for fork.
    import concurrent.futures
    import multiprocessing

    started: list[str] = []
    real = concurrent.futures.ProcessPoolExecutor

    def pool(*args: Any, **kwargs: Any) -> concurrent.futures.ProcessPoolExecutor:
        started.append(kwargs["mp_context"].get_start_method())
        return real(*args, **kwargs)

    make_vault(tmp_path / "v", 60, seed=7)
    single = convert([tmp_path / "v"], jobs=1)
    monkeypatch.setattr(concurrent.futures, "ProcessPoolExecutor", pool)
    before = multiprocessing.get_start_method(allow_none=True)
    multiprocessing.set_start_method(default, force=True)
    try:
        assert _workers(0, 60) == min(os.cpu_count() or 1, 8)
        assert convert([tmp_path / "v"], jobs=2) == single
    finally:
        multiprocessing.set_start_method(before, force=True)
    assert started == ["fork"]


@pytest.mark.parametrize(
    ("jobs", "notes", "workers"),
    [(4, 1000, 4), (10**9, 5000, 61), (10**30, 100, 61), (10**9, 3, 3), (5, 0, 1)],
)
def test_a_huge_jobs_count_starts_a_bounded_number_of_workers(
    jobs: int, notes: int, workers: int
) -> None:
    assert _workers(jobs, notes) == workers
