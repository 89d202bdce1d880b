"""The note cache: a re-export reads only what changed, and never gives a stale card."""

from __future__ import annotations

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
