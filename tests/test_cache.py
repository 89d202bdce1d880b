"""The note cache: a re-export reads only what changed, and never gives a stale card."""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import pickle
import shutil
import sqlite3
import subprocess
import sys
import unicodedata
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from helpers import memo, png, run, write_vault

from memo2anki.cards import make as make_cards
from memo2anki.cards.cache import NoteCache, seal, unsealed
from memo2anki.cards.convert import convert
from memo2anki.cards.make import NoteConverter
from memo2anki.cli.main import main
from memo2anki.model import Card, Media, Options, Result


@pytest.fixture
def reads(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The notes actually read and rendered (not taken from the cache)."""
    seen: list[str] = []
    original = NoteConverter.convert

    def spy(self: NoteConverter, path: Path) -> object:
        seen.append(path.name)
        return original(self, path)

    monkeypatch.setattr(NoteConverter, "convert", spy)
    return seen


def _run(vault: Path, tmp_path: Path) -> Result:
    return convert([vault], cache=NoteCache(tmp_path / "cache", "options"))


def _touch(path: Path, content: str | bytes) -> None:
    if isinstance(content, str):
        path.write_text(content, encoding="utf-8")
    else:
        path.write_bytes(content)
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 5_000_000_000))


@pytest.fixture
def vault(tmp_path: Path) -> Path:
    return write_vault(
        tmp_path / "v",
        {
            "a.md": memo("**A**\n가\n![[pic.png]]"),
            "b.md": memo("**B**\n나\n![[later.png]]"),
            "image/pic.png": png(seed=1),
        },
    )


def test_unchanged_vault_reads_nothing_and_gives_the_same_result(
    vault: Path, tmp_path: Path, reads: list[str]
) -> None:
    cold = _run(vault, tmp_path)
    assert sorted(reads) == ["a.md", "b.md"]
    reads.clear()
    warm = _run(vault, tmp_path)
    assert reads == []
    assert warm == cold


def test_an_edited_note_is_read_again(vault: Path, tmp_path: Path, reads: list[str]) -> None:
    _run(vault, tmp_path)
    reads.clear()
    _touch(vault / "a.md", memo("**A**\n고친 내용\n![[pic.png]]"))
    result = _run(vault, tmp_path)
    assert reads == ["a.md"]
    assert "고친 내용" in result.cards[0].back_html


def test_a_changed_image_renames_its_media(vault: Path, tmp_path: Path) -> None:
    before = _run(vault, tmp_path).cards[0].media[0].name
    _touch(vault / "image/pic.png", png(seed=2))
    after = _run(vault, tmp_path).cards[0]
    assert after.media[0].name != before
    assert f'src="{after.media[0].name}"' in after.back_html


def test_an_image_added_later_is_found(vault: Path, tmp_path: Path) -> None:
    first = _run(vault, tmp_path)
    assert [d.message for d in first.diagnostics] == ["image not found: later.png"]
    (vault / "image/later.png").write_bytes(png(seed=3))
    second = _run(vault, tmp_path)
    assert second.diagnostics == ()
    assert len(second.media) == 2


def test_a_nearer_file_of_the_same_name_wins_as_in_obsidian(vault: Path, tmp_path: Path) -> None:
    far = _run(vault, tmp_path).cards[0].media[0]
    (vault / "pic.png").write_bytes(png(seed=4))  # next to the note now
    near = _run(vault, tmp_path).cards[0].media[0]
    assert near.path == (vault / "pic.png").resolve() and near.name != far.name


def test_other_options_do_not_share_entries(vault: Path, tmp_path: Path) -> None:
    convert([vault], cache=NoteCache(tmp_path / "cache", "one"))
    other = convert([vault], Options(subjects=("AWS",)), cache=NoteCache(tmp_path / "cache", "two"))
    assert other.cards == ()


def test_a_broken_cache_is_not_used_and_does_not_fail(vault: Path, tmp_path: Path) -> None:
    (tmp_path / "cache").mkdir()
    (tmp_path / "cache/notes.sqlite").write_bytes(b"this is not a database" * 100)
    assert len(_run(vault, tmp_path).cards) == 2
    (tmp_path / "cache/notes.sqlite").unlink()
    (tmp_path / "cache").chmod(0o500)
    try:
        assert len(_run(vault, tmp_path).cards) == 2
    finally:
        (tmp_path / "cache").chmod(0o700)


def test_cli_uses_the_cache_unless_told_not_to(
    vault: Path, tmp_path: Path, reads: list[str]
) -> None:
    out = str(tmp_path / "o.apkg")
    for _ in range(2):
        assert CliRunner().invoke(main, [str(vault), "-o", out, "-q", "-j", "1"]).exit_code == 0
    assert sorted(reads) == ["a.md", "b.md"]
    assert CliRunner().invoke(main, [str(vault), "-o", out, "--no-cache", "-j", "1"]).exit_code == 0
    assert sorted(reads) == ["a.md", "a.md", "b.md", "b.md"]


def test_another_vault_root_is_another_card(tmp_path: Path) -> None:
    notes = tmp_path / "notes"
    (notes / "sub").mkdir(parents=True)
    (notes / "sub/2025-01-01.md").write_text(memo("**A**\n가"), encoding="utf-8")
    out = str(tmp_path / "o.apkg")
    for folder, source in ((notes, "sub/2025-01-01.md"), (notes / "sub", "2025-01-01.md")):
        result = CliRunner().invoke(main, [str(folder), "--dry-run", "-j", "1"])
        assert result.stdout.split("\t")[2].startswith(source)
    assert CliRunner().invoke(main, [str(notes), "-o", out, "-q"]).exit_code == 0


def test_the_output_name_does_not_empty_the_cache(
    vault: Path, tmp_path: Path, reads: list[str]
) -> None:
    for name in ("a.apkg", "b.apkg"):
        result = CliRunner().invoke(main, [str(vault), "-o", str(tmp_path / name), "-j", "1"])
        assert result.exit_code == 0
    assert sorted(reads) == ["a.md", "b.md"]


def test_a_re_export_from_the_cache_never_loads_the_parser(vault: Path, tmp_path: Path) -> None:
    # What makes a re-export cheap: nothing that parses or highlights markdown is imported
    # when every note comes from the cache, and the cards are the same.
    script = (
        "import sys\n"
        "from memo2anki.cli.main import main\n"
        f"main([{str(vault)!r}, '--dry-run', '--json', '-j', '1'], standalone_mode=False)\n"
        "loaded = [m for m in ('markdown_it', 'pygments', 'nh3') if m in sys.modules]\n"
        "print('loaded:', *loaded, file=sys.stderr)\n"
    )
    env = {**os.environ, "MEMO2ANKI_CACHE_DIR": str(tmp_path / "cache")}

    def run() -> tuple[str, str]:
        done = subprocess.run(
            [sys.executable, "-c", script], env=env, capture_output=True, text=True, check=True
        )
        return done.stdout, done.stderr.splitlines()[-1]

    cold_cards, cold_loaded = run()
    warm_cards, warm_loaded = run()
    assert cold_loaded == "loaded: markdown_it pygments nh3"
    assert warm_loaded == "loaded:"
    assert warm_cards == cold_cards and '"front": "A"' in warm_cards


def test_cached_cards_share_each_picture(vault: Path, tmp_path: Path) -> None:
    # Thousands of cards showing a few hundred pictures load each picture's record once.
    (vault / "c.md").write_text(memo("**C**\n다\n![[pic.png]]"), encoding="utf-8")
    _run(vault, tmp_path)
    media = [m for c in _run(vault, tmp_path).cards for m in c.media]
    assert [m.path.name for m in media] == ["pic.png", "pic.png"]
    assert media[0] is media[1]


def test_check_from_the_cache_reports_the_same_problems_without_parsing(tmp_path: Path) -> None:
    # The syntax problems `check` reports are found while cards are made and cached with them.
    vault = write_vault(
        tmp_path / "v",
        {
            "a.md": memo(
                "**Query**\n```dataview\nLIST\n```", '**Video**\n강의 <iframe src="x"></iframe>'
            )
        },
    )
    script = (
        "import sys\n"
        "from memo2anki.cli.main import main\n"
        "try:\n"
        f"    main(['check', {str(vault)!r}, '-j', '1'], standalone_mode=False)\n"
        "finally:\n"
        "    print('markdown_it' in sys.modules, file=sys.stderr)\n"
    )
    env = {**os.environ, "MEMO2ANKI_CACHE_DIR": str(tmp_path / "cache")}
    runs = [
        subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True)
        for _ in range(2)
    ]
    cold, warm = (run.stderr.splitlines() for run in runs)
    assert cold[-1] == "True" and warm[-1] == "False", (cold, warm)
    assert cold[:-1] == warm[:-1]
    assert any("Dataview query (```dataview)" in line for line in warm)
    assert any("HTML <iframe> is taken out" in line for line in warm)


def test_a_note_saved_while_it_is_read_is_read_again(
    vault: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Obsidian saves as one types: the note changes just after this run read it.
    original = make_cards.read_note

    def read_then_saved(path: Path, *args: Any) -> Any:
        read = original(path, *args)
        if path.name == "a.md":
            _touch(path, memo("**A**\n저장된 새 내용\n![[pic.png]]"))
        return read

    monkeypatch.setattr(make_cards, "read_note", read_then_saved)
    during = _run(vault, tmp_path)
    monkeypatch.undo()
    assert "저장된 새 내용" not in during.cards[0].back_html  # it was read before the save
    after = _run(vault, tmp_path)
    assert "저장된 새 내용" in after.cards[0].back_html
    assert after == convert([vault])


def _stored(tmp_path: Path) -> list[tuple[str, str, str, bytes]]:
    """The cache's rows: each note's path, stamp, options key and sealed result."""
    with sqlite3.connect(tmp_path / "cache/notes.sqlite") as db:
        return db.execute("SELECT path, stamp, key, result FROM notes").fetchall()


def _restore(tmp_path: Path, path: str, payload: object) -> None:
    """Store ``payload`` as the result of the row of ``path``, sealed as memo2anki seals (a
    bytes payload: other payloads stand as they are)."""
    [(stamp, key)] = [(stamp, key) for p, stamp, key, _ in _stored(tmp_path) if p == path]
    if isinstance(payload, bytes):
        payload = seal(key, path, stamp, payload)
    with sqlite3.connect(tmp_path / "cache/notes.sqlite") as db:
        db.execute("UPDATE notes SET result = ? WHERE path = ?", (payload, path))


def _real_payload(tmp_path: Path, path: str) -> list[Any]:
    """What the row of ``path`` holds, its seal checked."""
    [(stamp, key, blob)] = [row for p, *row in _stored(tmp_path) if p == path]
    payload = unsealed(key, path, stamp, blob)
    assert payload is not None
    row: list[Any] = json.loads(payload)  # plain JSON: nothing in it can run when read
    return row


def _real_row(vault: Path, tmp_path: Path) -> tuple[str, list[Any]]:
    """The path of a.md's row and what it holds."""
    _run(vault, tmp_path)
    [path] = [p for p, *_ in _stored(tmp_path) if p.endswith("a.md")]
    return path, _real_payload(tmp_path, path)


class _Runs:
    def __reduce__(self) -> tuple[Any, ...]:
        return (os.system, ("touch ran-from-the-cache",))


def _changed(path: tuple[int | str, ...], value: Any) -> Callable[[list[Any]], Any]:
    """A real row with the value at ``path`` (indexes and field names into it) replaced."""

    def change(row: list[Any]) -> Any:
        inner: Any = row
        for index in path[:-1]:
            inner = inner[index]
        inner[path[-1]] = value
        return json.dumps(row).encode()

    return change


def _nested(depth: int) -> Callable[[list[Any]], Any]:
    def change(row: list[Any]) -> Any:
        text = json.dumps(row)
        return text.replace('"subject": "CKA"', '"subject": ' + "[" * depth + "]" * depth, 1)

    return change


# A row: [the note's path, its result (an object: cards, diagnostics, ...), its journal].
CARD = (1, "cards", 0)
HOSTILE_ROWS = {
    "not JSON": lambda row: b"not json at all",
    "a pickle that runs code": lambda row: pickle.dumps(_Runs()),
    "nested too deep": lambda row: b"[" * 100_000,
    "a field nested too deep": _nested(100_000),
    "an integer": lambda row: 42,
    "NULL": lambda row: None,
    "another shape": lambda row: b"[1, 2]",
    "half an entry": lambda row: json.dumps(row[:2]).encode(),
    "one more": lambda row: json.dumps([*row, "one more"]).encode(),
    "a number as text": _changed((*CARD, "line"), "3"),
    "a float for a line": _changed((*CARD, "line"), 3.5),
    "a bad date": _changed((*CARD, "date"), "2025-13-45"),
    "no such day": _changed((*CARD, "date"), "2025-02-30"),
    "a string for a list": _changed((*CARD, "tags"), "CKA"),
    "bad media": _changed((*CARD, "media"), [["x", "y"]]),
    "a bool for a line": _changed((1, "diagnostics"), [{"path": "a.md", "line": True}]),
    "an int for a bool": _changed((1, "has_section"), 1),
    "a string for a bool": _changed((2, "lookups"), [["r", "f", {"remote": "yes"}]]),
    "a file of four": _changed((2, "files"), [["/p", 1, 2, 3]]),
    "a NUL in a path": _changed((2, "files"), [["a\x00b", 1, 2]]),
    "null for a card": _changed((1, "cards"), [None]),
}


@pytest.mark.parametrize("hostile", HOSTILE_ROWS.values(), ids=HOSTILE_ROWS.keys())
def test_whatever_a_cache_row_holds_the_deck_is_made(
    vault: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    hostile: Callable[[list[Any]], Any],
) -> None:
    path, row = _real_row(vault, tmp_path)
    _restore(tmp_path, path, hostile(row))  # sealed: the seal holds, what it seals does not
    monkeypatch.chdir(tmp_path)
    assert _run(vault, tmp_path) == convert([vault])  # read again, as if not cached
    assert not (tmp_path / "ran-from-the-cache").exists()
    assert _run(vault, tmp_path) == convert([vault])  # and stored right again


@pytest.mark.skipif(sys.platform != "linux", reason="where Linux keeps caches")
@pytest.mark.parametrize(
    ("environment", "folder"),
    [
        ({}, ".cache/memo2anki"),  # where memo2anki always kept it: a cache there is used
        ({"XDG_CACHE_HOME": "xdg"}, "xdg/memo2anki"),
        ({"XDG_CACHE_HOME": "xdg", "MEMO2ANKI_CACHE_DIR": "mine"}, "mine"),
    ],
)
def test_the_cache_is_in_the_systems_cache_folder_unless_one_is_named(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, environment: dict[str, str], folder: str
) -> None:
    monkeypatch.delenv("MEMO2ANKI_CACHE_DIR")
    monkeypatch.delenv("XDG_CACHE_HOME", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    for name, value in environment.items():
        monkeypatch.setenv(name, str(tmp_path / "home" / value))
    vault = write_vault(tmp_path / "v", {"n.md": memo("**A**\n가")})
    assert run(vault, "-o", tmp_path / "o.apkg").exit_code == 0
    assert (tmp_path / "home" / folder / "notes.sqlite").is_file()


def test_a_result_comes_back_equal_and_of_its_own_types(vault: Path, tmp_path: Path) -> None:
    """What a row gives is memo2anki's own types, equal to what reading the note gives."""
    (vault / "2025-04-04.md").write_text(memo("**D**\n라\n![[pic.png]]"), encoding="utf-8")
    first = _run(vault, tmp_path)
    again = _run(vault, tmp_path)
    assert again == first == convert([vault])
    card = next(c for c in again.cards if c.date is not None)
    assert type(card) is Card and type(card.media[0]) is Media and type(card.date) is dt.date
    assert type(card.tags) is tuple and isinstance(card.media[0].path, Path)


def _plant(tmp_path: Path, change: Callable[[dict[str, list[Any]]], None], resealed: bool) -> None:
    """Rewrite the cache's rows (by note name) as ``change`` says: each consistent in shape,
    every field of its type; sealed again as memo2anki seals if ``resealed``, else under the
    seal each row had (as an edit by hand leaves it)."""
    stored = {Path(path).name: (path, blob[:64]) for path, _, _, blob in _stored(tmp_path)}
    rows = {name: _real_payload(tmp_path, path) for name, (path, _) in stored.items()}
    change(rows)
    for name, (path, old_seal) in stored.items():
        payload = json.dumps(rows[name], ensure_ascii=False).encode()
        _restore(tmp_path, path, payload if resealed else old_seal + payload)


def _guids_planted(rows: dict[str, list[Any]]) -> None:
    a, b = rows["a.md"][1]["cards"][0], rows["b.md"][1]["cards"][0]
    a["guid"], b["guid"] = "B-guid", "A-guid"  # (a card has none: its GUID is the plan's)


def _key_changed(rows: dict[str, list[Any]]) -> None:
    rows["a.md"][1]["cards"][0].update(key="0" * 20, digest="1" * 20)


def _another_notes_row(rows: dict[str, list[Any]]) -> None:
    rows["a.md"] = rows["b.md"]


def _another_notes_cards(rows: dict[str, list[Any]]) -> None:
    rows["a.md"] = [rows["a.md"][0], *rows["b.md"][1:]]


# Each planted as a hand would (the row's seal kept), and those no seal needs to stop sealed
# again: a card's GUID is never taken from a row, and a row names the note it is for.
PLANTED = {
    "GUIDs planted": (_guids_planted, False),
    "GUIDs planted, sealed again": (_guids_planted, True),
    "a key and digest changed": (_key_changed, False),
    "another note's row": (_another_notes_row, False),
    "another note's row, sealed again": (_another_notes_row, True),
}


@pytest.mark.parametrize(("plant", "resealed"), PLANTED.values(), ids=PLANTED.keys())
def test_a_planted_row_consistent_in_shape_gives_the_cards_of_a_run_without_cache(
    plant: Callable[[dict[str, list[Any]]], None], resealed: bool, tmp_path: Path
) -> None:
    """The cache is trusted for a note's cards only, and only under its seal: the plan
    against the ledger (so the GUIDs) and the cards are those of a run with --no-cache."""
    vault = write_vault(
        tmp_path / "v",
        {"a.md": memo("**A**\n가"), "b.md": memo("**B**\n나", "**C**\n다")},
    )
    cache = tmp_path / "cache"
    runner = CliRunner(env={"MEMO2ANKI_CACHE_DIR": str(cache)})
    out = tmp_path / "deck.apkg"
    assert runner.invoke(main, [str(vault), "-o", str(out)]).exit_code == 0
    _plant(tmp_path, plant, resealed)
    for ledger in ("against the ledger", "a first run"):
        if ledger == "a first run":  # (the GUIDs are then the cards' own)
            shutil.rmtree(vault / ".memo2anki")
        cached = runner.invoke(main, [str(vault), "--dry-run", "--json"])
        uncached = runner.invoke(main, [str(vault), "--dry-run", "--json", "--no-cache"])
        assert cached.exit_code == uncached.exit_code == 0
        assert json.loads(cached.stdout) == json.loads(uncached.stdout)
    assert convert([vault], cache=NoteCache(cache, "options")) == convert([vault])


def test_a_row_under_another_stamp_or_other_options_is_not_used(
    vault: Path, tmp_path: Path
) -> None:
    """A row's seal covers what it is stored under: a row moved to the note's new stamp (the
    note since edited) or copied to another set of options is not used."""
    _run(vault, tmp_path)
    note = vault / "a.md"
    _touch(note, memo("**A**\n고친 내용"))
    stamp = f"{note.stat().st_size}:{note.stat().st_mtime_ns}"
    with sqlite3.connect(tmp_path / "cache/notes.sqlite") as db:
        db.execute("UPDATE notes SET stamp = ? WHERE path LIKE '%a.md'", (stamp,))
    assert _run(vault, tmp_path) == convert([vault])
    other = Options(subjects=("AWS",))
    with sqlite3.connect(tmp_path / "cache/notes.sqlite") as db:
        db.execute("UPDATE notes SET key = ?", (NoteCache(tmp_path / "cache", "AWS").key,))
    assert convert([vault], other, cache=NoteCache(tmp_path / "cache", "AWS")).cards == ()


def _fifo_at(name: str) -> Callable[[Path], None]:
    def make(cache: Path) -> None:
        cache.mkdir(parents=True, exist_ok=True)
        os.mkfifo(cache / name)

    return make


def _link_to_fifo(cache: Path) -> None:
    cache.mkdir(parents=True)
    os.mkfifo(cache / "pipe")
    (cache / "notes.sqlite").symlink_to(cache / "pipe")


def _cache_a_fifo(cache: Path) -> None:
    os.mkfifo(cache)


def _database_a_folder(cache: Path) -> None:
    (cache / "notes.sqlite").mkdir(parents=True)


CACHE_NOT_WHERE_IT_SEEMS = {
    "the database a FIFO": _fifo_at("notes.sqlite"),
    "its journal a FIFO": _fifo_at("notes.sqlite-journal"),
    "its write-ahead log a FIFO": _fifo_at("notes.sqlite-wal"),
    "the database a link to a FIFO": _link_to_fifo,
    "the cache folder a FIFO": _cache_a_fifo,
    "the database a folder": _database_a_folder,
}


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs here")
@pytest.mark.parametrize(
    "make", CACHE_NOT_WHERE_IT_SEEMS.values(), ids=CACHE_NOT_WHERE_IT_SEEMS.keys()
)
def test_a_cache_file_that_is_not_a_regular_file_is_not_used_and_never_waited_on(
    make: Callable[[Path], None], vault: Path, tmp_path: Path
) -> None:
    cache = tmp_path / "odd-cache"
    make(cache)
    env = {**os.environ, "MEMO2ANKI_CACHE_DIR": str(cache)}
    for out in (tmp_path / "a.apkg", tmp_path / "b.apkg"):
        done = subprocess.run(
            [sys.executable, "-m", "memo2anki", str(vault), "-o", str(out)],
            capture_output=True,
            text=True,
            env=env,
            timeout=120,  # (a run that waits on the FIFO fails here, not hangs the suite)
            check=False,
        )
        assert done.returncode == 0 and out.is_file(), done.stderr
        assert "unexpected" not in done.stderr
    assert not (cache.is_dir() and (cache / "notes.sqlite").is_file())


# -- what a note's cards depend on beyond its own file ----------------------------------------


def _as_without_cache(vault: Path, tmp_path: Path) -> Result:
    """The run from the cache, checked equal to a run without it."""
    cached = _run(vault, tmp_path)
    assert cached == convert([vault])
    return cached


def test_an_embedded_note_that_could_not_be_read_is_read_once_mended(tmp_path: Path) -> None:
    vault = write_vault(
        tmp_path / "v",
        {"a.md": memo("**A**\n가\n![[부록]]"), "부록.md": b"# \xeb\xb6\x80\x00\x01 binary"},
    )
    first = _as_without_cache(vault, tmp_path)
    assert any("embedded note not shown" in d.message for d in first.diagnostics)
    _touch(vault / "부록.md", "부록 내용: 정상 노트\n")
    (card,) = _as_without_cache(vault, tmp_path).cards
    assert "부록 내용: 정상 노트" in card.back_html


def test_a_garden_page_published_later_is_embedded_as_its_note(tmp_path: Path) -> None:
    # Which note a page is decides how an embed of it is read back: a note added (or a
    # permalink changed) elsewhere changes the card of the note that embeds it.
    def published(permalink: str, body: str) -> str:
        return f'---\n{{"dg-publish":true,"permalink":"{permalink}"}}\n---\n{body}'

    embed = (
        '\n<div class="transclusion internal-embed is-loaded"><a class="markdown-embed-link" '
        'href="/appendix/" aria-label="Open link"><svg></svg></a><div class="markdown-embed">'
        "\n\n\n\n부록 내용\n\n</div></div>\n"
    )
    root = tmp_path / "garden"
    notes = root / "src/site/notes"
    write_vault(root, {"plugin-info.json": "{}"})
    (notes / "daily").mkdir(parents=True)
    day = published("/daily/2025-04-05/", memo(f"**임베드 카드**\n본문 한 줄\n{embed}"))
    (notes / "daily/2025-04-05.md").write_text(day, encoding="utf-8")
    (root / "src/site/img/user").mkdir(parents=True)
    before = _as_without_cache(root, tmp_path).cards[0].back_html
    (notes / "부록.md").write_text(published("/appendix/", "부록 내용\n"), encoding="utf-8")
    after = _as_without_cache(root, tmp_path).cards[0].back_html
    assert after != before and "m2a-embed" in after


def _keeping_its_times(path: Path, content: bytes) -> None:
    """Write ``content`` over the file and put its times back (as ``cp -p``, ``rsync -a`` or a
    restore from a backup do)."""
    stat = path.stat()
    path.write_bytes(content)
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    assert path.stat().st_mtime_ns == stat.st_mtime_ns and path.stat().st_size == stat.st_size


def test_a_picture_rewritten_with_its_size_and_time_put_back_is_seen(
    vault: Path, tmp_path: Path
) -> None:
    before = _as_without_cache(vault, tmp_path).cards[0].media[0].name
    picture = vault / "image/pic.png"
    data = bytearray(picture.read_bytes())
    data[-20] ^= 0xFF  # (one byte of its data: the same size)
    _keeping_its_times(picture, bytes(data))
    after = _as_without_cache(vault, tmp_path).cards[0].media[0]
    assert after.name != before


def test_two_notes_swapped_by_renaming_are_seen(tmp_path: Path) -> None:
    vault = write_vault(
        tmp_path / "v", {"a.md": memo("**카드 A**\n가나"), "b.md": memo("**카드 B**\n다라")}
    )
    os.utime(vault / "b.md", ns=(0, (vault / "a.md").stat().st_mtime_ns))
    first = _as_without_cache(vault, tmp_path)
    assert [(c.note, c.front) for c in first.cards] == [("a.md", "카드 A"), ("b.md", "카드 B")]
    (vault / "a.md").rename(vault / "tmp.md")
    (vault / "b.md").rename(vault / "a.md")
    (vault / "tmp.md").rename(vault / "b.md")
    swapped = _as_without_cache(vault, tmp_path)
    assert [(c.note, c.front) for c in swapped.cards] == [("a.md", "카드 B"), ("b.md", "카드 A")]


def test_a_picture_with_folders_is_looked_up_again_as_its_folders_change(tmp_path: Path) -> None:
    # `![[b/arch.png]]` is only a file whose path ends with `b/arch.png`: another `arch.png` is
    # never it, and one put in a `b` folder later is.
    vault = write_vault(
        tmp_path / "v",
        {
            "daily/2025-05-06.md": memo("**A**\n가\n![[b/arch.png]]", "**B**\n나\n![](b/arch.png)"),
            "image/a/arch.png": png(seed=1),
        },
    )
    first = _as_without_cache(vault, tmp_path)
    assert [d.message for d in first.diagnostics] == ["image not found: b/arch.png"] * 2
    assert all(card.media == () for card in first.cards)
    write_vault(vault, {"image/b/arch.png": png(seed=2)})
    second = _as_without_cache(vault, tmp_path)
    assert second.diagnostics == ()
    assert {m.path for card in second.cards for m in card.media} == {
        (vault / "image/b/arch.png").resolve()
    }
    (vault / "image/b/arch.png").rename(vault / "image/a/b.png")
    third = _as_without_cache(vault, tmp_path)
    assert third.cards == first.cards and third.diagnostics == first.diagnostics


@pytest.mark.parametrize("part", [["--subject", "CKA"], ["DAILY"]])
def test_a_run_over_part_of_the_vault_that_retires_a_card_keeps_its_cache(
    tmp_path: Path, reads: list[str], part: list[str]
) -> None:
    """Such a run reads the rest of the vault to tell a card retired from one moved out of
    its reach; the next run over that part still reads nothing (its cache rows are kept)."""
    vault = write_vault(
        tmp_path / "v",
        {
            "daily/a.md": memo("**A**\n가") + "## AWS\n**Z**\n하\n",
            "daily/b.md": memo("**B**\n나", "**C**\n다"),
            "archive/c.md": memo("**D**\n라"),
        },
    )
    paths = [str(vault / "daily")] if part == ["DAILY"] else [str(vault), *part]
    out = str(tmp_path / "o.apkg")

    def run() -> str:
        result = CliRunner().invoke(main, [*paths, "-o", out, "-j", "1", "--changes"])
        assert result.exit_code == 0, result.output
        return result.output

    CliRunner().invoke(main, [str(vault), "-o", out, "-q", "-j", "1"])
    run()
    _touch(vault / "daily/b.md", memo("**B**\n나"))
    assert "gone 'C'" in run()
    reads.clear()
    assert "gone" not in run()
    assert reads == []


def _folder_given_by_a_link(vault: Path) -> Path:
    (vault / "store" / "2024").mkdir(parents=True)
    (vault / "store" / "2024" / "n.md").write_text(memo("**A**\n가"), encoding="utf-8")
    (vault / "daily").symlink_to("store/2024", target_is_directory=True)
    return vault / "daily"


def _note_a_link(vault: Path) -> Path:
    (vault / "store" / "2024").mkdir(parents=True)
    (vault / "store" / "2024" / "n.md").write_text(memo("**A**\n가"), encoding="utf-8")
    (vault / "n.md").symlink_to("store/2024/n.md")
    return vault / "n.md"


@pytest.mark.parametrize("given", [_folder_given_by_a_link, _note_a_link])
def test_a_note_moved_with_its_folder_behind_a_link_is_read_again(
    tmp_path: Path, given: Callable[[Path], Path]
) -> None:
    """A note reached through a link (a folder given as one, a note that is one) whose folder
    was renamed and the link made anew: its path and its times are as they were (renaming a
    folder changes no time of the files in it), and its cards name it where it now is, as a
    run without the cache does (they named the folder's old name)."""
    vault = write_vault(tmp_path / "v", {})
    path = given(vault)
    args = [str(path), "--vault", str(vault), "--dry-run", "--json"]
    runner = CliRunner(env={"MEMO2ANKI_CACHE_DIR": str(tmp_path / "cache")})
    first = json.loads(runner.invoke(main, args).stdout)
    assert [card["note"] for card in first["cards"]] == ["store/2024/n.md"]
    (vault / "store" / "2024").rename(vault / "store" / "2025")
    link = vault / path.name
    link.unlink()
    link.symlink_to(f"store/2025{'' if path.name == 'daily' else '/n.md'}")
    cached = json.loads(runner.invoke(main, args).stdout)
    assert cached == json.loads(runner.invoke(main, [*args, "--no-cache"]).stdout)
    assert [card["note"] for card in cached["cards"]] == ["store/2025/n.md"]


# -- a run from the cache is the run without it, whatever changed since ----------------------


def _same_times(path: Path, text: str) -> None:
    """Rewrite a file with text of its size and put its times back (a save within the same
    second, ``cp -p``, a restore from a backup)."""
    data = text.encode()
    assert len(data) == path.stat().st_size
    _keeping_its_times(path, data)


def _earlier(path: Path, text: str) -> None:
    """Rewrite a file and set its modification time earlier than it was (a clock set back)."""
    stat = path.stat()
    path.write_text(text, encoding="utf-8")
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns - 100 * 10**9))


def _relinked(link: Path, target: str) -> None:
    link.unlink()
    link.symlink_to(target)


def _nfd(name: str) -> str:
    return unicodedata.normalize("NFD", name)


def _settings(text: str) -> Callable[[Path], None]:
    return lambda vault: (vault / ".memo2anki.toml").write_text(text, encoding="utf-8")


_DAY = "daily/2025-04-04.md"
_CHANGES: dict[str, Callable[[Path], object]] = {
    "a picture nearer the note": lambda v: (v / "daily/pic.png").write_bytes(png(seed=9)),
    "a picture deleted": lambda v: (v / "image/pic.png").unlink(),
    "a picture folder renamed": lambda v: (v / "image/sub").rename(v / "image/other"),
    "an embedded note edited": lambda v: (v / "부록.md").write_text("부록 둘\n", encoding="utf-8"),
    "an embedded note saved in the same second": lambda v: _same_times(
        v / "부록.md", "부록 셋이\n"
    ),
    "an embedded note deleted": lambda v: (v / "부록.md").unlink(),
    "an embedded note renamed": lambda v: (v / "부록.md").rename(v / "부록2.md"),
    "an embedded note nearer": lambda v: (v / "daily/부록.md").write_text("가까이\n", "utf-8"),
    "an embedded link retargeted": lambda v: _relinked(v / "별첨.md", "y/e.md"),
    "a note saved in the same second": lambda v: _same_times(v / _DAY, _A.replace("가나", "가하")),
    "a note saved with an earlier time": lambda v: _earlier(v / _DAY, _A.replace("가나", "마바")),
    "a note renamed in case": lambda v: (v / _DAY).rename(v / "daily/2025-04-04.MD"),
    "a note renamed to NFD": lambda v: (v / "daily/2025-04-05.md").rename(
        v / _nfd("daily/복습.md")
    ),
    "its tags only": lambda v: (v / _DAY).write_text("---\ntags: [k8s]\n---\n" + _A, "utf-8"),
    "sections in the settings": _settings('sections = ["복습"]\n'),
    "subjects in the settings": _settings('subjects = ["aws"]\n'),
    "the deck in the settings": _settings('deck = "다른 덱"\n'),
    "since in the settings": _settings("since = 2025-04-05\n"),
    "the vault's root moved up": lambda v: (v / ".obsidian").rename(v.parent / ".obsidian"),
}
_A = memo("**A**\n가나\n![[pic.png]]\n![[sub/arch.png]]\n![[부록]]\n![[별첨]]")


@pytest.mark.parametrize("change", list(_CHANGES), ids=list(_CHANGES))
@pytest.mark.parametrize("command", [["--dry-run", "--json"], ["check"]], ids=["build", "check"])
def test_a_run_from_the_cache_is_the_run_without_it(
    tmp_path: Path, change: str, command: list[str]
) -> None:
    """Whatever changed since the cache was filled, a run through it says and makes what a
    run without it does: cards, fields, pictures, warnings and the summary line."""
    vault = write_vault(
        tmp_path / "v",
        {
            _DAY: _A,
            "daily/2025-04-05.md": memo("**B**\n나") + "# 복습\n**R**\n복습 본문\n",
            "부록.md": "부록 하나\n",
            "x/e.md": "별첨 ![[pic.png]]\n",
            "image/pic.png": png(seed=1),
            "image/sub/arch.png": png(seed=2),
        },
    )
    (vault / "y").mkdir()
    os.link(vault / "x/e.md", vault / "y/e.md")  # (the same file: only its folder differs)
    (vault / "y/pic.png").write_bytes(png(seed=3))
    (vault / "별첨.md").symlink_to("x/e.md")

    def run_with(cache: Path, *extra: str) -> tuple[int, str, str]:
        args = ["check", str(vault)] if command == ["check"] else [str(vault), *command]
        result = CliRunner(env={"MEMO2ANKI_CACHE_DIR": str(cache)}).invoke(main, [*args, *extra])
        return result.exit_code, result.stdout, result.stderr

    before = run_with(tmp_path / "cache")
    _CHANGES[change](vault)
    cached = run_with(tmp_path / "cache")
    assert cached == run_with(tmp_path / "fresh", "--no-cache")
    if command != ["check"]:  # (the change is seen: the case tests something)
        assert cached != before


def _subjects_vault(tmp_path: Path) -> Path:
    return write_vault(
        tmp_path / "v",
        {
            "a.md": memo("**A**\n가") + "## AWS\n**Z**\n하\n",
            "b.md": memo("**B**\n나"),
        },
    )


def test_runs_with_and_without_subject_each_keep_their_rows(
    tmp_path: Path, reads: list[str]
) -> None:
    """A run over one subject and a run over all of them, in turn, each read nothing again
    (the cache held one row per note: each switch read the whole vault again)."""
    vault = _subjects_vault(tmp_path)
    runner = CliRunner(env={"MEMO2ANKI_CACHE_DIR": str(tmp_path / "cache")})
    runs = {
        "all": [str(vault), "-o", str(tmp_path / "all.apkg"), "-j", "1"],
        "CKA": [str(vault), "--subject", "CKA", "-o", str(tmp_path / "cka.apkg"), "-j", "1"],
    }
    for name in ("all", "CKA"):
        assert runner.invoke(main, runs[name]).exit_code == 0
    for name in ("all", "CKA", "all", "CKA"):
        reads.clear()
        result = runner.invoke(main, runs[name])
        assert result.exit_code == 0, result.output
        assert reads == [], name


def _rows_by_key(cache: Path) -> dict[str, int]:
    with sqlite3.connect(cache / "notes.sqlite") as db:
        return dict(db.execute("SELECT key, count(*) FROM notes GROUP BY key").fetchall())


def test_rows_of_the_four_sets_of_options_last_written_are_kept(
    tmp_path: Path, reads: list[str]
) -> None:
    vault = _subjects_vault(tmp_path)
    cache = tmp_path / "cache"
    sets = [(), ("CKA",), ("AWS",), ("CKA", "AWS"), ("Linux",)]
    for subjects in sets:
        convert([vault], Options(subjects=subjects), cache=NoteCache(cache, repr(subjects)))
    kept = {NoteCache(cache, repr(subjects)).key for subjects in sets[1:]}
    assert set(_rows_by_key(cache)) == kept
    reads.clear()
    convert([vault], Options(subjects=("CKA",)), cache=NoteCache(cache, repr(("CKA",))))
    assert reads == []
    convert([vault], cache=NoteCache(cache, repr(())))  # (the first set's rows went)
    assert sorted(reads) == ["a.md", "b.md"]


def test_a_cache_of_the_layout_before_is_made_anew(vault: Path, tmp_path: Path) -> None:
    """A notes.sqlite of the last version (one row per note) is used in the new layout, its
    rows dropped; a newer memo2anki's layout is left as it is and not used."""
    cache = tmp_path / "cache"
    cache.mkdir()
    with sqlite3.connect(cache / "notes.sqlite") as db:
        db.execute("CREATE TABLE notes (path TEXT PRIMARY KEY, stamp TEXT, key TEXT, result BLOB)")
        db.execute("INSERT INTO notes VALUES ('x', 'y', 'z', x'00')")
    assert _run(vault, tmp_path) == convert([vault])
    assert _rows_by_key(cache) == {NoteCache(cache, "options").key: 2}


def _layout_before(db: sqlite3.Connection) -> None:
    db.execute("DROP TABLE notes")
    db.execute("DROP TABLE written")
    db.execute("CREATE TABLE notes (path TEXT PRIMARY KEY, stamp TEXT, key TEXT, result BLOB)")
    db.execute("PRAGMA user_version = 1")


def _this_layout(db: sqlite3.Connection) -> None:
    pass


@pytest.mark.parametrize(
    ("left", "kept"),
    [(_layout_before, False), (_this_layout, True)],
    ids=["the layout before", "this layout (stopped before its VACUUM)"],
)
def test_a_cache_left_with_small_pages_takes_large_ones(
    vault: Path, tmp_path: Path, reads: list[str], left: Any, kept: bool
) -> None:
    """A note's row fits in a page of 64 KiB (at 4 KiB, a re-export read each row's overflow
    pages one by one). A cache of 4 KiB pages takes them by VACUUM, whether its layout is the
    one before or already this one: a stop or a failure between the layout's change and
    VACUUM left a cache at 4 KiB for good."""
    cache = tmp_path / "cache"
    _run(vault, tmp_path)
    with sqlite3.connect(cache / "notes.sqlite", isolation_level=None) as db:
        left(db)
        db.execute("PRAGMA page_size = 4096")
        db.execute("VACUUM")
        assert db.execute("PRAGMA page_size").fetchone() == (4096,)
    reads.clear()
    cached = _run(vault, tmp_path)
    assert sorted(reads) == ([] if kept else ["a.md", "b.md"])
    assert cached == convert([vault])
    with sqlite3.connect(cache / "notes.sqlite") as db:
        assert db.execute("PRAGMA page_size").fetchone() == (65536,)
    assert _rows_by_key(cache) == {NoteCache(cache, "options").key: 2}


def test_a_cache_of_a_newer_layout_is_left_alone(
    vault: Path, tmp_path: Path, reads: list[str]
) -> None:
    cache = tmp_path / "cache"
    cache.mkdir()
    with sqlite3.connect(cache / "notes.sqlite") as db:
        db.execute("CREATE TABLE later (what TEXT)")
        db.execute("PRAGMA user_version = 99")
    for _ in range(2):
        reads.clear()
        cached = _run(vault, tmp_path)
        assert sorted(reads) == ["a.md", "b.md"]
        assert cached == convert([vault])
    with sqlite3.connect(cache / "notes.sqlite") as db:
        assert db.execute("PRAGMA user_version").fetchone() == (99,)
        assert db.execute("SELECT name FROM sqlite_master").fetchall() == [("later",)]


# Runs over parts of the vault, in turn: each keeps its own cache rows, and one that retires a
# card reads the rest of the vault through the cache of the whole (targets.build.out_of_reach).
_PARTS = {
    "all": [],
    "CKA": ["--subject", "CKA"],
    "AWS": ["--subject", "AWS"],
    "a day": ["--since", "2025-04-05"],
}
_RETIRING: dict[str, Callable[[Path], object]] = {
    "a card retired": lambda v: _touch(v / _NEXT, memo("**Z**\n하", subject="AWS")),
    "a card moved to another subject": lambda v: _touch(
        v / _NEXT, memo("**Z**\n하\n\n**B**\n나", subject="AWS")
    ),
    "a card moved to an earlier day": lambda v: (
        _touch(v / _NEXT, memo("**Z**\n하", subject="AWS")),
        _touch(v / _DAY, _A + "\n**B**\n나\n"),
    ),
    "a note deleted": lambda v: (v / _NEXT).unlink(),
}
_NEXT = "daily/2025-04-05.md"


@pytest.mark.parametrize("change", [*_CHANGES, *_RETIRING])
def test_runs_over_each_subject_in_turn_from_the_cache_are_the_runs_without_it(
    tmp_path: Path, change: str
) -> None:
    """Runs with and without --subject (or a date), in turn, filling the cache; after a
    change, each says and plans what it does without the cache, a retired card included."""
    vault = write_vault(
        tmp_path / "v",
        {
            _DAY: _A,
            "daily/2025-04-05.md": memo("**B**\n나")
            + "## AWS\n**Z**\n하\n# 복습\n**R**\n복습 본문\n",
            "부록.md": "부록 하나\n",
            "x/e.md": "별첨 ![[pic.png]]\n",
            "image/pic.png": png(seed=1),
            "image/sub/arch.png": png(seed=2),
        },
    )
    (vault / "y").mkdir()
    (vault / "y/pic.png").write_bytes(png(seed=3))
    (vault / "별첨.md").symlink_to("x/e.md")

    def run_with(cache: Path, *args: str) -> tuple[int, str, str]:
        runner = CliRunner(env={"MEMO2ANKI_CACHE_DIR": str(cache)})
        result = runner.invoke(main, [str(vault), "-j", "1", *args])
        return result.exit_code, result.stdout, result.stderr

    cache = tmp_path / "cache"
    assert run_with(cache, "-o", str(tmp_path / "o.apkg"))[0] == 0  # (the ledger)
    for part in [*_PARTS.values(), *_PARTS.values()]:
        run_with(cache, "--dry-run", "--json", *part)
    {**_CHANGES, **_RETIRING}[change](vault)
    for name, part in [*_PARTS.items(), *reversed(_PARTS.items())]:
        cached = run_with(cache, "--dry-run", "--json", *part)
        assert cached == run_with(tmp_path / "fresh", "--dry-run", "--json", "--no-cache", *part), (
            name
        )


# -- a database of other tables, or of these laid out otherwise ---------------------------------


def _relaid(notes: str, written: str = "written (key TEXT PRIMARY KEY, at REAL)") -> Any:
    """The filled cache's rows copied into tables of this layout's names laid out otherwise
    (each note's path in upper case, as a table comparing without case still finds it)."""

    def relay(db: sqlite3.Connection) -> None:
        rows = db.execute("SELECT path, stamp, key, result FROM notes").fetchall()
        db.execute("DROP TABLE notes")
        db.execute("DROP TABLE written")
        db.execute(f"CREATE TABLE notes {notes}")
        db.execute(f"CREATE TABLE {written}")
        if notes.startswith("(path"):
            db.executemany(
                "INSERT INTO notes VALUES (?, ?, ?, ?)", [(p.upper(), *r) for p, *r in rows]
            )

    return relay


def _layout(number: int) -> Callable[[sqlite3.Connection], None]:
    return lambda db: db.execute(f"PRAGMA user_version = {number}").close()


def _other_programs(db: sqlite3.Connection) -> None:
    db.execute("PRAGMA user_version = 0")
    db.execute("CREATE TABLE col (id INTEGER)")


def _view(db: sqlite3.Connection) -> None:
    db.execute("DROP TABLE notes")
    db.execute("CREATE VIEW notes AS SELECT 1 AS path, 2 AS stamp, 3 AS key, 4 AS result")


_KEY_PATH = "PRIMARY KEY (key, path))"
# Tables of this layout's names but not its own: the cache is made anew, and used again.
OTHERWISE_LAID_OUT: dict[str, Callable[[sqlite3.Connection], None]] = {
    "paths compared without case": _relaid(
        f"(path TEXT COLLATE NOCASE, stamp TEXT, key TEXT, result BLOB, {_KEY_PATH}"
    ),
    "columns of other types": _relaid(f"(path BLOB, stamp INT, key TEXT, result TEXT, {_KEY_PATH}"),
    "other columns": _relaid("(x, y)", "written (z)"),
    "a row refused by a trigger": lambda db: db.execute(
        "CREATE TRIGGER no AFTER INSERT ON notes BEGIN SELECT RAISE(ABORT, 'no'); END"
    ).close(),
    "written without its key": _relaid(
        f"(path TEXT, stamp TEXT, key TEXT, result BLOB, {_KEY_PATH}", "written (key, at)"
    ),
    "a layout below zero": _layout(-5),
}
# A database that is not memo2anki's, or of a newer one: not used, not changed.
NOT_OURS: dict[str, Callable[[sqlite3.Connection], None]] = {
    "another program's tables besides": _other_programs,
    "a view named notes": _view,
    "the highest layout": _layout(2**31 - 1),
}


def _cli(vault: Path, tmp_path: Path, *extra: str) -> tuple[int, str, str]:
    runner = CliRunner(env={"MEMO2ANKI_CACHE_DIR": str(tmp_path / "cache")})
    result = runner.invoke(main, [str(vault), "--dry-run", "--json", "-j", "1", *extra])
    return result.exit_code, result.stdout, result.stderr


def _filled_then(vault: Path, tmp_path: Path, change: Callable[[sqlite3.Connection], None]) -> Path:
    database = tmp_path / "cache" / "notes.sqlite"
    assert _cli(vault, tmp_path)[0] == 0
    with contextlib.closing(sqlite3.connect(database, isolation_level=None)) as db:
        change(db)
    return database


def _read_again(vault: Path, tmp_path: Path, reads: list[str]) -> list[str]:
    """The notes a run through the cache read, its outcome checked that of a run without."""
    reads.clear()
    cached = _cli(vault, tmp_path)
    read = sorted(reads)
    assert cached == _cli(vault, tmp_path, "--no-cache")
    return read


@pytest.mark.parametrize("change", OTHERWISE_LAID_OUT.values(), ids=OTHERWISE_LAID_OUT.keys())
def test_tables_of_the_cache_laid_out_otherwise_are_made_anew(
    vault: Path, tmp_path: Path, reads: list[str], change: Callable[[sqlite3.Connection], None]
) -> None:
    """(A table comparing paths without case ended in 'unexpected error: KeyError'.)"""
    _filled_then(vault, tmp_path, change)
    assert _read_again(vault, tmp_path, reads) == ["a.md", "b.md"]
    assert _read_again(vault, tmp_path, reads) == []


def _linked_elsewhere(vault: Path, tmp_path: Path, side: str = "") -> Path:
    """A cache filled by a run, then its database or a side file of it given a second name
    (a hard link: another program's file made its own cache's, a backup's copy); that file."""
    database = _filled_then(vault, tmp_path, lambda db: None)
    elsewhere = tmp_path / "elsewhere"
    if side:
        elsewhere.write_bytes(b"")
        os.link(elsewhere, database.with_name(database.name + side))
    else:
        os.link(database, elsewhere)
    return elsewhere


@pytest.mark.parametrize("change", NOT_OURS.values(), ids=NOT_OURS.keys())
def test_a_database_not_the_caches_own_is_not_used_and_left_as_it_is(
    vault: Path, tmp_path: Path, reads: list[str], change: Callable[[sqlite3.Connection], None]
) -> None:
    """(Another program's database in its place lost its notes table.)"""
    watched = _filled_then(vault, tmp_path, change)
    before = watched.read_bytes()
    _touch(vault / "a.md", memo("**A**\n가다"))
    for _ in range(2):
        assert _read_again(vault, tmp_path, reads) == ["a.md", "b.md"]
    assert watched.read_bytes() == before


def _pages_damaged(vault: Path, tmp_path: Path) -> Path:
    database = _filled_then(vault, tmp_path, lambda db: None)
    with database.open("r+b") as f:  # (the first page, which lists the tables, kept)
        f.seek(65536)
        f.write(b"\xff" * 65536)
    return database


def _not_a_database(vault: Path, tmp_path: Path) -> Path:
    database = _filled_then(vault, tmp_path, lambda db: None)
    database.write_bytes(b"this is not a database" * 100)
    return database


@pytest.mark.parametrize(
    "make",
    [
        _linked_elsewhere,
        partial(_linked_elsewhere, side="-journal"),
        _pages_damaged,
        _not_a_database,
    ],
    ids=["a hard link", "a journal a hard link", "pages damaged", "not a database"],
)
def test_a_database_damaged_or_with_other_names_is_made_anew(
    vault: Path, tmp_path: Path, reads: list[str], make: Callable[[Path, Path], Path]
) -> None:
    """Never used, every run after read the whole vault; and a file hard-linked as the
    database or its journal is never written through (it was, as the journal)."""
    watched = make(vault, tmp_path)
    before = watched.read_bytes()
    _touch(vault / "a.md", memo("**A**\n가다"))
    assert _read_again(vault, tmp_path, reads) == ["a.md", "b.md"]
    assert _read_again(vault, tmp_path, reads) == []
    if watched.name == "elsewhere":
        assert watched.read_bytes() == before
    else:  # (set aside, never deleted: in a cache folder named by hand it may be someone's)
        assert (tmp_path / "cache/notes.sqlite.damaged").read_bytes() == before


def test_a_damaged_database_is_not_used_while_one_set_aside_before_is_there(
    vault: Path, tmp_path: Path, reads: list[str]
) -> None:
    earlier = _not_a_database(vault, tmp_path).with_name("notes.sqlite.damaged")
    earlier.write_bytes(b"set aside before")
    for _ in range(2):
        assert _read_again(vault, tmp_path, reads) == ["a.md", "b.md"]
    assert earlier.read_bytes() == b"set aside before"
    assert (tmp_path / "cache/notes.sqlite").read_bytes() == b"this is not a database" * 100


def _written(*rows: tuple[object, object]) -> Callable[[sqlite3.Connection], None]:
    return lambda db: db.executemany("INSERT INTO written VALUES (?, ?)", rows).close()


_FUTURE = dt.datetime(2999, 1, 1).timestamp()
WRITTEN_AT: dict[str, Callable[[sqlite3.Connection], None]] = {
    "times not yet come (a clock set back since)": _written(
        *((f"later{n}", _FUTURE + n) for n in range(4))
    ),
    "the largest times": _written(*((f"huge{n}", 1e308) for n in range(4)), ("int", 2**63 - 1)),
    "text and nothing": _written(*((f"text{n}", "zzz") for n in range(4)), ("null", None)),
    "a key that is nothing": _written(*((None, _FUTURE) for _ in range(4))),
    "thousands of keys": _written(*((f"k{n}", _FUTURE - n) for n in range(3000))),
}


@pytest.mark.parametrize("change", WRITTEN_AT.values(), ids=WRITTEN_AT.keys())
def test_whatever_written_holds_a_runs_rows_are_kept_and_four_sets_at_most(
    tmp_path: Path, reads: list[str], change: Callable[[sqlite3.Connection], None]
) -> None:
    """(Four keys written at a time to come had this run's rows dropped as soon as written:
    each run read the whole vault again.)"""
    vault = _subjects_vault(tmp_path)
    database = _filled_then(vault, tmp_path, change)
    _touch(vault / "a.md", memo("**A**\n가다"))
    assert _read_again(vault, tmp_path, reads) == ["a.md"]
    assert _read_again(vault, tmp_path, reads) == []
    with contextlib.closing(sqlite3.connect(database)) as db:
        assert db.execute("SELECT count(*) FROM written WHERE key NOT NULL").fetchone()[0] <= 4
